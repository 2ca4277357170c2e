package redemption

import (
	"context"
	"errors"
	"testing"

	"passnum"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
)

// TestRepeatWhileRunning holds a request's transaction open after it
// claimed its key, as a slow first request would: on PostgreSQL a repeat is
// told "in progress" at once instead of waiting; once the first request is
// gone without committing (a crash), the key is free and a retry succeeds.
func TestRepeatWhileRunning(t *testing.T) {
	db := ledgertest.Open(t, ledger.Postgres)
	ctx := context.Background()
	f := issuingtest.New(t, db) // the installation: clock, keys, the département 78
	v, err := (&programme.Service{DB: db}).AddVenue(ctx, programmetest.Venue(9, "Lieu", "78"), "test")
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{DB: db, Keys: f.Keys}
	b := Basket{VenueID: v.ID, IdempotencyKey: "repeat-test-1", Items: []Input{{Code: "NOT-A-VOUCHER-CODE"}}, Actor: "test"}
	hash := requestHash(&b)

	claimed, release := make(chan struct{}), make(chan struct{})
	crash := errors.New("the first request crashed")
	done := make(chan error)
	go func() {
		done <- db.Tx(ctx, func(tx *ledger.Tx) error {
			if _, replay, err := claim(tx, v.ID, b.IdempotencyKey, hash, tx.Now()); err != nil || replay != nil {
				return errors.Join(err, errors.New("the first claim failed"))
			}
			close(claimed)
			<-release
			return crash
		})
	}()
	<-claimed
	if _, err := s.Redeem(ctx, b); passnum.ErrorCode(err) != EInProgress {
		t.Fatalf("repeat while the first runs: %v", err)
	}
	other := b
	other.Items = []Input{{Code: "ANOTHER-BASKET-ENTIRELY"}}
	if _, err := s.Redeem(ctx, other); passnum.ErrorCode(err) != EInProgress {
		t.Fatalf("another basket under a key in use: %v", err)
	}
	close(release)
	if err := <-done; !errors.Is(err, crash) {
		t.Fatal(err)
	}
	res, err := s.Redeem(ctx, b)
	if err != nil || res.Replayed || len(res.Items) != 1 {
		t.Fatalf("retry after the crash: %+v %v", res, err)
	}
	if again, err := s.Redeem(ctx, b); err != nil || !again.Replayed {
		t.Fatalf("second retry: %+v %v", again, err)
	}
}
