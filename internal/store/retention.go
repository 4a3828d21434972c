package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sequenceflow/sequenceflow/internal/retention"
)

var _ retention.Store = (*Store)(nil)

// retentionLock is the key of the transaction-level advisory lock one retention batch holds.
const retentionLock = 727012

// deleteExpiredRunsQuery deletes one batch of expired runs: $1 from (inclusive), $2 the
// cutoff, $3 the batch size, $4 the terminal statuses, $5 the advisory lock's key. It returns
// whether it got the lock, how many runs it deleted and the latest finished_at among them.
//
// N workers run it at once; one batch runs at a time. Its first step takes a
// transaction-level advisory lock without waiting (pg_try_advisory_xact_lock, an InitPlan
// evaluated once before any row is read): a batch that finds it held deletes nothing and
// says so, and its pruner tries again after its pause, so the workers' batches take turns.
// The lock ends with the statement's transaction, so it holds no session and works behind a
// transaction-mode pooler. Batches of different pruners must not overlap: runs reference
// their parent run (parent_run_id, ON DELETE SET NULL), so deleting a parent updates its
// children; two batches holding each other's children would deadlock. Row locks alone
// (FOR UPDATE SKIP LOCKED) would let N batches run at once, but their runs interleave in the
// index, so parent and child can sit in different batches in both directions. One batch at
// a time costs nothing worth having: the deletes are I/O of one database, and one pruner
// deletes thousands of runs a second.
//
// The CTE still locks its runs with FOR UPDATE SKIP LOCKED: a run another transaction holds
// (a late cancel request on a finished run) is skipped, not waited for, and taken by a later
// pass. Runs in flight are never touched: the status and finished_at conditions are checked
// in the CTE (FOR UPDATE re-reads a row changed since the statement's snapshot and checks
// them again on its newest version) and once more in the DELETE itself. The range on
// finished_at reads runs_finished_idx (migration 00012), oldest first; the cascades read
// tasks and run_logs by their run_id indexes. Nothing here depends on other columns of runs:
// foreign keys that point at runs (parent runs) act through their own ON DELETE rules.
const deleteExpiredRunsQuery = `
	WITH gate AS MATERIALIZED (
		SELECT pg_try_advisory_xact_lock($5) AS open
	), doomed AS (
		SELECT id FROM runs
		WHERE (SELECT open FROM gate) AND finished_at >= $1 AND finished_at < $2 AND status = ANY ($4::text[])
		ORDER BY finished_at
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	), gone AS (
		DELETE FROM runs r USING doomed d
		WHERE r.id = d.id AND r.finished_at < $2 AND r.status = ANY ($4::text[])
		RETURNING r.finished_at
	)
	SELECT (SELECT open FROM gate), count(*), max(finished_at) FROM gone`

// DeleteExpiredRuns deletes at most b.Limit runs that are terminal and finished in
// [b.From, b.Before), oldest first, with their tasks and logs, in one statement. Runs locked
// by another transaction are skipped; while another pruner's batch runs it deletes nothing
// and reports Busy.
func (s *Store) DeleteExpiredRuns(ctx context.Context, b retention.Batch) (retention.Deleted, error) {
	var open bool
	var n int
	var last pgtype.Timestamptz
	if err := s.pool.QueryRow(ctx, deleteExpiredRunsQuery, b.From, b.Before, b.Limit, retention.Terminal, retentionLock).Scan(&open, &n, &last); err != nil {
		return retention.Deleted{}, fmt.Errorf("delete expired runs: %w", translate(err))
	}
	return retention.Deleted{Runs: n, Last: last.Time, Busy: !open}, nil
}

// OldestFinishedRun returns when the oldest finished run still stored finished; ok is false
// when no run has finished. It reads one entry of runs_finished_idx.
func (s *Store) OldestFinishedRun(ctx context.Context) (finished time.Time, ok bool, err error) {
	var t pgtype.Timestamptz
	if err := s.pool.QueryRow(ctx, `SELECT min(finished_at) FROM runs WHERE finished_at IS NOT NULL`).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("read the oldest finished run: %w", translate(err))
	}
	return t.Time, t.Valid, nil
}
