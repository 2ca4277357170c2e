package redemption_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"passnum"
	"passnum/audit"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
	"passnum/voucher"
)

// env is a programme ready for redemptions: venue 1 labelled for 78, venue
// 2 for 78 and 92, a batch of 78 with its first chéquiers handed over.
type env struct {
	*issuingtest.Fixture
	svc      *redemption.Service
	batch    issuing.Issued
	vouchers []issuing.PrintedVoucher // of the handed-over chéquiers
	venue1   int64
	venue2   int64
}

func newEnv(t testing.TB, db *ledger.DB, handedOver int) *env {
	t.Helper()
	f := issuingtest.New(t, db)
	db.Clock = f.Clock.Now
	r := f.Redeemable(t, handedOver)
	e := &env{Fixture: f, batch: r.Batch, vouchers: r.Vouchers, venue1: r.Venue1, venue2: r.Venue2}
	e.svc = &redemption.Service{DB: db, Keys: f.Keys}
	return e
}

func (e *env) code(i int) redemption.Input { return redemption.Input{Code: e.vouchers[i].Code} }

var keyCounter atomic.Int64

func newKey() string { return fmt.Sprintf("test-key-%08d", keyCounter.Add(1)) }

func (e *env) redeem(t testing.TB, venue int64, inputs ...redemption.Input) redemption.Result {
	t.Helper()
	res, err := e.svc.Redeem(context.Background(), redemption.Basket{VenueID: venue, IdempotencyKey: newKey(), Items: inputs, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// auditOK runs the ledger verification an auditor would.
func (e *env) auditOK(t testing.TB) audit.Report {
	t.Helper()
	e.Seal(t)
	ks, err := e.DB.KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), e.DB, ks)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	return rep
}

func TestRedeemBasket(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		res := e.redeem(t, e.venue1, e.code(0), e.code(1), e.code(2))
		if !res.Accepted || res.RedemptionID == 0 || res.TotalCents != 3000 || len(res.Items) != 3 {
			t.Fatalf("result %+v", res)
		}
		for _, it := range res.Items {
			if !it.Accepted || it.ValueCents != 1000 || it.Department != "78" {
				t.Fatalf("item %+v", it)
			}
		}
		r, err := e.svc.Get(context.Background(), e.venue1, res.RedemptionID)
		if err != nil || len(r.Items) != 3 || r.TotalCents != 3000 {
			t.Fatalf("stored redemption %+v %v", r, err)
		}
		if _, err := e.svc.Get(context.Background(), e.venue2, res.RedemptionID); passnum.ErrorCode(err) != passnum.ENotFound {
			t.Fatalf("another venue sees the redemption: %v", err)
		}
		var redeemed int64
		db.Read(context.Background()).Model(&ledger.Voucher{}).Where("status = ? AND redemption_id = ?", ledger.VoucherRedeemed, res.RedemptionID).Count(&redeemed)
		if redeemed != 3 {
			t.Fatalf("%d vouchers redeemed in the ledger, want 3", redeemed)
		}
		// Manual entry works like a scan.
		v := e.vouchers[3]
		res = e.redeem(t, e.venue1, redemption.Input{Number: v.Number, VerificationCode: strings.ToLower(v.VerificationCode)})
		if !res.Accepted || res.Items[0].Serial != v.Serial {
			t.Fatalf("manual entry: %+v", res.Items[0])
		}
		rep := e.auditOK(t)
		if rep.Redemptions != 2 {
			t.Fatalf("audit saw %d redemptions", rep.Redemptions)
		}
	})
}

