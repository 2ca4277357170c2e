package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"passnum/api"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestBadInput: no input yields a 500 or a write. Each request is refused
// with the status and code that fit, and afterwards the database has no
// redemption and the voucher used everywhere is still redeemable.
func TestBadInput(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		good := e.vouchers[0].Code
		thousand := make([]map[string]string, 1000)
		for i := range thousand {
			thousand[i] = map[string]string{"number": fmt.Sprintf("%011d", i), "verification_code": "ABCD-EFGH"}
		}
		huge := `{"items":[{"code":"` + strings.Repeat("A", api.DefaultBodyLimit) + `"}]}`
		redeem := func(body string) request {
			return request{method: "POST", path: "/api/v1/redemptions", as: "venue1", body: raw(body), offContract: true,
				header: map[string]string{"Idempotency-Key": newKey()}}
		}
		check := func(body string) request {
			return request{method: "POST", path: "/api/v1/vouchers/check", as: "venue1", body: raw(body), offContract: true}
		}
		with := func(r request, f func(*request)) request { f(&r); return r }
		validBasket := `{"items":[{"code":"` + good + `"}]}`

		cases := []struct {
			name   string
			req    request
			status int
			code   string
			text   string // a piece of the French message
		}{
			{"MalformedJSON", redeem(`{"items":[{"code":"` + good + `"}`), 400, "invalid_json", "incomplet"},
			{"SyntaxError", redeem(`{"items":[{"code":` + good + `}]}`), 400, "invalid_json", "mal formé"},
			{"EmptyBody", redeem(``), 400, "invalid_json", "vide"},
			{"NullBody", redeem(`null`), 400, "invalid", "vide"},
			{"ArrayBody", redeem(`[` + validBasket + `]`), 400, "invalid_json", "doit être un objet"},
			{"UnknownField", redeem(`{"items":[{"code":"` + good + `"}],"venue":2}`), 400, "invalid_json", "Champ inconnu « venue »"},
			{"UnknownNestedField", redeem(`{"items":[{"code":"` + good + `","value_cents":1}]}`), 400, "invalid_json", "Champ inconnu « value_cents »"},
			{"CaseVariantField", redeem(`{"Items":[{"code":"` + good + `"}],"items":[]}`), 400, "invalid", "vide"},
			{"ScriptFieldName", redeem(`{"<script>alert(1)</script>":1}`), 400, "invalid_json", "Champ inconnu"},
			{"TrailingData", redeem(validBasket + `{}`), 400, "invalid_json", "après l'objet"},
			{"TrailingGarbage", redeem(validBasket + `xyz`), 400, "invalid_json", "après l'objet"},
			{"WrongType", redeem(`{"items":"` + good + `"}`), 400, "invalid_json", "« items » doit être une liste"},
			{"WrongItemType", redeem(`{"items":[42]}`), 400, "invalid_json", "doit être un objet"},
			{"NumberAsCode", check(`{"code":42}`), 400, "invalid_json", "« code » doit être une chaîne"},
			{"EmptyBasket", redeem(`{"items":[]}`), 400, "invalid", "panier est vide"},
			{"NoItems", redeem(`{}`), 400, "invalid", "panier est vide"},
			{"EmptyItem", redeem(`{"items":[{}]}`), 400, "invalid", "Donnez le code"},
			{"BothInputs", redeem(`{"items":[{"code":"` + good + `","number":"1","verification_code":"A"}]}`), 400, "invalid", "pas les deux"},
			{"ThousandVouchers", with(redeem(""), func(r *request) { r.body, r.json = nil, basket(thousand...) }), 400, "invalid", "au plus 100"},
			{"CodeTooLong", check(`{"code":"` + strings.Repeat("A", 600) + `"}`), 400, "invalid", "trop long"},
			{"ScannedAtNotATime", redeem(`{"scanned_at":"hier","items":[{"code":"` + good + `"}]}`), 400, "invalid", "RFC 3339"},
			{"ScannedAtFuture", redeem(`{"scanned_at":"2030-01-01T00:00:00Z","items":[{"code":"` + good + `"}]}`), 400, "invalid", "futur"},
			{"ScannedAtTooOld", redeem(`{"scanned_at":"2020-01-01T00:00:00Z","items":[{"code":"` + good + `"}]}`), 400, "invalid", "30 jours"},
			{"SessionTooLong", redeem(`{"session":"` + strings.Repeat("é", 201) + `","items":[{"code":"` + good + `"}]}`), 400, "invalid", "séance"},
			{"NULInSession", redeem(`{"session":"a\u0000b","items":[{"code":"` + good + `"}]}`), 400, "invalid", "Le nom de la séance fait au plus 200 caractères, sans caractère de contrôle."},
			{"NULInCode", check(`{"code":"` + good + `\u0000"}`), 400, "invalid", "« code »"},
			{"NULInNumber", redeem(`{"items":[{"number":"0\u0000","verification_code":"x"}]}`), 400, "invalid", "« items[0].number »"},
			{"NULInReason", with(check(`{"reason":"a\u0000"}`), func(r *request) { r.path = "/api/v1/redemptions/1/reversal" }), 400, "invalid", "Le motif de l'annulation fait de 1 à 200 caractères, sans caractère de contrôle."},
			{"ReasonWrongField", with(check(`{"motif":"erreur"}`), func(r *request) { r.path = "/api/v1/redemptions/1/reversal" }), 400, "invalid_json", "« motif »"},
			{"NoContentType", with(redeem(validBasket), func(r *request) { r.contentType = "-" }), 415, "unsupported_media_type", "application/json"},
			{"TextPlain", with(redeem(validBasket), func(r *request) { r.contentType = "text/plain" }), 415, "unsupported_media_type", "application/json"},
			{"FormEncoded", with(check("code="+good), func(r *request) { r.contentType = "application/x-www-form-urlencoded" }), 415, "unsupported_media_type", ""},
			{"Latin1", with(redeem(validBasket), func(r *request) { r.contentType = "application/json; charset=latin1" }), 415, "unsupported_media_type", ""},
			{"BadMediaType", with(redeem(validBasket), func(r *request) { r.contentType = "application/json; ;;" }), 415, "unsupported_media_type", ""},
			{"TooLarge", redeem(huge), 413, "body_too_large", "64 Kio"},
			{"TooLargeChunked", with(redeem(huge), func(r *request) { r.chunked = true }), 413, "body_too_large", "64 Kio"},
			{"TooLargeCheck", check(`{"code":"` + strings.Repeat("A", 70_000) + `"}`), 413, "body_too_large", ""},
			{"ControlCharsInKey", with(redeem(validBasket), func(r *request) { r.header["Idempotency-Key"] = "abc\tdefghijk" }), 400, "invalid", "idempotence"},
			{"BadIDWord", request{method: "GET", path: "/api/v1/redemptions/abc", as: "venue1", offContract: true}, 400, "invalid", "entier positif"},
			{"BadIDZero", request{method: "GET", path: "/api/v1/redemptions/0", as: "venue1", offContract: true}, 400, "invalid", "entier positif"},
			{"BadIDNegative", request{method: "GET", path: "/api/v1/redemptions/-1", as: "venue1", offContract: true}, 400, "invalid", "entier positif"},
			{"BadIDHuge", request{method: "GET", path: "/api/v1/redemptions/99999999999999999999999", as: "venue1", offContract: true}, 400, "invalid", "entier positif"},
			{"BadIDSQL", request{method: "GET", path: "/api/v1/redemptions/1%20OR%201=1", as: "venue1", offContract: true}, 400, "invalid", "entier positif"},
			{"BadIDReversal", with(check(`{"reason":"x"}`), func(r *request) { r.path = "/api/v1/redemptions/1;DROP/reversal" }), 400, "invalid", "entier positif"},
			{"FromNotATime", listQuery("venue1", url.Values{"from": {"yesterday"}}), 400, "invalid", "RFC 3339"},
			{"FromUnencodedPlus", request{method: "GET", path: "/api/v1/redemptions?from=2026-11-26T10:00:00+01:00", as: "venue1", offContract: true}, 400, "invalid", "%2B"},
			{"ToNotATime", listQuery("venue1", url.Values{"to": {"<script>"}}), 400, "invalid", "RFC 3339"},
			{"FromAfterTo", listQuery("venue1", url.Values{"from": {"2026-11-26T10:00:00Z"}, "to": {"2026-11-25T10:00:00Z"}}), 400, "invalid", "avant"},
			{"RangeTooLong", listQuery("venue1", url.Values{"from": {"2025-01-01T00:00:00Z"}, "to": {"2026-11-26T10:00:00Z"}}), 400, "invalid", "366 jours"},
			{"FromTwice", listQuery("venue1", url.Values{"from": {"2026-11-25T10:00:00Z", "2026-11-24T10:00:00Z"}}), 400, "invalid", "plusieurs fois"},
			{"SinceNegative", revocationsQuery(url.Values{"since": {"-1"}}), 400, "invalid", "« since »"},
			{"SinceWord", revocationsQuery(url.Values{"since": {"' OR 1=1 --"}}), 400, "invalid", "« since »"},
			{"SinceHuge", revocationsQuery(url.Values{"since": {"99999999999999999999"}}), 400, "invalid", "« since »"},
			{"LimitZero", revocationsQuery(url.Values{"limit": {"0"}}), 400, "invalid", "« limit »"},
			{"LimitTooBig", revocationsQuery(url.Values{"limit": {"5001"}}), 400, "invalid", "« limit »"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				er := e.do(t, c.req).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
			})
		}

		// SQL and markup in every string field and header: refused as a
		// voucher, never an error, never a write.
		for _, s := range []string{`'; DROP TABLE vouchers; --`, `" OR ""="`, `<script>alert("x")</script>`, `\x00`, `%00`, `../../etc/passwd`, `${jndi:ldap://x}`, "é\u202etxt"} {
			t.Run("Hostile"+url.PathEscape(s), func(t *testing.T) {
				key := newKey()
				if printableASCII(s) {
					key += s // hostile, but a valid key: stored as data, never run
				}
				r := e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", offContract: true,
					header: map[string]string{"Idempotency-Key": key, "X-Request-Id": s, "User-Agent": s},
					json:   map[string]any{"session": s, "items": []map[string]string{{"code": s}, {"number": s, "verification_code": s}}}})
				er := r.expect(t, http.StatusUnprocessableEntity, "basket_rejected")
				if er.Result == nil || er.Result.Items[0].Reason != "invalid_code" || er.Result.Items[1].Reason != "invalid_code" {
					t.Errorf("%s", r.body)
				}
				if id := r.header.Get("X-Request-Id"); id == s {
					t.Errorf("a hostile request id was echoed: %q", id)
				}
				if strings.Contains(string(r.body), "<script") {
					t.Errorf("markup echoed unescaped: %s", r.body)
				}
				v := e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "venue1", json: map[string]string{"code": s}, offContract: true})
				v.expect(t, http.StatusOK, "")
				e.do(t, request{method: "POST", path: "/api/v1/redemptions/1/reversal", as: "venue1", json: map[string]string{"reason": s}}).
					expect(t, http.StatusNotFound, "not_found")
				e.do(t, listQuery("venue1", url.Values{"from": {s}, "to": {s}})).expect(t, http.StatusBadRequest, "invalid")
				e.do(t, revocationsQuery(url.Values{"since": {s}, "limit": {s}})).expect(t, http.StatusBadRequest, "invalid")
			})
		}

		if n := e.redemptions(t); n != 0 {
			t.Fatalf("bad input wrote %d redemptions", n)
		}
		if v := e.check(t, "venue1", e.code(0)); !v.Accepted {
			t.Fatalf("bad input spent the voucher: %+v", v)
		}
		// And the server still works.
		e.redeem(t, "venue1", e.code(0)).expect(t, http.StatusCreated, "")
	})
}

