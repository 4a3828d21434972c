-- +goose NO TRANSACTION
-- +goose Up
-- Run search (GET /runs and the filters of GET /workflows/{id}/runs). Every filter is served by
-- an index range of runs, read in the lists' order (started_at DESC, then id) where the filter
-- keeps many runs. No index is added to tasks: task transitions stay HOT (00003), so what a
-- search needs from a run's tasks is recorded on the run when it finishes, in the statement
-- that sets its final status (whose update was never HOT):
--   failed_tasks  the number of its failed nodes: tasks that failed (status failed) or failed
--                 and continued (outcome failed_continued, onError: continue);
--   failed_nodes  their node ids, in node order;
--   failed_errors their errors (each cut to 2000 characters, 8000 in all), one per line.
-- Every statement can run again after an interruption: goose records the migration only once
-- all of them succeeded, and a CONCURRENTLY build that was interrupted leaves an invalid index,
-- which the DROP removes before building it again.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS failed_nodes text[];
ALTER TABLE runs ADD COLUMN IF NOT EXISTS failed_errors text;

-- Runs that finished before this migration: only those with a failed node are written.
UPDATE runs r SET failed_tasks = f.n, failed_nodes = f.nodes, failed_errors = f.errors
FROM (SELECT run_id, count(*)::int AS n, array_agg(node_id ORDER BY position) AS nodes,
             left(string_agg(left(error, 2000), E'\n' ORDER BY position), 8000) AS errors
      FROM tasks WHERE status = 'failed' OR outcome = 'failed_continued' GROUP BY run_id) f
WHERE r.id = f.run_id AND r.finished_at IS NOT NULL AND r.failed_nodes IS NULL;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Every run, newest first: the unfiltered search and the time range.
DROP INDEX CONCURRENTLY IF EXISTS runs_started_idx;
CREATE INDEX CONCURRENTLY runs_started_idx ON runs (started_at DESC, id);
-- One status (or each of several, merged), over all workflows.
DROP INDEX CONCURRENTLY IF EXISTS runs_status_started_idx;
CREATE INDEX CONCURRENTLY runs_status_started_idx ON runs (status, started_at DESC, id);
-- One version of a workflow.
DROP INDEX CONCURRENTLY IF EXISTS runs_version_started_idx;
CREATE INDEX CONCURRENTLY runs_version_started_idx ON runs (version_id, started_at DESC, id);
-- An idempotency key over all workflows (within one workflow its unique constraint serves).
DROP INDEX CONCURRENTLY IF EXISTS runs_idempotency_key_idx;
CREATE INDEX CONCURRENTLY runs_idempotency_key_idx ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Runs with failed nodes ("succeeded with failed nodes" reads it filtered by status).
DROP INDEX CONCURRENTLY IF EXISTS runs_failed_nodes_started_idx;
CREATE INDEX CONCURRENTLY runs_failed_nodes_started_idx ON runs (started_at DESC, id) WHERE failed_tasks > 0;
-- A node that failed.
DROP INDEX CONCURRENTLY IF EXISTS runs_failed_nodes_idx;
CREATE INDEX CONCURRENTLY runs_failed_nodes_idx ON runs USING gin (failed_nodes);
-- Error text, a case-insensitive substring of the run's error or of a failed node's.
DROP INDEX CONCURRENTLY IF EXISTS runs_error_trgm_idx;
CREATE INDEX CONCURRENTLY runs_error_trgm_idx ON runs USING gin (error gin_trgm_ops);
DROP INDEX CONCURRENTLY IF EXISTS runs_failed_errors_trgm_idx;
CREATE INDEX CONCURRENTLY runs_failed_errors_trgm_idx ON runs USING gin (failed_errors gin_trgm_ops);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS runs_failed_errors_trgm_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_error_trgm_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_failed_nodes_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_failed_nodes_started_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_idempotency_key_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_version_started_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_status_started_idx;
DROP INDEX CONCURRENTLY IF EXISTS runs_started_idx;
ALTER TABLE runs DROP COLUMN IF EXISTS failed_errors;
ALTER TABLE runs DROP COLUMN IF EXISTS failed_nodes;
