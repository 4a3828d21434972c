-- +goose Up
-- Lineage of retried and re-run runs: the run a retry or re-run was made from, the node a
-- re-run started at, and which of the two it is (NULL for a run started by an execute route).
-- Nullable columns without defaults rewrite nothing. Deleting the original run (or its
-- workflow) keeps its re-runs and clears their parent.
ALTER TABLE runs
    ADD COLUMN parent_run_id uuid REFERENCES runs (id) ON DELETE SET NULL,
    ADD COLUMN rerun_from_node_id text,
    ADD COLUMN origin text CHECK (origin IN ('retry', 'rerun'));
-- A run's detail lists the runs made from it, newest first.
CREATE INDEX runs_parent_idx ON runs (parent_run_id, started_at DESC) WHERE parent_run_id IS NOT NULL;

-- +goose Down
DROP INDEX runs_parent_idx;
ALTER TABLE runs DROP COLUMN origin, DROP COLUMN rerun_from_node_id, DROP COLUMN parent_run_id;
