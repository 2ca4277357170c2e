package redemption_test

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"passnum/access"
	"passnum/apikeys"
	"passnum/audit"
	"passnum/figures"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
	"passnum/voucher"
)

// device pairs a device of the venue now and returns its API key's id.
func (e *env) device(t testing.TB, venue int64) int64 {
	t.Helper()
	keys := &apikeys.Service{DB: e.DB}
	_, k, err := keys.Create(context.Background(), apikeys.Spec{Role: access.RoleVenue, VenueID: venue, Name: "tablette"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// sync is what a device's refresh does: the revocation feed's cursor, once
// the events so far are sealed.
func (e *env) sync(t testing.TB) *int64 {
	t.Helper()
	e.Seal(t)
	_, next, err := e.svc.Revocations(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return &next
}

func (e *env) figures(t testing.TB) figures.Figures {
	t.Helper()
	fig, err := (&figures.Service{DB: e.DB}).Compute(context.Background(), figures.Filter{AsOf: voucher.Today(e.Clock.T)})
	if err != nil {
		t.Fatal(err)
	}
	return fig
}

func (e *env) redeemAt(t testing.TB, venue, device int64, cursor *int64, scannedAt time.Time, inputs ...redemption.Input) redemption.Result {
	t.Helper()
	res, err := e.svc.Redeem(context.Background(), redemption.Basket{VenueID: venue, IdempotencyKey: newKey(), Actor: "test",
		ScannedAt: scannedAt, DeviceKeyID: device, RevocationCursor: cursor, Items: inputs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A basket scanned offline before its vouchers expired and sent after keeps
// the offline rule only for scanned codes, and only as far as the device's
// evidence supports its scan time; what it lets through is flagged late.
func TestLateScans(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 2)
		// Paired and synced eleven days before the end of validity
		// (31/12/2027); scanned offline at 23:30 Paris on the last day; sent
		// two days later.
		e.Clock.T = time.Date(2027, 12, 20, 10, 0, 0, 0, time.UTC)
		dev := e.device(t, e.venue1)
		e.redeem(t, e.venue1, e.code(0)) // something in the feed
		cursor := e.sync(t)
		scanned := time.Date(2027, 12, 31, 22, 30, 0, 0, time.UTC)
		received := time.Date(2028, 1, 2, 9, 0, 0, 0, time.UTC)
		e.Clock.T = time.Date(2028, 1, 1, 12, 0, 0, 0, time.UTC)
		paired := e.device(t, e.venue1) // paired after the scan
		req := issuingtest.Request("78", 1, 1)
		req.RequiresActivation, req.ValidUntil = false, voucher.Today(e.Clock.T)+300
		pc, err := e.Issuing.Chequier(ctx, e.Issue(t, req).FirstChequier)
		if err != nil {
			t.Fatal(err)
		}
		e.redeem(t, e.venue1, redemption.Input{Code: pc.Vouchers[0].Code})
		fresh := e.sync(t) // a cursor the device could only hold after the scan
		e.Clock.T = received

		late := e.redeemAt(t, e.venue1, dev, cursor, scanned, e.code(1), e.code(2))
		if !late.Accepted || !late.ScannedAt.Equal(scanned) {
			t.Fatalf("scanned offline before expiry, sent after, with evidence: %+v", late)
		}
		for _, c := range []struct {
			name   string
			device int64
			cursor *int64
			in     redemption.Input
		}{
			{"TypedEntry", dev, cursor, e.typedRight(3)}, // typed: judged at server time, whatever scanned_at says
			{"NoEvidence", 0, nil, e.code(4)},
			{"NoCursor", dev, nil, e.code(5)},
			{"BeforePairing", paired, cursor, e.code(6)},
			{"BeforeItsCursor", dev, fresh, e.code(7)},
			{"OtherVenuesDevice", e.device(t, e.venue2), cursor, e.code(8)},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := e.redeemAt(t, e.venue1, c.device, c.cursor, scanned, c.in)
				if res.Accepted || res.Items[0].Reason != redemption.ReasonExpired || !strings.Contains(res.Items[0].Message, "31/12/2027") {
					t.Fatalf("got %+v, want refused as expired", res.Items)
				}
			})
		}
		t.Run("MixedBasket", func(t *testing.T) {
			res := e.redeemAt(t, e.venue1, dev, cursor, scanned, e.code(9), e.typedRight(10))
			if res.Accepted || !res.Items[0].Accepted || res.Items[1].Reason != redemption.ReasonExpired {
				t.Fatalf("scanned and typed in one offline basket: %+v", res.Items)
			}
		})

		// The auditors see it, in audit verify and in the figures.
		rep := e.auditOK(t)
		var warned []string
		for _, w := range rep.Chain.Warnings {
			if strings.Contains(w, "late") {
				warned = append(warned, w)
			}
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "redemption "+strconv.FormatInt(late.RedemptionID, 10)) || !strings.Contains(warned[0], "20.00 EUR") {
			t.Fatalf("audit warnings %q", rep.Chain.Warnings)
		}
		// The same from an export, on the auditor's machine.
		var export bytes.Buffer
		if _, err := (&audit.Exporter{DB: db}).Export(ctx, &export); err != nil {
			t.Fatal(err)
		}
		erep, err := audit.VerifyExport(&export, nil)
		if err != nil || !slices.Contains(erep.Chain.Warnings, warned[0]) {
			t.Fatalf("export: %v, warnings %q", err, erep.Chain.Warnings)
		}
		fig := e.figures(t)
		if fig.Total.LateVouchers != 2 || fig.Total.LateCents != 2000 {
			t.Fatalf("late vouchers in the total: %d, %d cents", fig.Total.LateVouchers, fig.Total.LateCents)
		}
		var venue figures.VenueFigures
		for _, v := range fig.Venues {
			if v.ID == e.venue1 {
				venue = v
			}
		}
		if venue.LateRedemptions != 1 || venue.LateCents != 2000 {
			t.Fatalf("venue figures %+v", venue)
		}
		var month figures.MonthFigures
		for _, m := range fig.Months {
			if m.Month == "2028-01" {
				month = m
			}
		}
		if month.LateRedemptions != 1 || month.LateCents != 2000 {
			t.Fatalf("month figures %+v", fig.Months)
		}
		found := false
		for _, w := range fig.Warnings {
			found = found || strings.Contains(w, "tardif")
		}
		if !found {
			t.Fatalf("figures warnings %q", fig.Warnings)
		}
	})
}

// The venue's label is judged when the server receives the basket: a
// scan time before the label lapsed revives nothing, evidence or not.
func TestLapsedLabelBackdated(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		t0 := e.Clock.T
		dev := e.device(t, e.venue1)
		e.redeem(t, e.venue1, e.code(0))
		cursor := e.sync(t)
		e.Clock.T = t0.Add(3 * 24 * time.Hour)
		lapsed := voucher.Today(t0) + 1
		if err := db.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ?", e.venue1).
			Update("label_expires_on", ledger.Date(lapsed)).Error; err != nil {
			t.Fatal(err)
		}
		for _, in := range []redemption.Input{e.code(1), e.typedRight(2)} {
			res := e.redeemAt(t, e.venue1, dev, cursor, t0.Add(time.Hour), in)
			if res.Accepted || res.Items[0].Reason != redemption.ReasonVenueNotLabelled {
				t.Fatalf("backdated basket at a venue whose label lapsed: %+v", res.Items)
			}
		}
	})
}

