package issuing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"passnum"
	"passnum/figures"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/redemption"
	"passnum/voucher"
)

// TestProgrammeTimeline walks a batch through its programme: the warning 30
// days before the end, hand-overs stopped 15 days before, vouchers still
// redeemable during the grace month, then expired; with the figures at
// each step.
func TestProgrammeTimeline(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		end, _ := voucher.ParseDay("2027-03-31")
		req := issuingtest.Request("78", 4, 2)
		req.ValidUntil, req.ProgrammeEnd = 0, end
		batch := f.Issue(t, req).Batch
		if got := batch.ValidUntil.String(); got != "2027-04-30" {
			t.Fatalf("valid until %s, want one month of grace: 2027-04-30", got)
		}
		venue, err := (&programme.Service{DB: db}).AddVenue(ctx, programmetest.Venue(1, "Lieu", "78"), "test")
		if err != nil {
			t.Fatal(err)
		}
		red := &redemption.Service{DB: db, Keys: f.Keys}
		fig := &figures.Service{DB: db}
		number := func(i int) string {
			return voucher.FormatChequierNumber("78", uint16(batch.Year), uint32(batch.FirstChequierSeq)+uint32(i))
		}
		at := func(day string) voucher.Day {
			d, err := voucher.ParseDay(day)
			if err != nil {
				t.Fatal(err)
			}
			f.Clock.T = d.Start().Add(10 * time.Hour)
			return d
		}
		warnings := func(today voucher.Day) []issuing.Warning {
			ws, err := f.Issuing.Warnings(ctx, "78", today)
			if err != nil {
				t.Fatal(err)
			}
			return ws
		}
		counts := func(today voucher.Day) figures.Counts {
			fs, err := fig.Compute(ctx, figures.Filter{Department: "78", AsOf: today})
			if err != nil {
				t.Fatal(err)
			}
			if !fs.Total.InvariantHolds {
				t.Fatalf("invariant broken on %s: %+v", today, fs.Total)
			}
			return fs.Total
		}
		keys := 0
		redeem := func(v issuing.PrintedVoucher) redemption.Item {
			keys++
			res, err := red.Redeem(ctx, redemption.Basket{VenueID: venue.ID, IdempotencyKey: fmt.Sprintf("timeline-%04d", keys),
				Items: []redemption.Input{{Code: v.Code}}, Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			return res.Items[0]
		}

		// Running: no warning; chéquiers 0 and 1 handed over.
		today := at("2027-02-28")
		if ws := warnings(today); len(ws) != 0 {
			t.Fatalf("warnings two months before the end: %+v", ws)
		}
		for i := range 2 {
			if _, err := f.Issuing.Activate(ctx, number(i), "", "test"); err != nil {
				t.Fatal(err)
			}
		}
		c0, _ := f.Issuing.Chequier(ctx, number(0))
		c1, _ := f.Issuing.Chequier(ctx, number(1))
		if it := redeem(c0.Vouchers[0]); !it.Accepted {
			t.Fatalf("redeem while running: %+v", it)
		}

		// 30 days before the end: warned, with what is left to hand over.
		today = at("2027-03-01")
		ws := warnings(today)
		if len(ws) != 1 || ws[0].Stage != issuing.StageEnding || ws[0].NotHandedOut != 2 || ws[0].Message == "" {
			t.Fatalf("warnings on 1 March: %+v", ws)
		}
		if c := counts(today); c.VouchersOutstanding != 7 || c.VouchersRedeemed != 1 || c.VouchersExpired != 0 {
			t.Fatalf("figures on 1 March: %+v", c)
		}

		// 15 days before the end: hand-overs refused.
		today = at("2027-03-16")
		if _, err := f.Issuing.Activate(ctx, number(2), "", "test"); passnum.ErrorCode(err) != issuing.EDistributionStopped {
			t.Fatalf("hand-over on 16 March: %v, want %s", err, issuing.EDistributionStopped)
		}
		if ws := warnings(today); len(ws) != 1 || ws[0].Stage != issuing.StageDistributionStopped {
			t.Fatalf("warnings on 16 March: %+v", ws)
		}

		// Grace period: the programme is over, vouchers handed over still work.
		today = at("2027-04-15")
		if it := redeem(c1.Vouchers[0]); !it.Accepted {
			t.Fatalf("redeem in the grace period: %+v", it)
		}
		if ws := warnings(today); len(ws) != 1 || ws[0].Stage != issuing.StageGrace {
			t.Fatalf("warnings in the grace period: %+v", ws)
		}
		if c := counts(today); c.VouchersOutstanding != 6 || c.VouchersRedeemed != 2 || c.VouchersExpired != 0 {
			t.Fatalf("figures on 15 April: %+v", c)
		}

		// Expired: refused, counted as expired, value due back to the funder.
		today = at("2027-05-01")
		if it := redeem(c1.Vouchers[1]); it.Accepted || it.Reason != redemption.ReasonExpired {
			t.Fatalf("redeem after expiry: %+v", it)
		}
		if ws := warnings(today); len(ws) != 0 {
			t.Fatalf("warnings after expiry: %+v", ws)
		}
		c := counts(today)
		if c.VouchersOutstanding != 0 || c.VouchersExpired != 6 || c.ExpiredCents != 6000 || c.UnusedCents != 6000 {
			t.Fatalf("figures on 1 May: %+v", c)
		}
	})
}

func TestProgrammeEndIsChecked(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		f := issuingtest.New(t, db)
		today := voucher.Today(f.Clock.T)
		for name, mod := range map[string]func(r *issuing.BatchRequest){
			"grace before the end":            func(r *issuing.BatchRequest) { r.ProgrammeEnd, r.ValidUntil = today.AddDays(100), today.AddDays(99) },
			"distribution would have stopped": func(r *issuing.BatchRequest) { r.ProgrammeEnd, r.ValidUntil = today.AddDays(15), 0 },
			"no end at all":                   func(r *issuing.BatchRequest) { r.ProgrammeEnd, r.ValidUntil = 0, 0 },
		} {
			req := issuingtest.Request("78", 1, 1)
			mod(&req)
			if _, err := f.Issuing.Issue(context.Background(), req, nil); passnum.ErrorCode(err) != passnum.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		var batches int64
		db.Read(context.Background()).Model(&ledger.Batch{}).Count(&batches)
		if batches != 0 {
			t.Fatalf("%d batches written by refused requests", batches)
		}
	})
}

// TestEndingWarningCounts: the warning counts the chéquiers still to hand
// over in words ("1 chéquier reste", "3 chéquiers restent"), and names no
// count for a batch without activation, whose hand-overs are not recorded.
func TestEndingWarningCounts(t *testing.T) {
	end, _ := voucher.ParseDay("2027-03-31")
	stop, _ := voucher.ParseDay("2027-03-16")
	tl := issuing.Timeline{Stage: issuing.StageEnding, ProgrammeEnd: end, DistributionStop: stop}
	lead := "Le programme du lot 7 se termine le 31/03/2027. La remise des chéquiers s'arrêtera le 16/03/2027"
	for _, c := range []struct {
		tracked bool
		waiting int64
		want    string
	}{
		{true, 1, lead + " : 1 chéquier reste à remettre."},
		{true, 3, lead + " : 3 chéquiers restent à remettre."},
		{false, 20, lead + "."},
	} {
		if got := tl.Message(7, c.tracked, c.waiting); got != c.want {
			t.Errorf("tracked %v, %d waiting:\n got %s\nwant %s", c.tracked, c.waiting, got, c.want)
		}
	}
}
