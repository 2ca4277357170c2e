-- +goose Up
-- Redemption: what a venue's session sent, when it was scanned and when the
-- server took it, and its undoing.
ALTER TABLE redemptions ADD COLUMN session TEXT;
ALTER TABLE redemptions ADD COLUMN reversed_at TIMESTAMPTZ;
ALTER TABLE redemptions ADD COLUMN reversal_reason TEXT;
CREATE INDEX redemptions_venue_created ON redemptions (venue_id, created_at);
CREATE INDEX vouchers_redemption ON vouchers (redemption_id) WHERE redemption_id IS NOT NULL;

-- The first final answer to each idempotency key of a venue, replayed to
-- retries; a claim in progress blocks concurrent repeats.
CREATE TABLE idempotency_keys (
    venue_id        BIGINT NOT NULL REFERENCES venues (id),
    key             TEXT NOT NULL,
    request_sha256  BYTEA NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
    response        TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (venue_id, key)
);

-- Wrong voucher number or verification code typed by hand: counted per venue
-- so that guessing is rate-limited across every server process.
CREATE TABLE manual_entry_failures (
    id        BIGSERIAL NOT NULL PRIMARY KEY,
    venue_id  BIGINT NOT NULL REFERENCES venues (id),
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX manual_entry_failures_venue ON manual_entry_failures (venue_id, at);

-- +goose Down
DROP TABLE manual_entry_failures;
DROP TABLE idempotency_keys;
DROP INDEX vouchers_redemption;
DROP INDEX redemptions_venue_created;
ALTER TABLE redemptions DROP COLUMN reversal_reason;
ALTER TABLE redemptions DROP COLUMN reversed_at;
ALTER TABLE redemptions DROP COLUMN session;
