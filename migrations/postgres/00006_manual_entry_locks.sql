-- +goose Up
-- The départements' warnings list the venues locked out of manual entry
-- lately (redemption.Service.Lockouts): a partial index, so that the
-- events of every other type, redemptions first, do not maintain it.
CREATE INDEX events_manual_entry_locked ON events (created_at) WHERE type = 'venue.manual_entry_locked';

-- +goose Down
DROP INDEX events_manual_entry_locked;
