-- +goose Up
-- The number the département answers on for the programme: printed on every
-- chéquier's cover (to call when a chéquier is lost) and on the venues'
-- statements (whom to ask about a payment). NULL: none given; the cover then
-- sends the beneficiary back to the structure that handed the chéquier over.
ALTER TABLE departments ADD COLUMN contact_phone TEXT;

-- +goose Down
ALTER TABLE departments DROP COLUMN contact_phone;
