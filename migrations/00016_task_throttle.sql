-- +goose Up
-- When the host limits of an apiCall node's call (OUTBOUND_HOST_LIMITS) first held back the
-- task's current attempt; NULL when they have not. A throttled task goes back to queued
-- without counting an attempt, and THROTTLE_MAX_WAIT counts from this time. Not indexed, so
-- task updates stay HOT; adding a nullable column without a default rewrites nothing.
ALTER TABLE tasks ADD COLUMN throttled_since timestamptz;

-- +goose Down
ALTER TABLE tasks DROP COLUMN throttled_since;