// TestRejectionReasons produces every reason a single voucher can be
// refused for, and checks that a refused basket redeems nothing.
func TestRejectionReasons(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 3)
		res := e.redeem(t, e.venue1, e.code(0))
		if !res.Accepted {
			t.Fatal(res.Items[0].Message)
		}
		// Codes signed by a key the ledger never knew, by a forged serial, by
		// a key revoked later.
		strangeSigner, _ := voucher.NewSigner(9, ed25519.NewKeyFromSeed(make([]byte, 32)))
		strange, _ := strangeSigner.Sign(voucher.Voucher{Serial: 1, Department: "78", ValueCents: 1000, ValidFrom: 1, ValidUntil: 30000})
		active, err := e.Keys.Signer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := active.Sign(voucher.Voucher{Serial: 999_999, Department: "78", ValueCents: 1000, ValidFrom: 1, ValidUntil: 30000})
		tampered := []byte(e.vouchers[4].Code)
		tampered[40] = map[bool]byte{true: 'B', false: 'A'}[tampered[40] == 'A'] // always a change
		inactive, err := e.Issuing.Chequier(ctx, voucher.FormatChequierNumber("78", 2026, 10))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Issuing.Void(ctx, voucher.FormatChequierNumber("78", 2026, 3), "perdu", "test"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			venue int64
			in    redemption.Input
			want  string
			text  string // a piece of the French message
		}{
			{"InvalidCode", e.venue1, redemption.Input{Code: "HELLO"}, redemption.ReasonInvalidCode, "n'est pas un chèque"},
			{"ActivationCodeScanned", e.venue1, redemption.Input{Code: inactive.ActivationCode}, redemption.ReasonInvalidCode, ""},
			{"BadSignature", e.venue1, redemption.Input{Code: string(tampered)}, redemption.ReasonBadSignature, "pas authentique"},
			{"UnknownKey", e.venue1, redemption.Input{Code: strange}, redemption.ReasonUnknownKey, ""},
			{"UnknownVoucher", e.venue1, redemption.Input{Code: forged}, redemption.ReasonUnknownVoucher, ""},
			{"NotActivated", e.venue1, redemption.Input{Code: inactive.Vouchers[0].Code}, redemption.ReasonNotActivated, "pas encore été activé"},
			{"AlreadyRedeemedHere", e.venue1, e.code(0), redemption.ReasonAlreadyRedeemed, "dans votre structure"},
			{"AlreadyRedeemedElsewhere", e.venue2, e.code(0), redemption.ReasonAlreadyRedeemed, "dans une autre structure"},
			{"Voided", e.venue1, e.code(25), redemption.ReasonVoided, "annulé"},
			{"WrongManualCode", e.venue1, redemption.Input{Number: e.vouchers[5].Number, VerificationCode: "AAAA-AAAA"}, redemption.ReasonInvalidCode, "incorrect"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				it, err := e.svc.Check(ctx, c.venue, c.in)
				if err != nil {
					t.Fatal(err)
				}
				if it.Accepted || it.Reason != c.want || !strings.Contains(it.Message, c.text) {
					t.Fatalf("got %q %q, want %q with %q", it.Reason, it.Message, c.want, c.text)
				}
				// In a basket with a good voucher, nothing is redeemed.
				res := e.redeem(t, c.venue, e.code(6), c.in)
				if res.Accepted || res.RedemptionID != 0 || !res.Items[0].Accepted || res.Items[1].Reason != c.want {
					t.Fatalf("basket: %+v", res)
				}
			})
		}
		if it, _ := e.svc.Check(ctx, e.venue1, e.code(6)); !it.Accepted {
			t.Fatalf("a voucher of a refused basket was spent: %s", it.Message)
		}
		t.Run("DuplicateInBasket", func(t *testing.T) {
			res := e.redeem(t, e.venue1, e.code(6), e.code(6))
			if res.Accepted || res.Items[1].Reason != redemption.ReasonDuplicateInBasket {
				t.Fatalf("%+v", res.Items)
			}
		})
		t.Run("WrongDepartment", func(t *testing.T) {
			req := issuingtest.Request("92", 1, 2)
			req.RequiresActivation = false
			b92 := e.Issue(t, req)
			pc, _ := e.Issuing.Chequier(ctx, b92.FirstChequier)
			it, _ := e.svc.Check(ctx, e.venue1, redemption.Input{Code: pc.Vouchers[0].Code})
			if it.Reason != redemption.ReasonWrongDepartment || !strings.Contains(it.Message, "92") {
				t.Fatalf("%+v", it)
			}
			if it, _ := e.svc.Check(ctx, e.venue2, redemption.Input{Code: pc.Vouchers[0].Code}); !it.Accepted {
				t.Fatalf("venue 2 is labelled for 92: %+v", it)
			}
		})
		t.Run("Expired", func(t *testing.T) {
			defer func(t0 time.Time) { e.Clock.T = t0 }(e.Clock.T)
			dev, cursor := e.device(t, e.venue1), e.sync(t)
			e.Clock.T = time.Date(2028, 1, 2, 9, 0, 0, 0, time.UTC)
			it, _ := e.svc.Check(ctx, e.venue1, e.code(7))
			if it.Reason != redemption.ReasonExpired || !strings.Contains(it.Message, "31/12/2027") {
				t.Fatalf("%+v", it)
			}
			// Scanned offline before the end of validity, sent after, by a
			// device whose evidence supports it: accepted (TestLateScans).
			res, err := e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Actor: "test",
				ScannedAt: time.Date(2027, 12, 31, 22, 30, 0, 0, time.UTC), Items: []redemption.Input{e.code(7)},
				DeviceKeyID: dev, RevocationCursor: cursor})
			if err != nil || !res.Accepted {
				t.Fatalf("offline scan before expiry: %+v %v", res, err)
			}
		})
		t.Run("NotYetValid", func(t *testing.T) {
			req := issuingtest.Request("78", 1, 1)
			req.RequiresActivation = false
			req.ValidFrom = voucher.Today(e.Clock.T) + 10
			b := e.Issue(t, req)
			pc, _ := e.Issuing.Chequier(ctx, b.FirstChequier)
			if it, _ := e.svc.Check(ctx, e.venue1, redemption.Input{Code: pc.Vouchers[0].Code}); it.Reason != redemption.ReasonNotYetValid {
				t.Fatalf("%+v", it)
			}
		})
		for _, c := range []struct {
			status ledger.VenueStatus
			want   string
		}{
			{ledger.VenueSuspended, redemption.ReasonVenueSuspended},
			{ledger.VenueUnlabelled, redemption.ReasonVenueNotLabelled},
		} {
			t.Run(c.want, func(t *testing.T) {
				label := db.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = '78'", e.venue2)
				label.Update("status", c.status)
				defer db.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = '78'", e.venue2).Update("status", ledger.VenueLabelled)
				// The volunteer is told whom to call, by name, and what to do
				// with the voucher.
				it, _ := e.svc.Check(ctx, e.venue2, e.code(8))
				if it.Reason != c.want || !strings.Contains(it.Message, "appelez le département Yvelines (78)") ||
					!strings.Contains(it.Message, "Rendez le chèque à la personne") {
					t.Fatalf("%+v", it)
				}
			})
		}
		t.Run("RateLimited", func(t *testing.T) {
			good := redemption.Input{Number: e.vouchers[9].Number, VerificationCode: e.vouchers[9].VerificationCode}
			for range 10 {
				e.svc.Check(ctx, e.venue2, redemption.Input{Number: e.vouchers[9].Number, VerificationCode: "ZZZZ-ZZZZ"})
			}
			// Locked for the whole window, 15 minutes from now: the real
			// wait, not "a few minutes".
			if it, _ := e.svc.Check(ctx, e.venue2, good); it.Reason != redemption.ReasonRateLimited ||
				!strings.Contains(it.Message, "Réessayez dans 15 minutes") {
				t.Fatalf("after 10 wrong entries: %+v", it)
			}
			// Scanning still works, and another venue is not affected.
			if it, _ := e.svc.Check(ctx, e.venue2, e.code(9)); !it.Accepted {
				t.Fatalf("scan while manual entry is locked: %+v", it)
			}
			if it, _ := e.svc.Check(ctx, e.venue1, good); !it.Accepted {
				t.Fatalf("another venue: %+v", it)
			}
			e.Clock.T = e.Clock.T.Add(16 * time.Minute)
			if it, _ := e.svc.Check(ctx, e.venue2, good); !it.Accepted {
				t.Fatalf("after the window: %+v", it)
			}
		})
		e.auditOK(t)
	})
}

