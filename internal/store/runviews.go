package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// runStatuses checks a filter's statuses and returns them without repeats; an unknown one is
// an error naming the status parameter.
func runStatuses(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, st := range in {
		if !workflow.IsRunStatus(st) {
			return nil, workflow.Invalid("status", "%.40q is not a run status (one of %s)", st, strings.Join(workflow.RunStatuses(), ", "))
		}
		if !seen[st] {
			seen[st] = true
			out = append(out, st)
		}
	}
	return out, nil
}

// GetRun returns a run with all of its tasks (creation order) and logs (oldest first), in
// full. The API shows runs through RunView, which bounds every value.
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
		SELECT id::text, node_id, node_type, status, attempt, redeliveries, error, coalesce(outcome, ''), started_at, completed_at
		FROM tasks WHERE run_id = $1 ORDER BY position`, runID)
	if err != nil {
		return r, fmt.Errorf("get run %s tasks: %w", runID, translate(err))
	}
	r.Tasks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflow.Task, error) {
		var t workflow.Task
		err := row.Scan(&t.ID, &t.NodeID, &t.NodeType, &t.Status, &t.Attempt, &t.Redeliveries, &t.Error, &t.Outcome, &t.StartedAt, &t.CompletedAt)
		return t, err
	})
	if err != nil {
		return r, fmt.Errorf("get run %s tasks: %w", runID, translate(err))
	}
	rows, err = s.pool.Query(ctx, `SELECT id::text, node_id, type, message, data, created_at FROM run_logs WHERE run_id = $1 ORDER BY created_at, seq`, runID)
	if err != nil {
		return r, fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	r.Logs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflow.LogLine, error) {
		var l workflow.LogLine
		err := row.Scan(&l.ID, &l.NodeID, &l.Type, &l.Message, &l.Data, &l.Timestamp)
		return l, err
	})
	if err != nil {
		return r, fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	return r, nil
}

// runKey checks a run key's ids; ErrNotFound for ids no stored object can have.
func runKey(key workflow.RunKey) (runID string, workflowID *string, err error) {
	if runID, err = lookupID("run", key.RunID); err != nil {
		return "", nil, err
	}
	if key.WorkflowID == "" {
		return runID, nil, nil
	}
	wid, err := lookupID("workflow", key.WorkflowID)
	return runID, &wid, err
}

// Bounded reads: large values are cut in SQL, so neither PostgreSQL's answer nor the API's
// memory grows with what nodes produced. left() reads only the start of a stored text, and
// comparing its size with octet_length (which reads a stored size without detoasting) tells
// whether it was cut. A jsonb value is measured exactly by rendering it to text, but only when
// its stored size (pg_column_size, at most a few times smaller than its text even compressed
// only moderately) leaves it a candidate; CASE fixes the order of evaluation.
func textPreview(col string) string { return fmt.Sprintf(`left(%s, %d)`, col, PreviewChars) }

func textCut(col string) string {
	return fmt.Sprintf(`coalesce(octet_length(left(%[1]s, %[2]d)) < octet_length(%[1]s), false)`, col, PreviewChars)
}

func jsonInline(col string) string {
	return fmt.Sprintf(`CASE WHEN pg_column_size(%[1]s) > %[3]d THEN NULL WHEN octet_length(%[1]s::text) > %[2]d THEN NULL ELSE %[1]s END`,
		col, InlineBytes, 4*InlineBytes)
}

func jsonLarge(col string) string {
	return fmt.Sprintf(`CASE WHEN %[1]s IS NULL THEN false WHEN pg_column_size(%[1]s) > %[3]d THEN true ELSE octet_length(%[1]s::text) > %[2]d END`,
		col, InlineBytes, 4*InlineBytes)
}

var (
	runErrorPreview  = textPreview("r.error")
	taskErrorPreview = textPreview("error")
	taskErrorCut     = textCut("error")
	taskOutputInline = jsonInline("output")
	taskOutputLarge  = jsonLarge("output")
	logMessage       = textPreview("l.message")
	logMessageCut    = textCut("l.message")
	logDataInline    = jsonInline("l.data")
	logDataLarge     = jsonLarge("l.data")
)

// RunView returns a run for the status routes: its tasks with error previews and small outputs
// inline, and the first page of its logs (see RunLogs).
func (s *Store) RunView(ctx context.Context, key workflow.RunKey, logs workflow.Page) (workflow.RunView, error) {
	var v workflow.RunView
	runID, workflowID, err := runKey(key)
	if err != nil {
		return v, err
	}
	var errMsg *string
	err = s.pool.QueryRow(ctx, `
		SELECT r.id::text, r.workflow_id::text, v.version, r.status, r.input, r.result, `+runErrorPreview+`, coalesce(r.trace_context, ''), r.started_at, r.finished_at
		FROM runs r JOIN workflow_versions v ON v.id = r.version_id
		WHERE r.id = $1 AND ($2::uuid IS NULL OR r.workflow_id = $2::uuid)`, runID, workflowID).
		Scan(&v.ID, &v.WorkflowID, &v.Version, &v.Status, &v.Input, &v.Result, &errMsg, &v.TraceContext, &v.StartedAt, &v.FinishedAt)
	if err != nil {
		return v, fmt.Errorf("get run %s: %w", runID, translate(err))
	}
	if errMsg != nil {
		v.Error = *errMsg
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, node_id, node_type, status, attempt, redeliveries, `+taskErrorPreview+`, `+taskErrorCut+`, started_at, completed_at,
		       output IS NOT NULL, `+taskOutputInline+`, `+taskOutputLarge+`
		FROM tasks WHERE run_id = $1 ORDER BY position`, runID)
	if err != nil {
		return v, fmt.Errorf("get run %s tasks: %w", runID, translate(err))
	}
	v.Tasks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflow.TaskView, error) {
		var t workflow.TaskView
		return t, row.Scan(&t.ID, &t.NodeID, &t.NodeType, &t.Status, &t.Attempt, &t.Redeliveries, &t.Error, &t.ErrorTruncated, &t.StartedAt, &t.CompletedAt,
			&t.HasOutput, &t.Output, &t.OutputLarge)
	})
	if err != nil {
		return v, fmt.Errorf("get run %s tasks: %w", runID, translate(err))
	}
	if v.Lineage, err = s.lineage(ctx, runID); err != nil {
		return v, err
	}
	v.Logs, v.LogsNext, err = s.logPage(ctx, runID, logs)
	return v, err
}

