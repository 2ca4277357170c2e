package issuing_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"passnum"
	"passnum/accounts"
	"passnum/audit/audittest"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// structures adds distribution structures to a département.
func structures(t *testing.T, db *ledger.DB, department string, names ...string) []int64 {
	t.Helper()
	acc := &accounts.Service{DB: db}
	var ids []int64
	for _, n := range names {
		o, err := acc.AddStructure(context.Background(), accounts.Operator("test"), accounts.StructureInput{Department: department, Name: n, Type: "ccas", Commune: n})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	return ids
}

func wantCode(t *testing.T, err error, code, contains string) {
	t.Helper()
	if passnum.ErrorCode(err) != code || !strings.Contains(passnum.ErrorMessage(err), contains) {
		t.Fatalf("got %s %q, want %s with %q", passnum.ErrorCode(err), passnum.ErrorMessage(err), code, contains)
	}
}

// TestStock: chéquiers go from the département to a structure, from one
// structure to another and back; a structure's agent hands over only what
// its structure holds; a handed-over or absent chéquier does not move;
// the stock per holder and its age are what was moved; nothing moves on a
// refused move; the ledger replays to the same holders.
func TestStock(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		b := f.Issue(t, issuingtest.Request("78", 10, 2))
		s := structures(t, db, "78", "CCAS de Trappes", "MDS de Versailles")
		other := structures(t, db, "92", "CCAS de Nanterre")
		trappes, versailles := s[0], s[1]
		move := func(m issuing.Move) (issuing.Moved, error) {
			m.Department = "78"
			return f.Issuing.MoveStock(ctx, m, "test")
		}
		m, err := move(issuing.Move{To: trappes, Batch: b.Batch.ID, Count: 4})
		if err != nil || m.Event != ledger.EventStockAllocated || m.Count != 4 || m.First != b.FirstChequier || !strings.HasSuffix(m.Last, "000004") {
			t.Fatalf("allocate: %v %+v", err, m)
		}
		if m, err = move(issuing.Move{From: trappes, To: versailles, First: m.First, Last: strings.Replace(m.First, "000001", "000002", 1)}); err != nil || m.Event != ledger.EventStockTransferred || m.Count != 2 {
			t.Fatalf("transfer: %v %+v", err, m)
		}
		_, err = move(issuing.Move{From: trappes, To: versailles, First: m.First, Last: m.Last})
		wantCode(t, err, issuing.EStockShort, "n'est pas dans le stock de « CCAS de Trappes »")
		_, err = move(issuing.Move{From: trappes, To: versailles, Batch: b.Batch.ID, Count: 3})
		wantCode(t, err, issuing.EStockShort, "Le stock de « CCAS de Trappes » n'a que 2 chéquiers non remis du lot")
		_, err = move(issuing.Move{To: other[0], Batch: b.Batch.ID, Count: 1})
		wantCode(t, err, passnum.ENotFound, "pas de structure n°")
		_, err = move(issuing.Move{From: trappes, To: trappes, Batch: b.Batch.ID, Count: 1})
		wantCode(t, err, passnum.EInvalid, "même endroit")
		_, err = move(issuing.Move{To: trappes})
		wantCode(t, err, passnum.EInvalid, "un lot et un nombre")

		// The hand-over: by the structure holding it, or the département.
		held := m.First // at Versailles
		_, err = f.Issuing.ActivateBy(ctx, held, issuing.HandOver{Ref: "CCAS-1", Structure: trappes}, "test")
		wantCode(t, err, issuing.ENotInStock, "n'est pas dans le stock de votre structure")
		if _, err := f.Issuing.ActivateBy(ctx, held, issuing.HandOver{Ref: "MDS-1", Structure: versailles}, "test"); err != nil {
			t.Fatal(err)
		}
		_, err = move(issuing.Move{From: versailles, First: held, Last: held})
		wantCode(t, err, issuing.EStockShort, "déjà remis")
		if _, err := f.Issuing.Activate(ctx, strings.Replace(b.FirstChequier, "000001", "000003", 1), "", "test"); err != nil {
			t.Fatalf("the département hands over a structure's chéquier: %v", err)
		}
		if m, err := move(issuing.Move{From: versailles, Batch: b.Batch.ID, Count: 1}); err != nil || m.Event != ledger.EventStockTakenBack {
			t.Fatalf("take back: %v %+v", err, m)
		}

		hs, err := f.Issuing.Stock(ctx, "78", 0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for _, h := range hs {
			got[h.Structure] += h.Count
			if (h.Structure != 0) != (h.Since != nil) || h.Structure != 0 && !h.Since.Equal(f.Clock.T) {
				t.Errorf("holding %+v: a structure's has its date, the département's none", h)
			}
		}
		// 10 issued: 2 handed over; Trappes kept 1 (one of its 2 handed over by
		// the département), Versailles none (1 handed over, 1 taken back).
		if got[0] != 7 || got[trappes] != 1 || got[versailles] != 0 || len(got) != 2 {
			t.Fatalf("stock %v", got)
		}
		if mine, err := f.Issuing.Stock(ctx, "78", trappes); err != nil || len(mine) != 1 || mine[0].Structure != trappes {
			t.Fatalf("Trappes's stock %v %+v", err, mine)
		}
		audittest.OK(t, f)
	})
}

