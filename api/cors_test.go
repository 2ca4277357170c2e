package api_test

import (
	"net/http"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// No other site's page may call the API from a browser: passnum answers no
// preflight and grants no origin, so the browser refuses to send a request
// with a key, or to let the page read any answer, public ones included.
func TestCORSIsClosed(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		for _, c := range []struct{ method, path string }{
			{"POST", "/api/v1/redemptions"},
			{"POST", "/api/v1/vouchers/check"},
			{"GET", "/api/v1/keys"},
			{"POST", "/api/v1/pairing"},
			{"POST", "/session"},
			{"GET", "/api/v1/ledger/export"},
		} {
			pre, _ := http.NewRequest("OPTIONS", e.srv.URL+c.path, nil)
			pre.Header.Set("Origin", "https://pirate.example")
			pre.Header.Set("Access-Control-Request-Method", c.method)
			pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
			res, err := http.DefaultClient.Do(pre)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			// Echo answers OPTIONS itself (204 with Allow); without an
			// Access-Control-Allow-Origin the browser takes it as a refusal.
			noCORS(t, "preflight of "+c.method+" "+c.path, res.Header)
		}
		// A request a page may send without a preflight: answered, but the
		// browser keeps the answer from the page.
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/keys", nil)
		req.Header.Set("Origin", "https://pirate.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		noCORS(t, "GET /api/v1/keys from another origin", res.Header)
	})
}

func noCORS(t *testing.T, what string, h http.Header) {
	t.Helper()
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			t.Errorf("%s: answered %s: %q", what, name, h.Get(name))
		}
	}
}
