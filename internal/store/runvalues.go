package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// PeekTask reads a task a delivery may claim, without claiming or locking it; the claim
// happens later in the transaction that records the result, guarded by the status and
// attempt read here.
func (s *Store) PeekTask(ctx context.Context, taskID string) (engine.Claim, error) {
	var c engine.Claim
	var deadline *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT t.id::text, t.run_id::text, r.workflow_id::text, r.version_id::text, t.node_id, t.node_type,
		       t.attempt + CASE WHEN t.status = 'queued' THEN 1 ELSE 0 END, t.redeliveries + CASE WHEN t.status = 'running' THEN 1 ELSE 0 END,
		       t.input, r.deadline_at, coalesce(greatest(t.queued_at, t.due_at), t.created_at), coalesce(r.trace_context, ''), t.status,
		       coalesce(t.interruption, ''), coalesce(t.parent_spans, '{}'), t.parent_spans_dropped
		FROM tasks t JOIN runs r ON r.id = t.run_id
		WHERE t.id = $1 AND t.status IN ('queued', 'running') AND r.status = 'running'`, taskID).Scan(
		&c.TaskID, &c.RunID, &c.WorkflowID, &c.VersionID, &c.NodeID, &c.NodeType, &c.Attempt, &c.Redeliveries, &c.Input,
		&deadline, &c.DueAt, &c.TraceContext, &c.Status, &c.Interruption, &c.ParentSpans, &c.ParentSpansDropped)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, engine.ErrNotClaimable
	}
	if err != nil {
		return c, fmt.Errorf("read task %s: %w", taskID, translate(err))
	}
	if deadline != nil {
		c.Deadline = *deadline
	}
	c.Redelivered = c.Status == workflow.TaskRunning
	return c, nil
}

// RunValues reads only the values a node's templates address: each read is one jsonb path
// extraction (#>) from the run's input or a completed task's output, so a template that
// reads $run.input.city transfers that value and not the whole input. With allOutputs it also
// returns every completed task's output. Reads and outputs travel in one round trip.
func (s *Store) RunValues(ctx context.Context, runID string, reads []engine.ValueRead, allOutputs bool) ([]json.RawMessage, map[string]json.RawMessage, error) {
	values := make([]json.RawMessage, len(reads))
	var outputs map[string]json.RawMessage
	b := &pgx.Batch{}
	if len(reads) > 0 {
		taskIDs, paths := make([]string, len(reads)), make([][]byte, len(reads))
		for i, r := range reads {
			taskIDs[i] = r.TaskID
			path := r.Path
			if path == nil {
				path = []string{}
			}
			p, err := json.Marshal(path)
			if err != nil {
				return nil, nil, fmt.Errorf("encode path: %w", err)
			}
			paths[i] = p
		}
		b.Queue(`
			SELECT q.i::int, CASE WHEN q.task_id = '' THEN r.input ELSE t.output END #> ARRAY(SELECT jsonb_array_elements_text(q.path))
			FROM runs r
			CROSS JOIN unnest($2::text[], $3::jsonb[]) WITH ORDINALITY AS q(task_id, path, i)
			LEFT JOIN tasks t ON t.id = nullif(q.task_id, '')::uuid AND t.run_id = r.id AND t.status = 'completed'
			WHERE r.id = $1`, runID, taskIDs, paths).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var i int
				var raw []byte
				if err := rows.Scan(&i, &raw); err != nil {
					return err
				}
				if i >= 1 && i <= len(values) && raw != nil {
					values[i-1] = raw
				}
			}
			return rows.Err()
		})
	}
	if allOutputs {
		outputs = map[string]json.RawMessage{}
		b.Queue(`SELECT node_id, coalesce(output, 'null') FROM tasks WHERE run_id = $1 AND status = 'completed'`, runID).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id string
				var raw []byte
				if err := rows.Scan(&id, &raw); err != nil {
					return err
				}
				outputs[id] = raw
			}
			return rows.Err()
		})
	}
	if b.Len() == 0 {
		return values, outputs, nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, fmt.Errorf("load run %s values: %w", runID, translate(err))
	}
	return values, outputs, nil
}
