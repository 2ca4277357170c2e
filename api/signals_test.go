package api_test

import (
	"net/http"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestSignalsRoute: a whole chéquier redeemed in one basket is a signal
// for the auditor and the Yvelines, none for the Hauts-de-Seine; a venue
// gets nothing; a period backwards is refused in French.
func TestSignalsRoute(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		var items []map[string]string
		for i := range 10 {
			items = append(items, e.code(i))
		}
		e.redeem(t, "venue1", items...).expect(t, http.StatusCreated, "")
		type answer struct {
			Signals []struct {
				Rule        string  `json:"rule"`
				VenueID     int64   `json:"venue_id"`
				VenueName   string  `json:"venue_name"`
				Evidence    string  `json:"evidence"`
				Redemptions []int64 `json:"redemptions"`
			} `json:"signals"`
		}
		for who, want := range map[string]int{"auditor": 1, "department": 1, "department92": 0} {
			var a answer
			e.do(t, request{method: "GET", path: "/api/v1/signals", as: who}).decode(t, &a)
			if len(a.Signals) != want {
				t.Fatalf("%s: %+v", who, a)
			}
			if want == 1 && (a.Signals[0].Rule != "whole_chequier" || a.Signals[0].VenueID != e.venue1 || !strings.Contains(a.Signals[0].Evidence, "Les 10 chèques")) {
				t.Errorf("%s: %+v", who, a.Signals[0])
			}
		}
		e.do(t, request{method: "GET", path: "/api/v1/signals", as: "venue1"}).expect(t, http.StatusForbidden, "forbidden")
		er := e.do(t, request{method: "GET", path: "/api/v1/signals?from=2026-11-30&to=2026-11-01", as: "auditor"}).expect(t, http.StatusBadRequest, "invalid")
		if !strings.Contains(er.Error.Message, "avant le premier") {
			t.Errorf("backwards: %q", er.Error.Message)
		}
	})
}
