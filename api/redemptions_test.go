package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

func TestRedeemListReverse(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 2)
		r := e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1",
			header: map[string]string{"Idempotency-Key": newKey()},
			json:   map[string]any{"session": "Atelier smartphone du jeudi", "items": []map[string]string{e.code(0), e.typed(1)}}})
		r.expect(t, http.StatusCreated, "")
		var res resultJSON
		r.decode(t, &res)
		if !res.Accepted || res.RedemptionID == 0 || res.TotalCents != 2000 || len(res.Items) != 2 || !res.ReceivedAt.Equal(e.Clock.T) {
			t.Fatalf("%+v", res)
		}
		for i, it := range res.Items {
			if !it.Accepted || it.Index != i || it.ValueCents != 1000 || it.Department != "78" || it.Number != e.vouchers[i].Number ||
				it.Manual != (i == 1) || it.Message != "Chèque encaissé : 10,00\u00a0€." {
				t.Fatalf("item %d: %+v", i, it)
			}
		}
		// The venue's proof, scanned and typed alike: a receipt that the
		// public keys alone verify, for this venue, total and vouchers.
		ks, err := db.KeySet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		d, err := ks.Verify(res.Receipt)
		rc, _ := d.Payload.(voucher.Receipt)
		if err != nil || rc.RedemptionID != uint64(res.RedemptionID) || rc.VenueID != uint64(e.venue1) || rc.TotalCents != 2000 ||
			rc.Digest != voucher.ReceiptDigest([]uint64{uint64(e.vouchers[0].Serial), uint64(e.vouchers[1].Serial)}) {
			t.Fatalf("receipt %q: %+v %v", res.Receipt, d.Payload, err)
		}
		path := "/api/v1/redemptions/" + itoa(res.RedemptionID)
		if loc := r.header.Get("Location"); loc != path {
			t.Fatalf("Location %q", loc)
		}

		var got redemptionJSON
		e.do(t, request{method: "GET", path: path, as: "venue1"}).decode(t, &got)
		if got.ID != res.RedemptionID || got.Status != "accepted" || got.TotalCents != 2000 || got.Session != "Atelier smartphone du jeudi" ||
			len(got.Items) != 2 || got.Items[0].Serial != e.vouchers[0].Serial || got.Items[0].Number != e.vouchers[0].Number {
			t.Fatalf("%+v", got)
		}

		// Said to be scanned an hour ago, with no evidence of an offline
		// scan (TestRedeemOfflineEvidence): judged, and kept, at receipt.
		scanned := e.Clock.T.Add(-time.Hour)
		r = e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": newKey()},
			json: map[string]any{"scanned_at": scanned.In(time.FixedZone("CET", 3600)).Format(time.RFC3339), "items": []map[string]string{e.code(2)}}})
		r.expect(t, http.StatusCreated, "")
		var offline resultJSON
		r.decode(t, &offline)
		if !offline.ScannedAt.Equal(e.Clock.T) {
			t.Fatalf("scanned_at %v, want the receipt %v", offline.ScannedAt, e.Clock.T)
		}

		// The list is by reception, newest first; the default is the last 24
		// hours up to the next whole second, so that "now" is included.
		var list struct {
			From, To    time.Time
			Redemptions []redemptionJSON
			Truncated   bool
		}
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1"}).decode(t, &list)
		if len(list.Redemptions) != 2 || list.Redemptions[0].ID != offline.RedemptionID || !list.To.Equal(e.Clock.T.Add(time.Second)) ||
			!list.From.Equal(e.Clock.T.Add(time.Second-24*time.Hour)) || list.Truncated {
			t.Fatalf("%+v", list)
		}
		q := url.Values{"from": {e.Clock.T.Add(-time.Hour).Format(time.RFC3339)}, "to": {e.Clock.T.Add(time.Second).Format(time.RFC3339)}}
		e.do(t, request{method: "GET", path: "/api/v1/redemptions?" + q.Encode(), as: "venue1"}).decode(t, &list)
		if len(list.Redemptions) != 2 {
			t.Fatalf("%+v", list)
		}
		q = url.Values{"to": {e.Clock.T.Add(-time.Minute).Format(time.RFC3339)}}
		e.do(t, request{method: "GET", path: "/api/v1/redemptions?" + q.Encode(), as: "venue1"}).decode(t, &list)
		if len(list.Redemptions) != 0 {
			t.Fatalf("before the first redemption: %+v", list)
		}

		// Reversal.
		e.do(t, request{method: "POST", path: path + "/reversal", as: "venue1", json: map[string]string{"reason": "  "}, offContract: true}).
			expect(t, http.StatusBadRequest, "invalid")
		r = e.do(t, request{method: "POST", path: path + "/reversal", as: "venue1", json: map[string]string{"reason": "Mauvaise séance"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &got)
		if got.Status != "reversed" || got.ReversalReason != "Mauvaise séance" || got.ID != res.RedemptionID {
			t.Fatalf("%+v", got)
		}
		e.do(t, request{method: "POST", path: path + "/reversal", as: "venue1", json: map[string]string{"reason": "encore"}}).
			expect(t, http.StatusConflict, "already_reversed")
		e.do(t, request{method: "POST", path: "/api/v1/redemptions/999999/reversal", as: "venue1", json: map[string]string{"reason": "erreur"}}).
			expect(t, http.StatusNotFound, "not_found")
		if v := e.check(t, "venue2", e.code(0)); !v.Accepted || v.Message != "Chèque valable : 10,00\u00a0€." {
			t.Fatalf("a reversed voucher is not redeemable again: %+v", v)
		}
		// Past the window, only the département can help.
		e.Clock.T = e.Clock.T.Add(31 * time.Minute)
		e.do(t, request{method: "POST", path: "/api/v1/redemptions/" + itoa(offline.RedemptionID) + "/reversal", as: "venue1",
			json: map[string]string{"reason": "trop tard"}}).expect(t, http.StatusConflict, "reversal_window_closed")

		// The revocation feed tells offline scanners all of it, in order.
		e.Seal(t)
		var page struct {
			Revocations []struct {
				Seq    int64
				Serial int64
				Number string
				Status string
			}
			Next int64
		}
		e.do(t, request{method: "GET", path: "/api/v1/revocations", as: "auditor"}).decode(t, &page)
		final := map[int64]string{}
		for _, rv := range page.Revocations {
			final[rv.Serial] = rv.Status
		}
		want := map[int64]string{e.vouchers[0].Serial: "active", e.vouchers[1].Serial: "active", e.vouchers[2].Serial: "redeemed"}
		for serial, status := range want {
			if final[serial] != status {
				t.Fatalf("voucher %d ends %q in the feed, want %q: %+v", serial, final[serial], status, page)
			}
		}
		next := page.Next
		e.do(t, request{method: "GET", path: "/api/v1/revocations?since=" + itoa(next), as: "venue1"}).decode(t, &page)
		if len(page.Revocations) != 0 || page.Next != next {
			t.Fatalf("after the cursor: %+v", page)
		}
		e.do(t, request{method: "GET", path: "/api/v1/revocations?since=0&limit=1", as: "admin"}).decode(t, &page)
		if len(page.Revocations) != 2 || page.Next >= next {
			t.Fatalf("one event (the first basket of two vouchers): %+v", page)
		}
	})
}

