package figures_test

import (
	"context"
	"testing"
	"time"

	"passnum/accounts"
	"passnum/figures"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
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

// TestFunnelByCommuneAndMonth: three structures in two communes receive
// chéquiers in two months; the funnel of each commune is its structures'
// together, that of each month the chéquiers received in it, and both add
// up to the structures' funnel. Computed by hand: in the first month the
// CCAS of Trappes gets #1 and #2 (both handed over, #1 started, #2
// finished) and the MDS of Versailles #3 (in stock); in the second the
// association of Trappes gets #4 (handed over, unused) and #5 (in stock).
func TestFunnelByCommuneAndMonth(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		acc := &accounts.Service{DB: db}
		add := func(name, commune string) int64 {
			o, err := acc.AddStructure(ctx, accounts.Operator("test"), accounts.StructureInput{Department: "78", Name: name, Type: "ccas", Commune: commune})
			if err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		ccas, asso, mds := add("CCAS de Trappes", "Trappes"), add("Association Trappes Numérique", "Trappes"), add("MDS de Versailles", "Versailles")
		b := e.Issue(t, issuingtest.Request("78", 6, 2)).Batch
		move := func(to int64, n int) {
			t.Helper()
			if _, err := e.Issuing.MoveStock(ctx, issuing.Move{Department: "78", To: to, Batch: b.ID, Count: n}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		first := e.Clock.T.In(voucher.Paris()).Format("2006-01")
		move(ccas, 2)
		move(mds, 1)
		e.Clock.T = e.Clock.T.Add(35 * 24 * time.Hour)
		second := e.Clock.T.In(voucher.Paris()).Format("2006-01")
		move(asso, 2)
		for k, by := range map[int]int64{1: ccas, 2: ccas, 4: asso} {
			if _, err := e.Issuing.ActivateBy(ctx, e.chequier(t, b, k).Chequier.Number, issuing.HandOver{Structure: by}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		v := e.venue(t, 1, "Médiathèque", "78")
		c1, c2 := e.chequier(t, b, 1), e.chequier(t, b, 2)
		e.redeem(t, v, c1.Vouchers[0])
		e.redeem(t, v, c2.Vouchers[0], c2.Vouchers[1])

		f := e.compute(t, "78", voucher.Today(e.Clock.T))
		type funnel = figures.Funnel
		if len(f.Communes) != 2 {
			t.Fatalf("communes %+v", f.Communes)
		}
		trappes, versailles := f.Communes[0], f.Communes[1]
		if trappes.Commune != "Trappes" || trappes.Structures != 2 || versailles.Commune != "Versailles" || versailles.Structures != 1 {
			t.Fatalf("communes %+v", f.Communes)
		}
		check(t, "Trappes", trappes.Funnel, funnel{Received: 4, InStock: 1, HandedOver: 3, Started: 2, Finished: 1})
		check(t, "Versailles", versailles.Funnel, funnel{Received: 1, InStock: 1})
		if len(f.FunnelMonths) != 2 || f.FunnelMonths[0].Month != first || f.FunnelMonths[1].Month != second {
			t.Fatalf("months %+v, want %s and %s", f.FunnelMonths, first, second)
		}
		check(t, "the first month", f.FunnelMonths[0].Funnel, funnel{Received: 3, InStock: 1, HandedOver: 2, Started: 2, Finished: 1})
		check(t, "the second month", f.FunnelMonths[1].Funnel, funnel{Received: 2, InStock: 1, HandedOver: 1})
		var byStructure, byCommune, byMonth funnel
		for _, s := range f.Structures {
			byStructure.Received += s.Received
			byStructure.HandedOver += s.HandedOver
		}
		for _, c := range f.Communes {
			byCommune.Received += c.Received
			byCommune.HandedOver += c.HandedOver
		}
		for _, m := range f.FunnelMonths {
			byMonth.Received += m.Received
			byMonth.HandedOver += m.HandedOver
		}
		if byStructure != byCommune || byStructure != byMonth {
			t.Errorf("the totals differ: structures %+v, communes %+v, months %+v", byStructure, byCommune, byMonth)
		}
	})
}
