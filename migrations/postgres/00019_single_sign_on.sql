-- +goose Up
-- Single sign-on (accounts/sso.go, docs/accounts.md). An identity at the
-- provider (its issuer and subject) opens the one account an invitation
-- bound it to; nothing else ever makes the link.
CREATE TABLE account_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX account_identities_account ON account_identities (account_id);

-- A login on its way through the provider: the state, nonce and PKCE
-- verifier stay here, keyed by the secret of a cookie of the browser that
-- started it, for ten minutes. claimed_at is set by the one request that
-- takes the provider's answer to the provider (its code is single use),
-- account_id once that answer proved the identity and a second factor is
-- still to type; invitation_id when the login accepts an invitation.
CREATE TABLE sso_logins (
    secret_sha256 BYTEA NOT NULL PRIMARY KEY,
    state         TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    invitation_id BIGINT REFERENCES invitations (id),
    account_id    BIGINT REFERENCES accounts (id),
    claimed_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at)
);

-- +goose Down
DROP TABLE sso_logins;
DROP TABLE account_identities;