// TestReversibleUntil: every answer about an accepted redemption says until
// when it may be reversed, received_at plus the service's window, and the
// reversal is accepted up to that instant and refused just after it.
func TestReversibleUntil(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		e.svc.ReversalWindow = 10 * time.Minute // not the default, which a hard-coded window would match
		received := e.Clock.T
		want := received.Add(10 * time.Minute).UTC()
		key := newKey()
		redeem := func(key string, items ...map[string]string) resultJSON {
			t.Helper()
			r := e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1",
				header: map[string]string{"Idempotency-Key": key}, json: map[string]any{"items": items}})
			r.expect(t, http.StatusCreated, "")
			var res resultJSON
			r.decode(t, &res)
			if !res.ReceivedAt.Equal(received) || res.ReversibleUntil == nil || !res.ReversibleUntil.Equal(want) {
				t.Fatalf("received %v, reversible until %v; want %v", res.ReceivedAt, res.ReversibleUntil, want)
			}
			return res
		}
		first := redeem(key, e.code(0))
		if replay := redeem(key, e.code(0)); replay.RedemptionID != first.RedemptionID {
			t.Fatalf("the replay is another redemption: %+v", replay)
		}
		second := redeem(newKey(), e.code(1))

		refused := e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": newKey()},
			json: map[string]any{"items": []map[string]string{e.code(0)}}}).expect(t, http.StatusUnprocessableEntity, "basket_rejected")
		if refused.Result == nil || refused.Result.ReversibleUntil != nil {
			t.Fatalf("a refused basket has nothing to reverse: %+v", refused.Result)
		}

		var got redemptionJSON
		e.do(t, request{method: "GET", path: "/api/v1/redemptions/" + itoa(first.RedemptionID), as: "venue1"}).decode(t, &got)
		if !got.ReversibleUntil.Equal(want) {
			t.Fatalf("detail: reversible until %v, want %v", got.ReversibleUntil, want)
		}
		var list struct{ Redemptions []redemptionJSON }
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1"}).decode(t, &list)
		if len(list.Redemptions) != 2 {
			t.Fatalf("%+v", list)
		}
		for _, r := range list.Redemptions {
			if !r.ReversibleUntil.Equal(want) {
				t.Fatalf("list: %d reversible until %v, want %v", r.ID, r.ReversibleUntil, want)
			}
		}

		e.Clock.T = want
		r := e.do(t, request{method: "POST", path: "/api/v1/redemptions/" + itoa(first.RedemptionID) + "/reversal", as: "venue1",
			json: map[string]string{"reason": "Chèque scanné par erreur"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &got)
		if got.Status != "reversed" || !got.ReversibleUntil.Equal(want) {
			t.Fatalf("at its last instant: %+v", got)
		}
		e.Clock.T = want.Add(time.Microsecond)
		e.do(t, request{method: "POST", path: "/api/v1/redemptions/" + itoa(second.RedemptionID) + "/reversal", as: "venue1",
			json: map[string]string{"reason": "Chèque scanné par erreur"}}).expect(t, http.StatusConflict, "reversal_window_closed")
	})
}

