-- +goose Up
-- Resume tokens of tasks waiting for an event (wait nodes): POST /resume/{token} finds its
-- task by the token's SHA-256 digest, so the table never holds a token that works. A task
-- holds at most one token, written by the transition that parks it; the task's status decides
-- whether the token still resumes anything, and the row goes with its task (run retention).
-- A table of its own keeps the tasks table free of another index (task updates stay HOT).
CREATE TABLE resume_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    task_id    uuid        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL
);
-- Deleting a run's tasks (retention, workflow deletion) finds their tokens by task.
CREATE INDEX resume_tokens_task_idx ON resume_tokens (task_id);

-- +goose Down
DROP TABLE resume_tokens;
