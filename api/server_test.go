package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/api"
	"passnum/apikeys"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
	"passnum/voucher"
)

func TestHealth(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	for _, path := range []string{"/healthz", "/readyz"} {
		var got struct{ Status string }
		e.do(t, request{method: "GET", path: path}).decode(t, &got)
		if got.Status != "ok" {
			t.Fatalf("%s: %+v", path, got)
		}
	}

	// A database whose schema is behind the binary: alive, not ready.
	ctx := context.Background()
	behind, err := ledger.Open(ctx, ledgertest.URL(t, ledger.SQLite))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { behind.Close() })
	e = e.serving(t, api.New(e.services(behind),
		api.Config{Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), PublicURL: "https://passnum.example.fr"}))
	e.do(t, request{method: "GET", path: "/healthz"}).expect(t, http.StatusOK, "")
	e.do(t, request{method: "GET", path: "/readyz", allow5xx: true}).expect(t, http.StatusServiceUnavailable, "not_ready")

	// A database that is gone.
	behind.Close()
	e.do(t, request{method: "GET", path: "/healthz"}).expect(t, http.StatusOK, "")
	e.do(t, request{method: "GET", path: "/readyz", allow5xx: true}).expect(t, http.StatusServiceUnavailable, "not_ready")
	if !strings.Contains(e.logs.String(), "run 'passnum migrate'") {
		t.Fatal("the cause of not_ready is not in the log")
	}
}

// TestPublicKeys: what the API serves is enough to verify a voucher offline.
func TestPublicKeys(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 1)
	r := e.do(t, request{method: "GET", path: "/api/v1/keys"})
	r.expect(t, http.StatusOK, "")
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Fatalf("Cache-Control %q", cc)
	}
	ks := voucher.NewKeySet()
	if err := json.Unmarshal(r.body, ks); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if len(ks.Keys()) != 1 || ks.Keys()[0].Status != voucher.KeyActive {
		t.Fatalf("%s", r.body)
	}
	d, err := ks.Verify(e.vouchers[0].Code)
	if err != nil {
		t.Fatalf("verify with the served keys: %v", err)
	}
	if v, ok := d.Payload.(voucher.Voucher); !ok || int64(v.Serial) != e.vouchers[0].Serial {
		t.Fatalf("%+v", d.Payload)
	}
}

// TestPublicKeysRevokedSerials: a revoked key comes with the serials it
// signed, its batch's range and a replacement's own serial, on both
// databases; other keys with none.
func TestPublicKeysRevokedSerials(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1) // key 1: batch of serials 1 to 200
		repl := e.ReplaceUnderNewKey(t, e.vouchers[1].Number)
		for _, id := range []int{1, 2} {
			if err := e.Keys.Revoke(ctx, id, "test"); err != nil {
				t.Fatal(err)
			}
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/keys"})
		r.expect(t, http.StatusOK, "")
		var got struct {
			Keys []struct {
				ID      int
				Status  string
				Serials [][2]int64
			}
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("1 revoked [[1 200]]; 2 revoked [[%d %d]]; 3 active []; ", repl.Serial, repl.Serial)
		var b strings.Builder
		for _, k := range got.Keys {
			fmt.Fprintf(&b, "%d %s %v; ", k.ID, k.Status, k.Serials)
		}
		if b.String() != want {
			t.Fatalf("keys %s, want %s\n%s", b.String(), want, r.body)
		}
	})
}

// TestLogs: one access line per request with its id, route, status,
// duration and the key's prefix (never its secret); refusals at warn.
func TestLogs(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 1)
	r := e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1", header: map[string]string{"X-Request-Id": "tablette-42.req_1"}})
	if id := r.header.Get("X-Request-Id"); id != "tablette-42.req_1" {
		t.Fatalf("the client's request id is not echoed: %q", id)
	}
	e.do(t, request{method: "GET", path: "/api/v1/redemptions/999", as: "venue1", header: map[string]string{"X-Request-Id": "req-404"}})
	r = e.do(t, request{method: "GET", path: "/api/v1/keys", header: map[string]string{"X-Request-Id": strings.Repeat("x", 65)}})
	if id := r.header.Get("X-Request-Id"); len(id) != 24 {
		t.Fatalf("an over-long request id is not replaced: %q", id)
	}
	prefix, _, _ := strings.Cut(strings.TrimPrefix(e.keys["venue1"], "pn_"), "_")
	var access, warn map[string]any
	for _, l := range e.logLines(t) {
		switch {
		case l["request_id"] == "tablette-42.req_1" && l["msg"] == "request":
			access = l
		case l["request_id"] == "req-404" && l["level"] == "WARN":
			warn = l
		}
	}
	if access == nil || access["method"] != "GET" || access["path"] != "/api/v1/redemptions" || access["status"] != 200.0 ||
		access["principal"] != "apikey:pn_"+prefix || access["role"] != "venue" || access["duration"] == nil || access["level"] != "INFO" {
		t.Fatalf("access line: %v", access)
	}
	if warn == nil || warn["code"] != "not_found" || warn["status"] != 404.0 {
		t.Fatalf("warn line: %v", warn)
	}
}