// TestRejectionReasons: every reason a voucher is refused for reaches the
// venue over HTTP with its code and a French message, from a check and from
// a basket, and a refused basket redeems nothing.
func TestRejectionReasons(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 3)
		e.redeem(t, "venue1", e.code(0)).expect(t, http.StatusCreated, "")

		strangeSigner, _ := voucher.NewSigner(9, ed25519.NewKeyFromSeed(make([]byte, 32)))
		strange, _ := strangeSigner.Sign(voucher.Voucher{Serial: 1, Department: "78", ValueCents: 1000, ValidFrom: 1, ValidUntil: 30000})
		active, err := e.Keys.Signer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := active.Sign(voucher.Voucher{Serial: 999_999, Department: "78", ValueCents: 1000, ValidFrom: 1, ValidUntil: 30000})
		// One character changed, always to a different valid one.
		tampered := []byte(e.vouchers[4].Code)
		if tampered[40] == 'A' {
			tampered[40] = 'B'
		} else {
			tampered[40] = 'A'
		}
		inactive, err := e.Issuing.Chequier(ctx, voucher.FormatChequierNumber("78", 2026, 10))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Issuing.Void(ctx, voucher.FormatChequierNumber("78", 2026, 3), "perdu", "test"); err != nil {
			t.Fatal(err)
		}
		req92 := issuingtest.Request("92", 1, 2)
		req92.RequiresActivation = false
		b92 := e.Issue(t, req92)
		pc92, err := e.Issuing.Chequier(ctx, b92.FirstChequier)
		if err != nil {
			t.Fatal(err)
		}
		later := issuingtest.Request("78", 1, 1)
		later.RequiresActivation = false
		later.ValidFrom = voucher.Today(e.Clock.T) + 10
		bLater := e.Issue(t, later)
		pcLater, err := e.Issuing.Chequier(ctx, bLater.FirstChequier)
		if err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name   string
			as     string
			in     map[string]string
			reason string
			text   string // a piece of the French message
		}{
			{"InvalidCode", "venue1", map[string]string{"code": "HELLO"}, "invalid_code", "n'est pas un chèque"},
			{"ActivationCodeScanned", "venue1", map[string]string{"code": inactive.ActivationCode}, "invalid_code", "n'est pas un chèque"},
			{"BadSignature", "venue1", map[string]string{"code": string(tampered)}, "bad_signature", "pas authentique"},
			{"UnknownKey", "venue1", map[string]string{"code": strange}, "unknown_key", "clé inconnue"},
			{"UnknownVoucher", "venue1", map[string]string{"code": forged}, "unknown_voucher", "n'existe pas dans le registre"},
			{"NotActivated", "venue1", map[string]string{"code": inactive.Vouchers[0].Code}, "not_activated", "pas encore été activé"},
			{"AlreadyRedeemedHere", "venue1", e.code(0), "already_redeemed", "dans votre structure"},
			{"AlreadyRedeemedElsewhere", "venue2", e.code(0), "already_redeemed", "dans une autre structure"},
			{"Voided", "venue1", e.code(25), "voided", "annulé"},
			{"WrongDepartment", "venue1", map[string]string{"code": pc92.Vouchers[0].Code}, "wrong_department", "département 92"},
			{"NotYetValid", "venue1", map[string]string{"code": pcLater.Vouchers[0].Code}, "not_yet_valid", "ne sera valable qu'à partir du"},
			{"WrongManualCode", "venue1", map[string]string{"number": e.vouchers[5].Number, "verification_code": "AAAA-AAAA"}, "invalid_code", "incorrect"},
			{"GarbageNumber", "venue1", map[string]string{"number": "'; DROP TABLE vouchers; --", "verification_code": "<script>"}, "invalid_code", "incorrect"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				v := e.check(t, c.as, c.in)
				if v.Accepted || v.Reason != c.reason || !strings.Contains(v.Message, c.text) {
					t.Fatalf("check: got %q %q, want %q with %q", v.Reason, v.Message, c.reason, c.text)
				}
				before := e.redemptions(t)
				r := e.redeem(t, c.as, e.code(6), c.in)
				er := r.expect(t, http.StatusUnprocessableEntity, "basket_rejected")
				res := er.Result
				if res == nil || res.Accepted || res.RedemptionID != 0 || len(res.Items) != 2 || !res.Items[0].Accepted ||
					res.Items[1].Reason != c.reason || !strings.Contains(res.Items[1].Message, c.text) ||
					!strings.Contains(er.Error.Message, "1 chèque sur 2") {
					t.Fatalf("basket: %s", r.body)
				}
				if !strings.Contains(res.Items[0].Message, "rien n'a été encaissé") {
					t.Fatalf("the good voucher of a refused basket says %q", res.Items[0].Message)
				}
				if after := e.redemptions(t); after != before {
					t.Fatalf("a refused basket was written: %d → %d redemptions", before, after)
				}
			})
		}
		if v := e.check(t, "venue1", e.code(6)); !v.Accepted {
			t.Fatalf("a voucher of a refused basket was spent: %s", v.Message)
		}
		t.Run("AlreadyRedeemedDetails", func(t *testing.T) {
			v := e.check(t, "venue1", e.code(0))
			if v.RedeemedAt == nil || !v.RedeemedAt.Equal(e.Clock.T) || v.ByThisVenue == nil || !*v.ByThisVenue || v.RedemptionID == 0 {
				t.Fatalf("%+v", v)
			}
		})
		t.Run("DuplicateInBasket", func(t *testing.T) {
			er := e.redeem(t, "venue1", e.code(6), e.code(6)).expect(t, http.StatusUnprocessableEntity, "basket_rejected")
			if er.Result == nil || er.Result.Items[1].Reason != "duplicate_in_basket" || !strings.Contains(er.Result.Items[1].Message, "déjà dans le panier") {
				t.Fatalf("%+v", er)
			}
		})
		t.Run("Expired", func(t *testing.T) {
			defer func(t0 time.Time) { e.Clock.T = t0 }(e.Clock.T)
			e.Clock.T = time.Date(2028, 1, 2, 9, 0, 0, 0, time.UTC)
			if v := e.check(t, "venue1", e.code(7)); v.Reason != "expired" || !strings.Contains(v.Message, "31/12/2027") {
				t.Fatalf("%+v", v)
			}
		})
		for _, c := range []struct {
			status       ledger.VenueStatus
			reason, text string
		}{
			{ledger.VenueSuspended, "venue_suspended", "suspendue"},
			{ledger.VenueUnlabelled, "venue_not_labelled", "pas labellisée"},
		} {
			t.Run(c.reason, func(t *testing.T) {
				db.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = '78'", e.venue2).Update("status", c.status)
				defer db.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = '78'", e.venue2).Update("status", ledger.VenueLabelled)
				if v := e.check(t, "venue2", e.code(8)); v.Reason != c.reason || !strings.Contains(v.Message, c.text) {
					t.Fatalf("%+v", v)
				}
				er := e.redeem(t, "venue2", e.code(8)).expect(t, http.StatusUnprocessableEntity, "basket_rejected")
				if er.Result == nil || er.Result.Items[0].Reason != c.reason {
					t.Fatalf("%+v", er)
				}
			})
		}
		t.Run("RateLimited", func(t *testing.T) {
			for range 10 {
				e.check(t, "venue2", map[string]string{"number": e.vouchers[9].Number, "verification_code": "ZZZZ-ZZZZ"})
			}
			v := e.check(t, "venue2", e.typed(9))
			if v.Reason != "rate_limited" || !strings.Contains(v.Message, "Trop de saisies incorrectes") {
				t.Fatalf("after 10 wrong entries: %+v", v)
			}
			er := e.redeem(t, "venue2", e.typed(9)).expect(t, http.StatusUnprocessableEntity, "basket_rejected")
			if er.Result == nil || er.Result.Items[0].Reason != "rate_limited" {
				t.Fatalf("%+v", er)
			}
			// Scanning still works, and another venue is not affected.
			if v := e.check(t, "venue2", e.code(9)); !v.Accepted {
				t.Fatalf("%+v", v)
			}
			if v := e.check(t, "venue1", e.typed(9)); !v.Accepted {
				t.Fatalf("%+v", v)
			}
		})
		t.Run("RevokedKey", func(t *testing.T) {
			if _, err := e.Keys.New(ctx, "test"); err != nil {
				t.Fatal(err)
			}
			if err := e.Keys.Revoke(ctx, int(active.KeyID()), "test"); err != nil {
				t.Fatal(err)
			}
			if v := e.check(t, "venue1", e.code(6)); v.Reason != "revoked_key" || !strings.Contains(v.Message, "clé retirée") {
				t.Fatalf("%+v", v)
			}
			var ks struct{ Keys []struct{ Status string } }
			e.do(t, request{method: "GET", path: "/api/v1/keys"}).decode(t, &ks)
			if len(ks.Keys) != 2 || ks.Keys[0].Status != "revoked" || ks.Keys[1].Status != "active" {
				t.Fatalf("%+v", ks)
			}
		})
	})
}