func TestBadBaskets(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		many := make([]redemption.Input, redemption.MaxBasket+1)
		for i := range many {
			many[i] = e.code(0)
		}
		cases := []struct {
			name string
			b    redemption.Basket
			code string
		}{
			{"ErrEmpty", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey()}, passnum.EInvalid},
			{"ErrTooMany", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: many}, passnum.EInvalid},
			{"ErrShortKey", redemption.Basket{VenueID: e.venue1, IdempotencyKey: "k", Items: []redemption.Input{e.code(0)}}, passnum.EInvalid},
			{"ErrFuture", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), ScannedAt: e.Clock.T.Add(time.Hour), Items: []redemption.Input{e.code(0)}}, passnum.EInvalid},
			{"ErrTooOld", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), ScannedAt: e.Clock.T.Add(-31 * 24 * time.Hour), Items: []redemption.Input{e.code(0)}}, passnum.EInvalid},
			{"ErrBothInputs", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: []redemption.Input{{Code: e.vouchers[0].Code, Number: "1"}}}, passnum.EInvalid},
			{"ErrNoInput", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: []redemption.Input{{}}}, passnum.EInvalid},
			{"ErrUnknownVenue", redemption.Basket{VenueID: 999, IdempotencyKey: newKey(), Items: []redemption.Input{e.code(0)}}, passnum.ENotFound},
			{"SQLInCode", redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: []redemption.Input{{Code: "'; DROP TABLE vouchers; --"}}}, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res, err := e.svc.Redeem(ctx, c.b)
				if got := passnum.ErrorCode(err); got != c.code {
					t.Fatalf("code %q (%v), want %q", got, err, c.code)
				}
				if res.Accepted {
					t.Fatal("a bad basket was accepted")
				}
			})
		}
		if it, _ := e.svc.Check(ctx, e.venue1, e.code(0)); !it.Accepted {
			t.Fatalf("bad baskets spent a voucher: %+v", it)
		}
		e.auditOK(t)
	})
}

