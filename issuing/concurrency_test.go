package issuing_test

import (
	"context"
	"sync"
	"testing"

	"passnum"
	"passnum/audit/audittest"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// raced is how many chéquiers each race test plays on, in rounds of 200:
// the unlocked code lost one to three of each 200 on PostgreSQL. SQLite
// runs one writer at a time and cannot lose any; a few are enough there,
// since hundreds of writers queueing on its lock under the race detector
// outwait its busy timeout.
func raced(db *ledger.DB) int {
	if db.Dialect() == ledger.SQLite {
		return 50
	}
	return 600
}

// race runs one replacement of voucher k and one other change of each
// chéquier at once, all chéquiers together, each pair released by its own
// barrier. Refusals (voided, changed meanwhile) are fine; failures are not.
func race(t *testing.T, f *issuingtest.Fixture, chequiers []issuing.PrintedChequier, other func(ctx context.Context, number string) error) {
	t.Helper()
	for len(chequiers) > 200 {
		race(t, f, chequiers[:200], other)
		chequiers = chequiers[200:]
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, pc := range chequiers {
		start := make(chan struct{})
		var ready sync.WaitGroup
		ready.Add(2)
		leaked := pc.Vouchers[i%len(pc.Vouchers)].Number
		wg.Go(func() {
			ready.Done()
			<-start
			if _, err := f.Issuing.Replace(ctx, leaked, "code photographié", "test", nil); passnum.ErrorCode(err) == passnum.EInternal {
				t.Errorf("replace %s: %v", leaked, err)
			}
		})
		wg.Go(func() {
			ready.Done()
			<-start
			if err := other(ctx, pc.Chequier.Number); passnum.ErrorCode(err) == passnum.EInternal {
				t.Errorf("chéquier %s: %v", pc.Chequier.Number, err)
			}
		})
		go func() { ready.Wait(); close(start) }()
	}
	wg.Wait()
}

func chequiersOf(t *testing.T, f *issuingtest.Fixture, res issuing.Issued) []issuing.PrintedChequier {
	t.Helper()
	var out []issuing.PrintedChequier
	for pc, err := range f.Issuing.BatchChequiers(context.Background(), res.Batch) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pc)
	}
	return out
}

// TestReplaceWhileVoiding: a voucher of each of 600 chéquiers is replaced
// while the chéquier is voided, 400 goroutines at once, three times (50
// chéquiers on SQLite). Afterwards no voided
// chéquier holds a redeemable voucher, every chéquier is void, and the
// ledger verifies.
func TestReplaceWhileVoiding(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		n := raced(db)
		res := f.Issue(t, issuingtest.Request("78", n, 3))
		all := chequiersOf(t, f, res)
		for _, pc := range all[:n/2] { // handed over or not: both kinds of voucher
			if _, err := f.Issuing.Activate(ctx, pc.Chequier.Number, "", "test"); err != nil {
				t.Fatal(err)
			}
		}
		race(t, f, all, func(ctx context.Context, number string) error {
			_, err := f.Issuing.Void(ctx, number, "volé", "test")
			return err
		})
		var bad []string
		db.Read(ctx).Raw(`SELECT c.number FROM vouchers v JOIN chequiers c ON c.id = v.chequier_id
			WHERE c.status = ? AND v.status IN ? ORDER BY c.number`, ledger.ChequierVoid,
			[]ledger.VoucherStatus{ledger.VoucherActive, ledger.VoucherInactive}).Scan(&bad)
		if len(bad) > 0 {
			t.Fatalf("%d redeemable vouchers in voided chéquiers (%v)", len(bad), bad)
		}
		var notVoid, replaced int64
		db.Read(ctx).Model(&ledger.Chequier{}).Where("status <> ?", ledger.ChequierVoid).Count(&notVoid)
		db.Read(ctx).Model(&ledger.Voucher{}).Where("replaced_by IS NOT NULL").Count(&replaced)
		if notVoid != 0 {
			t.Fatalf("%d chéquiers escaped their voiding", notVoid)
		}
		t.Logf("%d chéquiers voided, %d replacements made before their voiding", n, replaced)
		audittest.OK(t, f)
	})
}

// TestReplaceWhileHandingOver: a voucher of each of 600 chéquiers (50 on
// SQLite) is replaced while the chéquier is handed over. The replacement is
// as redeemable as its chéquier's other vouchers: never left waiting for a
// hand-over that happened.
func TestReplaceWhileHandingOver(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", raced(db), 3))
		race(t, f, chequiersOf(t, f, res), func(ctx context.Context, number string) error {
			_, err := f.Issuing.Activate(ctx, number, "", "test")
			return err
		})
		var bad []string
		db.Read(ctx).Raw(`SELECT c.number FROM vouchers v JOIN chequiers c ON c.id = v.chequier_id
			WHERE c.status = ? AND v.status = ? ORDER BY c.number`, ledger.ChequierActive, ledger.VoucherInactive).Scan(&bad)
		if len(bad) > 0 {
			t.Fatalf("%d vouchers wait for the hand-over of chéquiers already handed over (%v)", len(bad), bad)
		}
		audittest.OK(t, f)
	})
}
