package settlement_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/audit"
	"passnum/foureyes"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/redemption"
	"passnum/sepa"
	"passnum/settlement"
	"passnum/voucher"
)

type env struct {
	*issuingtest.Fixture
	r      issuingtest.Redeemable
	redeem *redemption.Service
	settle *settlement.Service
	prog   *programme.Service
	keys   int
}

func newEnv(t *testing.T, db *ledger.DB) *env {
	f := issuingtest.New(t, db)
	e := &env{Fixture: f, r: f.Redeemable(t, 3)}
	// A long reversal window, so that only the settlement lock refuses.
	e.redeem = &redemption.Service{DB: db, Keys: f.Keys, ReversalWindow: 3 * time.Hour}
	db.Clock = f.Clock.Now
	e.settle = &settlement.Service{DB: db}
	e.prog = &programme.Service{DB: db}
	return e
}

func (e *env) at(t *testing.T, s string) {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.T = tm
}

// spend redeems the given vouchers (indexes into the handed-over ones) in one basket.
func (e *env) spend(t *testing.T, venue int64, idx ...int) int64 {
	t.Helper()
	var in []redemption.Input
	for _, i := range idx {
		in = append(in, redemption.Input{Code: e.r.Vouchers[i].Code})
	}
	e.keys++
	res, err := e.redeem.Redeem(context.Background(), redemption.Basket{VenueID: venue, IdempotencyKey: fmt.Sprintf("settlement-test-%04d", e.keys),
		ScannedAt: e.Clock.T, Items: in, Actor: "test"})
	if err != nil || res.RedemptionID == 0 {
		t.Fatalf("redeem %v: %+v %v", idx, res, err)
	}
	return res.RedemptionID
}

