// Package issuingtest sets up an issuing service on a test database: a
// signing key in a temporary folder (its verification secret derived from
// it) and the départements 78 and 92.
package issuingtest

import (
	"context"
	"testing"
	"time"

	"passnum/issuing"
	"passnum/keys"
	"passnum/ledger"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/voucher"
)

// Clock is a settable test clock.
type Clock struct{ T time.Time }

func (c *Clock) Now() time.Time { return c.T }

// Start is the demo date the tests run at: 26 November 2026, 11:00 in Paris.
var Start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// Fixture is a ready issuing service and what it stands on.
type Fixture struct {
	DB      *ledger.DB
	Issuing *issuing.Service
	Keys    *keys.Manager
	Clock   *Clock
}

// New prepares a fixture on db.
func New(tb testing.TB, db *ledger.DB) *Fixture {
	tb.Helper()
	ctx := context.Background()
	clock := &Clock{T: Start}
	db.Clock = clock.Now // before the first query (ledger.DB.Clock)
	km := &keys.Manager{DB: db, Store: keys.Store{Dir: tb.TempDir()}}
	if _, err := km.New(ctx, "test"); err != nil {
		tb.Fatal(err)
	}
	prog := &programme.Service{DB: db}
	for _, d := range [][2]string{{"78", "Yvelines"}, {"92", "Hauts-de-Seine"}} {
		if _, err := prog.AddDepartment(ctx, d[0], d[1], "test"); err != nil {
			tb.Fatal(err)
		}
	}
	return &Fixture{DB: db, Keys: km, Clock: clock,
		Issuing: &issuing.Service{DB: db, Keys: km}}
}

// Request is a valid batch request to adjust.
func Request(dept string, chequiers, vouchers int) issuing.BatchRequest {
	until, _ := voucher.DayOf(2027, time.December, 31)
	return issuing.BatchRequest{Department: dept, Chequiers: chequiers, VouchersPerChequier: vouchers,
		FaceValueCents: 1000, ValidUntil: until, RequiresActivation: true, Actor: "test"}
}

// Issue issues a batch or fails the test.
func (f *Fixture) Issue(tb testing.TB, req issuing.BatchRequest) issuing.Issued {
	tb.Helper()
	res, err := f.Issuing.Issue(context.Background(), req, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// ReplaceUnderNewKey makes a new key, replaces the voucher typed as number
// with a voucher it signs, and makes another key, so that the replacement's
// key can be revoked on its own. It returns the replacement.
func (f *Fixture) ReplaceUnderNewKey(tb testing.TB, number string) issuing.PrintedVoucher {
	tb.Helper()
	ctx := context.Background()
	if _, err := f.Keys.New(ctx, "test"); err != nil {
		tb.Fatal(err)
	}
	r, err := f.Issuing.Replace(ctx, number, "code photographié", "test", nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.Keys.New(ctx, "test"); err != nil {
		tb.Fatal(err)
	}
	return r.New
}

// Seal chains every pending event with a checkpoint.
func (f *Fixture) Seal(tb testing.TB) {
	tb.Helper()
	signer, err := f.Keys.Signer(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	s := ledger.Sealer{DB: f.DB, Signer: signer}
	if _, err := s.Seal(context.Background(), true); err != nil {
		tb.Fatal(err)
	}
}

// Redeemable is a programme ready for redemptions: a batch of 20 chéquiers
// of 10 vouchers for the département 78, venue 1 labelled for 78, venue 2
// for 78 and 92, and the first chéquiers handed over.
type Redeemable struct {
	Batch    issuing.Issued
	Venue1   int64
	Venue2   int64
	Vouchers []issuing.PrintedVoucher // of the handed-over chéquiers, in order
}

// Redeemable prepares a programme with handedOver chéquiers handed over.
func (f *Fixture) Redeemable(tb testing.TB, handedOver int) Redeemable {
	tb.Helper()
	ctx := context.Background()
	var r Redeemable
	r.Batch = f.Issue(tb, Request("78", 20, 10))
	prog := &programme.Service{DB: f.DB}
	v1, err := prog.AddVenue(ctx, programmetest.Venue(1, "Médiathèque de Trappes", "78"), "test")
	if err != nil {
		tb.Fatal(err)
	}
	v2, err := prog.AddVenue(ctx, programmetest.Venue(2, "France Services", "78", "92"), "test")
	if err != nil {
		tb.Fatal(err)
	}
	r.Venue1, r.Venue2 = v1.ID, v2.ID
	year := uint16(voucher.Today(f.Clock.T).Start().Year())
	for i := range handedOver {
		number := voucher.FormatChequierNumber("78", year, uint32(i+1))
		if _, err := f.Issuing.Activate(ctx, number, "", "test"); err != nil {
			tb.Fatal(err)
		}
		pc, err := f.Issuing.Chequier(ctx, number)
		if err != nil {
			tb.Fatal(err)
		}
		r.Vouchers = append(r.Vouchers, pc.Vouchers...)
	}
	return r
}
