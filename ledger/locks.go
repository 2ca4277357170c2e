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
