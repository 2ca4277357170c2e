-- +goose Up
-- One-time codes that pair a venue's device: the device exchanges the code
-- (type 03 of docs/voucher-format.md) for its own API key.
CREATE TABLE pairings (
    id             INTEGER NOT NULL PRIMARY KEY,
    venue_id       BIGINT NOT NULL REFERENCES venues (id),
    name           TEXT NOT NULL,
    secret_sha256  BLOB NOT NULL,
    created_at     DATETIME NOT NULL,
    expires_at     DATETIME NOT NULL,
    used_at        DATETIME,
    api_key_id     BIGINT REFERENCES api_keys (id)
);

-- +goose Down
DROP TABLE pairings;
