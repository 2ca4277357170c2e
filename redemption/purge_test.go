package redemption_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
)

// TestPurgeKeepsWhatIsPromised: a refused basket's answer replays for 24
// hours, then is purged and its key may serve again; an accepted basket's
// answer is kept with its redemption and replays for ever.
func TestPurgeKeepsWhatIsPromised(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		basket := func(key string, in ...redemption.Input) (redemption.Result, error) {
			return e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: key, ScannedAt: e.Clock.T, Items: in, Actor: "test"})
		}
		accepted, err := basket("kept-accepted", e.code(0))
		if err != nil || !accepted.Accepted {
			t.Fatalf("accepted basket: %+v %v", accepted, err)
		}
		refused, err := basket("purged-refused", e.code(0)) // already redeemed: refused whole
		if err != nil || refused.Accepted {
			t.Fatalf("refused basket: %+v %v", refused, err)
		}
		answers := func() int64 {
			var n int64
			if err := db.Read(ctx).Model(&ledger.IdempotencyKey{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		purge := func() int64 {
			n, err := e.svc.PurgeAnswers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		scanned := e.Clock.T

		// Just under 24 hours later: nothing is purged, both replay.
		e.Clock.T = scanned.Add(redemption.AnswerRetention - time.Second)
		if n := purge(); n != 0 || answers() != 2 {
			t.Fatalf("under 24 h: %d purged, %d answers kept, want 0 and 2", n, answers())
		}
		again, err := e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: "purged-refused", ScannedAt: scanned,
			Items: []redemption.Input{e.code(0)}, Actor: "test"})
		if err != nil || !again.Replayed || again.Accepted || !again.ReceivedAt.Equal(refused.ReceivedAt) {
			t.Fatalf("a refused basket sent again within 24 h: %+v %v, want its first answer replayed", again, err)
		}

		// Past 24 hours: the refused answer goes, the accepted one stays.
		e.Clock.T = scanned.Add(redemption.AnswerRetention + time.Second)
		if n := purge(); n != 1 || answers() != 1 {
			t.Fatalf("past 24 h: %d purged, %d answers kept, want 1 and 1", n, answers())
		}
		if n := purge(); n != 0 {
			t.Fatalf("a second purge deleted %d more", n)
		}
		again, err = e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: "kept-accepted", ScannedAt: scanned,
			Items: []redemption.Input{e.code(0)}, Actor: "test"})
		if err != nil || !again.Replayed || !again.Accepted || again.RedemptionID != accepted.RedemptionID {
			t.Fatalf("the accepted basket sent again after the purge: %+v %v, want its first answer replayed", again, err)
		}
		// The refused basket's key is free: a new basket under it is judged
		// afresh (and accepted), not refused as a reused key.
		fresh, err := basket("purged-refused", e.code(1))
		if err != nil || fresh.Replayed || !fresh.Accepted {
			t.Fatalf("a new basket under a purged key: %+v %v", fresh, err)
		}
		e.auditOK(t)
	})
}

// TestPurgeInBatches: a backlog larger than one purge transaction (a
// server that did not run for days) is purged whole, batch after batch,
// and only what is old and refused goes.
func TestPurgeInBatches(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		old, recent := e.Clock.T.Add(-redemption.AnswerRetention-time.Hour), e.Clock.T.Add(-time.Hour)
		const backlog = 2345
		err := db.Tx(ctx, func(tx *ledger.Tx) error {
			var rows []ledger.IdempotencyKey
			for i := range backlog + 10 {
				at := old
				if i >= backlog {
					at = recent
				}
				resp := `{"accepted":false}`
				rows = append(rows, ledger.IdempotencyKey{VenueID: e.venue1, Key: fmt.Sprintf("backlog-%05d", i), RequestSHA256: []byte{1},
					State: "done", Response: &resp, CreatedAt: at, UpdatedAt: at})
			}
			return tx.CreateInBatches(rows, 500).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.PurgeAnswers(ctx)
		if err != nil || n != backlog {
			t.Fatalf("purged %d (%v), want %d", n, err, backlog)
		}
		var left int64
		db.Read(ctx).Model(&ledger.IdempotencyKey{}).Count(&left)
		if left != 10 {
			t.Fatalf("%d answers left, want the 10 recent ones", left)
		}
	})
}

// TestPurgeFailures: the wrong typed entries older than FailureRetention
// go; the recent ones stay and still lock the venue out, so that a purge
// never lifts a lockout early.
func TestPurgeFailures(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 2)
		t0 := e.Clock.T
		for range 7 { // yesterday's mistakes, long out of the window
			e.svc.Check(ctx, e.venue2, e.typedWrong(3))
		}
		e.Clock.T = t0.Add(redemption.FailureRetention + time.Hour)
		for range 10 { // today's: the venue is locked out
			e.svc.Check(ctx, e.venue2, e.typedWrong(3))
		}
		n, err := e.svc.PurgeFailures(ctx)
		if err != nil || n != 7 {
			t.Fatalf("purged %d wrong entries (%v), want yesterday's 7", n, err)
		}
		var left int64
		db.Read(ctx).Model(&ledger.ManualEntryFailure{}).Count(&left)
		if left != 10 {
			t.Fatalf("%d wrong entries left, want today's 10", left)
		}
		if it, _ := e.svc.Check(ctx, e.venue2, e.typedRight(5)); it.Reason != redemption.ReasonRateLimited {
			t.Fatalf("after the purge, the locked-out venue's right code: %+v", it)
		}
	})
}
