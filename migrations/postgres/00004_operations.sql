-- +goose Up
-- Programme operations: venue identity and label, the programme end of a
-- batch, the paying office of a département, and settlement periods.

-- A venue is paid by transfer, so it needs a legal identity (SIRET, unique)
-- and an IBAN. Venues created before this migration have neither until a
-- département fills them in; settlement refuses to pay a venue without an IBAN.
ALTER TABLE venues ADD COLUMN siret TEXT;
ALTER TABLE venues ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN iban TEXT;
ALTER TABLE venues ADD COLUMN bic TEXT;
-- A professional contact; kept out of the ledger, as it may name a person.
ALTER TABLE venues ADD COLUMN contact TEXT NOT NULL DEFAULT '';
-- The label lapses after this day (Europe/Paris); NULL: no expiry.
ALTER TABLE venues ADD COLUMN label_expires_on DATE;
CREATE UNIQUE INDEX venues_siret ON venues (siret) WHERE siret IS NOT NULL;

-- The paying office that transfers venues' reimbursements, and the
-- programme's commission on them (basis points: 150 = 1.50 %).
ALTER TABLE departments ADD COLUMN payer_name TEXT;
ALTER TABLE departments ADD COLUMN payer_iban TEXT;
ALTER TABLE departments ADD COLUMN payer_bic TEXT;
ALTER TABLE departments ADD COLUMN commission_basis_points INTEGER NOT NULL DEFAULT 0
    CHECK (commission_basis_points BETWEEN 0 AND 10000);

-- The programme ends on programme_end; vouchers stay valid until
-- valid_until (the grace period). Earlier batches had no grace period.
ALTER TABLE batches ADD COLUMN programme_end DATE;
UPDATE batches SET programme_end = valid_until;
ALTER TABLE batches ALTER COLUMN programme_end SET NOT NULL;
ALTER TABLE batches ADD CONSTRAINT batches_grace CHECK (valid_until >= programme_end);

-- A closed settlement period of a département, with its totals frozen.
CREATE TABLE settlement_periods (
    id                       BIGSERIAL NOT NULL PRIMARY KEY,
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
    closed_at                TIMESTAMPTZ NOT NULL,
    closed_by                TEXT NOT NULL,
    UNIQUE (department_code, first_day)
);

-- What each venue is paid for a closed period.
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

-- A correction made after its period was closed: it is paid (or taken
-- back) in a later, open period.
CREATE TABLE settlement_adjustments (
    id               BIGSERIAL NOT NULL PRIMARY KEY,
    department_code  TEXT NOT NULL REFERENCES departments (code),
    venue_id         BIGINT NOT NULL REFERENCES venues (id),
    amount_cents     BIGINT NOT NULL CHECK (amount_cents <> 0),
    reason           TEXT NOT NULL,
    redemption_id    BIGINT REFERENCES redemptions (id),
    -- The first day of the period it counts in: the current month for a
    -- correction, the next one for a negative balance carried forward.
    period_first_day DATE NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE INDEX settlement_adjustments_department ON settlement_adjustments (department_code, period_first_day);

-- Settlement and monthly figures select redemptions by server time.
CREATE INDEX redemptions_created ON redemptions (created_at);
CREATE INDEX vouchers_batch_status ON vouchers (batch_id, status);

-- +goose Down
DROP INDEX vouchers_batch_status;
DROP INDEX redemptions_created;
DROP TABLE settlement_adjustments;
DROP TABLE settlement_statements;
DROP TABLE settlement_periods;
ALTER TABLE batches DROP CONSTRAINT batches_grace;
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
