-- +goose Up
-- A task's final outcome when its status alone does not tell it: 'failed_continued' is a task
-- whose node failed for good but whose onError: continue completed it with an error payload.
-- NULL for every other task. Adding a nullable column without a default rewrites nothing.
ALTER TABLE tasks ADD COLUMN outcome text CHECK (outcome IN ('failed_continued'));

-- +goose Down
ALTER TABLE tasks DROP COLUMN outcome;
