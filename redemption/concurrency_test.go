package redemption_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
)

// TestExactlyOnce: 64 goroutines redeem the same voucher at once, each with
// its own key. Exactly one succeeds; the others are told it was already
// redeemed; the ledger has one redemption.
func TestExactlyOnce(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		const n = 64
		results := make([]redemption.Result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				venue := e.venue1
				if i%2 == 1 {
					venue = e.venue2
				}
				res, err := e.svc.Redeem(context.Background(), redemption.Basket{VenueID: venue, IdempotencyKey: newKey(),
					Items: []redemption.Input{e.code(0)}, Actor: "test"})
				if err != nil {
					t.Error(err)
				}
				results[i] = res
			})
		}
		wg.Wait()
		accepted := 0
		for _, r := range results {
			switch {
			case len(r.Items) == 0:
				// the error was reported above
			case r.Accepted:
				accepted++
			case r.Items[0].Reason != redemption.ReasonAlreadyRedeemed:
				t.Errorf("refused for %q, want already_redeemed", r.Items[0].Reason)
			}
		}
		var redemptions int64
		db.Read(context.Background()).Model(&ledger.Redemption{}).Count(&redemptions)
		if accepted != 1 || redemptions != 1 {
			t.Fatalf("%d accepted, %d redemptions in the ledger; want 1 and 1", accepted, redemptions)
		}
		e.auditOK(t)
	})
}

// TestOverlappingBaskets: many goroutines redeem random overlapping baskets
// from a small pool. No voucher is ever in two accepted baskets, and an
// accepted basket has all its vouchers spent by it: never a partial basket.
func TestOverlappingBaskets(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 2)
		const workers, perWorker = 16, 6
		var mu sync.Mutex
		var accepted []redemption.Result
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for range perWorker {
					perm := rng.Perm(len(e.vouchers))[:1+rng.IntN(4)]
					inputs := make([]redemption.Input, len(perm))
					for i, k := range perm {
						inputs[i] = e.code(k)
					}
					res, err := e.svc.Redeem(context.Background(), redemption.Basket{VenueID: e.venue2, IdempotencyKey: newKey(), Items: inputs, Actor: "test"})
					if err != nil {
						t.Error(err)
						return
					}
					if res.Accepted {
						mu.Lock()
						accepted = append(accepted, res)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		owner := map[int64]int64{}
		for _, r := range accepted {
			for _, it := range r.Items {
				if other, dup := owner[it.Serial]; dup {
					t.Fatalf("voucher %d in redemptions %d and %d", it.Serial, other, r.RedemptionID)
				}
				owner[it.Serial] = r.RedemptionID
			}
		}
		var rows []ledger.Voucher
		db.Read(context.Background()).Where("status = ?", ledger.VoucherRedeemed).Find(&rows)
		if len(rows) != len(owner) {
			t.Fatalf("%d vouchers redeemed in the ledger, %d in accepted answers", len(rows), len(owner))
		}
		for _, v := range rows {
			if owner[v.Serial] != *v.RedemptionID {
				t.Fatalf("voucher %d: ledger says redemption %d, the answer said %d", v.Serial, *v.RedemptionID, owner[v.Serial])
			}
		}
		if len(accepted) == 0 {
			t.Fatal("no basket was accepted: the test proves nothing")
		}
		e.auditOK(t)
	})
}

// TestConcurrentRetries: the same basket under the same key sent 16 times at
// once (a device retrying on a bad network) is redeemed once; every answer
// is that redemption or "in progress", never a refusal.
func TestConcurrentRetries(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		b := redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: []redemption.Input{e.code(0), e.code(1)}, Actor: "test"}
		ids := make(chan int64, 16)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				res, err := e.svc.Redeem(context.Background(), b)
				switch {
				case err != nil && passnumCode(err) != redemption.EInProgress:
					t.Error(err)
				case err == nil && !res.Accepted:
					t.Errorf("a retry was refused: %+v", res.Items)
				case err == nil:
					ids <- res.RedemptionID
				}
			})
		}
		wg.Wait()
		close(ids)
		var first int64
		for id := range ids {
			if first == 0 {
				first = id
			}
			if id != first {
				t.Fatalf("two redemptions %d and %d for one key", first, id)
			}
		}
		var n int64
		db.Read(context.Background()).Model(&ledger.Redemption{}).Count(&n)
		if n != 1 || first == 0 {
			t.Fatalf("%d redemptions, first %d", n, first)
		}
	})
}

// TestReverseWhileVoiding: the redemption of a voucher of each of 200
// chéquiers (50 on SQLite) is reversed while the chéquier is voided, 400
// goroutines at once. The voucher ends void, never spendable in a voided chéquier, and
// the ledger verifies.
func TestReverseWhileVoiding(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 0)
		// SQLite runs one writer at a time and cannot lose any; a few are
		// enough there (hundreds queueing under the race detector outwait
		// its busy timeout).
		n := 200
		if db.Dialect() == ledger.SQLite {
			n = 50
		}
		req := issuingtest.Request("78", n, 2)
		req.RequiresActivation = false
		res := e.Issue(t, req)
		type pair struct {
			chequier   string
			redemption int64
		}
		var pairs []pair
		for pc, err := range e.Issuing.BatchChequiers(ctx, res.Batch) {
			if err != nil {
				t.Fatal(err)
			}
			r := e.redeem(t, e.venue1, redemption.Input{Code: pc.Vouchers[0].Code})
			if !r.Accepted {
				t.Fatalf("%+v", r.Items)
			}
			pairs = append(pairs, pair{pc.Chequier.Number, r.RedemptionID})
		}
		var wg sync.WaitGroup
		for _, p := range pairs {
			start := make(chan struct{})
			var ready sync.WaitGroup
			ready.Add(2)
			wg.Go(func() {
				ready.Done()
				<-start
				if _, err := e.svc.Reverse(ctx, e.venue1, p.redemption, "erreur", "test"); err != nil {
					t.Errorf("reverse %d: %v", p.redemption, err)
				}
			})
			wg.Go(func() {
				ready.Done()
				<-start
				if _, err := e.Issuing.Void(ctx, p.chequier, "volé", "test"); err != nil {
					t.Errorf("void %s: %v", p.chequier, err)
				}
			})
			go func() { ready.Wait(); close(start) }()
		}
		wg.Wait()
		var bad []string
		db.Read(ctx).Raw(`SELECT c.number FROM vouchers v JOIN chequiers c ON c.id = v.chequier_id
			WHERE c.status = ? AND v.status = ? ORDER BY c.number`, ledger.ChequierVoid, ledger.VoucherActive).Scan(&bad)
		if len(bad) > 0 {
			t.Fatalf("%d spendable vouchers in voided chéquiers (%v)", len(bad), bad)
		}
		e.auditOK(t)
	})
}
