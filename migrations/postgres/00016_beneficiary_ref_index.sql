-- +goose Up
-- A hand-over looks for the same beneficiary reference among the
-- département's chéquiers already handed over (issuing.refUnused): one
-- indexed lookup, not a scan of every chéquier of the programme.
CREATE INDEX chequiers_beneficiary_ref ON chequiers (department_code, beneficiary_ref) WHERE beneficiary_ref IS NOT NULL;

-- +goose Down
DROP INDEX chequiers_beneficiary_ref;
