-- +goose Up
-- Browser sessions of people's accounts (accounts/sessions.go), beside the
-- sessions opened with an API key (web_sessions). As there, the cookie
-- holds a random secret and only its SHA-256 is stored. A session acts for
-- one of the account's organisations, chosen at login and changed without
-- logging in again; NULL until the account has the second factor its roles
-- need. Each request reads the account's roles again, so a role taken away
-- or an account disabled counts at once; disabling an account or resetting
-- its password deletes its sessions in the same transaction.
CREATE TABLE account_sessions (
    id              BIGSERIAL NOT NULL PRIMARY KEY,
    token_hash      BYTEA NOT NULL UNIQUE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id),
    organisation_id BIGINT REFERENCES organisations (id),
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX account_sessions_account ON account_sessions (account_id);
CREATE INDEX account_sessions_expires ON account_sessions (expires_at);

-- +goose Down
DROP TABLE account_sessions;
