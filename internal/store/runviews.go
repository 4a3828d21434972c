package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ListRuns returns a workflow's runs, newest first; ErrNotFound when the workflow is missing.
func (s *Store) ListRuns(ctx context.Context, workflowID string) ([]workflow.RunSummary, error) {
	ok, err := s.WorkflowExists(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("list runs of %s: %w", workflowID, workflow.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, status, started_at, finished_at FROM runs WHERE workflow_id = $1 ORDER BY started_at DESC, id`, workflowID)
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", workflowID, translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (workflow.RunSummary, error) {
		var s workflow.RunSummary
		err := r.Scan(&s.ID, &s.Status, &s.StartedAt, &s.FinishedAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", workflowID, translate(err))
	}
	return out, nil
}

// GetRun returns a run with its tasks (creation order) and logs (oldest first).
func (s *Store) GetRun(ctx context.Context, runID string) (workflow.Run, error) {
	var r workflow.Run
	var errMsg *string
	err := s.pool.QueryRow(ctx, `
		SELECT r.id::text, r.workflow_id::text, v.version, r.status, r.input, r.result, r.error, coalesce(r.trace_context, ''), r.started_at, r.finished_at
		FROM runs r JOIN workflow_versions v ON v.id = r.version_id WHERE r.id = $1`, runID).
		Scan(&r.ID, &r.WorkflowID, &r.Version, &r.Status, &r.Input, &r.Result, &errMsg, &r.TraceContext, &r.StartedAt, &r.FinishedAt)
	if err != nil {
		return r, fmt.Errorf("get run %s: %w", runID, translate(err))
	}
	if errMsg != nil {
		r.Error = *errMsg
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, node_id, node_type, status, attempt, redeliveries, error, started_at, completed_at
		FROM tasks WHERE run_id = $1 ORDER BY position`, runID)
	if err != nil {
		return r, fmt.Errorf("get run %s tasks: %w", runID, translate(err))
	}
	r.Tasks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflow.Task, error) {
		var t workflow.Task
		err := row.Scan(&t.ID, &t.NodeID, &t.NodeType, &t.Status, &t.Attempt, &t.Redeliveries, &t.Error, &t.StartedAt, &t.CompletedAt)
		return t, err
	})
	if err != nil {
		return r, fmt.Errorf("get run %s tasks: %w", runID, translate(err))
	}
	r.Logs, err = s.logs(ctx, runID)
	return r, err
}

// RunLogs returns a run's logs, oldest first; ErrNotFound when the run is missing.
func (s *Store) RunLogs(ctx context.Context, runID string) ([]workflow.LogLine, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1)`, runID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	if !exists {
		return nil, fmt.Errorf("get run %s logs: %w", runID, workflow.ErrNotFound)
	}
	return s.logs(ctx, runID)
}

func (s *Store) logs(ctx context.Context, runID string) ([]workflow.LogLine, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text, node_id, type, message, data, created_at FROM run_logs WHERE run_id = $1 ORDER BY created_at, seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflow.LogLine, error) {
		var l workflow.LogLine
		err := row.Scan(&l.ID, &l.NodeID, &l.Type, &l.Message, &l.Data, &l.Timestamp)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	return out, nil
}

// RunsInFlight counts runs queued or running and the age of the oldest.
func (s *Store) RunsInFlight(ctx context.Context) (int, time.Duration, error) {
	var n int
	var oldest float64
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM now() - min(started_at)), 0)::float8
		FROM runs WHERE status IN ('queued', 'running')`).Scan(&n, &oldest)
	if err != nil {
		return 0, 0, fmt.Errorf("count runs in flight: %w", translate(err))
	}
	return n, time.Duration(oldest * float64(time.Second)), nil
}
