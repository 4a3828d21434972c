package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// CreateRun stores a run, its tasks and its first log lines in one transaction.
func (s *Store) CreateRun(ctx context.Context, r engine.NewRun) (string, bool, error) {
	var runID string
	created := true
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		status, pending := workflow.RunRunning, 0
		for _, t := range r.Tasks {
			if !terminalTask(t.Status) {
				pending++
			}
		}
		var finishedAt *time.Time
		var result []byte
		if pending == 0 {
			status, finishedAt = workflow.RunSucceeded, &r.Now
			result = []byte(`{"completedTasks":0,"failedTasks":0,"skippedTasks":0,"cancelledTasks":0,"totalTasks":0}`)
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO runs (id, workflow_id, version_id, status, input, idempotency_key, request_hash, trace_context, pending_tasks, deadline_at, started_at, finished_at, result,
			                  parent_run_id, origin, rerun_from_node_id, parent_task_id, invoke_depth)
			VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, nullif($8, ''), $9, $10, $11, $12, $13, nullif($14, '')::uuid, nullif($15, ''), nullif($16, ''),
			        nullif($17, '')::uuid, $18)
			ON CONFLICT (workflow_id, idempotency_key) DO NOTHING
			RETURNING id::text`,
			r.ID, r.WorkflowID, r.VersionID, status, r.Input, r.IdempotencyKey, r.RequestHash, r.TraceContext, pending,
			nullTime(r.Deadline), r.Now, finishedAt, result, r.ParentRunID, r.Origin, r.RerunFromNodeID, r.ParentTaskID, r.InvokeDepth).Scan(&runID)
		if errors.Is(err, pgx.ErrNoRows) {
			created = false
			var hash []byte
			if err := tx.QueryRow(ctx, `SELECT id::text, request_hash FROM runs WHERE workflow_id = $1 AND idempotency_key = $2`,
				r.WorkflowID, r.IdempotencyKey).Scan(&runID, &hash); err != nil {
				return err
			}
			if hash != nil && r.RequestHash != nil && !bytes.Equal(hash, r.RequestHash) {
				return fmt.Errorf("run %s: %w", runID, workflow.ErrIdempotencyMismatch)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := insertTasks(ctx, tx, r); err != nil {
			return err
		}
		return addLogs(ctx, tx, r.Logs)
	})
	if err != nil {
		return "", false, fmt.Errorf("create run: %w", translate(err))
	}
	return runID, created, nil
}

// RunTraceContext returns the W3C traceparent stored with a run ("" when it has none).
func (s *Store) RunTraceContext(ctx context.Context, runID string) (string, error) {
	var tc string
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(trace_context, '') FROM runs WHERE id = $1`, runID).Scan(&tc); err != nil {
		return "", fmt.Errorf("read trace context of run %s: %w", runID, translate(err))
	}
	return tc, nil
}

