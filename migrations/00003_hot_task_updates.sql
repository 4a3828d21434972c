-- +goose Up
-- Task updates (claim, release, completion) change status, due_at and started_at. While an
-- index covered those columns, none of those updates could be HOT: each one wrote a new entry
-- into every index of the table. The reconciler now finds due and stale tasks through the runs
-- in flight (runs_active_idx, then tasks by run_id), so no index of tasks covers a column that
-- changes, and free space on each page lets PostgreSQL update tasks in place.
DROP INDEX tasks_reconcile_idx;
DROP INDEX tasks_running_idx;
ALTER TABLE tasks SET (fillfactor = 70);

-- +goose Down
ALTER TABLE tasks RESET (fillfactor);
CREATE INDEX tasks_running_idx ON tasks (started_at) WHERE status = 'running';
CREATE INDEX tasks_reconcile_idx ON tasks (due_at) WHERE status IN ('queued', 'waiting');
