-- +goose Up
-- Schedules start runs of a workflow on a timetable: a cron expression read in a time zone, or
-- a fixed interval counted from created_at (exactly one of the two). Every worker claims due
-- schedules (NOT paused AND next_fire_at <= now) with FOR UPDATE SKIP LOCKED and starts each
-- tick's run with the idempotency key schedule:<id>:<tick in Unix ms>, so a tick starts one
-- run whichever worker gets it. Deleting the workflow deletes its schedules. last_run_id is a
-- plain reference: the run may be pruned by retention, which then need not look here.
CREATE TABLE schedules (
    id             uuid        PRIMARY KEY,
    workflow_id    uuid        NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    name           text,
    cron           text,
    timezone       text        NOT NULL DEFAULT 'UTC',
    interval_ms    bigint      CHECK (interval_ms >= 1000),
    input          jsonb       NOT NULL DEFAULT '{}',
    -- A pinned version number; NULL runs the workflow's current version at each tick.
    version        integer     CHECK (version >= 1),
    overlap        text        NOT NULL CHECK (overlap IN ('skip', 'allow', 'cancelPrevious')),
    catch_up       text        NOT NULL CHECK (catch_up IN ('none', 'one', 'all')),
    catch_up_limit integer     NOT NULL CHECK (catch_up_limit BETWEEN 1 AND 100),
    paused         boolean     NOT NULL DEFAULT false,
    next_fire_at   timestamptz NOT NULL,
    last_fire_at   timestamptz,
    last_run_id    uuid,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK ((cron IS NULL) <> (interval_ms IS NULL))
);
-- The claim reads the due schedules in fire order.
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE NOT paused;
-- GET /workflows/{id}/schedules lists a workflow's schedules oldest first.
CREATE INDEX schedules_workflow_idx ON schedules (workflow_id, created_at);

-- +goose Down
DROP TABLE schedules;
