-- +goose Up
-- Browser sessions of the département and auditor pages (api/session.go).
-- The cookie holds a random secret; only its SHA-256 is stored, so a copy
-- of this table opens no session. Each request joins the session to its
-- API key, so that revoking the key ends the session at once on every
-- replica. Logout deletes the row; expired rows are deleted at the next
-- login (by the expiry index).
CREATE TABLE web_sessions (
    id          BIGSERIAL NOT NULL PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    api_key_id  BIGINT NOT NULL REFERENCES api_keys (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