func month(t *testing.T, s string) settlement.Month {
	m, err := settlement.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func code(err error) string { return passnum.ErrorCode(err) }

// TestSettlementScenario follows a département through three months; every
// figure below is computed by hand from the redemptions made (10.00 EUR vouchers).
func TestSettlementScenario(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		v1, v2 := e.r.Venue1, e.r.Venue2
		bp := int64(150)
		if _, err := e.prog.UpdateDepartment(ctx, "78", programme.DepartmentChanges{CommissionBasisPoints: &bp}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.prog.ConfirmSettings(ctx, "78", "test-finances"); err != nil {
			t.Fatal(err)
		}

		e.at(t, "2026-11-26T10:00:00Z")
		e.spend(t, v1, 0, 1)
		e.at(t, "2026-11-26T10:05:00Z")
		undone := e.spend(t, v2, 2)
		e.at(t, "2026-11-26T10:10:00Z")
		if _, err := e.redeem.Reverse(ctx, v2, undone, "erreur de saisie", "test"); err != nil {
			t.Fatal(err)
		}
		e.at(t, "2026-11-30T22:50:00Z") // 23:50 in Paris: still November
		late := e.spend(t, v1, 3, 4, 5)
		e.at(t, "2026-11-30T23:10:00Z") // 00:10 in Paris on 1 December: too early to close
		if _, err := e.settle.Close(ctx, "78", month(t, "2026-11"), "test"); code(err) != settlement.EPeriodOpen {
			t.Fatalf("close at 00:10: %v, want %s", err, settlement.EPeriodOpen)
		}
		e.at(t, "2026-11-30T23:30:00Z") // 00:30 in Paris: December
		e.spend(t, v1, 6)

		e.at(t, "2026-12-01T00:00:00Z") // 01:00 in Paris
		nov, err := e.settle.Close(ctx, "78", month(t, "2026-11"), "paierie")
		if err != nil {
			t.Fatal(err)
		}
		// venue 1: 5 vouchers = 50.00, commission 1.50 % = 0.75, net 49.25;
		// venue 2: 10.00 redeemed and reversed, net 0.
		want := []struct{ venue, gross, reversed, commission, net int64 }{{v1, 5000, 0, 75, 4925}, {v2, 1000, 1000, 0, 0}}
		if len(nov.Statements) != 2 {
			t.Fatalf("%d statements, want 2", len(nov.Statements))
		}
		for i, w := range want {
			st := nov.Statements[i]
			if st.VenueID != w.venue || st.GrossCents != w.gross || st.ReversedCents != w.reversed || st.CommissionCents != w.commission || st.NetCents != w.net {
				t.Errorf("statement %d: %+v, want %+v", i, st, w)
			}
		}
		if nov.GrossCents != 6000 || nov.ReversedCents != 1000 || nov.CommissionCents != 75 || nov.NetCents != 4925 {
			t.Errorf("November totals %+v", nov)
		}

		// Frozen: no reversal (even within the window), no second closing.
		e.at(t, "2026-12-01T00:01:00Z")
		if _, err := e.redeem.Reverse(ctx, v1, late, "trop tard", "test"); code(err) != redemption.EPeriodSettled {
			t.Fatalf("reversal after closing: %v", err)
		}
		if _, err := e.settle.Close(ctx, "78", month(t, "2026-11"), "test"); code(err) != settlement.EPeriodClosed {
			t.Fatalf("second closing: %v", err)
		}
		again, err := e.settle.Period(ctx, "78", month(t, "2026-11"))
		if err != nil || !again.Closed || again.NetCents != 4925 {
			t.Fatalf("closed period read back: %+v %v", again, err)
		}

		// Exports: the CSV lines add up to each statement, the SEPA file pays
		// only what is due, from the paying office once it is set.
		var buf bytes.Buffer
		if err := settlement.WriteCSV(&buf, again); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+5+2 {
			t.Fatalf("%d CSV rows, want a header, 5 redeemed vouchers of venue 1, a redemption and its reversal for venue 2", len(rows))
		}
		sums := map[string]int64{}
		for _, r := range rows[1:] {
			n, _ := strconv.ParseInt(r[11], 10, 64)
			sums[r[3]] += n
		}
		if sums[fmt.Sprint(v1)] != 5000 || sums[fmt.Sprint(v2)] != 0 {
			t.Fatalf("CSV sums %v", sums)
		}
		exec, _ := voucher.ParseDay("2026-12-05")
		if _, err := e.settle.Payment(again, exec); code(err) != settlement.ENoPayer {
			t.Fatalf("payment without a paying office: %v", err)
		}
		phone := "0139077878"
		programmetest.PayingOffice(t, e.prog, "78", "Paierie des Yvelines", "FR14 2004 1010 0505 0001 3M02 606")
		if _, err := e.prog.UpdateDepartment(ctx, "78", programme.DepartmentChanges{ContactPhone: &phone}, "test"); err != nil {
			t.Fatal(err)
		}
		again, _ = e.settle.Period(ctx, "78", month(t, "2026-11"))
		pay, err := e.settle.Payment(again, exec)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if err := sepa.Write(&buf, pay); err != nil {
			t.Fatal(err)
		}
		_, sum, err := sepa.Read(&buf)
		if err != nil || sum.Transactions != 1 || sum.TotalCents != 4925 {
			t.Fatalf("SEPA file: %+v %v, want one transfer of 49.25", sum, err)
		}
		buf.Reset()
		if err := settlement.WriteStatementPDF(&buf, again, v1); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte("%PDF")) {
			t.Fatalf("statement PDF: %v", err)
		}
		// The statement names who pays, whom to call, and when the
		// transfer is planned: the working day after the closing.
		text := pdfText(t, buf.Bytes())
		for _, want := range []string{"Paierie des Yvelines", "Contact : 01 39 07 78 78", "Virement prévu le"} {
			if !strings.Contains(text, want) {
				t.Errorf("the statement lacks %q:\n%s", want, text)
			}
		}
		y, _, dd := settlement.TransferDay(*again.ClosedAt).Date()
		if line := text[strings.Index(text, "Virement prévu le"):]; !strings.HasPrefix(strings.Fields(line[len("Virement prévu le"):])[0], strconv.Itoa(dd)) ||
			!strings.Contains(strings.SplitN(line, "\n", 2)[0], strconv.Itoa(y)) {
			t.Errorf("the planned transfer day is not %d … %d: %q", dd, y, strings.SplitN(line, "\n", 2)[0])
		}
		if err := settlement.WriteStatementPDF(&buf, again, 999); code(err) != passnum.ENotFound {
			t.Fatalf("statement of a venue without activity: %v", err)
		}

		// December: 10.00 redeemed, then 70.00 taken back by an adjustment:
		// the balance of -60.00 is carried to January and December pays 0.
		e.at(t, "2026-12-10T09:00:00Z")
		if _, err := e.settle.Adjust(ctx, "78", v1, 0, "rien", nil, "test"); code(err) != passnum.EInvalid {
			t.Fatalf("zero adjustment: %v", err)
		}
		if _, err := e.settle.Adjust(ctx, "78", v1, -7000, "trop-perçu de novembre", &late, "paierie"); err != nil {
			t.Fatal(err)
		}
		e.at(t, "2027-01-01T00:00:00Z")
		dec, err := e.settle.Close(ctx, "78", month(t, "2026-12"), "paierie")
		if err != nil {
			t.Fatal(err)
		}
		if dec.GrossCents != 1000 || dec.AdjustmentCents != -1000 || dec.CommissionCents != 0 || dec.NetCents != 0 {
			t.Fatalf("December totals %+v, want 10.00 redeemed, -10.00 adjusted (-70.00 + 60.00 carried), net 0", dec)
		}
		e.at(t, "2027-03-01T00:00:00Z")
		if _, err := e.settle.Close(ctx, "78", month(t, "2027-02"), "test"); code(err) != settlement.EPeriodOrder {
			t.Fatalf("closing February before January (which holds the carried balance): %v", err)
		}
		jan, err := e.settle.Period(ctx, "78", month(t, "2027-01"))
		if err != nil || jan.Closed || jan.AdjustmentCents != -6000 {
			t.Fatalf("January so far: %+v %v", jan, err)
		}

		e.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit: %v", err)
		}
		// An edited statement is caught by the audit.
		db.Read(ctx).Exec(`UPDATE settlement_statements SET net_cents = net_cents + 100 WHERE venue_id = ?`, v1)
		if _, err := audit.Verify(ctx, db, ks); err == nil {
			t.Fatal("audit passed with an edited statement")
		}
	})
}