func TestIdempotency(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		b := redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: []redemption.Input{e.code(0), e.code(1)}, Actor: "test"}
		first, err := e.svc.Redeem(ctx, b)
		if err != nil || !first.Accepted {
			t.Fatalf("%+v %v", first, err)
		}
		// The answer was lost (a crash after commit, a dropped connection):
		// the retry replays it, never "already redeemed by you".
		again, err := e.svc.Redeem(ctx, b)
		if err != nil || !again.Replayed || again.RedemptionID != first.RedemptionID || !again.Accepted || again.TotalCents != 2000 {
			t.Fatalf("retry: %+v %v", again, err)
		}
		other := b
		other.Items = []redemption.Input{e.code(2)}
		if _, err := e.svc.Redeem(ctx, other); passnum.ErrorCode(err) != redemption.EIdempotencyMismatch {
			t.Fatalf("same key, other basket: %v", err)
		}
		// The same key from another venue is another request.
		b2 := b
		b2.VenueID = e.venue2
		res, err := e.svc.Redeem(ctx, b2)
		if err != nil || res.Replayed || res.Accepted || res.Items[0].Reason != redemption.ReasonAlreadyRedeemed {
			t.Fatalf("other venue, same key: %+v %v", res, err)
		}
		// A refused basket's answer is final too.
		if res2, err := e.svc.Redeem(ctx, b2); err != nil || !res2.Replayed || res2.Accepted {
			t.Fatalf("replay of a refusal: %+v %v", res2, err)
		}

		e.auditOK(t)
	})
}

