-- +goose Up
-- An invitation sent to a mistyped address is a valid link in a
-- stranger's mailbox: its manager cancels it (accounts.CancelInvitation),
-- and accepting it is refused from then on.
ALTER TABLE invitations ADD COLUMN cancelled_at DATETIME;

-- +goose Down
ALTER TABLE invitations DROP COLUMN cancelled_at;
