-- +goose NO TRANSACTION
-- +goose Up
-- Retention (RUN_RETENTION) deletes finished runs older than a cutoff in bounded batches,
-- oldest first: each batch is a range of this index from the previous batch's last finished_at
-- up to the cutoff, however large runs is. Runs in flight have no finished_at and are not in it,
-- so it stays the size of the history kept. The same index answers the age of the oldest run
-- kept (sequenceflow_retention_oldest_run_age_seconds) with one probe. finished_at is set by
-- the update that makes a run terminal, which changes status too; runs_active_idx's predicate
-- already covers status, so that update was never HOT and this index costs no HOT update.
-- The deletes' cascades to tasks and run_logs go by tasks_run_position_idx (run_id, position)
-- and run_logs_run_idx (run_id, created_at, seq), whose leading column is run_id.
-- Built CONCURRENTLY so that starting and finishing runs goes on while it is built; a build
-- that was interrupted leaves an invalid index, which the DROP removes before trying again.
DROP INDEX CONCURRENTLY IF EXISTS runs_finished_idx;
CREATE INDEX CONCURRENTLY runs_finished_idx ON runs (finished_at) WHERE finished_at IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS runs_finished_idx;
