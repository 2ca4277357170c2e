package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// venueEndpoints are the routes only a venue key may call, each with a
// request that is valid apart from its key.
func venueEndpoints(e *env) []request {
	items := basket(e.code(0))
	return []request{
		{method: "POST", path: "/api/v1/vouchers/check", json: e.code(0)},
		{method: "POST", path: "/api/v1/redemptions", json: items, header: map[string]string{"Idempotency-Key": newKey()}},
		{method: "GET", path: "/api/v1/redemptions"},
		{method: "GET", path: "/api/v1/redemptions/1"},
		{method: "POST", path: "/api/v1/redemptions/1/reversal", json: map[string]string{"reason": "erreur de saisie"}},
	}
}

func TestAuthentication(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		revoked, k, err := e.apikeys.Create(context.Background(), specVenue(e.venue1), "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.apikeys.Revoke(context.Background(), k.Prefix, "test"); err != nil {
			t.Fatal(err)
		}
		e.keys["revoked"] = revoked
		wrongSecret := e.keys["venue1"][:len(e.keys["venue1"])-4] + "aaaa"
		bad := map[string]string{
			"NoHeader":     "",
			"NotBearer":    "Basic " + e.keys["venue1"],
			"EmptyBearer":  "Bearer ",
			"NotAKey":      "Bearer hello",
			"WrongSecret":  "Bearer " + wrongSecret,
			"UnknownKey":   "Bearer pn_aaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
			"RevokedKey":   "Bearer " + revoked,
			"HugeKey":      "Bearer pn_" + strings.Repeat("a", 4000),
			"SQLInKey":     "Bearer pn_' OR '1'='1_x",
			"ScriptInKey":  "Bearer <script>alert(1)</script>",
			"SecretAsIs":   e.keys["venue1"],
			"TwoSchemes":   "Bearer Bearer " + e.keys["venue1"],
			"TabSeparated": "Bearer\t" + e.keys["venue1"],
		}
		for _, ep := range append(venueEndpoints(e), request{method: "GET", path: "/api/v1/revocations"}) {
			for name, auth := range bad {
				t.Run(name+strings.ReplaceAll(ep.path, "/", "_"), func(t *testing.T) {
					r := ep
					r.auth = auth
					res := e.do(t, r)
					res.expect(t, http.StatusUnauthorized, "unauthorized")
					if got := res.header.Get("WWW-Authenticate"); got != "Bearer" {
						t.Errorf("WWW-Authenticate %q", got)
					}
				})
			}
		}
		if n := e.redemptions(t); n != 0 {
			t.Fatalf("%d redemptions made without a valid key", n)
		}
		// "Bearer" is case-insensitive (RFC 9110).
		r := e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: "bearer " + e.keys["venue1"]})
		r.expect(t, http.StatusOK, "")
	})
}

func TestRoles(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		for _, role := range []string{"department", "auditor", "admin"} {
			for _, ep := range venueEndpoints(e) {
				t.Run(role+strings.ReplaceAll(ep.path, "/", "_"), func(t *testing.T) {
					ep.as = role
					e.do(t, ep).expect(t, http.StatusForbidden, "forbidden")
				})
			}
		}
		if n := e.redemptions(t); n != 0 {
			t.Fatalf("%d redemptions made by non-venue keys", n)
		}
		// The revocation feed is for venues' scanners, auditors and admins.
		for _, role := range []string{"venue1", "auditor", "admin"} {
			e.do(t, request{method: "GET", path: "/api/v1/revocations", as: role}).expect(t, http.StatusOK, "")
		}
		e.do(t, request{method: "GET", path: "/api/v1/revocations", as: "department"}).expect(t, http.StatusForbidden, "forbidden")
		// Public routes need no key, and ignore a bad one.
		for _, path := range []string{"/healthz", "/readyz", "/api/v1/keys", "/api/v1/openapi.yaml"} {
			e.do(t, request{method: "GET", path: path}).expect(t, http.StatusOK, "")
			e.do(t, request{method: "GET", path: path, auth: "Bearer nonsense"}).expect(t, http.StatusOK, "")
		}
	})
}

// TestVenueScope: a venue acts only as itself. It cannot see, list or
// reverse another venue's redemption, and nothing in a request can make it
// act for another venue.
func TestVenueScope(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		r := e.redeem(t, "venue1", e.code(0), e.code(1))
		r.expect(t, http.StatusCreated, "")
		var res resultJSON
		r.decode(t, &res)
		path := "/api/v1/redemptions/" + itoa(res.RedemptionID)

		e.do(t, request{method: "GET", path: path, as: "venue1"}).expect(t, http.StatusOK, "")
		e.do(t, request{method: "GET", path: path, as: "venue2"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "POST", path: path + "/reversal", as: "venue2", json: map[string]string{"reason": "erreur"}}).
			expect(t, http.StatusNotFound, "not_found")
		var list struct{ Redemptions []redemptionJSON }
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue2"}).decode(t, &list)
		if len(list.Redemptions) != 0 {
			t.Fatalf("venue 2 lists venue 1's redemptions: %+v", list)
		}
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1"}).decode(t, &list)
		if len(list.Redemptions) != 1 || list.Redemptions[0].ID != res.RedemptionID {
			t.Fatalf("venue 1 lists %+v", list)
		}
		// A venue_id in the body is an unknown field, not a way to act for
		// another venue.
		body := map[string]any{"venue_id": e.venue2, "items": []map[string]string{e.code(2)}}
		e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", json: body, offContract: true,
			header: map[string]string{"Idempotency-Key": newKey()}}).expect(t, http.StatusBadRequest, "invalid_json")
		// The redemption stays venue 1's.
		var stored ledger.Redemption
		if err := db.Read(context.Background()).Where("id = ?", res.RedemptionID).Take(&stored).Error; err != nil || stored.VenueID != e.venue1 {
			t.Fatalf("%+v %v", stored, err)
		}
		// The check of a voucher spent by venue 1 tells venue 2 it was spent
		// elsewhere, without naming venue 1's redemption.
		v := e.check(t, "venue2", e.code(0))
		if v.Reason != "already_redeemed" || v.ByThisVenue == nil || *v.ByThisVenue || v.RedemptionID != 0 {
			t.Fatalf("%+v", v)
		}
		v = e.check(t, "venue1", e.code(0))
		if v.ByThisVenue == nil || !*v.ByThisVenue || v.RedemptionID != res.RedemptionID {
			t.Fatalf("%+v", v)
		}
	})
}
