package api_test

import (
	"net/http"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestPairingFlow pairs a device over HTTP as a venue would: an admin makes
// a code, the device exchanges it for its own key and uses it, rolls it and
// finally unpairs.
func TestPairingFlow(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		create := request{method: "POST", path: "/api/v1/pairings", json: map[string]any{"venue_id": e.venue1, "name": "tablette accueil"}}
		for _, who := range []string{"venue1", "department", "auditor"} {
			c := create
			c.as = who
			e.do(t, c).expect(t, http.StatusForbidden, "forbidden")
		}
		create.as = "admin"
		r := e.do(t, create)
		if r.status != http.StatusCreated {
			t.Fatalf("create pairing: %d %s", r.status, r.body)
		}
		var pairing struct {
			Code string `json:"code"`
		}
		r.decode(t, &pairing)

		pair := request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": pairing.Code}}
		r = e.do(t, pair)
		if r.status != http.StatusCreated {
			t.Fatalf("pair: %d %s", r.status, r.body)
		}
		var key struct {
			Key   string `json:"key"`
			Role  string `json:"role"`
			Venue struct {
				ID int64 `json:"id"`
			} `json:"venue"`
		}
		r.decode(t, &key)
		if key.Role != "venue" || key.Venue.ID != e.venue1 {
			t.Fatalf("paired key: %+v", key)
		}
		e.do(t, pair).expect(t, http.StatusForbidden, "pairing_refused")
		e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": e.vouchers[0].Code}}).
			expect(t, http.StatusForbidden, "pairing_refused")

		// The device's key works as its venue's.
		e.keys["device"] = key.Key
		if v := e.check(t, "device", e.code(0)); !v.Accepted {
			t.Fatalf("the paired device cannot check: %+v", v)
		}
		r = e.do(t, request{method: "POST", path: "/api/v1/apikey/roll", as: "device"})
		if r.status != http.StatusCreated {
			t.Fatalf("roll: %d %s", r.status, r.body)
		}
		var rolled struct {
			Key string `json:"key"`
		}
		r.decode(t, &rolled)
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "device", json: e.code(0)}).expect(t, http.StatusUnauthorized, "unauthorized")
		e.keys["device"] = rolled.Key
		if v := e.check(t, "device", e.code(0)); !v.Accepted {
			t.Fatalf("the rolled key cannot check: %+v", v)
		}
		if r := e.do(t, request{method: "DELETE", path: "/api/v1/apikey", as: "device"}); r.status != http.StatusNoContent {
			t.Fatalf("unpair: %d %s", r.status, r.body)
		}
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "device", json: e.code(0)}).expect(t, http.StatusUnauthorized, "unauthorized")
	})
}
