package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sequenceflow/sequenceflow/internal/retention"
)

var _ retention.Store = (*Store)(nil)

// deleteExpiredRunsQuery deletes one batch of expired runs: $1 from (inclusive), $2 the
// cutoff, $3 the batch size, $4 the terminal statuses.
//
// N workers run it at once. The CTE locks the runs it takes with FOR UPDATE SKIP LOCKED: a
// run another pruner holds is skipped, not waited for, so the pruners share a backlog
// (each takes the oldest runs nobody else holds) instead of queueing behind one another,
// and each run is deleted by exactly one of them. Their batches are disjoint sets of runs,
// so the cascaded deletes of tasks and run_logs touch disjoint rows too: pruners never wait
// on each other, hence never deadlock. A session advisory lock per pass would also be safe,
// but would let one worker do all the work while the others idle, and does not survive a
// transaction-mode connection pooler. A run some other transaction holds (a late cancel
// request on a finished run) is skipped as well and taken by a later pass.
//
// Runs in flight are never touched: the status and finished_at conditions are checked in
// the CTE (FOR UPDATE re-reads a row changed since the statement's snapshot and checks them
// again on its newest version) and once more in the DELETE itself. The range on finished_at
// reads runs_finished_idx (migration 00012), oldest first; the cascades read tasks and
// run_logs by their run_id indexes. Nothing here depends on other columns of runs: foreign
// keys that point at runs from elsewhere (parent runs) act through their own ON DELETE rules.
const deleteExpiredRunsQuery = `
	WITH doomed AS (
		SELECT id FROM runs
		WHERE finished_at >= $1 AND finished_at < $2 AND status = ANY ($4::text[])
		ORDER BY finished_at
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	), gone AS (
		DELETE FROM runs r USING doomed d
		WHERE r.id = d.id AND r.finished_at < $2 AND r.status = ANY ($4::text[])
		RETURNING r.finished_at
	)
	SELECT count(*), max(finished_at) FROM gone`

// DeleteExpiredRuns deletes at most b.Limit runs that are terminal and finished in
// [b.From, b.Before), oldest first, with their tasks and logs, in one statement. Runs locked
// by another transaction are skipped.
func (s *Store) DeleteExpiredRuns(ctx context.Context, b retention.Batch) (retention.Deleted, error) {
	var n int
	var last pgtype.Timestamptz
	if err := s.pool.QueryRow(ctx, deleteExpiredRunsQuery, b.From, b.Before, b.Limit, retention.Terminal).Scan(&n, &last); err != nil {
		return retention.Deleted{}, fmt.Errorf("delete expired runs: %w", translate(err))
	}
	return retention.Deleted{Runs: n, Last: last.Time}, nil
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