// TestReversalsRaceClosing reverses 16 redemptions while their month is
// being closed: each reversal either lands before the closing (and the
// closing counts it) or is refused as settled; never both, never neither.
func TestReversalsRaceClosing(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.at(t, "2026-11-30T22:40:00Z")
		const n = 16
		ids := make([]int64, n)
		for i := range n {
			ids[i] = e.spend(t, e.r.Venue1, i)
		}
		e.at(t, "2026-11-30T23:20:00Z") // 00:20 in Paris: the closing may run, the window is open
		var wg sync.WaitGroup
		var mu sync.Mutex
		reversed, settled := 0, 0
		var closeErr error
		var closed settlement.Period
		for i := range n + 1 {
			wg.Go(func() {
				if i == n/2 {
					p, err := e.settle.Close(ctx, "78", month(t, "2026-11"), "test")
					mu.Lock()
					closed, closeErr = p, err
					mu.Unlock()
					return
				}
				id := ids[min(i, n-1)]
				if i > n/2 {
					id = ids[i-1]
				}
				_, err := e.redeem.Reverse(ctx, e.r.Venue1, id, "course", "test")
				mu.Lock()
				defer mu.Unlock()
				switch code(err) {
				case "":
					reversed++
				case redemption.EPeriodSettled:
					settled++
				default:
					t.Errorf("reversal of %d: %v", id, err)
				}
			})
		}
		wg.Wait()
		if closeErr != nil {
			t.Fatal(closeErr)
		}
		if reversed+settled != n {
			t.Fatalf("%d reversed + %d settled != %d", reversed, settled, n)
		}
		if closed.GrossCents != n*1000 || closed.ReversedCents != int64(reversed)*1000 {
			t.Fatalf("closed with %d redeemed and %d reversed cents, but %d reversals succeeded", closed.GrossCents, closed.ReversedCents, reversed)
		}
		t.Logf("%d reversals before the closing, %d refused after it", reversed, settled)
		e.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit: %v", err)
		}
	})
}

