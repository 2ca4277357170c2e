package redemption

import (
	"context"
	"testing"
	"time"

	"passnum"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
)

// TestClaim drives the idempotency key's claim directly: a key held by a
// running request refuses repeats, until the holder is presumed dead.
func TestClaim(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		v, err := (&programme.Service{DB: db, Now: f.Clock.Now}).AddVenue(ctx, "Lieu", []string{"78"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		s := &Service{DB: db, Now: f.Clock.Now}
		b := Basket{VenueID: v.ID, IdempotencyKey: "claim-test-1", Items: []Input{{Code: "X"}}}
		hash := requestHash(&b)
		now := f.Clock.T
		if replay, err := s.claim(ctx, v.ID, b.IdempotencyKey, hash, now); err != nil || replay != nil {
			t.Fatalf("first claim: %v %v", replay, err)
		}
		if _, err := s.claim(ctx, v.ID, b.IdempotencyKey, hash, now.Add(time.Second)); passnum.ErrorCode(err) != EInProgress {
			t.Fatalf("repeat while in progress: %v", err)
		}
		if _, err := s.claim(ctx, v.ID, b.IdempotencyKey, []byte("other"), now.Add(time.Second)); passnum.ErrorCode(err) != EIdempotencyMismatch {
			t.Fatalf("other request under the key: %v", err)
		}
		if replay, err := s.claim(ctx, v.ID, b.IdempotencyKey, hash, now.Add(claimTimeout+time.Second)); err != nil || replay != nil {
			t.Fatalf("takeover of a dead claim: %v %v", replay, err)
		}
		// Whichever holder finishes first stores the one answer; the other's
		// conditional update finds no claim left and its transaction fails.
		err = db.Tx(ctx, func(tx *ledger.Tx) error { return storeAnswer(tx, &b, &Result{}, now) })
		if err != nil {
			t.Fatal(err)
		}
		err = db.Tx(ctx, func(tx *ledger.Tx) error { return storeAnswer(tx, &b, &Result{}, now) })
		if passnum.ErrorCode(err) != EInProgress {
			t.Fatalf("a second answer was stored: %v", err)
		}
	})
}
