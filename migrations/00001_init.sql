-- +goose Up
CREATE TABLE workflows (
    id              uuid PRIMARY KEY,
    name            text        NOT NULL,
    current_version integer     NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
-- GET /workflows lists newest first.
CREATE INDEX workflows_updated_at_idx ON workflows (updated_at DESC);

-- Versions are immutable: editing a workflow appends one, runs pin the one they started with.
CREATE TABLE workflow_versions (
    id          uuid PRIMARY KEY,
    workflow_id uuid        NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version     integer     NOT NULL,
    definition  jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (workflow_id, version)
);

CREATE TABLE runs (
    id              uuid PRIMARY KEY,
    workflow_id     uuid        NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version_id      uuid        NOT NULL REFERENCES workflow_versions (id) ON DELETE CASCADE,
    status          text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input           jsonb       NOT NULL,
    result          jsonb,
    error           text,
    idempotency_key text,
    trace_context   text,
    -- Tasks not yet terminal; the run finishes when it reaches 0.
    pending_tasks   integer     NOT NULL CHECK (pending_tasks >= 0),
    failed_tasks    integer     NOT NULL DEFAULT 0,
    deadline_at     timestamptz,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    UNIQUE (workflow_id, idempotency_key)
);
-- GET /workflows/{id}/runs lists newest first.
CREATE INDEX runs_workflow_started_idx ON runs (workflow_id, started_at DESC);
-- Metrics count the runs in flight.
CREATE INDEX runs_active_idx ON runs (started_at) WHERE status IN ('queued', 'running');
-- The reconciler looks for running runs past their deadline.
CREATE INDEX runs_deadline_idx ON runs (deadline_at) WHERE status = 'running' AND deadline_at IS NOT NULL;

CREATE TABLE tasks (
    id                 uuid PRIMARY KEY,
    run_id             uuid        NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id            text        NOT NULL,
    node_type          text        NOT NULL,
    position           integer     NOT NULL,
    status             text        NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
    input              jsonb,
    output             jsonb,
    -- Source handles the node chose (if/else, decision); NULL means every outgoing edge is taken.
    handles            text[],
    error              text,
    attempt            integer     NOT NULL DEFAULT 0,
    unresolved_parents integer     NOT NULL CHECK (unresolved_parents >= 0),
    activated_parents  integer     NOT NULL DEFAULT 0,
    -- When the task last became queued or waiting, and when it may run next (retry backoff, delay wake-up).
    queued_at          timestamptz,
    due_at             timestamptz,
    started_at         timestamptz,
    completed_at       timestamptz,
    created_at         timestamptz NOT NULL,
    UNIQUE (run_id, node_id)
);
-- Run status lists tasks in creation order.
CREATE INDEX tasks_run_position_idx ON tasks (run_id, position);
-- The reconciler scans queued and waiting tasks by due time.
CREATE INDEX tasks_reconcile_idx ON tasks (due_at) WHERE status IN ('queued', 'waiting');
-- ... and running tasks by start time, to find deliveries lost with their worker.
CREATE INDEX tasks_running_idx ON tasks (started_at) WHERE status = 'running';

CREATE TABLE run_logs (
    id         uuid PRIMARY KEY,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    run_id     uuid        NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id    text,
    type       text        NOT NULL CHECK (type IN ('system', 'info', 'error', 'node-output')),
    message    text        NOT NULL,
    data       jsonb,
    created_at timestamptz NOT NULL
);
CREATE INDEX run_logs_run_idx ON run_logs (run_id, created_at, seq);

CREATE TABLE api_templates (
    id                    uuid PRIMARY KEY,
    name                  text        NOT NULL,
    description           text,
    provider              text        NOT NULL,
    category              text        NOT NULL,
    method                text        NOT NULL,
    url                   text        NOT NULL,
    headers               jsonb       NOT NULL DEFAULT '[]',
    body_template         text,
    parameters            jsonb       NOT NULL DEFAULT '[]',
    timeout_ms            integer     NOT NULL DEFAULT 10000,
    expected_status_codes jsonb       NOT NULL DEFAULT '[200,201,202,204]',
    sample_response       jsonb,
    documentation         text,
    tags                  jsonb       NOT NULL DEFAULT '[]',
    is_active             boolean     NOT NULL DEFAULT true,
    is_custom             boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX api_templates_active_idx ON api_templates (provider, category, name) WHERE is_active;

-- Records one-time start-up work (sample data) so it happens once, even with many processes.
CREATE TABLE seed_marks (
    name       text PRIMARY KEY,
    applied_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE seed_marks;
DROP TABLE api_templates;
DROP TABLE run_logs;
DROP TABLE tasks;
DROP TABLE runs;
DROP TABLE workflow_versions;
DROP TABLE workflows;
