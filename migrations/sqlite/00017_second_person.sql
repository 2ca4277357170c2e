-- +goose Up
-- What one person of a département asked and a second must confirm
-- before it takes effect (package foureyes): a new paying office always,
-- a month's closing when the département turns close_four_eyes on. A row
-- is a request still waiting; confirming or refusing it deletes it, and
-- the ledger keeps both steps. One per subject ("paying_office",
-- "close:2026-11"), so that a second person confirms exactly what was
-- asked, once.
ALTER TABLE departments ADD COLUMN close_four_eyes BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE second_person_requests (
    department_code TEXT NOT NULL REFERENCES departments (code),
    subject         TEXT NOT NULL,
    data            TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    DATETIME NOT NULL,
    PRIMARY KEY (department_code, subject)
);

-- +goose Down
DROP TABLE second_person_requests;
ALTER TABLE departments DROP COLUMN close_four_eyes;
