package redemption_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
)

// TestOneClock checks that a redemption's time is the database's clock,
// read once per transaction: with a clock that moves on every read, the
// redemption, its idempotency key, its event and the answer carry one
// instant, which a later check reports as redeemed_at; and the reversal
// window is judged at the instant the reversal records, to the microsecond.
func TestOneClock(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		at := e.Clock.T.Add(time.Hour + 123456789*time.Nanosecond) // below the microsecond both databases keep
		db.Clock = func() time.Time { at = at.Add(time.Millisecond); return at }

		before := db.Now()
		res := e.redeem(t, e.venue1, e.code(0), e.code(1))
		received := res.ReceivedAt
		if !res.Accepted || !received.After(before) || !db.Now().After(received) || received.Nanosecond()%1000 != 0 {
			t.Fatalf("received at %v, not a microsecond of the clock after %v: %+v", received, before, res)
		}
		if !res.ScannedAt.Equal(received) {
			t.Fatalf("a basket sent without a scan time is scanned at %v, want %v", res.ScannedAt, received)
		}
		var r ledger.Redemption
		var k ledger.IdempotencyKey
		var ev ledger.Event
		var data ledger.Redeemed
		if err := db.Read(ctx).Take(&r, res.RedemptionID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Read(ctx).Take(&k, "venue_id = ?", e.venue1).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Read(ctx).Take(&ev, "type = ?", ledger.EventRedeemed).Error; err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			t.Fatal(err)
		}
		for what, got := range map[string]time.Time{"redemption created_at": r.CreatedAt, "redemption scanned_at": r.ScannedAt,
			"key created_at": k.CreatedAt, "key updated_at": k.UpdatedAt, "event created_at": ev.CreatedAt} {
			if !got.Equal(received) {
				t.Errorf("%s is %v, want %v", what, got, received)
			}
		}
		if data.ReceivedAt != received.Format(time.RFC3339Nano) {
			t.Errorf("the event's received_at is %s, want %v", data.ReceivedAt, received)
		}
		it, err := e.svc.Check(ctx, e.venue1, e.code(0))
		if err != nil || it.RedeemedAt == nil || !it.RedeemedAt.Equal(received) {
			t.Fatalf("a check says redeemed at %v (%v), want %v", it.RedeemedAt, err, received)
		}

		// The last instant of the window: the reversal's transaction reads
		// the clock once, and that read is exactly ReversibleUntil.
		until := e.svc.ReversibleUntil(received)
		at = until.Add(-time.Millisecond)
		rev, err := e.svc.Reverse(ctx, e.venue1, res.RedemptionID, "erreur", "test")
		if err != nil || !rev.ReversedAt.Equal(until) {
			t.Fatalf("reversal at the window's last instant: %+v %v, want reversed at %v", rev, err, until)
		}
		var revEv ledger.Event
		if err := db.Read(ctx).Take(&revEv, "type = ?", ledger.EventReversed).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Read(ctx).Take(&r, res.RedemptionID).Error; err != nil {
			t.Fatal(err)
		}
		if !revEv.CreatedAt.Equal(until) || r.ReversedAt == nil || !r.ReversedAt.Equal(until) {
			t.Fatalf("reversed_at %v and its event at %v, want %v", r.ReversedAt, revEv.CreatedAt, until)
		}

		// One microsecond later, it is refused.
		res = e.redeem(t, e.venue1, e.code(2))
		at = e.svc.ReversibleUntil(res.ReceivedAt).Add(time.Microsecond - time.Millisecond)
		if _, err := e.svc.Reverse(ctx, e.venue1, res.RedemptionID, "erreur", "test"); passnum.ErrorCode(err) != redemption.EReversalWindow {
			t.Fatalf("reversal a microsecond after the window: %v", err)
		}
	})
}
