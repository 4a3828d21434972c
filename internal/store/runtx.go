package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// runTx implements engine.RunTx on one connection inside an explicit transaction. Statements
// are queued and sent as one pipelined batch when the engine needs a result (or at commit);
// each queued statement reads its own result, so a failed guard stops the batch with an error.
type runTx struct {
	conn    *pgx.Conn
	pending []statement
	begun   bool
}

type statement struct {
	sql  string
	args []any
	read func(pgx.BatchResults) error // nil: Exec and check the error only
}

func (t *runTx) queue(sql string, args []any, read func(pgx.BatchResults) error) {
	t.pending = append(t.pending, statement{sql: sql, args: args, read: read})
}

// guardError maps the errors raised by the transition guards (migrations 00002) to the
// engine's sentinels, a value PostgreSQL refuses to ErrUnstorable and a lost connection to
// ErrUnavailable.
func guardError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && unstorable(pe) {
		return fmt.Errorf("%w: %s (SQLSTATE %s)", engine.ErrUnstorable, storableText(pe.Message), pe.Code)
	}
	if !errors.As(err, &pe) || (pe.Code != "P0001" && pe.Code != "P0002") {
		return markUnavailable(err)
	}
	switch pe.Message {
	case "sf:not_found":
		return workflow.ErrNotFound
	case "sf:run_finished":
		return engine.ErrRunFinished
	case "sf:lost_race":
		return engine.ErrLostRace
	}
	return err
}

// unstorable reports whether PostgreSQL refused a value: a data exception (class 22: bad
// encoding, NUL, numeric overflow, malformed JSON) or an integrity constraint violation
// (class 23). Sending the same values again can never succeed.
func unstorable(pe *pgconn.PgError) bool {
	return strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23")
}

