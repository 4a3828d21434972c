-- +goose Up
-- A fingerprint of the request that started a run (input and timeout). A start sent again with
-- the same idempotency key but a different request is refused instead of silently answered
-- with the first run. Runs created before this column have none and match any request.
ALTER TABLE runs ADD COLUMN request_hash bytea;

-- +goose Down
ALTER TABLE runs DROP COLUMN request_hash;