// pdfText is the text of a PDF, as pdftotext reads it, with plain spaces.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install -y poppler-utils): %v", err)
	}
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(string(out))
}

// TestCloseFourEyes: with four eyes turned on, the first close only asks
// (the month stays open and says who asked); the one who asked cannot
// confirm, may withdraw; another person's close closes it, and of many
// people confirming at once one closes and the others are told it is
// closed. The ledger names who asked in the closing, and audit verify
// replays every step.
func TestCloseFourEyes(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		on := true
		if _, err := e.prog.UpdateDepartment(ctx, "78", programme.DepartmentChanges{CloseFourEyes: &on}, "test"); err != nil {
			t.Fatal(err)
		}
		e.at(t, "2026-11-26T10:00:00Z")
		e.spend(t, e.r.Venue1, 0, 1)
		e.at(t, "2026-12-01T08:00:00Z")
		nov := month(t, "2026-11")
		const asker, other = "account:7@organisation:2", "account:8@organisation:2"
		p, err := e.settle.Close(ctx, "78", nov, asker)
		if err != nil {
			t.Fatal(err)
		}
		if p.Closed || p.CloseAskedBy != asker || p.GrossCents != 2000 {
			t.Fatalf("after the first close: %+v", p)
		}
		if p, err = e.settle.Period(ctx, "78", nov); err != nil || p.Closed || p.CloseAskedBy != asker {
			t.Fatalf("the month read: %+v, %v", p, err)
		}
		// The same person, acting for another organisation, cannot confirm.
		if _, err := e.settle.Close(ctx, "78", nov, "account:7@organisation:5"); code(err) != passnum.EForbidden ||
			!strings.Contains(err.Error(), "une autre personne doit confirmer") {
			t.Fatalf("the asker confirming: %v", err)
		}
		if err := e.settle.RefuseClose(ctx, "78", nov, "", asker); code(err) != passnum.EInvalid {
			t.Fatalf("a withdrawal without a reason: %v", err)
		}
		if err := e.settle.RefuseClose(ctx, "78", nov, "un remboursement manque", asker); err != nil {
			t.Fatal(err)
		}
		if err := e.settle.RefuseClose(ctx, "78", nov, "encore", asker); code(err) != foureyes.ENothingAsked {
			t.Fatalf("withdrawn twice: %v", err)
		}
		if p, err := e.settle.Close(ctx, "78", nov, other); err != nil || p.Closed || p.CloseAskedBy != other {
			t.Fatalf("asked again: %+v, %v", p, err)
		}
		const n = 12
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				p, err := e.settle.Close(ctx, "78", nov, fmt.Sprintf("account:%d@organisation:2", 20+i))
				if err == nil && !p.Closed {
					err = fmt.Errorf("a confirmation asked again instead of closing: %+v", p)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		closes := 0
		for err := range errs {
			switch code(err) {
			case "":
				closes++
			case settlement.EPeriodClosed:
			default:
				t.Errorf("a concurrent confirmation: %v", err)
			}
		}
		var ev ledger.Event
		if err := db.Read(ctx).Where("type = ?", ledger.EventSettlementClosed).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if closes != 1 || !strings.Contains(string(ev.Data), `"requested_by":"`+other+`"`) || access.SamePerson(ev.Actor, other) {
			t.Fatalf("%d closes; the closing %s by %s", closes, ev.Data, ev.Actor)
		}
		e.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}
