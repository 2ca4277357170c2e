package ledger

import "fmt"

// Reserve takes the next n numbers of the named counter and returns the
// first; numbers start at 1. The counter row stays locked until the
// transaction ends, so two concurrent reservations never overlap and a
// rolled-back transaction gives its range back (no gaps in numbering).
func (tx *Tx) Reserve(name string, n int64) (first int64, err error) {
	if n <= 0 {
		return 0, fmt.Errorf("reserve %d numbers of %q: need at least one", n, name)
	}
	var next int64
	err = tx.Raw(`INSERT INTO counters (name, next) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET next = counters.next + ?
		RETURNING next`, name, 1+n, n).Scan(&next).Error
	if err != nil {
		return 0, fmt.Errorf("reserve %d numbers of %q: %w", n, name, err)
	}
	return next - n, nil
}