// TestExactlyOnce: 64 requests redeem the same voucher at once, each with
// its own idempotency key, from two venues. Exactly one is accepted; the
// others are told it was already redeemed; the ledger has one redemption.
func TestExactlyOnce(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		const n = 64
		replies := make([]response, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				as := "venue1"
				if i%2 == 1 {
					as = "venue2"
				}
				<-start
				replies[i] = e.redeem(t, as, e.code(0))
			})
		}
		close(start)
		wg.Wait()
		created, refused := 0, 0
		for _, r := range replies {
			switch r.status {
			case http.StatusCreated:
				created++
			case http.StatusUnprocessableEntity:
				var er errorJSON
				r.decode(t, &er)
				if er.Error.Code != "basket_rejected" || er.Result == nil || er.Result.Items[0].Reason != "already_redeemed" {
					t.Errorf("refused with %s", r.body)
				}
				refused++
			default:
				t.Errorf("%d %s", r.status, r.body)
			}
		}
		if created != 1 || refused != n-1 || e.redemptions(t) != 1 {
			t.Fatalf("%d × 201, %d × 422, %d redemptions; want 1, %d, 1", created, refused, e.redemptions(t), n-1)
		}
	})
}

func TestIdempotency(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		key := newKey()
		send := func(items ...map[string]string) response {
			return e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", json: basket(items...),
				header: map[string]string{"Idempotency-Key": key}})
		}
		first := send(e.code(0), e.code(1))
		first.expect(t, http.StatusCreated, "")
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a first answer is marked as replayed")
		}
		// The answer was lost: the retry gets it again, never "already redeemed by you".
		e.Clock.T = e.Clock.T.Add(time.Minute)
		again := send(e.code(0), e.code(1))
		if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
			again.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("retry: %d %s %v\nfirst: %d %s", again.status, again.body, again.header, first.status, first.body)
		}
		if e.redemptions(t) != 1 {
			t.Fatal("a retry redeemed again")
		}
		// The same key for another basket is a client bug, said so.
		send(e.code(2)).expect(t, http.StatusUnprocessableEntity, "idempotency_key_reused")

		// A refused basket's answer is final too, and replayed as such.
		key = newKey()
		refused := send(e.code(0))
		refused.expect(t, http.StatusUnprocessableEntity, "basket_rejected")
		replayed := send(e.code(0))
		if replayed.status != http.StatusUnprocessableEntity || !bytes.Equal(replayed.body, refused.body) || replayed.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay of a refusal: %d %s", replayed.status, replayed.body)
		}

		// The same instant written with another offset is the same basket.
		key = newKey()
		at := e.Clock.T.Add(-time.Minute)
		withOffset := func(loc *time.Location) response {
			return e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": key},
				json: map[string]any{"scanned_at": at.In(loc).Format(time.RFC3339), "items": []map[string]string{e.code(4)}}})
		}
		withOffset(time.FixedZone("CET", 3600)).expect(t, http.StatusCreated, "")
		if r := withOffset(time.UTC); r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the same instant in UTC under the same key: %d %s", r.status, r.body)
		}

		// The key is required, and must look like one.
		e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", json: basket(e.code(3)), offContract: true}).
			expect(t, http.StatusBadRequest, "invalid")
		for _, k := range []string{"short", strings.Repeat("k", 101), "clé-avec-accents"} {
			e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", json: basket(e.code(3)), offContract: true,
				header: map[string]string{"Idempotency-Key": k}}).expect(t, http.StatusBadRequest, "invalid")
		}
		if e.redemptions(t) != 2 {
			t.Fatal("a bad key redeemed")
		}
	})
}