// insertTasks stores a new run's tasks. Most are pending or queued; a retry or re-run also
// creates tasks terminal from the start (completed with a reused output and its handles, or
// skipped), with their edge counters already resolved. Handles travel as JSON arrays (NULL:
// every edge taken), as one text[] per task cannot be a row of a two-dimensional array.
func insertTasks(ctx context.Context, tx pgx.Tx, r engine.NewRun) error {
	n := len(r.Tasks)
	if n == 0 {
		return nil
	}
	ids, nodeIDs, types, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	inputs, unresolved, positions := make([][]byte, n), make([]int32, n), make([]int32, n)
	activated, outputs, handles := make([]int32, n), make([][]byte, n), make([][]byte, n)
	outcomes, errs := make([]string, n), make([]string, n)
	for i, t := range r.Tasks {
		ids[i], nodeIDs[i], types[i], statuses[i] = t.ID, t.NodeID, t.NodeType, t.Status
		inputs[i], unresolved[i], positions[i] = t.Input, int32(t.Unresolved), int32(i)
		activated[i], outputs[i], outcomes[i], errs[i] = int32(t.Activated), nullJSON(storableJSON(t.Output)), t.Outcome, storableText(t.Error)
		if t.Handles != nil {
			b, err := json.Marshal(t.Handles)
			if err != nil {
				return fmt.Errorf("encode handles of %s: %w", t.NodeID, err)
			}
			handles[i] = b
		}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO tasks (id, run_id, node_id, node_type, position, status, input, unresolved_parents, queued_at, due_at, created_at,
		                   activated_parents, output, handles, outcome, error, completed_at)
		SELECT x.id, $1, x.node_id, x.node_type, x.position, x.status, x.input, x.unresolved,
		       CASE WHEN x.status = 'queued' THEN $2::timestamptz END, CASE WHEN x.status = 'queued' THEN $2::timestamptz END, $2,
		       x.activated, x.output, CASE WHEN x.handles IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(x.handles)) END,
		       nullif(x.outcome, ''), nullif(x.error, ''), CASE WHEN x.status IN ('completed', 'skipped') THEN $2::timestamptz END
		FROM unnest($3::text[]::uuid[], $4::text[], $5::text[], $6::int[], $7::text[], $8::jsonb[], $9::int[],
		            $10::int[], $11::jsonb[], $12::jsonb[], $13::text[], $14::text[])
		     AS x(id, node_id, node_type, position, status, input, unresolved, activated, output, handles, outcome, error)`,
		r.ID, r.Now, ids, nodeIDs, types, positions, statuses, inputs, unresolved, activated, outputs, handles, outcomes, errs)
	return err
}

// terminalTask reports whether a task status is final.
func terminalTask(status string) bool {
	switch status {
	case workflow.TaskCompleted, workflow.TaskFailed, workflow.TaskSkipped, workflow.TaskCancelled:
		return true
	}
	return false
}

const claimColumns = `t.id::text, t.run_id::text, r.workflow_id::text, r.version_id::text, t.node_id, t.node_type, t.attempt, t.redeliveries, t.input,
	r.deadline_at, coalesce(greatest(t.queued_at, t.due_at), t.created_at), coalesce(r.trace_context, ''), t.throttled_since`

func scanClaim(row pgx.Row, extra ...any) (engine.Claim, error) {
	var c engine.Claim
	var deadline, throttled *time.Time
	dest := append([]any{&c.TaskID, &c.RunID, &c.WorkflowID, &c.VersionID, &c.NodeID, &c.NodeType, &c.Attempt, &c.Redeliveries, &c.Input,
		&deadline, &c.DueAt, &c.TraceContext, &throttled}, extra...)
	err := row.Scan(dest...)
	if deadline != nil {
		c.Deadline = *deadline
	}
	if throttled != nil {
		c.ThrottledSince = *throttled
	}
	return c, err
}

// ClaimTask moves a task from queued to running as its next attempt, or takes over a running
// task as a redelivery of the same attempt unless a live worker holds it (heldSQL), in one
// statement; workerID becomes the task's holder.
func (s *Store) ClaimTask(ctx context.Context, taskID, workerID string, now time.Time) (engine.Claim, error) {
	var redelivered bool
	var interruption, previousWorker string
	var parentSpans []string
	var parentSpansDropped int
	c, err := scanClaim(s.pool.QueryRow(ctx, `
		WITH old AS (
			SELECT t.id, t.status, t.interruption, t.worker_id FROM tasks t JOIN runs r ON r.id = t.run_id
			WHERE t.id = $1 AND r.status = 'running'
			  AND (t.status = 'queued' OR t.status = 'running' AND NOT `+heldSQL("$2", "$3")+`)
			FOR UPDATE OF t)
		UPDATE tasks t SET status = 'running',
			attempt = t.attempt + CASE WHEN old.status = 'queued' THEN 1 ELSE 0 END,
			redeliveries = t.redeliveries + CASE WHEN old.status = 'running' THEN 1 ELSE 0 END,
			started_at = $2, worker_id = nullif($3, ''), interruption = NULL
		FROM old, runs r
		WHERE t.id = old.id AND r.id = t.run_id
		RETURNING `+claimColumns+`, old.status = 'running', coalesce(old.interruption, ''), coalesce(old.worker_id, ''),
			coalesce(t.parent_spans, '{}'), t.parent_spans_dropped`, taskID, now, workerID),
		&redelivered, &interruption, &previousWorker, &parentSpans, &parentSpansDropped)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, engine.ErrNotClaimable
	}
	if err != nil {
		return c, fmt.Errorf("claim task %s: %w", taskID, translate(err))
	}
	c.Redelivered, c.Interruption, c.PreviousWorker = redelivered, interruption, previousWorker
	c.ParentSpans, c.ParentSpansDropped = parentSpans, parentSpansDropped
	return c, nil
}

// WaitingTask returns a task parked by a delay node of a running run.
func (s *Store) WaitingTask(ctx context.Context, taskID string) (engine.Claim, error) {
	c, err := scanClaim(s.pool.QueryRow(ctx, `
		SELECT `+claimColumns+` FROM tasks t JOIN runs r ON r.id = t.run_id
		WHERE t.id = $1 AND t.status = 'waiting' AND r.status = 'running'`, taskID))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, engine.ErrNotClaimable
	}
	if err != nil {
		return c, fmt.Errorf("load waiting task %s: %w", taskID, translate(err))
	}
	return c, nil
}

// Definition returns a workflow version's definition with its workflow's id and name and the
// version's number, in one statement.
func (s *Store) Definition(ctx context.Context, versionID string) (engine.VersionDefinition, error) {
	var vd engine.VersionDefinition
	var raw []byte
	if err := s.pool.QueryRow(ctx, `
		SELECT v.definition, w.id::text, w.name, v.version
		FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id WHERE v.id = $1`, versionID).
		Scan(&raw, &vd.WorkflowID, &vd.WorkflowName, &vd.Version); err != nil {
		return vd, fmt.Errorf("load version %s: %w", versionID, translate(err))
	}
	if err := json.Unmarshal(raw, &vd.Definition); err != nil {
		return vd, fmt.Errorf("decode version %s: %w", versionID, err)
	}
	return vd, nil
}

// commitTimeout bounds how long a transition waits for its commit once it sent it, whatever
// happens to its context.
const commitTimeout = 30 * time.Second

// InRun runs fn in a transaction that first locks the run's row, so the transitions of one run
// are serialised and always take their locks in the same order (run, then tasks). BEGIN and the
// lock travel with fn's first read, and fn's remaining writes with COMMIT, so a typical
// transition is two round trips.
func (s *Store) InRun(ctx context.Context, runID string, fn func(engine.RunTx) error) error {
	var err error
	for range 3 {
		err = s.inRun(ctx, runID, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}

func (s *Store) inRun(ctx context.Context, runID string, fn func(engine.RunTx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", translate(err))
	}
	defer conn.Release()
	tx := &runTx{conn: conn.Conn()}
	tx.queue(`BEGIN`, nil, nil)
	tx.queue(`SELECT sf_lock_running_run($1)`, []any{runID}, nil)
	if err = fn(tx); err == nil {
		// Once COMMIT is sent, wait for its answer whatever happens to ctx: a transaction that
		// committed must not be reported failed (its caller would act as if nothing happened,
		// and tasks it released or claimed would wait for the reconciler).
		tx.queue(`COMMIT`, nil, nil)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		err = tx.flush(cctx)
		cancel()
	}
	if err != nil && tx.begun {
		// Roll back on the same connection; a broken connection is discarded by the pool.
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, rbErr := conn.Exec(rbCtx, `ROLLBACK`); rbErr != nil {
			conn.Conn().Close(rbCtx) //nolint:errcheck // the connection is being discarded
		}
	}
	return err
}

// DueTasks lists deliveries that should be in the queue: queued tasks due before the cutoff
// (execute), waiting tasks whose wake-up is due before it (wake), running tasks claimed before
// it that no live worker holds (heldSQL: their worker's lease expired, or it released them
// after an interruption) as recovery deliveries, and tasks running since before StaleBefore,
// whose delivery may have been lost with its worker (execute; a live delivery makes the
// enqueue a no-op). It starts from the runs in flight and reaches their tasks by run id, so no
// index of tasks covers a column that changes (migration 00003).
func (s *Store) DueTasks(ctx context.Context, q engine.DueQuery) ([]engine.DueTask, error) {
	// The lateral subquery (OFFSET 0 keeps it from being flattened) makes PostgreSQL reach the
	// tasks of each run in flight through the run_id index instead of scanning all tasks.
	rows, err := s.pool.Query(ctx, `
		SELECT t.id::text, r.id::text, r.workflow_id::text, t.node_id, t.status, coalesce(r.trace_context, ''), t.at, t.node_type, t.recovery
		FROM runs r CROSS JOIN LATERAL (
			SELECT id, node_id, status, node_type, CASE WHEN status = 'running' THEN started_at ELSE due_at END AS at,
			       CASE WHEN status = 'running' AND started_at < $1 AND (worker_id IS NULL AND interruption IS NOT NULL OR
			                 worker_id IS NOT NULL AND NOT `+heldSQL("$4", "''")+`)
			            THEN redeliveries + 1 ELSE 0 END AS recovery
			FROM tasks t
			WHERE run_id = r.id AND (status IN ('queued', 'waiting') AND due_at < $1 OR status = 'running' AND started_at < greatest($1::timestamptz, $2::timestamptz))
			OFFSET 0) t
		WHERE r.status = 'running' AND (t.status <> 'running' OR t.recovery > 0 OR t.at < $2)
		ORDER BY t.at LIMIT $3`, q.Before, q.StaleBefore, q.Limit, q.Now)
	if err != nil {
		return nil, fmt.Errorf("list due tasks: %w", translate(err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.DueTask, error) {
		var d engine.DueTask
		var at time.Time
		err := r.Scan(&d.TaskID, &d.RunID, &d.WorkflowID, &d.NodeID, &d.Status, &d.TraceContext, &at, &d.NodeType, &d.Recovery)
		d.Kind = engine.KindExecute
		if d.Status == workflow.TaskWaiting {
			d.Kind = engine.KindWake
		}
		return d, err
	})
}

// StillDue returns which of the given tasks are still queued, waiting or running.
func (s *Store) StillDue(ctx context.Context, taskIDs []string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM tasks WHERE id = ANY($1::text[]::uuid[]) AND status IN ('queued', 'waiting', 'running')`, taskIDs)
	if err != nil {
		return nil, fmt.Errorf("re-check tasks: %w", translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("re-check tasks: %w", translate(err))
	}
	live := make(map[string]bool, len(ids))
	for _, id := range ids {
		live[id] = true
	}
	return live, nil
}

// OverdueRuns lists running runs past their deadline.
func (s *Store) OverdueRuns(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM runs WHERE status = 'running' AND deadline_at < $1 LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list overdue runs: %w", translate(err))
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
