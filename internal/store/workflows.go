package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ListWorkflows returns every workflow, most recently updated first.
func (s *Store) ListWorkflows(ctx context.Context) ([]workflow.Summary, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text, name, updated_at FROM workflows ORDER BY updated_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (workflow.Summary, error) {
		var w workflow.Summary
		err := r.Scan(&w.ID, &w.Name, &w.UpdatedAt)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", translate(err))
	}
	return out, nil
}

// GetWorkflow returns a workflow at its current version.
func (s *Store) GetWorkflow(ctx context.Context, id string) (workflow.Workflow, error) {
	var w workflow.Workflow
	var def []byte
	err := s.pool.QueryRow(ctx, `
		SELECT w.id::text, w.name, w.current_version, v.id::text, v.definition, w.created_at, w.updated_at
		FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
		WHERE w.id = $1`, id).Scan(&w.ID, &w.Name, &w.Version, &w.VersionID, &def, &w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return w, fmt.Errorf("get workflow %s: %w", id, translate(err))
	}
	if err := json.Unmarshal(def, &w.Definition); err != nil {
		return w, fmt.Errorf("decode workflow %s definition: %w", id, err)
	}
	return w, nil
}

// CurrentVersion returns the id of a workflow's current version, without its definition.
func (s *Store) CurrentVersion(ctx context.Context, id string) (string, error) {
	var versionID string
	err := s.pool.QueryRow(ctx, `
		SELECT v.id::text FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
		WHERE w.id = $1`, id).Scan(&versionID)
	if err != nil {
		return "", fmt.Errorf("get workflow %s version: %w", id, translate(err))
	}
	return versionID, nil
}

// CreateWorkflow stores a new workflow with its first version.
func (s *Store) CreateWorkflow(ctx context.Context, name string, def workflow.Definition, now time.Time) (workflow.Workflow, error) {
	w := workflow.Workflow{ID: uuid.NewString(), Name: name, Version: 1, VersionID: uuid.NewString(), Definition: def, CreatedAt: now, UpdatedAt: now}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return insertWorkflow(ctx, tx, w)
	})
	if err != nil {
		return w, fmt.Errorf("create workflow: %w", translate(err))
	}
	return w, nil
}

func insertWorkflow(ctx context.Context, tx pgx.Tx, w workflow.Workflow) error {
	if _, err := tx.Exec(ctx, `INSERT INTO workflows (id, name, current_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		w.ID, w.Name, w.Version, w.CreatedAt, w.UpdatedAt); err != nil {
		return err
	}
	return insertVersion(ctx, tx, w)
}

func insertVersion(ctx context.Context, tx pgx.Tx, w workflow.Workflow) error {
	def, err := json.Marshal(w.Definition)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)`,
		w.VersionID, w.ID, w.Version, def, w.UpdatedAt)
	return err
}

// UpdateWorkflow replaces a workflow's name and definition by appending a new version; runs
// in flight keep the version they started with.
func (s *Store) UpdateWorkflow(ctx context.Context, id, name string, def workflow.Definition, now time.Time) (workflow.Workflow, error) {
	w := workflow.Workflow{ID: id, Name: name, VersionID: uuid.NewString(), Definition: def, UpdatedAt: now}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE workflows SET name = $2, current_version = current_version + 1, updated_at = greatest($3, updated_at + interval '1 millisecond')
			WHERE id = $1 RETURNING current_version, created_at, updated_at`, id, name, now).Scan(&w.Version, &w.CreatedAt, &w.UpdatedAt)
		if err != nil {
			return err
		}
		return insertVersion(ctx, tx, w)
	})
	if err != nil {
		return w, fmt.Errorf("update workflow %s: %w", id, translate(err))
	}
	return w, nil
}

// DeleteWorkflow deletes a workflow with its versions, runs, tasks and logs. Deleting a
// missing workflow is not an error.
func (s *Store) DeleteWorkflow(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM workflows WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete workflow %s: %w", id, translate(err))
	}
	return nil
}

// WorkflowExists reports whether a workflow exists.
func (s *Store) WorkflowExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workflows WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check workflow %s: %w", id, translate(err))
	}
	return ok, nil
}
