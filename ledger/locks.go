package ledger

// LockDepartments orders a transaction against a settlement closing of the
// given départements: closing takes the lock exclusively, and every change
// that a closing must see or forbid (a reversal, an adjustment) takes it
// shared, so a reversal and a closing never both succeed on a stale view.
// Redemptions do not take it: they stay free of any shared lock (design
// decision 7); a closing waits until its month is well over instead (see
// settlement.CloseDelay). SQLite needs nothing: its writers run one at a time.
func (tx *Tx) LockDepartments(exclusive bool, codes ...string) error {
	if tx.dialect != Postgres || len(codes) == 0 {
		return nil
	}
	mode := "FOR SHARE"
	if exclusive {
		mode = "FOR UPDATE"
	}
	var locked []string
	return tx.Raw(`SELECT code FROM departments WHERE code IN ? ORDER BY code `+mode, codes).Scan(&locked).Error
}

// LockVenue makes the transactions that count a venue's wrong manual entries
// run one after another on PostgreSQL, so that exactly one of them sees the
// count reach the limit. FOR NO KEY UPDATE, not FOR UPDATE: the key share
// locks that inserting a row referencing the venue takes (a redemption's
// idempotency key, a failure) do not conflict with it, so two redemptions
// of the venue cannot deadlock on it, and plain reads are never blocked.
func (tx *Tx) LockVenue(id int64) error {
	if tx.dialect != Postgres {
		return nil
	}
	var locked []int64
	return tx.Raw(`SELECT id FROM venues WHERE id = ? FOR NO KEY UPDATE`, id).Scan(&locked).Error
}

// LockChequiers makes a change to some vouchers of a chéquier (a
// replacement voucher, a reversal) and one that changes all its vouchers (a
// voiding, a hand-over) run one after the other on PostgreSQL: the latter's
// UPDATE of the chéquier takes the same row lock, so it either comes first
// and is seen, or comes after and its UPDATE of the vouchers sees what the
// first did (a statement cannot see rows changed by a transaction still
// running). FOR NO KEY UPDATE, like LockVenue: the key share lock of
// inserting a voucher does not conflict with it, and reads never wait.
// Rows are locked in id order, so two callers never deadlock. SQLite needs
// nothing: its writers run one at a time.
func (tx *Tx) LockChequiers(ids ...int64) error {
	if tx.dialect != Postgres || len(ids) == 0 {
		return nil
	}
	var locked []int64
	return tx.Raw(`SELECT id FROM chequiers WHERE id IN ? ORDER BY id FOR NO KEY UPDATE`, ids).Scan(&locked).Error
}