// TestPanic: a panic is a 500 in the same envelope, with the stack in the
// log only, and the server goes on.
func TestPanic(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	e.handler.(*echo.Echo).GET("/test/panic", func(echo.Context) error { panic("boum: secret detail") })
	r := e.do(t, request{method: "GET", path: "/test/panic", unrouted: true, offContract: true, allow5xx: true,
		header: map[string]string{"X-Request-Id": "req-panic"}})
	er := r.expect(t, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "boum") || !strings.Contains(er.Error.Message, "req-panic") {
		t.Fatalf("%s", r.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "boum: secret detail") || !strings.Contains(logs, "goroutine") || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("the panic is not logged with its stack:\n%s", logs)
	}
	e.do(t, request{method: "GET", path: "/healthz"}).expect(t, http.StatusOK, "")
}

// TestStatuses: the one map from kind to status, with the headers that go
// with some; anything unexpected is a 500 that tells nothing. (Each code's
// status is pinned by TestEveryCodeKeepsItsStatus.)
func TestStatuses(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	e.handler.(*echo.Echo).GET("/test/error/:code", func(c echo.Context) error {
		switch code := c.Param("code"); code {
		case "plain":
			return errors.New("dial tcp 10.0.0.1:5432: connection refused")
		case "wrapped":
			return fmt.Errorf("redeem: %w", passnum.Errorf(passnum.KindConflict, redemption.EAlreadyReversed, "Cet encaissement a déjà été annulé."))
		case "some_new_kind":
			return passnum.Errorf("some_new_kind", code, "Message pour l'utilisateur.")
		case redemption.EInProgress:
			err := passnum.Errorf(passnum.KindConflict, code, "Message pour l'utilisateur.")
			err.RetryAfter = 2 * time.Second
			return err
		default:
			kind, code, _ := strings.Cut(code, ".")
			return passnum.Errorf(passnum.Kind(kind), code, "Message pour l'utilisateur.")
		}
	})
	cases := []struct {
		code       string
		status     int
		wantCode   string
		header     string
		headerWant string
	}{
		{"invalid.invalid", 400, passnum.EInvalid, "", ""},
		{"unauthorized.unauthorized", 401, passnum.EUnauthorized, "WWW-Authenticate", "Bearer"},
		{"forbidden.pairing_refused", 403, apikeys.EPairingRefused, "", ""},
		{"not_found.not_found", 404, passnum.ENotFound, "", ""},
		{"conflict.conflict", 409, passnum.EConflict, "", ""},
		{redemption.EInProgress, 409, redemption.EInProgress, "Retry-After", "2"},
		{"conflict.chequier_voided", 409, "chequier_voided", "", ""},
		{"rejected.basket_rejected", 422, redemption.EBasketRejected, "", ""},
		{"rate_limited.rate_limited", 429, redemption.ReasonRateLimited, "Retry-After", "60"},
		{"unavailable.not_ready", 503, "not_ready", "Retry-After", "5"},
		{"internal.internal", 500, passnum.EInternal, "", ""},
		{"some_new_kind", 500, passnum.EInternal, "", ""},
		{"plain", 500, passnum.EInternal, "", ""},
		{"wrapped", 409, redemption.EAlreadyReversed, "", ""},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			res, err := e.srv.Client().Get(e.srv.URL + "/test/error/" + c.code)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var er errorJSON
			if err := json.Unmarshal(body, &er); err != nil || res.StatusCode != c.status || er.Error.Code != c.wantCode {
				t.Fatalf("%d %s, want %d %s", res.StatusCode, body, c.status, c.wantCode)
			}
			if c.header != "" && res.Header.Get(c.header) != c.headerWant {
				t.Fatalf("%s: %q", c.header, res.Header.Get(c.header))
			}
			if c.status == 500 && (strings.Contains(string(body), "10.0.0.1") || strings.Contains(string(body), "Message pour")) {
				t.Fatalf("internals reach the client: %s", body)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("an error may be cached")
			}
		})
	}
	if !strings.Contains(e.logs.String(), "add it to api.statuses") || !strings.Contains(e.logs.String(), "10.0.0.1:5432") {
		t.Fatal("unexpected errors are not logged with their cause")
	}
}

// TestRequestInProgress: a retry while the first request holds its key is
// told to wait, with Retry-After. (redemption's TestRepeatWhileRunning makes
// the first request really run; here the key's row is set as it looks then.)
func TestRequestInProgress(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		key := newKey()
		send := func() response {
			return e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1",
				json: basket(map[string]string{"code": "NOTAVOUCHER"}), header: map[string]string{"Idempotency-Key": key}})
		}
		send().expect(t, http.StatusUnprocessableEntity, "basket_rejected")
		// Put the key back as the first request holds it while it runs.
		err := db.Read(context.Background()).Model(&ledger.IdempotencyKey{}).Where("key = ?", key).
			Updates(map[string]any{"state": "in_progress", "response": nil, "updated_at": e.Clock.T}).Error
		if err != nil {
			t.Fatal(err)
		}
		r := send()
		r.expect(t, http.StatusConflict, "request_in_progress")
		if r.header.Get("Retry-After") != "2" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})
}

// serving is a copy of the env whose server runs another handler.
func (e *env) serving(t *testing.T, h http.Handler) *env {
	c := *e
	c.handler, c.srv = h, httptest.NewServer(h)
	t.Cleanup(c.srv.Close)
	return &c
}
