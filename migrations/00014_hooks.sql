-- +goose Up
-- Webhook triggers: POST /hooks/{id} starts a run of the hook's workflow. The id is random
-- (192 bits, base64url) and is what a caller must know to reach the hook. A signed hook keeps
-- either the name of a configured secret (SECRET_<NAME>) in settings, or its own secret in
-- secret: stored as given, since an HMAC cannot be checked against a hash, and never read by
-- anything but the signature check (no view, log or run shows it). Deleting the workflow
-- deletes its hooks.
CREATE TABLE hooks (
    id          text        PRIMARY KEY,
    workflow_id uuid        NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    -- A version number of the workflow; NULL runs its current version.
    version     integer,
    -- Signature (header names, tolerance, secretRef; never the secret), dedup and respond.
    settings    jsonb       NOT NULL,
    secret      text,
    created_at  timestamptz NOT NULL
);
-- GET /workflows/{id}/hooks lists a workflow's hooks oldest first; the cascade finds them too.
CREATE INDEX hooks_workflow_idx ON hooks (workflow_id, created_at);

-- +goose Down
DROP TABLE hooks;
