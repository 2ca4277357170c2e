-- +goose Up
-- People and organisations (issue #14, docs/accounts.md). API keys stay,
-- for machines; people log in with an account and act for one of the
-- organisations they hold a role in.

-- An organisation is who a person works for. Départements and venues keep
-- their own tables and are referenced here, by code and by id, through one
-- row each, made the first time someone is invited to them: a membership
-- and an event name an organisation by one number whatever its kind.
-- Distribution structures (attached to a département) and auditors' bodies
-- exist only here; the installation is the organisation of the admins.
CREATE TABLE organisations (
    id              INTEGER NOT NULL PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('installation', 'department', 'structure', 'venue', 'auditor')),
    department_code TEXT REFERENCES departments (code),
    venue_id        BIGINT REFERENCES venues (id),
    name            TEXT NOT NULL DEFAULT '',
    structure_type  TEXT NOT NULL DEFAULT '' CHECK (structure_type IN ('', 'ccas', 'mds', 'france_travail', 'association', 'other')),
    address         TEXT NOT NULL DEFAULT '',
    commune         TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    CHECK ((kind IN ('department', 'structure')) = (department_code IS NOT NULL)),
    CHECK ((kind = 'venue') = (venue_id IS NOT NULL)),
    CHECK ((kind = 'structure') = (structure_type <> ''))
);
CREATE UNIQUE INDEX organisations_installation ON organisations (kind) WHERE kind = 'installation';
CREATE UNIQUE INDEX organisations_department ON organisations (department_code) WHERE kind = 'department';
CREATE UNIQUE INDEX organisations_venue ON organisations (venue_id) WHERE kind = 'venue';
CREATE UNIQUE INDEX organisations_structure_name ON organisations (department_code, lower(name)) WHERE kind = 'structure';
CREATE UNIQUE INDEX organisations_auditor_name ON organisations (lower(name)) WHERE kind = 'auditor';

-- A person's login. The id is the pseudonym the ledger names ("account:17");
-- the email stays here, stored lower-cased so that it is unique whatever
-- the case it is typed in. password_hash is an Argon2id PHC string; the
-- TOTP secret is never returned by the service; totp_last_step is the last
-- 30-second step whose code was accepted, so that a code works once.
CREATE TABLE accounts (
    id                INTEGER NOT NULL PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    totp_secret       BLOB,
    totp_confirmed_at DATETIME,
    totp_last_step    BIGINT,
    disabled_at       DATETIME,
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));

-- Failed logins per email address typed, known or not, by the SHA-256 of
-- the address: an unknown address is held back exactly as a known one, so
-- the lockout tells no one which addresses have an account. Rows older
-- than a day are swept at the next failure.
CREATE TABLE login_throttles (
    email_sha256    BLOB NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    locked_until    DATETIME,
    last_failure_at DATETIME NOT NULL
);
CREATE INDEX login_throttles_last_failure ON login_throttles (last_failure_at);

-- A role of an account in an organisation.
CREATE TABLE memberships (
    account_id      BIGINT NOT NULL REFERENCES accounts (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL CHECK (role IN ('department_manager', 'department_finance', 'department_reader', 'structure_agent', 'venue_manager', 'venue_volunteer', 'auditor', 'admin')),
    created_at      DATETIME NOT NULL,
    created_by      TEXT NOT NULL,
    PRIMARY KEY (account_id, organisation_id, role)
);
CREATE INDEX memberships_organisation ON memberships (organisation_id);

-- Invitations and password resets are single-use links: only the SHA-256
-- of their secret is stored, and using one is a conditional update of
-- accepted_at / used_at.
CREATE TABLE invitations (
    id              INTEGER NOT NULL PRIMARY KEY,
    secret_sha256   BLOB NOT NULL,
    email           TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL CHECK (role IN ('department_manager', 'department_finance', 'department_reader', 'structure_agent', 'venue_manager', 'venue_volunteer', 'auditor', 'admin')),
    created_at      DATETIME NOT NULL,
    created_by      TEXT NOT NULL,
    expires_at      DATETIME NOT NULL CHECK (expires_at > created_at),
    accepted_at     DATETIME,
    account_id      BIGINT REFERENCES accounts (id)
);

CREATE TABLE password_resets (
    id            INTEGER NOT NULL PRIMARY KEY,
    secret_sha256 BLOB NOT NULL,
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    created_at    DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL CHECK (expires_at > created_at),
    used_at       DATETIME
);
CREATE INDEX password_resets_account ON password_resets (account_id);

-- +goose Down
DROP TABLE password_resets;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE login_throttles;
DROP TABLE accounts;
DROP TABLE organisations;