// A device sends the revocation feed cursor it held when it scanned: with
// it, a scan time after its pairing is believed (the offline rule), and
// the same instant under another offset is a retry of the same basket.
func TestRedeemOfflineEvidence(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		paired := e.Clock.T
		e.Seal(t)
		var feed struct{ Next int64 }
		e.do(t, request{method: "GET", path: "/api/v1/revocations?since=0", as: "venue1"}).decode(t, &feed)
		e.Clock.T = paired.Add(2 * time.Hour)
		key := newKey()
		scanned := paired.Add(time.Hour)
		send := func(at string, cursor any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": key},
				json: map[string]any{"scanned_at": at, "revocation_cursor": cursor, "items": []map[string]string{e.code(0)}}})
		}
		r := send(scanned.In(time.FixedZone("CET", 3600)).Format(time.RFC3339), feed.Next)
		r.expect(t, http.StatusCreated, "")
		var res resultJSON
		r.decode(t, &res)
		if !res.ScannedAt.Equal(scanned) {
			t.Fatalf("scanned_at %v, want the scan time %v", res.ScannedAt, scanned)
		}
		again := send(scanned.UTC().Format(time.RFC3339), feed.Next)
		if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, r.body) {
			t.Fatalf("the same instant in UTC: %d %s", again.status, again.body)
		}
		send(scanned.UTC().Format(time.RFC3339), feed.Next+1).expect(t, http.StatusUnprocessableEntity, "idempotency_key_reused")

		// Before the device was paired: judged at receipt.
		key = newKey()
		r = e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": key},
			json: map[string]any{"scanned_at": paired.Add(-time.Hour).Format(time.RFC3339), "revocation_cursor": feed.Next, "items": []map[string]string{e.code(1)}}})
		r.expect(t, http.StatusCreated, "")
		r.decode(t, &res)
		if !res.ScannedAt.Equal(e.Clock.T) {
			t.Fatalf("scanned before pairing: scanned_at %v, want the receipt %v", res.ScannedAt, e.Clock.T)
		}
		// A day and more after its scan: accepted, and late in the figures.
		e.Clock.T = scanned.Add(25 * time.Hour)
		e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": newKey()},
			json: map[string]any{"scanned_at": scanned.Format(time.RFC3339), "revocation_cursor": feed.Next, "items": []map[string]string{e.code(3)}}}).
			expect(t, http.StatusCreated, "")
		var fig struct {
			Venues []struct {
				ID              int64 `json:"id"`
				LateRedemptions int64 `json:"late_redemptions"`
				LateCents       int64 `json:"late_cents"`
			}
			Warnings []string
		}
		e.do(t, request{method: "GET", path: "/api/v1/figures", as: "auditor"}).decode(t, &fig)
		if len(fig.Venues) != 1 || fig.Venues[0].LateRedemptions != 1 || fig.Venues[0].LateCents != 1000 || len(fig.Warnings) != 1 {
			t.Fatalf("figures %+v", fig)
		}

		e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"Idempotency-Key": newKey()}, offContract: true,
			json: map[string]any{"scanned_at": scanned.Format(time.RFC3339), "revocation_cursor": -1, "items": []map[string]string{e.code(2)}}}).
			expect(t, http.StatusBadRequest, "invalid")
	})
}