// flush sends every queued statement in one round trip and reads their results in order.
func (t *runTx) flush(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, s := range t.pending {
		b.Queue(s.sql, s.args...)
	}
	stmts := t.pending
	t.pending = nil
	br := t.conn.SendBatch(ctx, b)
	var err error
	for _, s := range stmts {
		if s.sql == `BEGIN` {
			t.begun = true
		}
		if s.read == nil {
			_, err = br.Exec()
		} else {
			err = s.read(br)
		}
		if err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	err = guardError(err)
	if err == nil && stmts[len(stmts)-1].sql == `COMMIT` {
		t.begun = false
	}
	return err
}

// query queues a statement that returns rows and flushes, so its rows can be read now.
func (t *runTx) query(ctx context.Context, sql string, args []any, row func(pgx.Rows) error) error {
	t.queue(sql, args, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return t.flush(ctx)
}

func (t *runTx) FinishTask(_ context.Context, f engine.TaskFinish) error {
	var handles []string
	if f.To == workflow.TaskCompleted {
		handles = f.Handles
	}
	claimed := 0
	if f.Claim {
		claimed = 1
	}
	t.queue(`
		WITH finished AS (
		UPDATE tasks SET
			status = $4,
			attempt = $3::int - CASE WHEN $14::timestamptz IS NULL THEN 0 ELSE 1 END,
			throttled_since = $14,
			redeliveries = $12,
			started_at = CASE WHEN $10::int = 1 THEN $11 ELSE started_at END,
			output = CASE WHEN $4 = 'completed' THEN coalesce($5, output, input) ELSE coalesce($5, output) END,
			handles = $6,
			error = nullif($7, ''),
			outcome = nullif($13, ''),
			due_at = $8,
			queued_at = CASE WHEN $4 IN ('queued', 'waiting') THEN $9 ELSE queued_at END,
			completed_at = CASE WHEN $4 IN ('completed', 'failed') THEN $9 ELSE completed_at END
		WHERE id = $1 AND status = $2
		  AND attempt = $3::int - CASE WHEN $10::int = 1 AND $2 = 'queued' THEN 1 ELSE 0 END
		  AND redeliveries = $12::int - CASE WHEN $10::int = 1 AND $2 = 'running' THEN 1 ELSE 0 END
		RETURNING 1)
		SELECT sf_require((SELECT count(*) FROM finished) = 1, 'sf:lost_race')`,
		[]any{f.TaskID, f.From, f.Attempt, f.To, nullJSON(storableJSON(f.Output)), handles, storableText(f.Error), nullTime(f.DueAt), f.Now, claimed,
			nullTime(f.StartedAt), f.Redeliveries, f.Outcome, nullTime(f.ThrottledSince)}, nil)
	return nil
}

func (t *runTx) ResolveEdges(ctx context.Context, runID string, res []engine.EdgeResolution) ([]engine.TargetState, error) {
	nodeIDs, edges, taken := make([]string, len(res)), make([]int32, len(res)), make([]int32, len(res))
	spans := make([]string, len(res))
	for i, r := range res {
		nodeIDs[i], edges[i], taken[i], spans[i] = r.NodeID, int32(r.Edges), int32(r.Taken), r.ParentSpan
	}
	// A taken edge appends the source's span context to the target's parent spans, up to
	// engine.MaxParentLinks; beyond that it is only counted.
	var out []engine.TargetState
	err := t.query(ctx, `
		UPDATE tasks t SET unresolved_parents = t.unresolved_parents - x.edges, activated_parents = t.activated_parents + x.taken,
			parent_spans = CASE WHEN x.taken > 0 AND x.span <> '' AND coalesce(cardinality(t.parent_spans), 0) < $6
				THEN array_append(t.parent_spans, x.span) ELSE t.parent_spans END,
			parent_spans_dropped = t.parent_spans_dropped +
				CASE WHEN x.taken > 0 AND x.span <> '' AND coalesce(cardinality(t.parent_spans), 0) >= $6 THEN 1 ELSE 0 END
		FROM unnest($2::text[], $3::int[], $4::int[], $5::text[]) AS x(node_id, edges, taken, span)
		WHERE t.run_id = $1 AND t.node_id = x.node_id AND t.status = 'pending'
		RETURNING t.node_id, t.unresolved_parents, t.activated_parents`, []any{runID, nodeIDs, edges, taken, spans, engine.MaxParentLinks},
		func(rows pgx.Rows) error {
			var s engine.TargetState
			err := rows.Scan(&s.NodeID, &s.Unresolved, &s.Activated)
			out = append(out, s)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("resolve edges: %w", err)
	}
	return out, nil
}

func (t *runTx) Parents(ctx context.Context, runID string, nodeIDs []string) ([]engine.ParentState, error) {
	var out []engine.ParentState
	err := t.query(ctx, `SELECT node_id, status, handles, output, coalesce(outcome, '') FROM tasks WHERE run_id = $1 AND node_id = ANY($2)`, []any{runID, nodeIDs},
		func(rows pgx.Rows) error {
			var p engine.ParentState
			err := rows.Scan(&p.NodeID, &p.Status, &p.Handles, &p.Output, &p.Outcome)
			out = append(out, p)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("load parents: %w", err)
	}
	return out, nil
}

func (t *runTx) ReleaseTasks(_ context.Context, runID string, rel []engine.Release, now time.Time) error {
	nodeIDs, inputs := make([]string, len(rel)), make([][]byte, len(rel))
	edges, taken := make([]int32, len(rel)), make([]int32, len(rel))
	claims := map[string]*engine.ReleaseClaim{}
	worker := ""
	for i, r := range rel {
		nodeIDs[i], inputs[i], edges[i], taken[i] = r.NodeID, storableJSON(r.Input), int32(r.Edges), int32(r.Taken)
		if r.Claim != nil {
			claims[r.NodeID], worker = r.Claim, r.Claim.WorkerID
		}
	}
	if len(claims) == 0 {
		t.queue(`
			UPDATE tasks t SET status = 'queued', input = coalesce(x.input, t.input), queued_at = $2, due_at = $2,
				unresolved_parents = t.unresolved_parents - x.edges, activated_parents = t.activated_parents + x.taken
			FROM unnest($3::text[], $4::jsonb[], $5::int[], $6::int[]) AS x(node_id, input, edges, taken)
			WHERE t.run_id = $1 AND t.node_id = x.node_id AND t.status = 'pending'`, []any{runID, now, nodeIDs, inputs, edges, taken}, nil)
		return nil
	}
	// Eager dispatch: the claimed tasks become running as their first attempt, held by the
	// releasing worker, in the same statement (the claim ClaimTask would make).
	claimed := make([]bool, len(rel))
	for i, r := range rel {
		claimed[i] = r.Claim != nil
	}
	t.queue(`
		UPDATE tasks t SET status = CASE WHEN x.claimed THEN 'running' ELSE 'queued' END, input = coalesce(x.input, t.input),
			queued_at = $2, due_at = $2,
			attempt = t.attempt + CASE WHEN x.claimed THEN 1 ELSE 0 END,
			started_at = CASE WHEN x.claimed THEN $2 ELSE t.started_at END,
			worker_id = CASE WHEN x.claimed THEN nullif($7, '') ELSE t.worker_id END,
			interruption = CASE WHEN x.claimed THEN NULL ELSE t.interruption END,
			unresolved_parents = t.unresolved_parents - x.edges, activated_parents = t.activated_parents + x.taken
		FROM unnest($3::text[], $4::jsonb[], $5::int[], $6::int[], $8::bool[]) AS x(node_id, input, edges, taken, claimed)
		WHERE t.run_id = $1 AND t.node_id = x.node_id AND t.status = 'pending'
		RETURNING t.node_id, x.claimed, t.attempt, t.redeliveries, coalesce(t.parent_spans, '{}'), t.parent_spans_dropped`,
		[]any{runID, now, nodeIDs, inputs, edges, taken, worker, claimed}, func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var nodeID string
				var isClaimed bool
				var c engine.ReleaseClaim
				if err := rows.Scan(&nodeID, &isClaimed, &c.Attempt, &c.Redeliveries, &c.ParentSpans, &c.ParentSpansDropped); err != nil {
					return err
				}
				if dst := claims[nodeID]; isClaimed && dst != nil {
					c.WorkerID = dst.WorkerID
					*dst = c // a task that was not pending leaves its claim unfilled (Attempt 0)
				}
			}
			return rows.Err()
		})
	return nil
}

// AddElements inserts a forEach task's elements after its position-ordered tasks, sets the
// forEach task's counters (unresolved_parents: elements not finished; activated_parents:
// elements released) and adds the elements to the run's counter of unfinished tasks.
func (t *runTx) AddElements(_ context.Context, runID, forEachTaskID string, tasks []engine.NewTask, released int, now time.Time) error {
	n := len(tasks)
	ids, nodeIDs, types, statuses, inputs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, task := range tasks {
		ids[i], nodeIDs[i], types[i], statuses[i], inputs[i] = task.ID, task.NodeID, task.NodeType, task.Status, storableJSON(task.Input)
	}
	t.queue(`
		WITH base AS (SELECT coalesce(max(position), 0) + 1 AS p FROM tasks WHERE run_id = $1),
		added AS (
			INSERT INTO tasks (id, run_id, node_id, node_type, position, status, input, unresolved_parents, queued_at, due_at, created_at)
			SELECT x.id, $1, x.node_id, x.node_type, base.p + x.ord - 1, x.status, x.input, 0,
			       CASE WHEN x.status = 'queued' THEN $2::timestamptz END, CASE WHEN x.status = 'queued' THEN $2::timestamptz END, $2
			FROM base, unnest($3::text[]::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) WITH ORDINALITY AS x(id, node_id, node_type, status, input, ord)
			RETURNING 1),
		counted AS (
			UPDATE tasks SET unresolved_parents = $8, activated_parents = $9 WHERE id = $10 AND status = 'waiting' RETURNING 1),
		bumped AS (
			UPDATE runs SET pending_tasks = pending_tasks + (SELECT count(*) FROM added) WHERE id = $1 RETURNING 1)
		SELECT sf_require((SELECT count(*) FROM counted) = 1 AND (SELECT count(*) FROM bumped) = 1, 'sf:lost_race')`,
		[]any{runID, now, ids, nodeIDs, types, statuses, inputs, n, released, forEachTaskID}, nil)
	return nil
}

// ElementFinished counts one finished element on a waiting forEach task and the next
// element released, if one is left.
func (t *runTx) ElementFinished(ctx context.Context, runID, forEachNodeID string) (engine.ElementProgress, error) {
	var p engine.ElementProgress
	found := false
	err := t.query(ctx, `
		WITH p AS (
			SELECT id, activated_parents AS released, (output->>'elements')::int AS elements
			FROM tasks WHERE run_id = $1 AND node_id = $2 AND status = 'waiting')
		UPDATE tasks t SET unresolved_parents = t.unresolved_parents - 1, activated_parents = least(p.released + 1, p.elements)
		FROM p WHERE t.id = p.id
		RETURNING t.id::text, t.attempt, t.redeliveries, t.input, p.elements, p.released, t.unresolved_parents`, []any{runID, forEachNodeID},
		func(rows pgx.Rows) error {
			found = true
			return rows.Scan(&p.TaskID, &p.Attempt, &p.Redeliveries, &p.Input, &p.Elements, &p.Released, &p.Remaining)
		})
	if err != nil {
		return p, fmt.Errorf("count finished element: %w", err)
	}
	if !found {
		return p, fmt.Errorf("forEach node %q of run %s is not waiting for its elements: %w", forEachNodeID, runID, engine.ErrLostRace)
	}
	return p, nil
}

func (t *runTx) SkipTasks(_ context.Context, runID string, nodeIDs []string, now time.Time) error {
	t.queue(`UPDATE tasks SET status = 'skipped', completed_at = $3, unresolved_parents = 0 WHERE run_id = $1 AND node_id = ANY($2) AND status = 'pending'`,
		[]any{runID, nodeIDs, now}, nil)
	return nil
}

func (t *runTx) AbortTasks(ctx context.Context, runID, exceptTaskID string, cancelAll bool, now time.Time) ([]engine.AbortedTask, error) {
	var out []engine.AbortedTask
	err := t.query(ctx, `
		UPDATE tasks t SET status = CASE WHEN $3 OR old.status = 'running' THEN 'cancelled' ELSE 'skipped' END, completed_at = $4
		FROM (SELECT id, status FROM tasks
		      WHERE run_id = $1 AND status IN ('pending', 'queued', 'running', 'waiting') AND id::text <> $2
		      FOR UPDATE) AS old
		WHERE t.id = old.id
		RETURNING t.id::text, t.node_type, old.status, t.status, t.redeliveries`, []any{runID, exceptTaskID, cancelAll, now},
		func(rows pgx.Rows) error {
			var a engine.AbortedTask
			err := rows.Scan(&a.TaskID, &a.NodeType, &a.FromStatus, &a.Status, &a.Redeliveries)
			out = append(out, a)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("abort tasks: %w", err)
	}
	return out, nil
}

func (t *runTx) AddLogs(_ context.Context, logs []engine.LogEntry) error {
	if len(logs) == 0 {
		return nil
	}
	sql, args, err := insertLogs(logs)
	if err != nil {
		return err
	}
	t.queue(sql, args, nil)
	return nil
}

// insertLogs builds one INSERT for many log lines. Arrays of ids travel as text[] and are cast
// in SQL: pgx has no binary encoding of []string as uuid[], and failing over to text on every
// call costs an error value per statement.
func insertLogs(logs []engine.LogEntry) (string, []any, error) {
	n := len(logs)
	ids, runIDs, nodeIDs, types, messages := make([]string, n), make([]string, n), make([]*string, n), make([]string, n), make([]string, n)
	data, at := make([][]byte, n), make([]time.Time, n)
	for i, l := range logs {
		ids[i], runIDs[i], types[i], messages[i], at[i] = uuid.NewString(), l.RunID, l.Type, storableText(l.Message), l.At
		if l.NodeID != "" {
			nodeIDs[i] = &logs[i].NodeID
		}
		if l.Data != nil {
			b, err := json.Marshal(l.Data)
			if err != nil {
				return "", nil, fmt.Errorf("encode log data: %w", err)
			}
			data[i] = storableJSON(b)
		}
	}
	return `
		INSERT INTO run_logs (id, run_id, node_id, type, message, data, created_at)
		SELECT * FROM unnest($1::text[]::uuid[], $2::text[]::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[])`,
		[]any{ids, runIDs, nodeIDs, types, messages, data, at}, nil
}

func addLogs(ctx context.Context, tx pgx.Tx, logs []engine.LogEntry) error {
	if len(logs) == 0 {
		return nil
	}
	sql, args, err := insertLogs(logs)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("add run logs: %w", err)
	}
	return nil
}

// MaxFailedNodes caps the node ids listed in a run result's failedNodes (in node order);
// failedContinuedTasks always has the full count.
const MaxFailedNodes = 50

// resultSQL summarises a run's tasks as the seed's result object ($1 is the run id), with the
// nodes that failed but continued (onError: continue): their count and their ids, at most
// MaxFailedNodes of them.
var resultSQL = fmt.Sprintf(`(SELECT jsonb_build_object(
		'completedTasks', count(*) FILTER (WHERE status = 'completed'), 'failedTasks', count(*) FILTER (WHERE status = 'failed'),
		'skippedTasks', count(*) FILTER (WHERE status = 'skipped'), 'cancelledTasks', count(*) FILTER (WHERE status = 'cancelled'),
		'totalTasks', count(*), 'failedContinuedTasks', count(*) FILTER (WHERE outcome = 'failed_continued'),
		'failedNodes', coalesce((SELECT jsonb_agg(f.node_id ORDER BY f.position) FROM (
			SELECT node_id, position FROM tasks WHERE run_id = $1 AND outcome = 'failed_continued' ORDER BY position LIMIT %d) f), '[]'::jsonb))
		FROM tasks WHERE run_id = $1)`, MaxFailedNodes)

// failedNodesSQL reads the failed-and-continued count from a run's result.
const failedNodesSQL = `coalesce((result->>'failedContinuedTasks')::int, 0)`

// failedSetSQL records on a finishing run ($1) what run search reads of its failed nodes
// (migration 00011): tasks that failed or failed and continued, their count, node ids in node
// order and errors, one per line, each cut to 2000 characters and 8000 in all. keep is an SQL
// condition under which the columns keep their values (the run is not finishing yet), and the
// subqueries are not evaluated.
func failedSetSQL(keep string) string {
	const failed = `FROM tasks WHERE run_id = $1 AND (status = 'failed' OR outcome = 'failed_continued')`
	return fmt.Sprintf(`
				failed_tasks = CASE WHEN %[1]s THEN failed_tasks ELSE (SELECT count(*) %[2]s) END,
				failed_nodes = CASE WHEN %[1]s THEN failed_nodes ELSE (SELECT array_agg(node_id ORDER BY position) %[2]s) END,
				failed_errors = CASE WHEN %[1]s THEN failed_errors
				                ELSE (SELECT left(string_agg(left(error, 2000), E'\n' ORDER BY position), 8000) %[2]s) END`, keep, failed)
}

func (t *runTx) SettleRun(_ context.Context, runID string, terminal int, now time.Time, end *engine.RunEnd) error {
	// The CASE branches (and their subqueries) are evaluated only when the counter reaches 0;
	// the same statement adds the "Workflow run <status>" log line then, preceded, for a run
	// with nodes that failed but continued, by an error line naming them.
	t.queue(`
		WITH settled AS (
			UPDATE runs SET
				pending_tasks = pending_tasks - $2,
				status = CASE WHEN pending_tasks - $2 > 0 THEN status
				              WHEN EXISTS (SELECT 1 FROM tasks WHERE run_id = $1 AND status = 'failed') THEN 'failed'
				              ELSE 'succeeded' END,
				finished_at = CASE WHEN pending_tasks - $2 > 0 THEN finished_at ELSE $3 END,
				result = CASE WHEN pending_tasks - $2 > 0 THEN result ELSE `+resultSQL+` END,`+failedSetSQL(`pending_tasks - $2 > 0`)+`
			WHERE id = $1
			RETURNING id, status, started_at, pending_tasks, result, `+failedNodesSQL+` AS failed_nodes, version_id, trace_context, parent_task_id),
		logged AS (
			INSERT INTO run_logs (id, run_id, type, message, data, created_at)
			SELECT $4::uuid, id, 'error', format('Workflow run %s with %s failed node(s) (onError: continue): %s', status, failed_nodes,
					(SELECT string_agg(n, ', ') FROM jsonb_array_elements_text(result->'failedNodes') n)),
				jsonb_build_object('failedNodes', result->'failedNodes', 'failedContinuedTasks', failed_nodes), $3::timestamptz
			FROM settled WHERE pending_tasks = 0 AND failed_nodes > 0
			UNION ALL
			SELECT $5::uuid, id, 'system', 'Workflow run ' || status, NULL::jsonb, $3::timestamptz FROM settled WHERE pending_tasks = 0)
		SELECT status, started_at, failed_nodes, version_id::text, coalesce(trace_context, ''), `+parentSQL("settled", "pending_tasks = 0")+` FROM settled`, []any{runID, terminal, now, uuid.NewString(), uuid.NewString()}, scanEnd(end))
	return nil
}

func (t *runTx) EndRun(_ context.Context, runID, status, errMsg string, extra map[string]any, now time.Time, end *engine.RunEnd) error {
	b, err := json.Marshal(extra)
	if err != nil {
		return fmt.Errorf("encode run result: %w", err)
	}
	if extra == nil {
		b = []byte(`{}`)
	}
	t.queue(`UPDATE runs SET status = $2, error = nullif($3, ''), result = `+resultSQL+` || $4::jsonb, finished_at = $5, pending_tasks = 0,`+failedSetSQL(`false`)+`
		WHERE id = $1 RETURNING status, started_at, `+failedNodesSQL+`, version_id::text, coalesce(trace_context, ''), `+parentSQL("runs", "true"),
		[]any{runID, status, storableText(errMsg), storableJSON(b), now}, scanEnd(end))
	return nil
}

// parentSQL reads, from row source rel of a run that is ending (when ends holds), the task that
// invoked it and that task's run (empty for a run no task invoked); the lookup runs only then.
func parentSQL(rel, ends string) string {
	return fmt.Sprintf(`CASE WHEN %[2]s THEN coalesce(%[1]s.parent_task_id::text, '') ELSE '' END,
		CASE WHEN %[2]s AND %[1]s.parent_task_id IS NOT NULL THEN coalesce((SELECT pt.run_id::text FROM tasks pt WHERE pt.id = %[1]s.parent_task_id), '') ELSE '' END`, rel, ends)
}

// scanEnd reads a run's status and start time into end (which may be nil).
func scanEnd(end *engine.RunEnd) func(pgx.BatchResults) error {
	return func(br pgx.BatchResults) error {
		var e engine.RunEnd
		if err := br.QueryRow().Scan(&e.Status, &e.StartedAt, &e.FailedNodes, &e.VersionID, &e.TraceContext, &e.ParentTaskID, &e.ParentRunID); err != nil {
			return fmt.Errorf("update run: %w", err)
		}
		if end != nil {
			*end = e
		}
		return nil
	}
}

func nullJSON(b json.RawMessage) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (t *runTx) AddResumeToken(_ context.Context, r engine.ResumeToken) error {
	t.queue(`INSERT INTO resume_tokens (token_hash, task_id, created_at) VALUES ($1, $2, $3)`, []any{r.Hash, r.TaskID, r.Now}, nil)
	return nil
}
