package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// runTx implements engine.RunTx on a transaction that holds the run's row lock.
type runTx struct {
	tx pgx.Tx
}

func (t runTx) FinishTask(ctx context.Context, f engine.TaskFinish) (bool, error) {
	var handles []string
	if f.To == workflow.TaskCompleted {
		handles = f.Handles
	}
	tag, err := t.tx.Exec(ctx, `
		UPDATE tasks SET
			status = $4,
			output = CASE WHEN $4 = 'completed' THEN coalesce($5, output, input) ELSE coalesce($5, output) END,
			handles = $6,
			error = nullif($7, ''),
			due_at = $8,
			queued_at = CASE WHEN $4 IN ('queued', 'waiting') THEN $9 ELSE queued_at END,
			completed_at = CASE WHEN $4 IN ('completed', 'failed') THEN $9 ELSE completed_at END
		WHERE id = $1 AND status = $2 AND attempt = $3`,
		f.TaskID, f.From, f.Attempt, f.To, nullJSON(f.Output), handles, f.Error, nullTime(f.DueAt), f.Now)
	if err != nil {
		return false, fmt.Errorf("finish task %s: %w", f.TaskID, err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t runTx) ResolveEdges(ctx context.Context, runID string, res []engine.EdgeResolution) ([]engine.TargetState, error) {
	nodeIDs, edges, taken := make([]string, len(res)), make([]int32, len(res)), make([]int32, len(res))
	for i, r := range res {
		nodeIDs[i], edges[i], taken[i] = r.NodeID, int32(r.Edges), int32(r.Taken)
	}
	rows, err := t.tx.Query(ctx, `
		UPDATE tasks t SET unresolved_parents = t.unresolved_parents - x.edges, activated_parents = t.activated_parents + x.taken
		FROM unnest($2::text[], $3::int[], $4::int[]) AS x(node_id, edges, taken)
		WHERE t.run_id = $1 AND t.node_id = x.node_id AND t.status = 'pending'
		RETURNING t.node_id, t.unresolved_parents, t.activated_parents`, runID, nodeIDs, edges, taken)
	if err != nil {
		return nil, fmt.Errorf("resolve edges: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.TargetState, error) {
		var s engine.TargetState
		err := r.Scan(&s.NodeID, &s.Unresolved, &s.Activated)
		return s, err
	})
}

func (t runTx) Parents(ctx context.Context, runID string, nodeIDs []string) ([]engine.ParentState, error) {
	rows, err := t.tx.Query(ctx, `SELECT node_id, status, handles, output FROM tasks WHERE run_id = $1 AND node_id = ANY($2)`, runID, nodeIDs)
	if err != nil {
		return nil, fmt.Errorf("load parents: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ParentState, error) {
		var p engine.ParentState
		err := r.Scan(&p.NodeID, &p.Status, &p.Handles, &p.Output)
		return p, err
	})
}

func (t runTx) ReleaseTasks(ctx context.Context, runID string, rel []engine.Release, now time.Time) ([]engine.TaskRef, error) {
	nodeIDs, inputs := make([]string, len(rel)), make([][]byte, len(rel))
	for i, r := range rel {
		nodeIDs[i], inputs[i] = r.NodeID, r.Input
	}
	rows, err := t.tx.Query(ctx, `
		UPDATE tasks t SET status = 'queued', input = x.input, queued_at = $2, due_at = $2
		FROM unnest($3::text[], $4::jsonb[]) AS x(node_id, input)
		WHERE t.run_id = $1 AND t.node_id = x.node_id AND t.status = 'pending'
		RETURNING t.id::text`, runID, now, nodeIDs, inputs)
	if err != nil {
		return nil, fmt.Errorf("release tasks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.TaskRef, error) {
		ref := engine.TaskRef{RunID: runID, Kind: engine.KindExecute}
		err := r.Scan(&ref.TaskID)
		return ref, err
	})
}

func (t runTx) SkipTasks(ctx context.Context, runID string, nodeIDs []string, now time.Time) error {
	_, err := t.tx.Exec(ctx, `UPDATE tasks SET status = 'skipped', completed_at = $3 WHERE run_id = $1 AND node_id = ANY($2) AND status = 'pending'`,
		runID, nodeIDs, now)
	if err != nil {
		return fmt.Errorf("skip tasks: %w", err)
	}
	return nil
}

func (t runTx) AbortTasks(ctx context.Context, runID, exceptTaskID string, cancelAll bool, now time.Time) ([]engine.AbortedTask, error) {
	rows, err := t.tx.Query(ctx, `
		UPDATE tasks t SET status = CASE WHEN $3 OR old.status = 'running' THEN 'cancelled' ELSE 'skipped' END, completed_at = $4
		FROM (SELECT id, status FROM tasks
		      WHERE run_id = $1 AND status IN ('pending', 'queued', 'running', 'waiting') AND id::text <> $2
		      FOR UPDATE) AS old
		WHERE t.id = old.id
		RETURNING t.id::text, old.status`, runID, exceptTaskID, cancelAll, now)
	if err != nil {
		return nil, fmt.Errorf("abort tasks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.AbortedTask, error) {
		var a engine.AbortedTask
		err := r.Scan(&a.TaskID, &a.FromStatus)
		return a, err
	})
}

func (t runTx) AddLogs(ctx context.Context, logs []engine.LogEntry) error {
	return addLogs(ctx, t.tx, logs)
}

func addLogs(ctx context.Context, tx pgx.Tx, logs []engine.LogEntry) error {
	if len(logs) == 0 {
		return nil
	}
	n := len(logs)
	ids, runIDs, nodeIDs, types, messages := make([]string, n), make([]string, n), make([]*string, n), make([]string, n), make([]string, n)
	data, at := make([][]byte, n), make([]time.Time, n)
	for i, l := range logs {
		ids[i], runIDs[i], types[i], messages[i], at[i] = uuid.NewString(), l.RunID, l.Type, l.Message, l.At
		if l.NodeID != "" {
			nodeIDs[i] = &logs[i].NodeID
		}
		if l.Data != nil {
			b, err := json.Marshal(l.Data)
			if err != nil {
				return fmt.Errorf("encode log data: %w", err)
			}
			data[i] = b
		}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO run_logs (id, run_id, node_id, type, message, data, created_at)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[])`,
		ids, runIDs, nodeIDs, types, messages, data, at)
	if err != nil {
		return fmt.Errorf("add run logs: %w", err)
	}
	return nil
}

func (t runTx) SettleRun(ctx context.Context, runID string, terminal int, now time.Time) (string, error) {
	var pending int
	err := t.tx.QueryRow(ctx, `UPDATE runs SET pending_tasks = pending_tasks - $2 WHERE id = $1 RETURNING pending_tasks`, runID, terminal).Scan(&pending)
	if err != nil {
		return "", fmt.Errorf("settle run %s: %w", runID, err)
	}
	if pending > 0 {
		return workflow.RunRunning, nil
	}
	result, failed, err := t.counts(ctx, runID)
	if err != nil {
		return "", err
	}
	status := workflow.RunSucceeded
	if failed > 0 {
		status = workflow.RunFailed
	}
	return status, t.end(ctx, runID, status, "", result, now)
}

func (t runTx) EndRun(ctx context.Context, runID, status, errMsg string, extra map[string]any, now time.Time) error {
	result, _, err := t.counts(ctx, runID)
	if err != nil {
		return err
	}
	for k, v := range extra {
		result[k] = v
	}
	return t.end(ctx, runID, status, errMsg, result, now)
}

func (t runTx) end(ctx context.Context, runID, status, errMsg string, result map[string]any, now time.Time) error {
	b, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("encode run result: %w", err)
	}
	_, err = t.tx.Exec(ctx, `UPDATE runs SET status = $2, error = nullif($3, ''), result = $4, finished_at = $5, pending_tasks = 0 WHERE id = $1`,
		runID, status, errMsg, b, now)
	if err != nil {
		return fmt.Errorf("end run %s: %w", runID, err)
	}
	return nil
}

// counts summarises a run's tasks as the seed's result object.
func (t runTx) counts(ctx context.Context, runID string) (map[string]any, int, error) {
	var completed, failed, skipped, cancelled, total int
	err := t.tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed'),
		       count(*) FILTER (WHERE status = 'skipped'), count(*) FILTER (WHERE status = 'cancelled'), count(*)
		FROM tasks WHERE run_id = $1`, runID).Scan(&completed, &failed, &skipped, &cancelled, &total)
	if err != nil {
		return nil, 0, fmt.Errorf("count tasks of run %s: %w", runID, err)
	}
	return map[string]any{
		"completedTasks": completed, "failedTasks": failed, "skippedTasks": skipped,
		"cancelledTasks": cancelled, "totalTasks": total,
	}, failed, nil
}

func nullJSON(b json.RawMessage) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