// TestStockConcurrentMoves: many managers allocating from one batch at
// once to many structures never give one chéquier twice: each move is
// whole or refused, and what the structures hold adds up to what moved.
func TestStockConcurrentMoves(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		b := f.Issue(t, issuingtest.Request("78", 30, 1))
		names := []string{"A", "B", "C", "D", "E", "F", "G", "H"}
		s := structures(t, db, "78", names...)
		var wg sync.WaitGroup
		moved := make([]int, len(s))
		for i := range s {
			wg.Go(func() {
				for range 3 {
					m, err := f.Issuing.MoveStock(ctx, issuing.Move{Department: "78", To: s[i], Batch: b.Batch.ID, Count: 2}, "test")
					switch passnum.ErrorCode(err) {
					case "":
						moved[i] += m.Count
					case passnum.EConflict, issuing.EStockShort:
					default:
						t.Errorf("move: %v", err)
					}
				}
			})
		}
		wg.Wait()
		hs, err := f.Issuing.Stock(ctx, "78", 0)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for i, id := range s {
			var held int64
			for _, h := range hs {
				if h.Structure == id {
					held = h.Count
				}
			}
			if int(held) != moved[i] {
				t.Errorf("structure %s holds %d, moves said %d", names[i], held, moved[i])
			}
			total += moved[i]
		}
		if total == 0 {
			t.Fatal("no move went through")
		}
		audittest.OK(t, f)
	})
}

// TestBeneficiaryRefUsed: a reference given to a chéquier of the
// département is refused for a second one, saying which and when, until
// the second hand-over is confirmed for the same person; another
// département's reference is another person's; the scanned code says the
// same.
func TestBeneficiaryRefUsed(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		b := f.Issue(t, issuingtest.Request("78", 3, 1))
		b92 := f.Issue(t, issuingtest.Request("92", 1, 1))
		n := func(seq string) string { return strings.Replace(b.FirstChequier, "000001", seq, 1) }
		if _, err := f.Issuing.Activate(ctx, n("000001"), "CCAS-17-0193", "test"); err != nil {
			t.Fatal(err)
		}
		_, err := f.Issuing.Activate(ctx, n("000002"), "CCAS-17-0193", "test")
		wantCode(t, err, issuing.ERefUsed, "La référence CCAS-17-0193 est déjà utilisée pour le chéquier "+n("000001")+", remis le 26/11/2026.")
		if pe, ok := err.(*passnum.Error); !ok || pe.Field != "beneficiary_ref" {
			t.Errorf("the refusal names no field: %#v", err)
		}
		pc, err := f.Issuing.Chequier(ctx, n("000002"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Issuing.ActivateCode(ctx, pc.ActivationCode, issuing.HandOver{Ref: "CCAS-17-0193"}, "test")
		wantCode(t, err, issuing.ERefUsed, "déjà utilisée")
		if c, err := f.Issuing.ActivateCode(ctx, pc.ActivationCode, issuing.HandOver{Ref: "CCAS-17-0193", SamePerson: true}, "test"); err != nil || c.Status != ledger.ChequierActive {
			t.Fatalf("a second chéquier confirmed: %v %+v", err, c)
		}
		if _, err := f.Issuing.Activate(ctx, b92.FirstChequier, "CCAS-17-0193", "test"); err != nil {
			t.Fatalf("92's own reference: %v", err)
		}
		audittest.OK(t, f)
	})
}
