-- +goose Up
-- Browser sessions of the département and auditor pages (api/session.go):
-- the SHA-256 of the cookie's secret, the API key it was opened with, and
-- its absolute expiry. The comments of the PostgreSQL migration explain it.
CREATE TABLE web_sessions (
    id          INTEGER NOT NULL PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    api_key_id  BIGINT NOT NULL REFERENCES api_keys (id),
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
