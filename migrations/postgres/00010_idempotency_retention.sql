-- +goose Up
-- A refused basket's answer is kept 24 hours (its idempotency promise),
-- then purged (redemption.Service.PurgeAnswers); an accepted one is kept
-- with its redemption. The partial index holds only what the purge may
-- delete, so each pass reads the refused answers old enough and nothing
-- else, however many accepted ones have accumulated.
ALTER TABLE idempotency_keys ADD COLUMN accepted BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE idempotency_keys SET accepted = TRUE
    WHERE EXISTS (SELECT 1 FROM redemptions r WHERE r.venue_id = idempotency_keys.venue_id AND r.idempotency_key = idempotency_keys.key);
CREATE INDEX idempotency_keys_refused ON idempotency_keys (created_at) WHERE NOT accepted;

-- +goose Down
DROP INDEX idempotency_keys_refused;
ALTER TABLE idempotency_keys DROP COLUMN accepted;
