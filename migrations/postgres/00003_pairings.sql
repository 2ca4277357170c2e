-- +goose Up
-- One-time codes that pair a venue's device: the device exchanges the code
-- (type 03 of docs/voucher-format.md) for its own API key.
CREATE TABLE pairings (
    id             BIGSERIAL NOT NULL PRIMARY KEY,
    venue_id       BIGINT NOT NULL REFERENCES venues (id),
    name           TEXT NOT NULL,
    secret_sha256  BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ,
    api_key_id     BIGINT REFERENCES api_keys (id)
);

-- +goose Down
DROP TABLE pairings;
