package signals_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"passnum/access"
	"passnum/apikeys"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
	"passnum/signals"
)

// TestSignals: a hand-made programme where each rule has a case that
// triggers it and one that does not. Venue 1's five quiet weeks then a
// week of 36 vouchers is a spike, venue 2's steady weeks are not; venue
// 2's basket of a whole chéquier is flagged, venue 1's nine of ten is not;
// a chéquier used at both venues on one day is flagged for both, one used
// on two days is not; a basket received 30 hours after its offline scan is
// late, those sent at once are not; a voucher venue 1 accepted offline
// after venue 2 had spent it is a conflict for venue 1 only; in December
// 2027, venue 2's vouchers all spent in the last days of their validity
// are flagged, venue 1's spread month is not.
func TestSignals(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		db.Clock = f.Clock.Now
		r := f.Redeemable(t, 20)
		red := &redemption.Service{DB: db, Keys: f.Keys}
		v1, v2 := r.Venue1, r.Venue2
		c := func(chequier, from, to int) []int { // voucher indexes of a chéquier
			var out []int
			for i := from; i < to; i++ {
				out = append(out, chequier*10+i)
			}
			return out
		}
		n := 0
		basket := func(venue int64, at time.Time, idx []int, scanned time.Time, device int64) redemption.Result {
			t.Helper()
			f.Clock.T = at
			var in []redemption.Input
			for _, i := range idx {
				in = append(in, redemption.Input{Code: r.Vouchers[i].Code})
			}
			n++
			b := redemption.Basket{VenueID: venue, IdempotencyKey: fmt.Sprintf("signals-%d", n), Items: in, Actor: "test", ScannedAt: scanned}
			if device != 0 {
				zero := int64(0)
				b.DeviceKeyID, b.RevocationCursor = device, &zero
			}
			res, err := red.Redeem(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		spend := func(venue int64, at time.Time, idx ...int) int64 {
			t.Helper()
			res := basket(venue, at, idx, time.Time{}, 0)
			if !res.Accepted {
				t.Fatalf("basket %v at %s: %+v", idx, at, res.Items)
			}
			return res.RedemptionID
		}
		w0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
		week := func(k int) time.Time { return w0.AddDate(0, 0, 7*k) }
		keys := &apikeys.Service{DB: db}
		f.Clock.T = w0
		device := func(venue int64) int64 {
			_, k, err := keys.Create(ctx, apikeys.Spec{Role: access.RoleVenue, VenueID: venue, Name: "tablette"}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return k.ID
		}
		d1, d2 := device(v1), device(v2)

		for k := range 4 {
			spend(v1, week(k), c(0, 2*k, 2*k+2)...)
		}
		for k, idx := range [][]int{c(4, 0, 3), c(4, 3, 6), c(4, 6, 9), c(5, 0, 3), c(5, 3, 6)} {
			spend(v2, week(k).Add(time.Hour), idx...)
		}
		p := week(4) // the period under review: its 7 days
		for i, idx := range [][]int{c(1, 0, 5), c(1, 5, 10), c(2, 0, 5), c(2, 5, 10), c(3, 0, 5)} {
			spend(v1, p.Add(time.Duration(i)*time.Hour), idx...)
		}
		whole := spend(v2, p.Add(2*time.Hour), c(6, 0, 10)...)
		spend(v1, p.Add(3*time.Hour), c(7, 0, 9)...)
		sameDay := spend(v1, p.AddDate(0, 0, 1), c(8, 0, 1)...)
		spend(v2, p.AddDate(0, 0, 1).Add(5*time.Hour), c(8, 1, 2)...)
		spend(v1, p.AddDate(0, 0, 2), c(9, 0, 1)...)
		spend(v2, p.AddDate(0, 0, 3), c(9, 1, 2)...)
		lateOne := basket(v2, p.AddDate(0, 0, 5).Add(4*time.Hour), c(10, 0, 1), p.AddDate(0, 0, 4).Add(-2*time.Hour), d2)
		if !lateOne.Accepted {
			t.Fatalf("the late basket: %+v", lateOne.Items)
		}
		spend(v2, p.AddDate(0, 0, 5).Add(6*time.Hour), c(11, 0, 1)...)
		if res := basket(v1, p.AddDate(0, 0, 5).Add(8*time.Hour), c(11, 0, 1), p.AddDate(0, 0, 5).Add(2*time.Hour), d1); res.Accepted {
			t.Fatal("a voucher spent twice")
		}

		svc := &signals.Service{DB: db}
		got, err := svc.Find(ctx, signals.Query{From: p, To: p.AddDate(0, 0, 7)})
		if err != nil {
			t.Fatal(err)
		}
		byRule := map[string][]signals.Signal{}
		for _, s := range got {
			byRule[s.Rule] = append(byRule[s.Rule], s)
		}
		venuesOf := func(rule string) []int64 {
			var vs []int64
			for _, s := range byRule[rule] {
				vs = append(vs, s.VenueID)
			}
			slices.Sort(vs)
			return vs
		}
		for rule, want := range map[string][]int64{signals.VolumeSpike: {v1}, signals.WholeChequier: {v2}, signals.ManyVenues: {v1, v2},
			signals.Late: {v2}, signals.OfflineConflicts: {v1}, signals.BeforeExpiry: nil} {
			if got := venuesOf(rule); !slices.Equal(got, want) {
				t.Errorf("%s: venues %v, want %v (%+v)", rule, got, want, byRule[rule])
			}
		}
		if s := byRule[signals.VolumeSpike]; len(s) == 1 && !strings.Contains(s[0].Evidence, "36 chèques encaissés en 7 jours") ||
			len(s) == 1 && !strings.Contains(s[0].Evidence, "contre 1 par semaine") {
			t.Errorf("spike evidence: %q", s[0].Evidence)
		}
		if s := byRule[signals.WholeChequier]; len(s) == 1 && (!slices.Equal(s[0].Redemptions, []int64{whole}) || !strings.Contains(s[0].Evidence, "Les 10 chèques")) {
			t.Errorf("whole chéquier: %+v", s[0])
		}
		if s := byRule[signals.ManyVenues]; len(s) == 2 && (!slices.Contains(s[0].Redemptions, sameDay) || !strings.Contains(s[0].Evidence, "dans 2 lieux")) {
			t.Errorf("many venues: %+v", s)
		}
		if s := byRule[signals.Late]; len(s) == 1 && !slices.Equal(s[0].Redemptions, []int64{lateOne.RedemptionID}) {
			t.Errorf("late: %+v", s[0])
		}
		for _, s := range got {
			if s.VenueName == "" || s.At.IsZero() {
				t.Errorf("a signal without its venue or time: %+v", s)
			}
		}
		// The Hauts-de-Seine's people see their venue's signals only: none
		// of these vouchers are theirs.
		if other, err := svc.Find(ctx, signals.Query{Department: "92", From: p, To: p.AddDate(0, 0, 7)}); err != nil || len(other) != 0 {
			t.Errorf("the 92's signals: %+v %v", other, err)
		}

		// December 2027: the vouchers' last month.
		dec := time.Date(2027, 12, 1, 9, 0, 0, 0, time.UTC)
		for i, idx := range append(c(12, 0, 10), c(13, 0, 2)...) {
			spend(v1, dec.AddDate(0, 0, 1+i), idx)
		}
		spend(v1, dec.AddDate(0, 0, 27), c(13, 2, 4)...)
		for i, idx := range append(c(14, 0, 10), c(15, 0, 2)...) {
			spend(v2, dec.AddDate(0, 0, 25+i%5), idx)
		}
		got, err = svc.Find(ctx, signals.Query{From: dec, To: dec.AddDate(0, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		var expiry []signals.Signal
		for _, s := range got {
			if s.Rule == signals.BeforeExpiry {
				expiry = append(expiry, s)
			}
		}
		if len(expiry) != 1 || expiry[0].VenueID != v2 || !strings.Contains(expiry[0].Evidence, "12 chèques sur 12 (100 %)") {
			t.Errorf("before expiry: %+v", expiry)
		}
		// Thresholds tune the rules: at 95 % nothing is bunched enough.
		got, _ = svc.Find(ctx, signals.Query{From: dec, To: dec.AddDate(0, 1, 0), Thresholds: signals.Thresholds{ExpiryMinVouchers: 13}})
		for _, s := range got {
			if s.Rule == signals.BeforeExpiry {
				t.Errorf("with 13 vouchers needed: %+v", s)
			}
		}
		if _, err := svc.Find(ctx, signals.Query{From: dec, To: dec}); err == nil {
			t.Error("an empty period was accepted")
		}
	})
}
