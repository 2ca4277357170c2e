package figures_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"passnum"
	"passnum/figures"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/printing"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/redemption"
	"passnum/settlement"
	"passnum/voucher"
)

// env is a programme on a test database with the services the tests drive.
type env struct {
	*issuingtest.Fixture
	redemption *redemption.Service
	settlement *settlement.Service
	figures    *figures.Service
	keys       int
}

func newEnv(t testing.TB, db *ledger.DB) *env {
	t.Helper()
	f := issuingtest.New(t, db)
	db.Clock = f.Clock.Now
	return &env{Fixture: f,
		redemption: &redemption.Service{DB: db, Keys: f.Keys},
		settlement: &settlement.Service{DB: db},
		figures:    &figures.Service{DB: db}}
}

func (e *env) venue(t testing.TB, n int, name string, depts ...string) int64 {
	t.Helper()
	prog := &programme.Service{DB: e.DB}
	v, err := prog.AddVenue(context.Background(), programmetest.Venue(n, name, depts...), "test")
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// chequier returns the k-th chéquier (from 1) of a batch with its codes.
func (e *env) chequier(t testing.TB, b ledger.Batch, k int) issuing.PrintedChequier {
	t.Helper()
	number := voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.FirstChequierSeq)+uint32(k-1))
	pc, err := e.Issuing.Chequier(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func (e *env) activate(t testing.TB, pc issuing.PrintedChequier) {
	t.Helper()
	if _, err := e.Issuing.Activate(context.Background(), pc.Chequier.Number, "", "test"); err != nil {
		t.Fatal(err)
	}
}

// redeem redeems a basket that must be accepted and returns its id.
func (e *env) redeem(t testing.TB, venue int64, vs ...issuing.PrintedVoucher) int64 {
	t.Helper()
	res, err := e.tryRedeem(venue, vs...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Accepted {
		t.Fatalf("basket refused: %+v", res.Items)
	}
	return res.RedemptionID
}

func (e *env) tryRedeem(venue int64, vs ...issuing.PrintedVoucher) (redemption.Result, error) {
	e.keys++
	in := make([]redemption.Input, len(vs))
	for i, v := range vs {
		in[i] = redemption.Input{Code: v.Code}
	}
	return e.redemption.Redeem(context.Background(), redemption.Basket{VenueID: venue,
		IdempotencyKey: fmt.Sprintf("figures-test-%06d", e.keys), Items: in, Actor: "test"})
}

func (e *env) compute(t testing.TB, dept string, asOf voucher.Day) figures.Figures {
	t.Helper()
	f, err := e.figures.Compute(context.Background(), figures.Filter{Department: dept, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func day(t testing.TB, s string) voucher.Day {
	t.Helper()
	d, err := voucher.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// counts builds the expected Counts; UnusedCents, RedemptionRate and
// InvariantHolds are spelled out by each caller.
type counts = figures.Counts

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// TestFiguresScenario runs a small programme by hand and checks every
// figure against values computed by hand.
//
// Batch 1, 78: 4 chéquiers of 5 vouchers of 10 €, activation required, valid until 2027-12-31.
// Batch 2, 78: 2 chéquiers of 3 vouchers of 20 €, programme end 2026-12-31, valid until 2027-01-31.
// Batch 3, 92: 3 chéquiers of 2 vouchers of 15 €, no activation, programme end 2027-02-20, valid until 2027-03-20.
// Venue 1 is labelled for 78, venue 2 for 78 and 92.
//
// On 26 November 2026 (11:00 in Paris):
//
//	chéquiers 1, 2, 3 of batch 1 and 1 of batch 2 handed over
//	R1 venue 1: b1 ch1 v1, v2                  20 €
//	R2 venue 1: b1 ch3 v1                      10 €
//	R3 venue 2: b1 ch2 v1 + b2 ch1 v1     10 + 20 €
//	R4 venue 2: b1 ch1 v3, then reversed       10 € (not counted)
//	b1 ch3 voided (its v2..v5 become void), b1 ch1 v5 voided alone,
//	b1 ch2 v5 replaced (the old one void with replaced_by, the new active)
//
// On 30 November 2026 at 23:30 UTC, already 1 December in Paris:
//
//	chéquier 2 of batch 3 handed over
//	R5 venue 2: b3 ch1 v1                      15 €
//	R6 venue 1: b2 ch1 v2 + b1 ch1 v3     20 + 10 €
//
// The figures are read on 2 February 2027: batch 2 has expired, batch 3's
// programme ends in 18 days.
func TestFiguresScenario(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		b1 := e.Issue(t, issuingtest.Request("78", 4, 5)).Batch
		r2 := issuingtest.Request("78", 2, 3)
		r2.FaceValueCents, r2.ProgrammeEnd, r2.ValidUntil = 2000, day(t, "2026-12-31"), day(t, "2027-01-31")
		b2 := e.Issue(t, r2).Batch
		r3 := issuingtest.Request("92", 3, 2)
		r3.FaceValueCents, r3.RequiresActivation, r3.ProgrammeEnd, r3.ValidUntil = 1500, false, day(t, "2027-02-20"), day(t, "2027-03-20")
		b3 := e.Issue(t, r3).Batch
		if b1.ID != 1 || b2.ID != 2 || b3.ID != 3 {
			t.Fatalf("batches %d, %d, %d: the expected figures name batches 1, 2, 3", b1.ID, b2.ID, b3.ID)
		}
		v1 := e.venue(t, 1, "Médiathèque de Trappes", "78")
		v2 := e.venue(t, 2, "France Services de Nanterre", "78", "92")

		b1c1, b1c2, b1c3 := e.chequier(t, b1, 1), e.chequier(t, b1, 2), e.chequier(t, b1, 3)
		b2c1, b3c1, b3c2 := e.chequier(t, b2, 1), e.chequier(t, b3, 1), e.chequier(t, b3, 2)
		for _, pc := range []issuing.PrintedChequier{b1c1, b1c2, b1c3, b2c1} {
			e.activate(t, pc)
		}
		e.redeem(t, v1, b1c1.Vouchers[0], b1c1.Vouchers[1])
		e.redeem(t, v1, b1c3.Vouchers[0])
		e.redeem(t, v2, b1c2.Vouchers[0], b2c1.Vouchers[0])
		r4 := e.redeem(t, v2, b1c1.Vouchers[2])
		if _, err := e.redemption.Reverse(ctx, v2, r4, "erreur de saisie", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Issuing.Void(ctx, b1c3.Chequier.Number, "perdu", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Issuing.VoidVoucher(ctx, b1c1.Vouchers[4].Number, "détaché et perdu", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Issuing.Replace(ctx, b1c2.Vouchers[4].Number, "code photographié", "test", nil); err != nil {
			t.Fatal(err)
		}

		e.Clock.T = time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
		e.activate(t, b3c2)
		e.redeem(t, v2, b3c1.Vouchers[0])
		e.redeem(t, v1, b2c1.Vouchers[1], b1c1.Vouchers[2])

		e.Clock.T = time.Date(2027, 2, 2, 10, 0, 0, 0, time.UTC)
		if _, err := e.settlement.Close(ctx, "78", settlement.Month{Year: 2026, Month: time.November}, "test"); err != nil {
			t.Fatal(err)
		}
		asOf := voucher.Today(e.Clock.T)

		// Batch 1: ch1 has v1, v2, v3 redeemed, v4 active, v5 void; ch2 v1
		// redeemed, v2..v4 and the replacement of v5 active; ch3 v1
		// redeemed, v2..v5 void; ch4 5 inactive. Redeemed money: R1 20 +
		// R2 10 + R3 10 + R6 10 = 50 €.
		batch1 := counts{
			ChequiersPrinted: 4, ChequiersHandedOut: 3, ChequiersNotHandedOut: 1, ChequiersStarted: 3,
			VouchersIssued: 20, IssuedCents: 20000, // 4 × 5 current vouchers, the replaced one not counted
			VouchersRedeemed: 5, RedeemedCents: 5000, // 3 + 1 + 1
			VouchersVoided: 5, VoidedCents: 5000, // 1 + 4
			VouchersOutstanding: 10, OutstandingCents: 10000, // ch1 v4 + ch2 4 + ch4 5
			UnusedCents:    15000, // 20000 − 5000
			RedemptionRate: 5000.0 / 20000,
			InvariantHolds: true, // 20 = 10 + 5 + 5 + 0; 20000 = 10000 + 5000 + 5000
		}
		// Batch 2 (20 €): ch1 v1 (R3) and v2 (R6) redeemed, v3 active; ch2
		// 3 inactive; all 4 unused expired on 31 January.
		batch2 := counts{
			ChequiersPrinted: 2, ChequiersHandedOut: 1, ChequiersNotHandedOut: 1, ChequiersStarted: 1,
			VouchersIssued: 6, IssuedCents: 12000,
			VouchersRedeemed: 2, RedeemedCents: 4000,
			VouchersExpired: 4, ExpiredCents: 8000, // 1 + 3
			UnusedCents:    8000,
			RedemptionRate: 4000.0 / 12000,
			InvariantHolds: true,
		}
		// Batch 3 (15 €, no activation: its hand-overs are not recorded,
		// so none is counted handed out): ch1 v1 redeemed (R5), the 5
		// others outstanding.
		batch3 := counts{
			ChequiersPrinted: 3, ChequiersUntracked: 3, ChequiersStarted: 1,
			VouchersIssued: 6, IssuedCents: 9000,
			VouchersRedeemed: 1, RedeemedCents: 1500,
			VouchersOutstanding: 5, OutstandingCents: 7500,
			UnusedCents:    7500,
			RedemptionRate: 1500.0 / 9000,
			InvariantHolds: true,
		}
		dept78 := counts{ // batch 1 + batch 2
			ChequiersPrinted: 6, ChequiersHandedOut: 4, ChequiersNotHandedOut: 2, ChequiersStarted: 4,
			VouchersIssued: 26, IssuedCents: 32000,
			VouchersRedeemed: 7, RedeemedCents: 9000,
			VouchersVoided: 5, VoidedCents: 5000,
			VouchersExpired: 4, ExpiredCents: 8000,
			VouchersOutstanding: 10, OutstandingCents: 10000,
			UnusedCents:    23000, // 32000 − 9000
			RedemptionRate: 9000.0 / 32000,
			InvariantHolds: true, // 26 = 10 + 7 + 5 + 4; 32000 = 10000 + 9000 + 5000 + 8000
		}
		total := counts{ // 78 + 92
			ChequiersPrinted: 9, ChequiersHandedOut: 4, ChequiersNotHandedOut: 2, ChequiersStarted: 5, ChequiersUntracked: 3,
			VouchersIssued: 32, IssuedCents: 41000,
			VouchersRedeemed: 8, RedeemedCents: 10500,
			VouchersVoided: 5, VoidedCents: 5000,
			VouchersExpired: 4, ExpiredCents: 8000,
			VouchersOutstanding: 15, OutstandingCents: 17500,
			UnusedCents:    30500,
			RedemptionRate: 10500.0 / 41000,
			InvariantHolds: true,
		}
		batches := []figures.BatchFigures{
			{ID: 1, Department: "78", FaceValueCents: 1000, ChequiersOrdered: 4, VouchersPerChequier: 5, RequiresActivation: true,
				ProgrammeEnd: "2027-12-31", ValidUntil: "2027-12-31", Stage: issuing.StageRunning, Counts: batch1},
			{ID: 2, Department: "78", FaceValueCents: 2000, ChequiersOrdered: 2, VouchersPerChequier: 3, RequiresActivation: true,
				ProgrammeEnd: "2026-12-31", ValidUntil: "2027-01-31", Stage: issuing.StageExpired, Counts: batch2},
			{ID: 3, Department: "92", FaceValueCents: 1500, ChequiersOrdered: 3, VouchersPerChequier: 2,
				ProgrammeEnd: "2027-02-20", ValidUntil: "2027-03-20", Stage: issuing.StageEnding, Counts: batch3},
		}
		closed := figures.SettlementFigures{Department: "78", Month: "2026-11", Venues: 2,
			GrossCents: 7000, ReversedCents: 1000, NetCents: 6000} // R1 20 + R2 10 + R3 30 + R4 10, R4 reversed; no commission

		t.Run("All", func(t *testing.T) {
			f := e.compute(t, "", asOf)
			if f.AsOf != "2027-02-02" || f.Department != "" {
				t.Errorf("as of %q, département %q", f.AsOf, f.Department)
			}
			check(t, "total", f.Total, total)
			check(t, "départements", f.Departments, []figures.DepartmentFigures{
				{Code: "78", Name: "Yvelines", Counts: dept78},
				{Code: "92", Name: "Hauts-de-Seine", Counts: batch3},
			})
			check(t, "batches", f.Batches, batches)
			check(t, "venues", f.Venues, []figures.VenueFigures{
				{ID: v1, Name: "Médiathèque de Trappes", Redemptions: 3, Vouchers: 5, Cents: 6000},      // R1 2, R2 1, R6 2: 20 + 10 + 30
				{ID: v2, Name: "France Services de Nanterre", Redemptions: 2, Vouchers: 3, Cents: 4500}, // R3 2, R5 1: 30 + 15; R4 reversed
			})
			check(t, "months", f.Months, []figures.MonthFigures{
				{Month: "2026-11", Redemptions: 3, Vouchers: 5, Cents: 6000, Activations: 4}, // R1, R2, R3; b1 ch1-3, b2 ch1
				{Month: "2026-12", Redemptions: 2, Vouchers: 3, Cents: 4500, Activations: 1}, // R5, R6 and b3 ch2 at 00:30 in Paris
			})
			if len(f.Settlements) != 1 || f.Settlements[0].ClosedAt.IsZero() {
				t.Fatalf("settlements %+v", f.Settlements)
			}
			f.Settlements[0].ClosedAt = time.Time{}
			check(t, "settlements", f.Settlements, []figures.SettlementFigures{closed})
			check(t, "warnings", f.Warnings, []string{
				"Le programme du lot 3 se termine le 20/02/2027. La remise des chéquiers s'arrêtera le 05/02/2027.", // batch 3 has no activation: no count of hand-overs
			})
		})
		t.Run("Department78", func(t *testing.T) {
			f := e.compute(t, "78", asOf)
			if f.Department != "78" {
				t.Errorf("département %q", f.Department)
			}
			check(t, "total", f.Total, dept78)
			check(t, "départements", f.Departments, []figures.DepartmentFigures{{Code: "78", Name: "Yvelines", Counts: dept78}})
			check(t, "batches", f.Batches, batches[:2])
			check(t, "venues", f.Venues, []figures.VenueFigures{
				{ID: v1, Name: "Médiathèque de Trappes", Redemptions: 3, Vouchers: 5, Cents: 6000},
				{ID: v2, Name: "France Services de Nanterre", Redemptions: 1, Vouchers: 2, Cents: 3000}, // R3 only: R5 is of 92
			})
			check(t, "months", f.Months, []figures.MonthFigures{
				{Month: "2026-11", Redemptions: 3, Vouchers: 5, Cents: 6000, Activations: 4},
				{Month: "2026-12", Redemptions: 1, Vouchers: 2, Cents: 3000}, // R6
			})
			if len(f.Settlements) != 1 || f.Settlements[0].Department != "78" {
				t.Errorf("settlements %+v", f.Settlements)
			}
			check(t, "warnings", f.Warnings, []string{})
		})
		t.Run("Department92", func(t *testing.T) {
			f := e.compute(t, "92", asOf)
			check(t, "total", f.Total, batch3)
			check(t, "batches", f.Batches, batches[2:])
			check(t, "venues", f.Venues, []figures.VenueFigures{
				{ID: v2, Name: "France Services de Nanterre", Redemptions: 1, Vouchers: 1, Cents: 1500},
			})
			// November had activity, but none of 92: it is not shown.
			check(t, "months", f.Months, []figures.MonthFigures{{Month: "2026-12", Redemptions: 1, Vouchers: 1, Cents: 1500, Activations: 1}})
			check(t, "settlements", f.Settlements, []figures.SettlementFigures{})
			if len(f.Warnings) != 1 {
				t.Errorf("warnings %q", f.Warnings)
			}
			data, _ := json.Marshal(f)
			for _, leak := range []string{"Yvelines", "Médiathèque", `"department":"78"`} {
				if bytes.Contains(data, []byte(leak)) {
					t.Errorf("the figures of 92 show %q: %s", leak, data)
				}
			}
		})
		t.Run("BeforeExpiry", func(t *testing.T) {
			// On 31 January batch 2's vouchers are still valid.
			f := e.compute(t, "78", day(t, "2027-01-31"))
			b := f.Batches[1].Counts
			if b.VouchersExpired != 0 || b.VouchersOutstanding != 4 || b.OutstandingCents != 8000 || !b.InvariantHolds || f.Batches[1].Stage != issuing.StageGrace {
				t.Errorf("batch 2 on 31 January: %+v, stage %s", b, f.Batches[1].Stage)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			const unknown = "Le département 93 n'existe pas dans le programme."
			if _, err := e.figures.Compute(ctx, figures.Filter{Department: "93", AsOf: asOf}); passnum.ErrorCode(err) != passnum.ENotFound || passnum.ErrorMessage(err) != unknown {
				t.Errorf("unknown département: %v", err)
			}
			const noDay = "Les chiffres sont arrêtés à un jour : dites lequel, par exemple 2026-11-26."
			if _, err := e.figures.Compute(ctx, figures.Filter{}); passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != noDay {
				t.Errorf("no day: %v", err)
			}
			if title := e.compute(t, "78", asOf).Title(); title != "Pass numérique — Yvelines (78)" {
				t.Errorf("title %q", title)
			}
		})
		t.Run("Report", func(t *testing.T) {
			f := e.compute(t, "", asOf)
			r := f.Report(e.Clock.T)
			if r.Title != "Pass numérique — tous départements" || r.AsOf != asOf || len(r.Departments) != 2 || r.Departments[0].Label != "Yvelines (78)" || r.Batches[1].Label != "Lot 2 — Yvelines" ||
				r.Settlements[0].Department != "Yvelines (78)" || r.Batches[2].ChequiersUntracked != 3 || r.Batches[2].ChequiersActivated != 0 ||
				r.Batches[1].ExpiredCents != 8000 || r.Departments[0].UnusedCents != 23000 || len(r.Months) != 2 || r.TopVenues[0].Cents != 6000 ||
				len(r.Settlements) != 1 || !r.Settlements[0].Closed || r.Settlements[0].NetCents != 6000 || len(r.Warnings) != 1 {
				t.Fatalf("report %+v", r)
			}
			var buf bytes.Buffer
			if err := printing.RenderProgrammeReport(&buf, r); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF")) {
				t.Fatal("not a PDF")
			}
		})
	})
}

// TestFiguresEmpty reads the figures of a programme with nothing issued.
func TestFiguresEmpty(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db)
		f := e.compute(t, "", voucher.Today(e.Clock.T))
		if len(f.Departments) != 2 || len(f.Batches) != 0 || len(f.Venues) != 0 || len(f.Months) != 0 || !f.Total.InvariantHolds || f.Total.VouchersIssued != 0 {
			t.Fatalf("%+v", f)
		}
	})
}

// TestFiguresInvariantProperty runs random operations and checks, every
// few steps, that the figures account for every voucher, add up across
// levels, match a plain recount of the vouchers and agree with settlement.
func TestFiguresInvariantProperty(t *testing.T) {
	steps := 300
	if testing.Short() {
		steps = 100
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PASSNUM_TEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		t.Logf("seed %d (PASSNUM_TEST_SEED=%d to replay)", seed, seed)
		rng := rand.New(rand.NewPCG(seed, 0))
		p := &property{env: newEnv(t, db), rng: rng, closed: map[string]settlement.Month{}, bySerial: map[int64]issuing.PrintedVoucher{}}
		p.venues = []int64{p.venue(t, 1, "Lieu 78", "78"), p.venue(t, 2, "Lieu 78 et 92", "78", "92"), p.venue(t, 3, "Lieu 92", "92")}
		p.issue(t)
		for step := 1; step <= steps; step++ {
			p.step(t)
			if step%10 == 0 || step == steps {
				p.check(t, step)
			}
		}
		expired := 0
		for _, b := range p.batches {
			if b.ValidUntil.Day() < voucher.Today(p.Clock.T) {
				expired++
			}
		}
		t.Logf("%d batches (%d expired), %d redemptions, %d reversals, %d periods closed, clock %s",
			len(p.batches), expired, p.redeemed, p.reversed, p.periods, p.Clock.T.Format(time.DateTime))
	})
}

type property struct {
	*env
	rng                         *rand.Rand
	venues                      []int64
	batches                     []ledger.Batch
	vouchers                    []issuing.PrintedVoucher // every code ever printed, void ones included
	bySerial                    map[int64]issuing.PrintedVoucher
	chequiers                   []string
	recent                      []accepted // redemptions that may still be reversed
	closed                      map[string]settlement.Month
	redeemed, reversed, periods int
}

type accepted struct {
	id, venue int64
	at        time.Time
}

// ok fails the test on an internal error: a refusal the user can act on
// is a normal outcome of a random operation.
func ok(t *testing.T, what string, err error) bool {
	t.Helper()
	if err != nil && passnum.ErrorCode(err) == passnum.EInternal {
		t.Fatalf("%s: %v", what, err)
	}
	return err == nil
}

func (p *property) issue(t *testing.T) {
	if len(p.batches) >= 20 {
		return
	}
	dept := []string{"78", "92"}[p.rng.IntN(2)]
	req := issuingtest.Request(dept, 1+p.rng.IntN(4), 1+p.rng.IntN(4))
	req.FaceValueCents = int64(500 * (1 + p.rng.IntN(6)))
	req.RequiresActivation = p.rng.IntN(3) > 0
	today := voucher.Today(p.Clock.T)
	// Short programmes, so that some expire during the run.
	req.ProgrammeEnd = today.AddDays(16 + p.rng.IntN(45))
	req.ValidUntil = req.ProgrammeEnd.AddDays(p.rng.IntN(30))
	b := p.Issue(t, req).Batch
	p.batches = append(p.batches, b)
	for k := 1; k <= b.ChequierCount; k++ {
		pc := p.chequier(t, b, k)
		p.chequiers = append(p.chequiers, pc.Chequier.Number)
		p.vouchers = append(p.vouchers, pc.Vouchers...)
		for _, v := range pc.Vouchers {
			p.bySerial[v.Serial] = v
		}
	}
}

func (p *property) step(t *testing.T) {
	ctx := context.Background()
	switch op := p.rng.IntN(100); {
	case op < 6:
		p.issue(t)
	case op < 26:
		// Mostly a chéquier waiting to be handed over, sometimes any.
		number := p.chequiers[p.rng.IntN(len(p.chequiers))]
		var waiting []string
		p.DB.Read(ctx).Model(&ledger.Chequier{}).Where("status = ?", ledger.ChequierIssued).Order("id").Pluck("number", &waiting)
		if len(waiting) > 0 && p.rng.IntN(5) > 0 {
			number = waiting[p.rng.IntN(len(waiting))]
		}
		_, err := p.Issuing.Activate(ctx, number, "", "test")
		ok(t, "activate", err)
	case op < 58:
		p.redeem(t)
	case op < 66:
		if len(p.recent) > 0 {
			r := p.recent[p.rng.IntN(len(p.recent))]
			_, err := p.redemption.Reverse(ctx, r.venue, r.id, "erreur", "test")
			if ok(t, "reverse", err) {
				p.reversed++
			}
		}
	case op < 70:
		_, err := p.Issuing.Void(ctx, p.chequiers[p.rng.IntN(len(p.chequiers))], "perdu", "test")
		ok(t, "void chéquier", err)
	case op < 75:
		_, err := p.Issuing.VoidVoucher(ctx, p.vouchers[p.rng.IntN(len(p.vouchers))].Number, "perdu", "test")
		ok(t, "void voucher", err)
	case op < 79:
		r, err := p.Issuing.Replace(ctx, p.vouchers[p.rng.IntN(len(p.vouchers))].Number, "code photographié", "test", nil)
		if ok(t, "replace", err) {
			p.vouchers = append(p.vouchers, r.New)
			p.bySerial[r.New.Serial] = r.New
		}
	case op < 84:
		p.close(t)
	case op < 92:
		p.Clock.T = p.Clock.T.Add(time.Duration(1+p.rng.IntN(10)) * time.Minute) // within the reversal window
	default:
		// Forward by up to 2 days, or now and then 20, to cross months and
		// validity ends.
		hours := 1 + p.rng.IntN(48)
		if p.rng.IntN(4) == 0 {
			hours = 1 + p.rng.IntN(20*24)
		}
		p.Clock.T = p.Clock.T.Add(time.Duration(hours) * time.Hour)
		p.recent = p.recent[:0]
	}
}

// redeem sends a basket of 1 to 3 vouchers: mostly redeemable ones of one
// département to a venue labelled for it, sometimes any, to be refused.
func (p *property) redeem(t *testing.T) {
	var active []struct {
		Serial         int64
		DepartmentCode string
	}
	p.DB.Read(context.Background()).Raw(`SELECT v.serial, b.department_code FROM vouchers v JOIN batches b ON b.id = v.batch_id
		WHERE v.status = ? ORDER BY v.serial`, ledger.VoucherActive).Scan(&active)
	basket := make([]issuing.PrintedVoucher, 1+p.rng.IntN(3))
	venue := p.venues[p.rng.IntN(len(p.venues))]
	if len(active) > 0 && p.rng.IntN(5) > 0 {
		dept := active[p.rng.IntN(len(active))].DepartmentCode
		var same []int64
		for _, a := range active {
			if a.DepartmentCode == dept {
				same = append(same, a.Serial)
			}
		}
		p.rng.Shuffle(len(same), func(i, j int) { same[i], same[j] = same[j], same[i] })
		basket = basket[:min(len(basket), len(same))]
		for i := range basket {
			basket[i] = p.bySerial[same[i]]
		}
		venue = p.venues[1] // labelled for both
		if p.rng.IntN(2) == 0 {
			venue = map[string]int64{"78": p.venues[0], "92": p.venues[2]}[dept]
		}
	} else {
		for i := range basket {
			basket[i] = p.vouchers[p.rng.IntN(len(p.vouchers))]
		}
	}
	res, err := p.tryRedeem(venue, basket...)
	if ok(t, "redeem", err) && res.Accepted {
		p.redeemed++
		p.recent = append(p.recent, accepted{res.RedemptionID, venue, p.Clock.T})
	}
}

// close closes the next month of a département, if it is over.
func (p *property) close(t *testing.T) {
	dept := []string{"78", "92"}[p.rng.IntN(2)]
	m := settlement.MonthAt(issuingtest.Start)
	if last, closed := p.closed[dept]; closed {
		m = last.Next()
	}
	if p.Clock.T.Before(m.End().Add(settlement.CloseDelay)) {
		return
	}
	if _, err := p.settlement.Close(context.Background(), dept, m, "test"); !ok(t, "close "+m.String()+" of "+dept, err) {
		return
	}
	p.closed[dept] = m
	p.periods++
}

func (p *property) check(t *testing.T, step int) {
	t.Helper()
	asOf := voucher.Today(p.Clock.T)
	all := p.compute(t, "", asOf)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d, as of %s: %s", step, asOf, fmt.Sprintf(format, args...))
	}

	// A plain recount of the vouchers: no aggregate SQL.
	var vs []ledger.Voucher
	if err := p.DB.Read(context.Background()).Where("replaced_by IS NULL").Find(&vs).Error; err != nil {
		t.Fatal(err)
	}
	type recount struct{ issued, redeemed, voided, expired, outstanding int64 }
	want := map[int64]*recount{}
	for _, b := range p.batches {
		want[b.ID] = &recount{}
	}
	valid := map[int64]bool{}
	for _, b := range p.batches {
		valid[b.ID] = b.ValidUntil.Day() >= asOf
	}
	for _, v := range vs {
		r := want[v.BatchID]
		r.issued++
		switch {
		case v.Status == ledger.VoucherRedeemed:
			r.redeemed++
		case v.Status == ledger.VoucherVoid:
			r.voided++
		case valid[v.BatchID]:
			r.outstanding++
		default:
			r.expired++
		}
	}

	var sum figures.Counts
	perDept := map[string]*figures.Counts{"78": {}, "92": {}}
	for _, b := range all.Batches {
		c := b.Counts
		if !c.InvariantHolds || c.VouchersIssued != b.ChequiersOrdered*b.VouchersPerChequier || c.IssuedCents != c.VouchersIssued*b.FaceValueCents {
			fail("batch %d: %+v", b.ID, c)
		}
		w := want[b.ID]
		if got := (recount{c.VouchersIssued, c.VouchersRedeemed, c.VouchersVoided, c.VouchersExpired, c.VouchersOutstanding}); got != *w {
			fail("batch %d: figures %+v, recount %+v", b.ID, got, *w)
		}
		if c.RedeemedCents != c.VouchersRedeemed*b.FaceValueCents || c.ChequiersNotHandedOut != c.ChequiersPrinted-c.ChequiersHandedOut-c.ChequiersUntracked {
			fail("batch %d: %+v", b.ID, c)
		}
		addCounts(&sum, c)
		addCounts(perDept[b.Department], c)
	}
	if !sameSums(sum, all.Total) || !all.Total.InvariantHolds {
		fail("total %+v, sum over batches %+v", all.Total, sum)
	}
	var months figures.Counts
	for _, m := range all.Months {
		months.VouchersRedeemed += m.Vouchers
		months.RedeemedCents += m.Cents
	}
	if months.VouchersRedeemed != all.Total.VouchersRedeemed || months.RedeemedCents != all.Total.RedeemedCents {
		fail("months redeemed %d vouchers, %d cents; total %d, %d", months.VouchersRedeemed, months.RedeemedCents, all.Total.VouchersRedeemed, all.Total.RedeemedCents)
	}
	for _, d := range all.Departments {
		if !sameSums(d.Counts, *perDept[d.Code]) || !d.InvariantHolds {
			fail("département %s %+v, sum over its batches %+v", d.Code, d.Counts, *perDept[d.Code])
		}
		f := p.compute(t, d.Code, asOf)
		if !sameSums(f.Total, d.Counts) {
			fail("département %s alone %+v, among all %+v", d.Code, f.Total, d.Counts)
		}
		var venues figures.VenueFigures
		for _, v := range f.Venues {
			venues.Vouchers += v.Vouchers
			venues.Cents += v.Cents
		}
		if venues.Cents != d.RedeemedCents || venues.Vouchers != d.VouchersRedeemed {
			fail("département %s: venues redeemed %d vouchers, %d cents; the département %d, %d", d.Code, venues.Vouchers, venues.Cents, d.VouchersRedeemed, d.RedeemedCents)
		}
		// A closed month's settlement counts the redemptions of the month
		// by the same rule: what stayed accepted is gross − reversed.
		byMonth := map[string]figures.MonthFigures{}
		for _, m := range f.Months {
			byMonth[m.Month] = m
		}
		for _, s := range f.Settlements {
			if s.Department != d.Code || s.GrossCents-s.ReversedCents != byMonth[s.Month].Cents {
				fail("settlement %+v, month %+v", s, byMonth[s.Month])
			}
		}
	}
}

func addCounts(c *figures.Counts, o figures.Counts) {
	c.ChequiersPrinted += o.ChequiersPrinted
	c.ChequiersHandedOut += o.ChequiersHandedOut
	c.ChequiersNotHandedOut += o.ChequiersNotHandedOut
	c.ChequiersUntracked += o.ChequiersUntracked
	c.ChequiersStarted += o.ChequiersStarted
	c.VouchersIssued += o.VouchersIssued
	c.IssuedCents += o.IssuedCents
	c.VouchersRedeemed += o.VouchersRedeemed
	c.RedeemedCents += o.RedeemedCents
	c.VouchersVoided += o.VouchersVoided
	c.VoidedCents += o.VoidedCents
	c.VouchersExpired += o.VouchersExpired
	c.ExpiredCents += o.ExpiredCents
	c.VouchersOutstanding += o.VouchersOutstanding
	c.OutstandingCents += o.OutstandingCents
	c.UnusedCents += o.UnusedCents
}

// sameSums compares the additive figures.
func sameSums(a, b figures.Counts) bool {
	a.RedemptionRate, b.RedemptionRate = 0, 0
	a.InvariantHolds, b.InvariantHolds = false, false
	return a == b
}

// TestFiguresInvariantBroken changes the database behind the services'
// back and expects the figures to show where it no longer adds up.
func TestFiguresInvariantBroken(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db)
		b := e.Issue(t, issuingtest.Request("78", 2, 5)).Batch
		venue := e.venue(t, 1, "Médiathèque de Trappes", "78")
		pc := e.chequier(t, b, 1)
		e.activate(t, pc)
		e.redeem(t, venue, pc.Vouchers[0])
		asOf := voucher.Today(e.Clock.T)
		if f := e.compute(t, "", asOf); !f.Total.InvariantHolds || len(f.Warnings) != 0 {
			t.Fatalf("before: %+v", f)
		}
		for _, c := range []struct {
			name, sql string
			warning   string
		}{
			// Marked redeemed without a redemption: the count still adds up,
			// the money does not.
			{"RedeemedWithoutRedemption", fmt.Sprintf(`UPDATE vouchers SET status = 'redeemed' WHERE serial = %d`, pc.Vouchers[1].Serial),
				"2 chèque(s) sont marqués utilisés, mais les encaissements acceptés en comptent 1"},
			// A voucher row gone: fewer issued than ordered.
			{"VoucherMissing", fmt.Sprintf(`DELETE FROM vouchers WHERE serial = %d`, pc.Vouchers[4].Serial), "la base compte 2 chéquier(s) et 9 chèque(s)"},
		} {
			t.Run(c.name, func(t *testing.T) {
				if err := db.Read(context.Background()).Exec(c.sql).Error; err != nil {
					t.Fatal(err)
				}
				f := e.compute(t, "", asOf)
				if f.Batches[0].InvariantHolds || f.Departments[0].InvariantHolds || f.Total.InvariantHolds {
					t.Fatalf("the invariant still holds: %+v", f.Batches[0].Counts)
				}
				all := strings.Join(f.Warnings, "\n")
				if !strings.Contains(all, c.warning) || !strings.Contains(all, "Lot 1 — 78 : les chèques émis") {
					t.Fatalf("warnings:\n%s", all)
				}
				// The PDF prints the discrepancy rather than refusing it.
				if err := printing.RenderProgrammeReport(&bytes.Buffer{}, f.Report(e.Clock.T)); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}