func passnumCode(err error) string { return passnum.ErrorCode(err) }

func TestReverseAndRevocations(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 2)
		res := e.redeem(t, e.venue1, e.code(0), e.code(1))
		if _, err := e.svc.Reverse(ctx, e.venue2, res.RedemptionID, "erreur", "test"); passnum.ErrorCode(err) != passnum.ENotFound {
			t.Fatalf("another venue reversed it: %v", err)
		}
		if _, err := e.svc.Reverse(ctx, e.venue1, res.RedemptionID, " ", "test"); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Fatalf("no reason: %v", err)
		}
		r, err := e.svc.Reverse(ctx, e.venue1, res.RedemptionID, "mauvais panier", "test")
		if err != nil || r.Status != ledger.RedemptionReversed {
			t.Fatalf("%+v %v", r, err)
		}
		if _, err := e.svc.Reverse(ctx, e.venue1, res.RedemptionID, "encore", "test"); passnum.ErrorCode(err) != redemption.EAlreadyReversed {
			t.Fatalf("reversing twice: %v", err)
		}
		// The vouchers are spendable again, by any venue.
		again := e.redeem(t, e.venue2, e.code(0), e.code(1))
		if !again.Accepted {
			t.Fatalf("%+v", again.Items)
		}
		// Past the window, a reversal is refused.
		late := e.redeem(t, e.venue1, e.code(2))
		e.Clock.T = e.Clock.T.Add(31 * time.Minute)
		if _, err := e.svc.Reverse(ctx, e.venue1, late.RedemptionID, "trop tard", "test"); passnum.ErrorCode(err) != redemption.EReversalWindow {
			t.Fatalf("late reversal: %v", err)
		}
		// A reversed voucher whose chéquier was voided meanwhile becomes void.
		mine := e.redeem(t, e.venue1, e.code(15))
		if _, err := e.Issuing.Void(ctx, voucher.FormatChequierNumber("78", 2026, 2), "volé", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reverse(ctx, e.venue1, mine.RedemptionID, "erreur", "test"); err != nil {
			t.Fatal(err)
		}
		if it, _ := e.svc.Check(ctx, e.venue1, e.code(15)); it.Reason != redemption.ReasonVoided {
			t.Fatalf("%+v", it)
		}
		list, err := e.svc.List(ctx, e.venue1, e.Clock.T.Add(-time.Hour), e.Clock.T.Add(time.Hour), 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("venue 1 lists %d redemptions, %v", len(list), err)
		}

		// The revocation feed tells an offline scanner all of it, in order.
		e.Seal(t)
		revs, next, err := e.svc.Revocations(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		final := map[int64]ledger.VoucherStatus{}
		for _, r := range revs {
			final[r.Serial] = r.Status
		}
		want := map[int64]ledger.VoucherStatus{e.vouchers[0].Serial: "redeemed", e.vouchers[2].Serial: "redeemed", e.vouchers[15].Serial: "void"}
		for serial, status := range want {
			if final[serial] != status {
				t.Fatalf("voucher %d ends %q in the feed, want %q", serial, final[serial], status)
			}
		}
		if more, next2, err := e.svc.Revocations(ctx, next, 0); err != nil || len(more) != 0 || next2 != next {
			t.Fatalf("after the cursor: %d more, next %d → %d, %v", len(more), next, next2, err)
		}
		e.auditOK(t)
	})
}

