-- +goose Up
-- Where the secret behind a key's printed verification codes comes from
-- (keys.Manager.VerificationSecret): 'key', derived from the key's own seed,
-- for every key made from now on, so that a new key after a leak leaves the
-- copied keys folder unable to compute the codes of later batches; or
-- 'installation', the one secret of the installation (keys/verification.secret
-- or PASSNUM_VERIFICATION_SECRET) that the keys made before printed with, so
-- that the codes of their batches keep checking.
ALTER TABLE signing_keys ADD COLUMN verification_secret_from TEXT NOT NULL DEFAULT 'installation' CHECK (verification_secret_from IN ('installation', 'key'));
-- A key whose key.added event says otherwise was made with its own secret
-- (this migration undone and applied again): the ledger is the record.
UPDATE signing_keys SET verification_secret_from = 'key' WHERE id IN (SELECT CAST(entity_id AS INTEGER) FROM events
    WHERE type = 'key.added' AND data LIKE '%"verification_secret_from":"key"%');

-- GET /api/v1/keys lists the serials each revoked key signed, replacements
-- included (ledger.DB.RevokedSerials): only replacements have a key of
-- their own, so the index stays small.
CREATE INDEX vouchers_key_id ON vouchers (key_id) WHERE key_id IS NOT NULL;

-- +goose Down
DROP INDEX vouchers_key_id;
ALTER TABLE signing_keys DROP COLUMN verification_secret_from;
