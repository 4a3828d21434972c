-- +goose Up
-- Liveness without Redis. Every worker process heartbeats a row here; each heartbeat lists the
-- tasks the worker is executing at that moment. A running task whose worker's lease expired, or
-- whose worker no longer reports it, is re-delivered by the reconciler from PostgreSQL, whatever
-- Redis remembers. The table holds one row per live worker (rows of stopped workers are deleted
-- or expire), so it stays small and needs no index beyond its key.
CREATE TABLE workers (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL,
    lease_until  timestamptz NOT NULL,
    -- Tasks the worker was executing at its last heartbeat.
    tasks        uuid[]      NOT NULL DEFAULT '{}'
);

-- attempt counts the node's own attempts (its retries budget); redeliveries counts deliveries
-- of an attempt that began again because the previous one ended without an outcome (the worker
-- died or lost its lease, the delivery panicked or hit an infrastructure error). Both are
-- bounded. worker_id is the worker that claimed the running task; interruption says why the
-- last delivery ended without an outcome, when the worker could still say so.
ALTER TABLE tasks
    ADD COLUMN redeliveries integer NOT NULL DEFAULT 0,
    ADD COLUMN worker_id    text,
    ADD COLUMN interruption text;

-- +goose Down
ALTER TABLE tasks DROP COLUMN interruption, DROP COLUMN worker_id, DROP COLUMN redeliveries;
DROP TABLE workers;