// TestKeyCache: with a key cache, a revoked signing key stops verifying once
// the cache expires, and not before; without one, at once.
func TestKeyCache(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		e.svc.KeyCacheTTL = 2 * time.Second
		if it, _ := e.svc.Check(ctx, e.venue1, e.code(0)); !it.Accepted {
			t.Fatalf("%+v", it)
		}
		if err := e.Keys.Revoke(ctx, 1, "test"); err != nil {
			t.Fatal(err)
		}
		if it, _ := e.svc.Check(ctx, e.venue1, e.code(0)); !it.Accepted {
			t.Fatalf("within the cache's lifetime: %+v", it)
		}
		e.Clock.T = e.Clock.T.Add(3 * time.Second)
		if it, _ := e.svc.Check(ctx, e.venue1, e.code(0)); it.Reason != redemption.ReasonRevokedKey {
			t.Fatalf("after the cache's lifetime: %+v", it)
		}
	})
}

// The same instant written with another UTC offset, or with more precision
// than is stored, is the same request: its retry replays.
func TestIdempotencyTimeOffsets(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		paris := time.FixedZone("+01:00", 3600)
		b := redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: []redemption.Input{e.code(0)}, Actor: "test",
			ScannedAt: time.Date(2026, 11, 26, 10, 58, 0, 0, paris)}
		first, err := e.svc.Redeem(ctx, b)
		if err != nil || !first.Accepted {
			t.Fatalf("%+v %v", first, err)
		}
		for _, at := range []time.Time{
			time.Date(2026, 11, 26, 9, 58, 0, 0, time.UTC),
			time.Date(2026, 11, 26, 9, 58, 0, 400, time.UTC), // below the microsecond stored
		} {
			b.ScannedAt = at
			again, err := e.svc.Redeem(ctx, b)
			if err != nil || !again.Replayed || again.RedemptionID != first.RedemptionID {
				t.Fatalf("retry with scanned_at %s: %+v %v", at.Format(time.RFC3339Nano), again, err)
			}
		}
		b.ScannedAt = time.Date(2026, 11, 26, 9, 57, 0, 0, time.UTC)
		if _, err := e.svc.Redeem(ctx, b); passnum.ErrorCode(err) != redemption.EIdempotencyMismatch {
			t.Fatalf("another instant under the same key: %v", err)
		}
	})
}

// TestRevokedKeyTyped: a voucher whose signing key was revoked is refused
// with revoked_key when its number and verification code are typed, as when
// its QR code is scanned, in Check and in a basket: the batch's key, or for
// a replacement the key that signed it. A retired key's vouchers still
// redeem by typed entry.
func TestRevokedKeyTyped(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 3) // batch signed by key 1
		typed := func(v issuing.PrintedVoucher) redemption.Input {
			return redemption.Input{Number: v.Number, VerificationCode: v.VerificationCode}
		}
		// Key 2 replaces a voucher of key 1's batch, then is revoked.
		repl := e.ReplaceUnderNewKey(t, e.vouchers[1].Number)
		if err := e.Keys.Revoke(ctx, 2, "test"); err != nil {
			t.Fatal(err)
		}
		refused := func(name string, in redemption.Input) {
			t.Helper()
			it, err := e.svc.Check(ctx, e.venue1, in)
			if err != nil {
				t.Fatal(err)
			}
			if it.Accepted || it.Reason != redemption.ReasonRevokedKey || !strings.Contains(it.Message, "clé retirée pour raison de sécurité") {
				t.Fatalf("%s: check %+v, want revoked_key", name, it)
			}
			res := e.redeem(t, e.venue1, in)
			if res.Accepted || res.Items[0].Reason != redemption.ReasonRevokedKey {
				t.Fatalf("%s: basket %+v, want revoked_key", name, res.Items)
			}
		}
		refused("replacement signed by revoked key 2", typed(repl))
		// Key 1 is retired, not revoked: its vouchers still redeem typed.
		if res := e.redeem(t, e.venue1, typed(e.vouchers[0])); !res.Accepted {
			t.Fatalf("retired key 1, typed: %+v", res.Items)
		}
		if err := e.Keys.Revoke(ctx, 1, "test"); err != nil {
			t.Fatal(err)
		}
		refused("batch signed by revoked key 1", typed(e.vouchers[2]))
		refused("batch signed by revoked key 1, scanned", e.code(3))
		e.auditOK(t)
	})
}

