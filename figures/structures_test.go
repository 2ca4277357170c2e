package figures_test

import (
	"context"
	"testing"

	"passnum/accounts"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestStructureFunnel: two structures of 78 receive chéquiers; the CCAS
// hands over three, one of which is started, one finished, one voided;
// the MDS's one of a batch without activation is "non suivi". After the
// validity, the handed-over one never used counts as expired unused. Each
// structure's received = in stock + handed over + voided + untracked.
func TestStructureFunnel(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		acc := &accounts.Service{DB: db}
		var ids []int64
		for _, n := range []string{"CCAS de Trappes", "MDS de Versailles"} {
			o, err := acc.AddStructure(ctx, accounts.Operator("test"), accounts.StructureInput{Department: "78", Name: n, Type: "ccas", Commune: n[8:]})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		ccas, mds := ids[0], ids[1]
		tracked := e.Issue(t, issuingtest.Request("78", 6, 2)).Batch
		untracked := issuingtest.Request("78", 2, 2)
		untracked.RequiresActivation = false
		free := e.Issue(t, untracked).Batch
		move := func(to int64, b ledger.Batch, n int) {
			t.Helper()
			if _, err := e.Issuing.MoveStock(ctx, issuing.Move{Department: "78", To: to, Batch: b.ID, Count: n}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		move(ccas, tracked, 5)
		move(mds, tracked, 1)
		move(mds, free, 1)
		v := e.venue(t, 1, "Médiathèque", "78")
		for k := 1; k <= 4; k++ {
			if _, err := e.Issuing.ActivateBy(ctx, e.chequier(t, tracked, k).Chequier.Number, issuing.HandOver{Structure: ccas}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		c1, c2 := e.chequier(t, tracked, 1), e.chequier(t, tracked, 2)
		e.redeem(t, v, c1.Vouchers[0])                 // started
		e.redeem(t, v, c2.Vouchers[0], c2.Vouchers[1]) // finished
		if _, err := e.Issuing.Void(ctx, e.chequier(t, tracked, 3).Chequier.Number, "perdu", "test"); err != nil {
			t.Fatal(err)
		}

		f := e.compute(t, "78", day(t, "2026-11-26"))
		if len(f.Structures) != 2 {
			t.Fatalf("structures %+v", f.Structures)
		}
		got := map[int64]struct{ received, stock, handed, started, finished, expired, voided, untracked int64 }{}
		for _, s := range f.Structures {
			got[s.ID] = struct{ received, stock, handed, started, finished, expired, voided, untracked int64 }{
				s.Received, s.InStock, s.HandedOver, s.Started, s.Finished, s.ExpiredUnused, s.Voided, s.Untracked}
			if s.Received != s.InStock+s.HandedOver+s.Voided+s.Untracked {
				t.Errorf("%s: received %d is not the sum of its parts: %+v", s.Name, s.Received, s)
			}
		}
		check(t, "the CCAS's funnel", got[ccas], struct{ received, stock, handed, started, finished, expired, voided, untracked int64 }{5, 1, 3, 2, 1, 0, 1, 0})
		check(t, "the MDS's funnel", got[mds], struct{ received, stock, handed, started, finished, expired, voided, untracked int64 }{2, 1, 0, 0, 0, 0, 0, 1})
		if f.Structures[0].Name != "CCAS de Trappes" || f.Structures[0].Commune != "Trappes" {
			t.Errorf("first structure %+v", f.Structures[0])
		}
		// After the validity: the 4th, handed over and never used, expired unused.
		after := tracked.ValidUntil.Day().AddDays(1)
		for _, s := range e.compute(t, "78", after).Structures {
			if s.ID == ccas && s.ExpiredUnused != 1 {
				t.Errorf("after the validity, the CCAS's expired unused: %d, want 1", s.ExpiredUnused)
			}
		}
		if f92 := e.compute(t, "92", day(t, "2026-11-26")); len(f92.Structures) != 0 {
			t.Errorf("92 sees 78's structures: %+v", f92.Structures)
		}
	})
}