func listQuery(as string, q url.Values) request {
	return request{method: "GET", path: "/api/v1/redemptions?" + q.Encode(), as: as, offContract: true}
}

func revocationsQuery(q url.Values) request {
	return request{method: "GET", path: "/api/v1/revocations?" + q.Encode(), as: "auditor", offContract: true}
}

// TestBodyLimit: the limit is the configured one, and a request under it
// passes.
func TestBodyLimit(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 1, func(c *api.Config) { c.BodyLimit = 200 })
	er := e.redeem(t, "venue1", e.code(0), e.code(1)).expect(t, http.StatusRequestEntityTooLarge, "body_too_large")
	if !strings.Contains(er.Error.Message, "200 octets") {
		t.Fatal(er.Error.Message)
	}
	e.redeem(t, "venue1", e.code(0)).expect(t, http.StatusCreated, "")
}

// TestEchoErrors: Echo's own refusals (no such route, wrong method) come
// in the same envelope as ours.
func TestEchoErrors(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	for _, path := range []string{"/api/v1/nothing", "/api/v2/keys", "/api/v1/keys/", "/api/v1/redemptions/1/items", "/%3Cscript%3E"} {
		r := e.do(t, request{method: "GET", path: path, as: "venue1", offContract: true, unrouted: true})
		er := r.expect(t, http.StatusNotFound, "not_found")
		if !strings.Contains(er.Error.Message, "openapi.yaml") {
			t.Errorf("%s: %q", path, er.Error.Message)
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/redemptions/1", "GET"},
		{"PUT", "/api/v1/vouchers/check", "POST"},
		{"POST", "/api/v1/keys", "GET"},
		{"PATCH", "/healthz", "GET"},
	} {
		r := e.do(t, request{method: c.method, path: c.path, as: "venue1", offContract: true, unrouted: true})
		r.expect(t, http.StatusMethodNotAllowed, "method_not_allowed")
		if !strings.Contains(r.header.Get("Allow"), c.allow) {
			t.Errorf("%s %s: Allow %q", c.method, c.path, r.header.Get("Allow"))
		}
	}
	if n := e.redemptions(t); n != 0 {
		t.Fatal(n)
	}
}

func printableASCII(s string) bool {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return false
		}
	}
	return true
}