// TestReceipts: every accepted basket comes back with a receipt signed by
// the active key, which verifies with the public keys alone and says what
// the ledger records (redemption, venue, total, the vouchers' digest,
// times); a replay gives the same receipt, a refusal none; the audit finds
// each receipt in the ledger, names a reversal, and refuses a receipt of a
// redemption the ledger lacks. With no active key the basket is still
// redeemed, without a receipt.
func TestReceipts(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 2)
		b := redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Actor: "test",
			Items: []redemption.Input{e.code(2), e.code(0), e.code(1)}}
		res, err := e.svc.Redeem(ctx, b)
		if err != nil || !res.Accepted || res.Receipt == "" {
			t.Fatalf("%+v %v", res, err)
		}
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ks.Verify(res.Receipt)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := d.Payload.(voucher.Receipt)
		serials := []uint64{uint64(e.vouchers[0].Serial), uint64(e.vouchers[1].Serial), uint64(e.vouchers[2].Serial)}
		if !ok || r.RedemptionID != uint64(res.RedemptionID) || r.VenueID != uint64(e.venue1) || r.TotalCents != 3000 ||
			r.Vouchers != 3 || r.Digest != voucher.ReceiptDigest(serials) || r.ScannedMicros != res.ScannedAt.UnixMicro() ||
			r.ReceivedMicros != res.ReceivedAt.UnixMicro() {
			t.Fatalf("receipt %+v for %+v", d.Payload, res)
		}
		if again, err := e.svc.Redeem(ctx, b); err != nil || !again.Replayed || again.Receipt != res.Receipt {
			t.Fatalf("replay: %+v %v", again, err)
		}
		if refused := e.redeem(t, e.venue1, e.code(0)); refused.Accepted || refused.Receipt != "" {
			t.Fatalf("a refusal has a receipt: %+v", refused)
		}
		second := e.redeem(t, e.venue2, e.code(3))
		if _, err := e.svc.Reverse(ctx, e.venue2, second.RedemptionID, "mauvais chèque", "test"); err != nil {
			t.Fatal(err)
		}

		// A receipt the ledger does not back: signed by the key, but for
		// a redemption that is not there, or with another total.
		forged := r
		forged.RedemptionID = 999999
		other := r
		other.TotalCents = 30000
		var codes []string
		for _, p := range []voucher.Receipt{forged, other} {
			s, err := e.Keys.Signer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Sign(p)
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, c)
		}
		presented := []audit.Presented{{Code: res.Receipt, Serials: serials}, {Code: second.Receipt}, {Code: e.vouchers[5].Code},
			{Code: codes[0]}, {Code: codes[1]}, {Code: res.Receipt, Serials: serials[:2]}}
		checks, err := audit.Receipts(ctx, db, ks, presented)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(checks[5].Problem, "not the vouchers it was signed for") {
			t.Errorf("a receipt with other serials: %+v", checks[5])
		}
		if checks[0].Problem != "" || checks[0].Reversed != "" || checks[1].Problem != "" || checks[1].Reversed == "" {
			t.Errorf("genuine receipts: %+v", checks[:2])
		}
		if !strings.Contains(checks[2].Problem, "not a receipt") || !strings.Contains(checks[3].Problem, "no redemption 999999") ||
			!strings.Contains(checks[4].Problem, "3000 cents, not 30000") {
			t.Errorf("refused receipts: %+v", checks[2:])
		}

		// A new key, revoked at once, none made since: there is no active
		// key, yet venues are not turned away (the vouchers were signed by
		// the retired key), their baskets wait for a receipt.
		k, err := e.Keys.New(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Keys.Revoke(ctx, int(k.ID), "test"); err != nil {
			t.Fatal(err)
		}
		if late := e.redeem(t, e.venue1, e.code(4)); !late.Accepted || late.Receipt != "" {
			t.Fatalf("without an active key: %+v", late)
		}
	})
}