// A basket judged at a scan time more than a day before it reached the
// server is late even when its vouchers are still valid; one under a day is
// an ordinary session without network.
func TestLateByDelay(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		t0 := e.Clock.T
		dev := e.device(t, e.venue1)
		cursor := e.sync(t)
		e.Clock.T = t0.Add(25 * time.Hour)
		day := e.redeemAt(t, e.venue1, dev, cursor, t0.Add(2*time.Hour), e.code(0))
		late := e.redeemAt(t, e.venue1, dev, cursor, t0.Add(time.Hour-time.Second), e.code(1))
		if !day.Accepted || !late.Accepted {
			t.Fatalf("offline baskets: %+v %+v", day, late)
		}
		rep := e.auditOK(t)
		if len(rep.Chain.Warnings) != 1 || !strings.Contains(rep.Chain.Warnings[0], "redemption "+strconv.FormatInt(late.RedemptionID, 10)+" ") {
			t.Fatalf("audit warnings %q", rep.Chain.Warnings)
		}
		fig := e.figures(t)
		if fig.Total.LateVouchers != 1 || fig.Total.LateCents != 1000 || fig.Venues[0].LateRedemptions != 1 {
			t.Fatalf("late in the figures: %+v, %+v", fig.Total, fig.Venues)
		}
	})
}

// A voucher scanned offline and spent elsewhere before the basket reached
// the server is refused with what follows: the venue is not paid for it,
// and what to tell the person. One spent before the scan is the plain
// "already used": the device could have known.
func TestOfflineConflictMessage(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 2)
		dev := e.device(t, e.venue1)
		e.redeem(t, e.venue2, e.code(1)) // spent before the scan
		cursor := e.sync(t)
		scanned := e.Clock.T.Add(time.Minute)
		e.Clock.T = scanned.Add(time.Hour)
		e.redeem(t, e.venue2, e.code(0)) // spent elsewhere while venue 1 was offline
		e.Clock.T = e.Clock.T.Add(time.Hour)
		res := e.redeemAt(t, e.venue1, dev, cursor, scanned, e.code(0), e.code(1))
		conflict, before := res.Items[0], res.Items[1]
		for _, want := range []string{"pendant que votre appareil était hors ligne", "ne sera pas remboursée", "Dites à la personne", "Yvelines (78)"} {
			if conflict.Reason != redemption.ReasonAlreadyRedeemed || !strings.Contains(conflict.Message, want) {
				t.Fatalf("offline conflict: %q, want %q", conflict.Message, want)
			}
		}
		if before.Reason != redemption.ReasonAlreadyRedeemed || strings.Contains(before.Message, "hors ligne") {
			t.Fatalf("spent before the scan: %+v", before)
		}
	})
}
