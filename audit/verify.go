// Package audit lets an auditor check the ledger without trusting the
// server: the hash chain and its signed checkpoints, and that the state
// tables say exactly what the events say.
package audit

import (
	"context"
	"fmt"

	"passnum/ledger"
	"passnum/voucher"
)

// Report sums up a successful verification.
type Report struct {
	Chain       ledger.ChainReport
	Unsealed    int64 // events not yet chained (checked against the state all the same)
	Batches     int
	Chequiers   int64
	Vouchers    int64
	Redemptions int
}

// StateError names a row of the state tables that disagrees with the events.
type StateError struct {
	Entity  string // "voucher", "chequier", …
	ID      string
	Problem string
	Event   string // the last event about this entity, if any
}

func (e *StateError) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Entity, e.ID, e.Problem)
	if e.Event != "" {
		s += " (last event: " + e.Event + ")"
	}
	return s
}

// Verify checks the chain, then replays every event and compares the
// result with the state tables. The first problem found is returned as a
// *ledger.ChainError or a *StateError.
func Verify(ctx context.Context, db *ledger.DB, keys *voucher.KeySet) (Report, error) {
	var rep Report
	var err error
	if rep.Chain, err = db.VerifyChain(ctx, keys); err != nil {
		return rep, err
	}
	st := newState()
	rows, err := db.Read(ctx).Model(&ledger.Event{}).
		Order("CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq, id").Rows()
	if err != nil {
		return rep, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev ledger.Event
		if err := db.Read(ctx).ScanRows(rows, &ev); err != nil {
			return rep, fmt.Errorf("read events: %w", err)
		}
		if ev.Seq == nil {
			rep.Unsealed++
		}
		if err := st.apply(&ev); err != nil {
			return rep, err
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read events: %w", err)
	}
	rows.Close()
	if err := st.compare(ctx, db, &rep); err != nil {
		return rep, err
	}
	rep.Chain.Warnings = append(rep.Chain.Warnings, st.lateWarnings()...)
	return rep, nil
}

// eventRef names an event for people: its sequence number once sealed.
func eventRef(ev *ledger.Event) string {
	if ev.Seq != nil {
		return fmt.Sprintf("#%d (id %d, %s)", *ev.Seq, ev.ID, ev.Type)
	}
	return fmt.Sprintf("unsealed id %d (%s)", ev.ID, ev.Type)
}