// RunLogs returns one page of a run's logs, oldest first, as previews (see RunView), and the
// cursor of the next page (empty after the last); ErrNotFound when the run is missing.
func (s *Store) RunLogs(ctx context.Context, key workflow.RunKey, page workflow.Page) ([]workflow.LogView, string, error) {
	runID, workflowID, err := runKey(key)
	if err != nil {
		return nil, "", err
	}
	if err := s.runExists(ctx, runID, workflowID); err != nil {
		return nil, "", fmt.Errorf("get run %s logs: %w", runID, err)
	}
	return s.logPage(ctx, runID, page)
}

// RunExists returns ErrNotFound unless the run exists (in the key's workflow, when given).
func (s *Store) RunExists(ctx context.Context, key workflow.RunKey) error {
	runID, workflowID, err := runKey(key)
	if err != nil {
		return err
	}
	if err := s.runExists(ctx, runID, workflowID); err != nil {
		return fmt.Errorf("find run %s: %w", runID, err)
	}
	return nil
}

func (s *Store) runExists(ctx context.Context, runID string, workflowID *string) error {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1 AND ($2::uuid IS NULL OR workflow_id = $2::uuid))`,
		runID, workflowID).Scan(&exists)
	if err != nil {
		return translate(err)
	}
	if !exists {
		return workflow.ErrNotFound
	}
	return nil
}

func (s *Store) logPage(ctx context.Context, runID string, page workflow.Page) ([]workflow.LogView, string, error) {
	limit, err := pageLimit(page, DefaultLogPage, MaxLogPage)
	if err != nil {
		return nil, "", err
	}
	var afterAt *time.Time
	var afterSeq *int64
	if page.Cursor != "" {
		c, err := parseCursor(page.Cursor, isSeq)
		if err != nil {
			return nil, "", err
		}
		seq, _ := strconv.ParseInt(c.key, 10, 64)
		afterAt, afterSeq = &c.at, &seq
	}
	rows, err := s.pool.Query(ctx, `
		SELECT l.id::text, l.node_id, l.type, `+logMessage+`, `+logMessageCut+`, `+logDataInline+`, `+logDataLarge+`,
		       l.created_at, l.seq, t.id::text
		FROM run_logs l LEFT JOIN tasks t ON t.run_id = l.run_id AND t.node_id = l.node_id
		WHERE l.run_id = $1 AND ($2::timestamptz IS NULL OR (l.created_at, l.seq) > ($2, $3::bigint))
		ORDER BY l.created_at, l.seq LIMIT $4`, runID, afterAt, afterSeq, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	var seqs []int64
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflow.LogView, error) {
		var l workflow.LogView
		var seq int64
		err := row.Scan(&l.ID, &l.NodeID, &l.Type, &l.Message, &l.MessageTruncated, &l.Data, &l.DataTruncated, &l.Timestamp, &seq, &l.TaskID)
		seqs = append(seqs, seq)
		return l, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("get run %s logs: %w", runID, translate(err))
	}
	if len(out) <= limit {
		return out, "", nil
	}
	next := cursor{at: out[limit-1].Timestamp, key: strconv.FormatInt(seqs[limit-1], 10)}
	return out[:limit], next.String(), nil
}

// TaskOutput returns one task's full output; ErrNotFound unless the task belongs to the run
// (and the run to the key's workflow, when given).
func (s *Store) TaskOutput(ctx context.Context, key workflow.RunKey, taskID string) (workflow.TaskOutput, error) {
	var out workflow.TaskOutput
	runID, workflowID, err := runKey(key)
	if err != nil {
		return out, err
	}
	if taskID, err = lookupID("task", taskID); err != nil {
		return out, err
	}
	err = s.pool.QueryRow(ctx, `
		SELECT t.id::text, t.node_id, t.status, t.output, t.completed_at
		FROM tasks t JOIN runs r ON r.id = t.run_id
		WHERE t.id = $1 AND t.run_id = $2 AND ($3::uuid IS NULL OR r.workflow_id = $3::uuid)`, taskID, runID, workflowID).
		Scan(&out.TaskID, &out.NodeID, &out.Status, &out.Output, &out.CompletedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("get task %s output: %w", taskID, workflow.ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("get task %s output: %w", taskID, translate(err))
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
