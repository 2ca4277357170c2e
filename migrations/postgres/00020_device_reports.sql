-- +goose Up
-- What a venue's scanner says of itself with each request (apikeys/devices.go):
-- the release of its files and how many baskets it holds offline, so that
-- the venue's manager sees a device left behind or not synced.
ALTER TABLE api_keys ADD COLUMN app_version TEXT;
ALTER TABLE api_keys ADD COLUMN pending_baskets INTEGER;
ALTER TABLE api_keys ADD COLUMN reported_at TIMESTAMPTZ;

-- A pairing code cancelled before it was used (apikeys.Service.RevokeAll):
-- pairing it is refused from then on by the conditional update that uses
-- it, whatever the servers' clocks say.
ALTER TABLE pairings ADD COLUMN cancelled_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE pairings DROP COLUMN cancelled_at;
ALTER TABLE api_keys DROP COLUMN reported_at;
ALTER TABLE api_keys DROP COLUMN pending_baskets;
ALTER TABLE api_keys DROP COLUMN app_version;
