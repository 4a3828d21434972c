package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/apitemplate"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// SampleWorkflow is a workflow to seed.
type SampleWorkflow struct {
	// ID is the workflow's id; empty means a new one.
	ID         string
	Name       string
	Definition workflow.Definition
}

// Seed inserts the sample workflows and API templates once per database: the first process to
// record the seed mark does it, in the same transaction, so any number of processes may start
// together. Samples are only written into empty tables, and deleting them later does not bring
// them back at the next start.
func (s *Store) Seed(ctx context.Context, workflows []SampleWorkflow, templates []apitemplate.Template, now time.Time) (seeded bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO seed_marks (name, applied_at) VALUES ('samples', $1) ON CONFLICT DO NOTHING`, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		seeded = true
		var haveWorkflows, haveTemplates bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workflows), EXISTS (SELECT 1 FROM api_templates)`).Scan(&haveWorkflows, &haveTemplates); err != nil {
			return err
		}
		if !haveWorkflows {
			for i, sw := range workflows {
				// Distinct timestamps keep the list order stable (newest first = first sample).
				at := now.Add(-time.Duration(i) * time.Millisecond)
				id := sw.ID
				if id == "" {
					id = uuid.NewString()
				}
				w := workflow.Workflow{ID: id, Name: sw.Name, Version: 1, VersionID: uuid.NewString(),
					Definition: sw.Definition, CreatedAt: at, UpdatedAt: at}
				if err := insertWorkflow(ctx, tx, w); err != nil {
					return fmt.Errorf("seed workflow %q: %w", sw.Name, err)
				}
			}
		}
		if !haveTemplates {
			for _, t := range templates {
				t.ID, t.CreatedAt, t.UpdatedAt = uuid.NewString(), now, now
				if err := insertTemplate(ctx, tx, t); err != nil {
					return fmt.Errorf("seed template %q: %w", t.Name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seed sample data: %w", translate(err))
	}
	return seeded, nil
}
