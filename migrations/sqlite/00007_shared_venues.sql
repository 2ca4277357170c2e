-- +goose Up
-- No département decides alone over another's money (issue #12).

-- A venue's label is per département: 78 suspending, unlabelling or
-- letting lapse its label stops 78's vouchers only. Each label takes the
-- venue's status and expiry as they were; venues lose theirs.
ALTER TABLE venue_departments ADD COLUMN status TEXT NOT NULL DEFAULT 'labelled' CHECK (status IN ('labelled', 'suspended', 'unlabelled'));
ALTER TABLE venue_departments ADD COLUMN label_expires_on DATE;
UPDATE venue_departments SET
    status = (SELECT v.status FROM venues v WHERE v.id = venue_departments.venue_id),
    label_expires_on = (SELECT v.label_expires_on FROM venues v WHERE v.id = venue_departments.venue_id);
ALTER TABLE venues DROP COLUMN status;
ALTER TABLE venues DROP COLUMN label_expires_on;

-- A change to a shared venue's identity or bank details asked by one of
-- its départements: it takes effect once every other département labelling
-- the venue has approved it (or an admin has). NULL requested values are
-- left as they are; a non-NULL iban comes with its bic (NULL: none). The
-- previous values are the venue's when it was asked: shown to those who
-- approve, and the change applies only over them.
CREATE TABLE venue_change_requests (
    id                INTEGER NOT NULL PRIMARY KEY,
    venue_id          BIGINT NOT NULL REFERENCES venues (id),
    department_code   TEXT NOT NULL REFERENCES departments (code),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'refused', 'withdrawn')),
    name              TEXT,
    address           TEXT,
    iban              TEXT,
    bic               TEXT,
    previous_name     TEXT NOT NULL,
    previous_address  TEXT NOT NULL,
    previous_iban     TEXT,
    previous_bic      TEXT,
    reason            TEXT NOT NULL,
    created_at        DATETIME NOT NULL,
    created_by        TEXT NOT NULL,
    decided_at        DATETIME,
    decided_by        TEXT,
    decision_reason   TEXT
);
-- One pending request per venue: a second would be approved against
-- details the first is about to change.
CREATE UNIQUE INDEX venue_change_requests_pending ON venue_change_requests (venue_id) WHERE status = 'pending';

CREATE TABLE venue_change_approvals (
    request_id       BIGINT NOT NULL REFERENCES venue_change_requests (id),
    department_code  TEXT NOT NULL REFERENCES departments (code),
    approved_at      DATETIME NOT NULL,
    approved_by      TEXT NOT NULL,
    PRIMARY KEY (request_id, department_code)
);

-- The départements' warnings list the changes others made lately to the
-- venues they share (programme.Service.Notices): a partial index, so that
-- redemption events do not maintain it.
CREATE INDEX events_venue_notices ON events (created_at)
    WHERE type IN ('venue.updated', 'venue.labelled', 'venue.suspended', 'venue.reinstated', 'venue.unlabelled');

-- A closed month shows the venue as it was paid: its name, address and
-- BIC are frozen with its IBAN. NULL for months closed before this
-- migration, whose files fall back to the venue's current details.
ALTER TABLE settlement_statements ADD COLUMN venue_name TEXT;
ALTER TABLE settlement_statements ADD COLUMN venue_address TEXT;
ALTER TABLE settlement_statements ADD COLUMN bic TEXT;

-- +goose Down
DROP INDEX events_venue_notices;
ALTER TABLE settlement_statements DROP COLUMN bic;
ALTER TABLE settlement_statements DROP COLUMN venue_address;
ALTER TABLE settlement_statements DROP COLUMN venue_name;
DROP TABLE venue_change_approvals;
DROP TABLE venue_change_requests;
-- A venue takes its most favourable label back: labelled if any is.
ALTER TABLE venues ADD COLUMN status TEXT NOT NULL DEFAULT 'labelled' CHECK (status IN ('labelled', 'suspended', 'unlabelled'));
ALTER TABLE venues ADD COLUMN label_expires_on DATE;
UPDATE venues SET
    status = COALESCE((SELECT d.status FROM venue_departments d WHERE d.venue_id = venues.id
        ORDER BY CASE d.status WHEN 'labelled' THEN 0 WHEN 'suspended' THEN 1 ELSE 2 END LIMIT 1), 'labelled'),
    label_expires_on = CASE WHEN EXISTS (SELECT 1 FROM venue_departments d WHERE d.venue_id = venues.id
            AND d.status = 'labelled' AND d.label_expires_on IS NULL) THEN NULL
        ELSE (SELECT MAX(d.label_expires_on) FROM venue_departments d WHERE d.venue_id = venues.id AND d.status = 'labelled') END;
ALTER TABLE venue_departments DROP COLUMN label_expires_on;
ALTER TABLE venue_departments DROP COLUMN status;
