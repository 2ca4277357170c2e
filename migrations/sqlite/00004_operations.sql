-- +goose Up
-- Programme operations: venue identity and label, the programme end of a
-- batch, the paying office of a département, and settlement periods.
-- The comments of the PostgreSQL migration explain each column.

ALTER TABLE venues ADD COLUMN siret TEXT;
ALTER TABLE venues ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN iban TEXT;
ALTER TABLE venues ADD COLUMN bic TEXT;
ALTER TABLE venues ADD COLUMN contact TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN label_expires_on DATE;
CREATE UNIQUE INDEX venues_siret ON venues (siret) WHERE siret IS NOT NULL;

ALTER TABLE departments ADD COLUMN payer_name TEXT;
ALTER TABLE departments ADD COLUMN payer_iban TEXT;
ALTER TABLE departments ADD COLUMN payer_bic TEXT;
ALTER TABLE departments ADD COLUMN commission_basis_points INTEGER NOT NULL DEFAULT 0 CHECK (commission_basis_points BETWEEN 0 AND 10000);

-- SQLite cannot add a NOT NULL column without a default: the placeholder
-- is replaced at once, and every insert names the column. (Each column
-- stays on one line: GORM reads nullability from this SQL, line by line.)
ALTER TABLE batches ADD COLUMN programme_end DATE NOT NULL DEFAULT '0001-01-01' CHECK (programme_end <= valid_until);
UPDATE batches SET programme_end = valid_until;

CREATE TABLE settlement_periods (
    id                       INTEGER NOT NULL PRIMARY KEY,
    department_code          TEXT NOT NULL REFERENCES departments (code),
    first_day                DATE NOT NULL,
    last_day                 DATE NOT NULL CHECK (last_day >= first_day),
    commission_basis_points  INTEGER NOT NULL,
    venues                   INTEGER NOT NULL,
    gross_cents              BIGINT NOT NULL,
    reversed_cents           BIGINT NOT NULL,
    adjustment_cents         BIGINT NOT NULL,
    commission_cents         BIGINT NOT NULL,
    net_cents                BIGINT NOT NULL,
    closed_at                DATETIME NOT NULL,
    closed_by                TEXT NOT NULL,
    UNIQUE (department_code, first_day)
);

CREATE TABLE settlement_statements (
    period_id         BIGINT NOT NULL REFERENCES settlement_periods (id),
    venue_id          BIGINT NOT NULL REFERENCES venues (id),
    reference         TEXT NOT NULL UNIQUE,
    redemptions       INTEGER NOT NULL,
    gross_cents       BIGINT NOT NULL,
    reversed_cents    BIGINT NOT NULL,
    adjustment_cents  BIGINT NOT NULL,
    commission_cents  BIGINT NOT NULL,
    net_cents         BIGINT NOT NULL,
    iban              TEXT,
    PRIMARY KEY (period_id, venue_id)
);

CREATE TABLE settlement_adjustments (
    id               INTEGER NOT NULL PRIMARY KEY,
    department_code  TEXT NOT NULL REFERENCES departments (code),
    venue_id         BIGINT NOT NULL REFERENCES venues (id),
    amount_cents     BIGINT NOT NULL CHECK (amount_cents <> 0),
    reason           TEXT NOT NULL,
    redemption_id    BIGINT REFERENCES redemptions (id),
    period_first_day DATE NOT NULL,
    created_at       DATETIME NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE INDEX settlement_adjustments_department ON settlement_adjustments (department_code, period_first_day);

CREATE INDEX redemptions_created ON redemptions (created_at);
CREATE INDEX vouchers_batch_status ON vouchers (batch_id, status);

-- +goose Down
DROP INDEX vouchers_batch_status;
DROP INDEX redemptions_created;
DROP TABLE settlement_adjustments;
DROP TABLE settlement_statements;
DROP TABLE settlement_periods;
ALTER TABLE batches DROP COLUMN programme_end;
ALTER TABLE departments DROP COLUMN commission_basis_points;
ALTER TABLE departments DROP COLUMN payer_bic;
ALTER TABLE departments DROP COLUMN payer_iban;
ALTER TABLE departments DROP COLUMN payer_name;
DROP INDEX venues_siret;
ALTER TABLE venues DROP COLUMN label_expires_on;
ALTER TABLE venues DROP COLUMN contact;
ALTER TABLE venues DROP COLUMN bic;
ALTER TABLE venues DROP COLUMN iban;
ALTER TABLE venues DROP COLUMN address;
ALTER TABLE venues DROP COLUMN siret;
