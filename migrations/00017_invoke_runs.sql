-- +goose Up
-- Sub-workflows: a run started by an invokeWorkflow node records the task that started it
-- (parent_task_id) and how deep it is nested (invoke_depth: 0 for a run started any other
-- way, its parent's depth + 1 for a child), and its origin is 'invoke'. Both are written once
-- with the run and never change, so the index on parent_task_id (cancelling a parent cancels
-- its children; a wake-up reads its child) costs no HOT update. No foreign key: tasks are
-- pruned with their runs by retention, and a child outlives its parent's rows like any run.
-- A nullable column without a default and a column with a constant default rewrite nothing.
ALTER TABLE runs
    ADD COLUMN parent_task_id uuid,
    ADD COLUMN invoke_depth integer NOT NULL DEFAULT 0 CHECK (invoke_depth >= 0),
    DROP CONSTRAINT runs_origin_check,
    ADD CONSTRAINT runs_origin_check CHECK (origin IN ('retry', 'rerun', 'invoke'));
CREATE INDEX runs_parent_task_idx ON runs (parent_task_id) WHERE parent_task_id IS NOT NULL;

-- +goose Down
DROP INDEX runs_parent_task_idx;
UPDATE runs SET origin = NULL WHERE origin = 'invoke';
ALTER TABLE runs
    DROP CONSTRAINT runs_origin_check,
    ADD CONSTRAINT runs_origin_check CHECK (origin IN ('retry', 'rerun')),
    DROP COLUMN invoke_depth,
    DROP COLUMN parent_task_id;
