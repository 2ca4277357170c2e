-- +goose Up
CREATE TABLE departments (
    code        TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);

CREATE TABLE venues (
    id          INTEGER NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('labelled', 'suspended', 'unlabelled')),
    created_at  DATETIME NOT NULL
);

CREATE TABLE venue_departments (
    venue_id         BIGINT NOT NULL REFERENCES venues (id),
    department_code  TEXT NOT NULL REFERENCES departments (code),
    PRIMARY KEY (venue_id, department_code)
);

CREATE TABLE signing_keys (
    id          SMALLINT NOT NULL PRIMARY KEY CHECK (id BETWEEN 1 AND 255),
    public_key  BLOB NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
    created_at  DATETIME NOT NULL,
    retired_at  DATETIME,
    revoked_at  DATETIME
);
-- At most one key signs new codes.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';

CREATE TABLE counters (
    name  TEXT NOT NULL PRIMARY KEY,
    next  BIGINT NOT NULL
);

CREATE TABLE batches (
    id                     INTEGER NOT NULL PRIMARY KEY,
    department_code        TEXT NOT NULL REFERENCES departments (code),
    year                   INTEGER NOT NULL,
    chequier_count         INTEGER NOT NULL CHECK (chequier_count > 0),
    vouchers_per_chequier  INTEGER NOT NULL CHECK (vouchers_per_chequier BETWEEN 1 AND 50),
    face_value_cents       BIGINT NOT NULL CHECK (face_value_cents > 0),
    total_cents            BIGINT NOT NULL,
    valid_from             DATE NOT NULL,
    valid_until            DATE NOT NULL CHECK (valid_until >= valid_from),
    requires_activation    BOOLEAN NOT NULL,
    key_id                 SMALLINT NOT NULL REFERENCES signing_keys (id),
    first_chequier_seq     BIGINT NOT NULL,
    last_chequier_seq      BIGINT NOT NULL,
    first_serial           BIGINT NOT NULL,
    last_serial            BIGINT NOT NULL,
    codes_sha256           BLOB NOT NULL,
    created_at             DATETIME NOT NULL,
    -- Target of the chéquiers' composite foreign key.
    UNIQUE (id, department_code)
);

CREATE TABLE chequiers (
    id               BIGINT NOT NULL PRIMARY KEY,
    batch_id         BIGINT NOT NULL,
    department_code  TEXT NOT NULL,
    year             INTEGER NOT NULL,
    seq              BIGINT NOT NULL,
    number           TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL CHECK (status IN ('issued', 'active', 'void')),
    beneficiary_ref  TEXT,
    activated_at     DATETIME,
    voided_at        DATETIME,
    void_reason      TEXT,
    UNIQUE (department_code, year, seq),
    -- One composite key checks both the batch and that the département is the
    -- batch's: one foreign-key lookup per row instead of two, which matters
    -- when a batch inserts tens of thousands of rows (see docs/BENCHMARKS.md).
    FOREIGN KEY (batch_id, department_code) REFERENCES batches (id, department_code),
    UNIQUE (id, batch_id)
);
CREATE INDEX chequiers_batch ON chequiers (batch_id);

CREATE TABLE redemptions (
    id               INTEGER NOT NULL PRIMARY KEY,
    venue_id         BIGINT NOT NULL REFERENCES venues (id),
    idempotency_key  TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('accepted', 'reversed')),
    total_cents      BIGINT NOT NULL,
    scanned_at       DATETIME NOT NULL,
    created_at       DATETIME NOT NULL,
    UNIQUE (venue_id, idempotency_key)
);

CREATE TABLE vouchers (
    serial         BIGINT NOT NULL PRIMARY KEY,
    chequier_id    BIGINT NOT NULL,
    batch_id       BIGINT NOT NULL,
    position       SMALLINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('inactive', 'active', 'redeemed', 'void')),
    redemption_id  BIGINT REFERENCES redemptions (id),
    -- A voucher whose code leaked is voided and replaced by a new one at the
    -- same position of the same chéquier.
    -- Deferred: the old voucher names its replacement in the same
    -- transaction that inserts it.
    replaced_by    BIGINT REFERENCES vouchers (serial) DEFERRABLE INITIALLY DEFERRED,
    -- Set only when the voucher was signed by another key than its batch's
    -- (a replacement signed after a key rotation).
    key_id         SMALLINT REFERENCES signing_keys (id),
    -- The voucher's batch is its chéquier's, checked by one lookup per row.
    FOREIGN KEY (chequier_id, batch_id) REFERENCES chequiers (id, batch_id)
);
-- One current voucher per position; replaced ones stay for the record.
CREATE UNIQUE INDEX vouchers_position ON vouchers (chequier_id, position) WHERE replaced_by IS NULL;

CREATE TABLE redemption_items (
    redemption_id   BIGINT NOT NULL REFERENCES redemptions (id),
    voucher_serial  BIGINT NOT NULL REFERENCES vouchers (serial),
    value_cents     BIGINT NOT NULL,
    PRIMARY KEY (redemption_id, voucher_serial)
);

CREATE TABLE events (
    id               INTEGER NOT NULL PRIMARY KEY,
    seq              BIGINT UNIQUE,
    hash             BLOB,
    type             TEXT NOT NULL,
    entity           TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    department_code  TEXT,
    actor            TEXT NOT NULL,
    data             TEXT NOT NULL,
    created_at       DATETIME NOT NULL
);
-- The sealer looks only for what it has not sealed yet.
CREATE INDEX events_unsealed ON events (id) WHERE seq IS NULL;

CREATE TABLE checkpoints (
    seq         BIGINT NOT NULL PRIMARY KEY,
    hash        BLOB NOT NULL,
    key_id      SMALLINT NOT NULL REFERENCES signing_keys (id),
    signature   BLOB NOT NULL,
    created_at  DATETIME NOT NULL
);

CREATE TABLE api_keys (
    id               INTEGER NOT NULL PRIMARY KEY,
    prefix           TEXT NOT NULL UNIQUE,
    secret_hash      BLOB NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'department', 'venue', 'auditor')),
    department_code  TEXT REFERENCES departments (code),
    venue_id         BIGINT REFERENCES venues (id),
    name             TEXT NOT NULL,
    created_at       DATETIME NOT NULL,
    revoked_at       DATETIME,
    last_used_at     DATETIME
);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE checkpoints;
DROP TABLE events;
DROP TABLE redemption_items;
DROP TABLE vouchers;
DROP TABLE redemptions;
DROP TABLE chequiers;
DROP TABLE batches;
DROP TABLE counters;
DROP TABLE signing_keys;
DROP TABLE venue_departments;
DROP TABLE venues;
DROP TABLE departments;
