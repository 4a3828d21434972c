package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// InvokeTarget resolves the version an invokeWorkflow node starts (Version 0: the workflow's
// current one) and reads the nesting depth of the invoking run, in one statement.
func (s *Store) InvokeTarget(ctx context.Context, q engine.InvokeQuery) (engine.InvokeTarget, error) {
	var t engine.InvokeTarget
	workflowID, err := lookupID("invoked workflow", q.WorkflowID)
	if err != nil {
		return t, err
	}
	var versionID *string
	err = s.pool.QueryRow(ctx, `
		SELECT (SELECT v.id::text FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id
		        AND v.version = CASE WHEN $3::int > 0 THEN $3::int ELSE w.current_version END
		        WHERE w.id = $2),
		       r.invoke_depth
		FROM runs r WHERE r.id = $1`, q.ParentRunID, workflowID, q.Version).Scan(&versionID, &t.ParentDepth)
	if err != nil {
		return t, fmt.Errorf("resolve invoked workflow %s: %w", workflowID, translate(err))
	}
	if versionID == nil {
		return t, fmt.Errorf("invoked workflow %s version %d: %w", workflowID, q.Version, workflow.ErrNotFound)
	}
	t.VersionID = *versionID
	return t, nil
}

// ChildRun reads the child run a task started under an idempotency key and, for a succeeded
// child when q.MaxOutputBytes is above 0, the outputs of its completed nodes (not of forEach
// elements, which are no nodes of its definition), read one row at a time and given up once
// they go over the bound.
func (s *Store) ChildRun(ctx context.Context, q engine.ChildQuery) (engine.ChildRun, error) {
	var c engine.ChildRun
	var versionID string
	err := s.pool.QueryRow(ctx, `
		SELECT id::text, workflow_id::text, version_id::text, status, coalesce(error, ''), result, started_at
		FROM runs WHERE parent_task_id = $1 AND idempotency_key = $2`, q.ParentTaskID, q.Key).
		Scan(&c.RunID, &c.WorkflowID, &versionID, &c.Status, &c.Error, &c.Result, &c.StartedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("child run of task %s: %w", q.ParentTaskID, workflow.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("read child run of task %s: %w", q.ParentTaskID, translate(err))
	}
	if q.MaxOutputBytes <= 0 || c.Status != workflow.RunSucceeded {
		return c, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT t.node_id, coalesce(t.output, 'null')
		FROM tasks t
		WHERE t.run_id = $1 AND t.status = 'completed'
		  AND t.node_id IN (SELECT n->>'id' FROM workflow_versions v, jsonb_array_elements(v.definition->'nodes') n WHERE v.id = $2)
		ORDER BY t.position`, c.RunID, versionID)
	if err != nil {
		return c, fmt.Errorf("read outputs of child run %s: %w", c.RunID, translate(err))
	}
	defer rows.Close()
	c.Outputs = map[string]json.RawMessage{}
	size := 0
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return c, fmt.Errorf("read outputs of child run %s: %w", c.RunID, translate(err))
		}
		if size += len(id) + len(raw) + 4; size > q.MaxOutputBytes {
			c.Outputs, c.OutputsTooLarge = nil, true
			return c, nil
		}
		c.Outputs[id] = raw
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("read outputs of child run %s: %w", c.RunID, translate(err))
	}
	return c, nil
}

// ChildRuns lists the queued or running child runs of the given tasks.
func (s *Store) ChildRuns(ctx context.Context, parentTaskIDs []string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id::text FROM runs WHERE parent_task_id = ANY($1::text[]::uuid[]) AND status IN ('queued', 'running') ORDER BY started_at`, parentTaskIDs)
	if err != nil {
		return nil, fmt.Errorf("list child runs: %w", translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list child runs: %w", translate(err))
	}
	return ids, nil
}
