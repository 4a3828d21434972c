package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	id, err := lookupID("get workflow", id)
	if err != nil {
		return w, err
	}
	var def []byte
	err = s.pool.QueryRow(ctx, `
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
	id, err := lookupID("get workflow version", id)
	if err != nil {
		return "", err
	}
	var versionID string
	err = s.pool.QueryRow(ctx, `
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
	id, err := lookupID("update workflow", id)
	if err != nil {
		return workflow.Workflow{}, err
	}
	w := workflow.Workflow{ID: id, Name: name, VersionID: uuid.NewString(), Definition: def, UpdatedAt: now}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
// missing workflow is not an error; deleting one with runs queued or running is
// ErrRunsInFlight (a conflict): cancel them first. The workflow's row is locked before the
// check, so a run starting at the same time either commits first (and is seen) or fails to
// find its workflow.
func (s *Store) DeleteWorkflow(ctx context.Context, id string) error {
	id, err := lookupID("delete workflow", id)
	if errors.Is(err, workflow.ErrNotFound) {
		return nil
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM workflows WHERE id = $1 FOR UPDATE`, id).Scan(new(any))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var inFlight int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM runs WHERE workflow_id = $1 AND status IN ('queued', 'running')`, id).Scan(&inFlight); err != nil {
			return err
		}
		if inFlight > 0 {
			return fmt.Errorf("%w: %d runs queued or running: %w", workflow.ErrRunsInFlight, inFlight, workflow.ErrConflict)
		}
		_, err = tx.Exec(ctx, `DELETE FROM workflows WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete workflow %s: %w", id, translate(err))
	}
	return nil
}

// RunsInFlightOf lists the ids of a workflow's runs queued or running.
func (s *Store) RunsInFlightOf(ctx context.Context, workflowID string) ([]string, error) {
	workflowID, err := lookupID("list runs of workflow", workflowID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM runs WHERE workflow_id = $1 AND status IN ('queued', 'running') ORDER BY started_at`, workflowID)
	if err != nil {
		return nil, fmt.Errorf("list runs in flight of %s: %w", workflowID, translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list runs in flight of %s: %w", workflowID, translate(err))
	}
	return ids, nil
}

// WorkflowExists reports whether a workflow exists.
func (s *Store) WorkflowExists(ctx context.Context, id string) (bool, error) {
	if !canonicalID(id) {
		return false, nil
	}
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workflows WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check workflow %s: %w", id, translate(err))
	}
	return ok, nil
}

// Page sizes of a workflow's version list.
const (
	DefaultVersionPage = 100
	MaxVersionPage     = 1000
)

// ListVersions returns one page of a workflow's versions, newest first, with their
// definitions, and the cursor of the next page (empty after the last); ErrNotFound when the
// workflow is missing.
func (s *Store) ListVersions(ctx context.Context, workflowID string, page workflow.Page) ([]workflow.Version, string, error) {
	workflowID, err := lookupID("list versions of workflow", workflowID)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(page, DefaultVersionPage, MaxVersionPage)
	if err != nil {
		return nil, "", err
	}
	before := 0
	if page.Cursor != "" {
		if before, err = strconv.Atoi(page.Cursor); err != nil || before < 2 {
			return nil, "", workflow.Invalid("cursor", "is not a cursor this list returned")
		}
	}
	ok, err := s.WorkflowExists(ctx, workflowID)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("list versions of %s: %w", workflowID, workflow.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT v.version, v.id::text, v.version = w.current_version, v.definition, v.created_at
		FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id
		WHERE v.workflow_id = $1 AND ($2 = 0 OR v.version < $2)
		ORDER BY v.version DESC LIMIT $3`, workflowID, before, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list versions of %s: %w", workflowID, translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (workflow.Version, error) {
		v := workflow.Version{WorkflowID: workflowID}
		var def []byte
		if err := r.Scan(&v.Version, &v.VersionID, &v.Current, &def, &v.CreatedAt); err != nil {
			return v, err
		}
		return v, json.Unmarshal(def, &v.Definition)
	})
	if err != nil {
		return nil, "", fmt.Errorf("list versions of %s: %w", workflowID, translate(err))
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], strconv.Itoa(out[limit-1].Version), nil
}

// GetVersion returns one version of a workflow; ErrNotFound when the workflow or the version
// is missing.
func (s *Store) GetVersion(ctx context.Context, workflowID string, version int) (workflow.Version, error) {
	v := workflow.Version{Version: version}
	workflowID, err := lookupID("get workflow version", workflowID)
	if err != nil {
		return v, err
	}
	v.WorkflowID = workflowID
	var def []byte
	err = s.pool.QueryRow(ctx, `
		SELECT v.id::text, v.version = w.current_version, v.definition, v.created_at
		FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id
		WHERE v.workflow_id = $1 AND v.version = $2`, workflowID, version).Scan(&v.VersionID, &v.Current, &def, &v.CreatedAt)
	if err != nil {
		return v, fmt.Errorf("get workflow %s version %d: %w", workflowID, version, translate(err))
	}
	if err := json.Unmarshal(def, &v.Definition); err != nil {
		return v, fmt.Errorf("decode workflow %s version %d: %w", workflowID, version, err)
	}
	return v, nil
}

// VersionID returns the id of one version of a workflow, without its definition; ErrNotFound
// when the workflow or the version is missing.
func (s *Store) VersionID(ctx context.Context, workflowID string, version int) (string, error) {
	workflowID, err := lookupID("get workflow version", workflowID)
	if err != nil {
		return "", err
	}
	var id string
	err = s.pool.QueryRow(ctx, `SELECT id::text FROM workflow_versions WHERE workflow_id = $1 AND version = $2`, workflowID, version).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("get workflow %s version %d: %w", workflowID, version, translate(err))
	}
	return id, nil
}
