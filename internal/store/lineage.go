package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// MaxReruns caps the runs a run's detail lists as retried or re-run from it (newest first).
const MaxReruns = 50

// SourceRun reads a run a retry or re-run is made from: its workflow, version, status, input,
// timeout, trace context and failed-and-continued count, and every task in full.
func (s *Store) SourceRun(ctx context.Context, runID string) (engine.SourceRun, error) {
	var src engine.SourceRun
	runID, err := lookupID("run", runID)
	if err != nil {
		return src, err
	}
	var timeout *float64
	err = s.pool.QueryRow(ctx, `
		SELECT id::text, workflow_id::text, version_id::text, status, input, coalesce(trace_context, ''),
		       extract(epoch FROM deadline_at - started_at)::float8, `+failedNodesSQL+`
		FROM runs WHERE id = $1`, runID).
		Scan(&src.ID, &src.WorkflowID, &src.VersionID, &src.Status, &src.Input, &src.TraceContext, &timeout, &src.FailedNodes)
	if err != nil {
		return src, fmt.Errorf("read run %s: %w", runID, translate(err))
	}
	if timeout != nil && *timeout > 0 {
		src.Timeout = time.Duration(*timeout * float64(time.Second))
	}
	rows, err := s.pool.Query(ctx, `
		SELECT node_id, node_type, status, coalesce(outcome, ''), coalesce(error, ''), input, output, handles
		FROM tasks WHERE run_id = $1 ORDER BY position`, runID)
	if err != nil {
		return src, fmt.Errorf("read run %s tasks: %w", runID, translate(err))
	}
	src.Tasks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.PriorTask, error) {
		var t engine.PriorTask
		return t, r.Scan(&t.NodeID, &t.NodeType, &t.Status, &t.Outcome, &t.Error, &t.Input, &t.Output, &t.Handles)
	})
	if err != nil {
		return src, fmt.Errorf("read run %s tasks: %w", runID, translate(err))
	}
	return src, nil
}

// lineage reads a run's parent, kind and start node (or the task that invoked it), and the
// runs retried or re-run from it (at most MaxReruns, newest first). The runs its invokeWorkflow
// tasks started are not among them: they record their parent task, not a parent run.
func (s *Store) lineage(ctx context.Context, runID string) (workflow.Lineage, error) {
	var l workflow.Lineage
	// A run an invokeWorkflow task started names that task, and its run as the parent.
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce(parent_run_id::text, (SELECT pt.run_id::text FROM tasks pt WHERE pt.id = r.parent_task_id), ''), coalesce(origin, ''),
		       coalesce(rerun_from_node_id, ''), coalesce(parent_task_id::text, '')
		FROM runs r WHERE id = $1`, runID).
		Scan(&l.ParentRunID, &l.Origin, &l.RerunFromNodeID, &l.ParentTaskID)
	if err != nil {
		return l, fmt.Errorf("read run %s lineage: %w", runID, translate(err))
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, status, coalesce(origin, ''), coalesce(rerun_from_node_id, ''), started_at
		FROM runs WHERE parent_run_id = $1 ORDER BY started_at DESC, id LIMIT $2`, runID, MaxReruns)
	if err != nil {
		return l, fmt.Errorf("read runs made from %s: %w", runID, translate(err))
	}
	l.Reruns, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (workflow.RerunSummary, error) {
		var x workflow.RerunSummary
		return x, r.Scan(&x.ID, &x.Status, &x.Origin, &x.FromNodeID, &x.StartedAt)
	})
	if err != nil {
		return l, fmt.Errorf("read runs made from %s: %w", runID, translate(err))
	}
	return l, nil
}
