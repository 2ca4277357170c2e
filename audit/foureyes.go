package audit

import (
	"context"
	"fmt"

	"passnum/ledger"
)

// applyFourEyes replays what waits for a second person (package
// foureyes): asked adds a request, confirmed and refused take it; the
// change confirmed is its own event. handled is false for other types.
func (s *state) applyFourEyes(ev *ledger.Event, ref string, bad func(string) error, decode func(any) error) (handled bool, err error) {
	switch ev.Type {
	case ledger.EventSecondPersonAsked, ledger.EventSecondPersonConfirmed, ledger.EventSecondPersonRefused:
	default:
		return false, nil
	}
	var d ledger.SecondPersonStep
	if err := decode(&d); err != nil {
		return true, err
	}
	k := [2]string{d.Department, d.Subject}
	_, waiting := s.asked[k]
	switch {
	case ev.Type == ledger.EventSecondPersonAsked && waiting:
		return true, bad(fmt.Sprintf("asks for %s of département %s while the same request already waits", d.Subject, d.Department))
	case ev.Type == ledger.EventSecondPersonAsked:
		s.asked[k] = ref
	case !waiting:
		return true, bad(fmt.Sprintf("decides on %s of département %s, which no earlier event asked for", d.Subject, d.Department))
	default:
		delete(s.asked, k)
	}
	return true, nil
}

// compareFourEyes checks that what waits for a second person in the table
// is what the ledger asked and did not decide: a request slipped in
// behind the ledger's back would be confirmed as if asked.
func (s *state) compareFourEyes(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.SecondPersonRequest
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if _, ok := s.asked[[2]string{r.DepartmentCode, r.Subject}]; !ok {
			return &StateError{Entity: "second-person request", ID: r.DepartmentCode + "/" + r.Subject, Problem: "waits but no event asked for it"}
		}
	}
	if len(rows) != len(s.asked) {
		return &StateError{Entity: "second-person request", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.asked))}
	}
	return nil
}
