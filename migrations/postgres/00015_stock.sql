-- +goose Up
-- Stock (issue #14, docs/stock.md): which distribution structure holds a
-- chéquier not yet handed over. NULL: the département's own stock, where
-- every chéquier starts. allocated_at is when the holder got it, for the
-- age of each structure's stock. A chéquier moves only while issued; the
-- ledger's stock.* events say every move, and audit verify replays them.
ALTER TABLE chequiers ADD COLUMN structure_id BIGINT REFERENCES organisations (id);
ALTER TABLE chequiers ADD COLUMN allocated_at TIMESTAMPTZ;
CREATE INDEX chequiers_structure ON chequiers (structure_id) WHERE structure_id IS NOT NULL;

-- +goose Down
DROP INDEX chequiers_structure;
ALTER TABLE chequiers DROP COLUMN allocated_at;
ALTER TABLE chequiers DROP COLUMN structure_id;
