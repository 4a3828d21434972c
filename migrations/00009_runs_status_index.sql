-- +goose NO TRANSACTION
-- +goose Up
-- GET /workflows/{id}/runs?status=... reads each asked-for status's runs newest first, in the
-- list's order (started_at DESC, then id), from this index: a filtered page costs as much as
-- an unfiltered one however rare the status. runs_active_idx's predicate already covers
-- status, so a run's status change was never a HOT update; updates that leave status and
-- started_at alone (the pending_tasks counter) can still be HOT.
-- Built CONCURRENTLY so that starting and finishing runs goes on while it is built; a build
-- that was interrupted leaves an invalid index, which the DROP removes before trying again.
DROP INDEX CONCURRENTLY IF EXISTS runs_workflow_status_started_idx;
CREATE INDEX CONCURRENTLY runs_workflow_status_started_idx ON runs (workflow_id, status, started_at DESC, id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS runs_workflow_status_started_idx;
