package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"passnum/api"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// browser is a client of the pages: it logs in with a key, then sends its
// session cookie (and, for changes, the CSRF token) as a page's script does.
type browser struct {
	e      *env
	cookie *http.Cookie // as the server set it
	csrf   string
	header map[string]string // sent with every request (X-Forwarded-Proto…)
}

type sessionJSON struct {
	Role       string    `json:"role"`
	Department string    `json:"department"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Home       string    `json:"home"`
	ExpiresAt  time.Time `json:"expires_at"`
	CSRFToken  string    `json:"csrf_token"`
}

// send makes a request outside the OpenAPI document (the session routes
// and the pages); redirects are not followed, so that tests see them.
func (b *browser) send(t testing.TB, method, path string, body any, header map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.cookie != nil {
		req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	for k, v := range b.header {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := *b.e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s %s: no nosniff", method, path)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// login opens a session with the key of role, or fails the test.
func (e *env) login(t testing.TB, role string, header map[string]string) (*browser, sessionJSON) {
	t.Helper()
	b := &browser{e: e, header: header}
	r := b.send(t, "POST", "/session", map[string]string{"key": e.keys[role]}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("login as %s: %d %s", role, r.status, r.body)
	}
	var s sessionJSON
	r.decode(t, &s)
	cookies := (&http.Response{Header: r.header}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	b.cookie, b.csrf = cookies[0], s.CSRFToken
	return b, s
}

// api calls the JSON API with the session, through env.do, so that the
// request and the answer are still checked against the OpenAPI document.
func (b *browser) api(t testing.TB, method, path string, body any, csrf string) response {
	t.Helper()
	h := map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value}
	for k, v := range b.header {
		h[k] = v
	}
	if csrf != "" {
		h["X-CSRF-Token"] = csrf
	}
	return b.e.do(t, request{method: method, path: path, json: body, header: h})
}

func TestSessionLogin(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	t.Run("CookieOverHTTP", func(t *testing.T) {
		b, s := e.login(t, "department", nil)
		c := b.cookie
		if c.Name != "passnum_session" || !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %+v: want passnum_session, HttpOnly, SameSite=Strict, Path=/, host only", c)
		}
		if c.MaxAge != 8*3600 || !s.ExpiresAt.Equal(e.Clock.T.Add(8*time.Hour)) {
			t.Errorf("Max-Age %d, expires %v: want 8 hours from %v", c.MaxAge, s.ExpiresAt, e.Clock.T)
		}
		if s.Role != "department" || s.Department != "78" || s.Home != "/departement/" || s.Name != "CCAS de Trappes" || len(s.CSRFToken) < 40 {
			t.Errorf("session %+v", s)
		}
		// The key is not in the cookie, and the database holds only a hash.
		if strings.Contains(c.Value, "pn_") || len(c.Value) < 40 {
			t.Errorf("cookie value %q", c.Value)
		}
		var rows []ledger.WebSession
		if err := e.DB.Read(context.Background()).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(c.Value))
		if len(rows) != 1 || !bytes.Equal(rows[0].TokenHash, sum[:]) {
			t.Errorf("web_sessions %+v: want one row holding the cookie's SHA-256", rows)
		}
	})
	t.Run("CookieBehindTLSProxy", func(t *testing.T) {
		b, _ := e.login(t, "auditor", map[string]string{"X-Forwarded-Proto": "https"})
		if c := b.cookie; c.Name != "__Host-passnum_session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
			t.Errorf("cookie %+v: want a Secure __Host- cookie", c)
		}
		// The plain-HTTP name is not read over HTTPS (a sibling subdomain
		// could plant it).
		if r := b.send(t, "GET", "/session", nil, nil); r.status != http.StatusOK {
			t.Errorf("the __Host- cookie over HTTPS: %d", r.status)
		}
		plain := &browser{e: e, cookie: &http.Cookie{Name: "passnum_session", Value: b.cookie.Value}}
		if r := plain.send(t, "GET", "/session", nil, map[string]string{"X-Forwarded-Proto": "https"}); r.status != http.StatusUnauthorized {
			t.Errorf("a plain cookie over HTTPS: %d", r.status)
		}
	})
	t.Run("VenueKeyRefused", func(t *testing.T) {
		before := e.count(t, &ledger.WebSession{})
		b := &browser{e: e}
		r := b.send(t, "POST", "/session", map[string]string{"key": e.keys["venue1"]}, nil)
		r.expect(t, http.StatusForbidden, "forbidden")
		if !strings.Contains(string(r.body), "scanner") || r.header.Get("Set-Cookie") != "" {
			t.Errorf("venue key: %s, Set-Cookie %q", r.body, r.header.Get("Set-Cookie"))
		}
		if n := e.count(t, &ledger.WebSession{}); n != before {
			t.Errorf("%d sessions, want %d", n, before)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		b := &browser{e: e}
		for _, key := range []string{"", "pn_aaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", e.keys["admin"] + "x"} {
			r := b.send(t, "POST", "/session", map[string]string{"key": key}, nil)
			r.expect(t, http.StatusUnauthorized, "unauthorized")
			if r.header.Get("Set-Cookie") != "" {
				t.Errorf("a cookie for a wrong key")
			}
		}
		// A form post from another site cannot log anyone in.
		req, _ := http.NewRequest("POST", e.srv.URL+"/session", strings.NewReader("key="+url.QueryEscape(e.keys["admin"])))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("form login: %d, Set-Cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
		}
		r := b.send(t, "POST", "/session", map[string]string{"key": e.keys["admin"]}, map[string]string{"Sec-Fetch-Site": "cross-site"})
		r.expect(t, http.StatusForbidden, "forbidden")
	})
	t.Run("WhoAmI", func(t *testing.T) {
		b, s := e.login(t, "admin", nil)
		r := b.send(t, "GET", "/session", nil, nil)
		var again sessionJSON
		r.decode(t, &again)
		if r.status != http.StatusOK || again != s {
			t.Errorf("GET /session: %d %+v, want %+v", r.status, again, s)
		}
		if r := (&browser{e: e}).send(t, "GET", "/session", nil, nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET /session without a cookie: %d", r.status)
		}
	})
	t.Run("NoSecretLogged", func(t *testing.T) {
		b, _ := e.login(t, "department", nil)
		if strings.Contains(e.logs.String(), b.cookie.Value) || strings.Contains(e.logs.String(), b.csrf) {
			t.Error("a session secret is in the log")
		}
	})
}

// TestSessionCSRF: a change made with the session cookie needs the CSRF
// token; without it, or with a wrong one, it is 403 and nothing is written.
func TestSessionCSRF(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		b, _ := e.login(t, "department", nil)
		other, _ := e.login(t, "department", nil) // another session of the same key
		suspend := "/api/v1/venues/" + itoa(e.venue1) + "/suspension"
		reason := map[string]string{"reason": "enquête en cours"}
		batch := map[string]any{"department": "78", "chequiers": 2, "vouchers_per_chequier": 2, "face_value_cents": 1000, "programme_end": "2027-11-30"}
		events := e.count(t, &ledger.Event{})
		batches := e.count(t, &ledger.Batch{})
		for name, h := range map[string]map[string]string{
			"NoToken":            nil,
			"WrongToken":         {"X-CSRF-Token": strings.Repeat("A", 43)},
			"OtherSessionsToken": {"X-CSRF-Token": other.csrf},
			"CrossSite":          {"X-CSRF-Token": b.csrf, "Sec-Fetch-Site": "cross-site"},
		} {
			t.Run(name, func(t *testing.T) {
				h := maps(h, map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value})
				e.do(t, request{method: "POST", path: suspend, json: reason, header: h}).expect(t, http.StatusForbidden, "forbidden")
				e.do(t, request{method: "POST", path: "/api/v1/batches", json: batch, header: h}).expect(t, http.StatusForbidden, "forbidden")
				// Not through e.do: openapi.yaml does not list 403 for this
				// route, which only a session can get.
				(&browser{e: e}).send(t, "DELETE", "/api/v1/apikey", nil, h).expect(t, http.StatusForbidden, "forbidden")
			})
		}
		if n := e.count(t, &ledger.Event{}); n != events {
			t.Errorf("%d events written by refused requests", n-events)
		}
		if n := e.count(t, &ledger.Batch{}); n != batches {
			t.Errorf("%d batches made by refused requests", n-batches)
		}
		r := b.api(t, "GET", "/api/v1/venues/"+itoa(e.venue1), nil, "")
		var v struct{ Status string }
		r.decode(t, &v)
		if r.status != http.StatusOK || v.Status != "labelled" {
			t.Fatalf("venue after refused suspensions: %d %s", r.status, r.body)
		}

		// Reads need no token; a change with the right token goes through,
		// and the ledger names the key as its actor.
		b.api(t, "POST", suspend, reason, b.csrf).expect(t, http.StatusOK, "")
		var ev ledger.Event
		if err := e.DB.Read(context.Background()).Order("id DESC").First(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Type != "venue.suspended" || ev.Actor != e.actor("department") {
			t.Errorf("last event %s by %s, want venue.suspended by %s", ev.Type, ev.Actor, e.actor("department"))
		}
		// A same-origin request says so and is accepted.
		b.api(t, "POST", "/api/v1/venues/"+itoa(e.venue1)+"/reinstatement", reason, "").expect(t, http.StatusForbidden, "forbidden")
		h := map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value, "X-CSRF-Token": b.csrf, "Sec-Fetch-Site": "same-origin"}
		e.do(t, request{method: "POST", path: "/api/v1/venues/" + itoa(e.venue1) + "/reinstatement", json: reason, header: h}).expect(t, http.StatusOK, "")
	})
}

func maps(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestSessionBearerUnchanged: with an Authorization header the cookie is
// ignored, and a bearer client needs no CSRF token.
func TestSessionBearerUnchanged(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	b, _ := e.login(t, "admin", nil)
	cookie := map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value}
	e.do(t, request{method: "GET", path: "/api/v1/batches", auth: "Bearer pn_wrong", header: cookie}).expect(t, http.StatusUnauthorized, "unauthorized")
	e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1", header: cookie}).expect(t, http.StatusOK, "")
	e.do(t, request{method: "POST", path: "/api/v1/venues/" + itoa(e.venue1) + "/suspension", as: "department",
		json: map[string]string{"reason": "enquête"}}).expect(t, http.StatusOK, "")
	// The admin session is not the venue key: venue routes stay closed to it.
	b.api(t, "GET", "/api/v1/redemptions", nil, "").expect(t, http.StatusForbidden, "forbidden")
	// A garbage cookie is a 401 telling to log in again.
	r := e.do(t, request{method: "GET", path: "/api/v1/batches", header: map[string]string{"Cookie": "passnum_session=nothing"}})
	if er := r.expect(t, http.StatusUnauthorized, "unauthorized"); !strings.Contains(er.Error.Message, "reconnectez-vous") {
		t.Errorf("message %q", er.Error.Message)
	}
}

// TestSessionRoles: a session has its key's role and scope.
func TestSessionRoles(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	auditor, _ := e.login(t, "auditor", nil)
	auditor.api(t, "GET", "/api/v1/figures", nil, "").expect(t, http.StatusOK, "")
	auditor.api(t, "GET", "/api/v1/ledger/export", nil, "").expect(t, http.StatusOK, "")
	batch := map[string]any{"department": "78", "chequiers": 2, "vouchers_per_chequier": 2, "face_value_cents": 1000, "programme_end": "2027-11-30"}
	auditor.api(t, "POST", "/api/v1/batches", batch, auditor.csrf).expect(t, http.StatusForbidden, "forbidden")
	dept92, _ := e.login(t, "department92", nil)
	dept92.api(t, "POST", "/api/v1/batches", batch, dept92.csrf).expect(t, http.StatusForbidden, "forbidden")
	dept92.api(t, "GET", "/api/v1/ledger/export", nil, "").expect(t, http.StatusForbidden, "forbidden")
	dept, _ := e.login(t, "department", nil)
	dept.api(t, "POST", "/api/v1/batches", batch, dept.csrf).expect(t, http.StatusCreated, "")
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	b, _ := e.login(t, "department", nil)
	start := e.Clock.T
	e.Clock.T = start.Add(8*time.Hour - time.Second)
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusOK, "")
	e.Clock.T = start.Add(8 * time.Hour)
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusUnauthorized, "unauthorized")
	if r := b.send(t, "GET", "/session", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("GET /session after expiry: %d", r.status)
	}
	if r := b.send(t, "GET", "/departement/lieux", nil, nil); r.status != http.StatusSeeOther ||
		r.header.Get("Location") != "/connexion?suite=%2Fdepartement%2Flieux" {
		t.Errorf("page after expiry: %d to %q", r.status, r.header.Get("Location"))
	}
	// The next login sweeps the expired session.
	e.login(t, "auditor", nil)
	if n := e.count(t, &ledger.WebSession{}); n != 1 {
		t.Errorf("%d sessions after the sweep, want 1", n)
	}
}

func TestSessionLogout(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	b, _ := e.login(t, "department", nil)
	kept, _ := e.login(t, "department", nil)
	b.send(t, "DELETE", "/session", nil, nil).expect(t, http.StatusForbidden, "forbidden")
	b.send(t, "DELETE", "/session", nil, map[string]string{"X-CSRF-Token": kept.csrf}).expect(t, http.StatusForbidden, "forbidden")
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusOK, "")

	r := b.send(t, "DELETE", "/session", nil, map[string]string{"X-CSRF-Token": b.csrf})
	if r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	cleared := (&http.Response{Header: r.header}).Cookies()
	if len(cleared) != 1 || cleared[0].Name != "passnum_session" || cleared[0].MaxAge >= 0 || cleared[0].Value != "" {
		t.Errorf("logout cookie %+v: want it cleared", cleared)
	}
	// The row is gone: the old cookie, replayed, opens nothing.
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusUnauthorized, "unauthorized")
	if r := b.send(t, "DELETE", "/session", nil, nil); r.status != http.StatusNoContent {
		t.Errorf("logout again: %d", r.status)
	}
	// The other session of the same key goes on.
	kept.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusOK, "")
}

// TestSessionRevokedKey: revoking the key ends its sessions at once, even
// with the API key cache on.
func TestSessionRevokedKey(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	e.apikeys.CacheTTL = time.Hour
	b, s := e.login(t, "department", nil)
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusOK, "")
	if err := e.apikeys.Revoke(context.Background(), s.Prefix, "test"); err != nil {
		t.Fatal(err)
	}
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusUnauthorized, "unauthorized")
	if r := b.send(t, "GET", "/departement/", nil, nil); r.status != http.StatusSeeOther {
		t.Errorf("page with a revoked key: %d", r.status)
	}

	// Revoking one's own key through the session (DELETE /api/v1/apikey)
	// ends the session too.
	a, _ := e.login(t, "auditor", nil)
	a.api(t, "DELETE", "/api/v1/apikey", nil, a.csrf).expect(t, http.StatusNoContent, "")
	if r := a.send(t, "GET", "/session", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("session after its key revoked itself: %d", r.status)
	}
}

var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)

// TestPages: who gets which page, the headers of a page, and no inline
// script or style anywhere (the pages run under a strict CSP).
func TestPages(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	anon := &browser{e: e}
	dept, _ := e.login(t, "department", nil)
	auditor, _ := e.login(t, "auditor", nil)
	admin, s := e.login(t, "admin", nil)
	departmentPages := []string{"/departement/", "/departement/commandes", "/departement/remise", "/departement/annulation",
		"/departement/lieux", "/departement/remboursements", "/departement/chiffres"}
	for _, p := range append(departmentPages, "/auditeur/") {
		r := anon.send(t, "GET", p, nil, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/connexion?suite="+url.QueryEscape(p) {
			t.Errorf("%s without a session: %d to %q", p, r.status, r.header.Get("Location"))
		}
		r = admin.send(t, "GET", p, nil, nil)
		if r.status != http.StatusOK {
			t.Errorf("%s as admin: %d", p, r.status)
			continue
		}
		checkPage(t, p, r)
		if !strings.Contains(string(r.body), `<meta name="csrf-token" content="`+s.CSRFToken+`">`) {
			t.Errorf("%s: no CSRF token", p)
		}
		if !strings.Contains(string(r.body), `<a href="`+p+`" aria-current="page">`) {
			t.Errorf("%s: not the current page of the menu", p)
		}
	}
	for _, p := range departmentPages {
		if r := dept.send(t, "GET", p, nil, nil); r.status != http.StatusOK {
			t.Errorf("%s as département: %d", p, r.status)
		}
		if r := auditor.send(t, "GET", p, nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/auditeur/" {
			t.Errorf("%s as auditor: %d to %q", p, r.status, r.header.Get("Location"))
		}
	}
	if r := dept.send(t, "GET", "/auditeur/", nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/departement/" {
		t.Errorf("/auditeur/ as département: %d to %q", r.status, r.header.Get("Location"))
	}
	if r := auditor.send(t, "GET", "/auditeur/", nil, nil); r.status != http.StatusOK || strings.Contains(string(r.body), "/departement/commandes") {
		t.Errorf("/auditeur/ as auditor: %d, or it links to département pages", r.status)
	}

	r := anon.send(t, "GET", "/connexion", nil, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `type="password"`) {
		t.Fatalf("login page: %d", r.status)
	}
	checkPage(t, "/connexion", r)
	if r := auditor.send(t, "GET", "/connexion", nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/auditeur/" {
		t.Errorf("login page with a session: %d to %q", r.status, r.header.Get("Location"))
	}
	if r := anon.send(t, "GET", "/departement", nil, nil); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/departement/" {
		t.Errorf("/departement: %d to %q", r.status, r.header.Get("Location"))
	}

	// The root address is a page for anyone, leading to the scanner, the
	// login page and the list of venues; the département's own page about
	// them, when configured, is a link too.
	r = anon.send(t, "GET", "/", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("home page: %d %s", r.status, r.body)
	}
	checkPage(t, "/", r)
	for _, want := range []string{`href="/scanner/"`, `href="/connexion"`, `href="/lieux"`, `href="/api/v1/openapi.yaml"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	if strings.Contains(string(r.body), "<script") || strings.Contains(string(r.body), "en parle aussi") {
		t.Errorf("home page without venues info: a script or the département's link:\n%s", r.body)
	}
	e = newEnv(t, ledgertest.Open(t, ledger.SQLite), 0, func(c *api.Config) { c.VenuesInfo = "https://www.yvelines.fr/pass-numerique" })
	r = (&browser{e: e}).send(t, "GET", "/", nil, nil)
	if !strings.Contains(string(r.body), `<a href="https://www.yvelines.fr/pass-numerique">https://www.yvelines.fr/pass-numerique</a>`) {
		t.Errorf("home page with the venues' address:\n%s", r.body)
	}
}

// checkPage checks a page's headers and markup.
func checkPage(t *testing.T, path string, r response) {
	t.Helper()
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		"Content-Type":            "text/html; charset=UTF-8",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %s is %q, want %q", path, h, got, want)
		}
	}
	body := string(r.body)
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("%s: inline code or style %q", path, m)
	}
	if !strings.HasPrefix(body, "<!doctype html>") || !strings.Contains(body, `<html lang="fr">`) {
		t.Errorf("%s: not a French HTML5 page", path)
	}
}

func TestPageAssets(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	anon := &browser{e: e}
	admin, _ := e.login(t, "admin", nil)
	seen := map[string]bool{}
	for _, p := range []string{"/connexion", "/departement/", "/departement/commandes", "/departement/remise", "/departement/annulation",
		"/departement/lieux", "/departement/remboursements", "/departement/chiffres", "/auditeur/"} {
		b := admin
		if p == "/connexion" {
			b = anon
		}
		for _, m := range regexp.MustCompile(`(?:src|href)="(/pages/[^"]+)"`).FindAllStringSubmatch(string(b.send(t, "GET", p, nil, nil).body), -1) {
			seen[m[1]] = true
		}
	}
	if len(seen) < 10 {
		t.Fatalf("only %d assets named by the pages: %v", len(seen), seen)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	for a := range seen {
		r := anon.send(t, "GET", a, nil, nil)
		ext := a[strings.LastIndex(a, "."):]
		if r.status != http.StatusOK || r.header.Get("Content-Type") != types[ext] || len(r.body) == 0 {
			t.Errorf("%s: %d %q", a, r.status, r.header.Get("Content-Type"))
			continue
		}
		if strings.HasSuffix(a, ".js") && !strings.HasPrefix(string(r.body), "//") {
			t.Errorf("%s does not start with a comment saying what it is", a)
		}
		etag := r.header.Get("ETag")
		if r := anon.send(t, "GET", a, nil, map[string]string{"If-None-Match": etag}); etag == "" || r.status != http.StatusNotModified {
			t.Errorf("%s: ETag %q, then %d", a, etag, r.status)
		}
	}
	// The hand-over page uses the scanner's camera and QR decoder: they
	// must be where it loads them from.
	remise := string(admin.send(t, "GET", "/departement/remise", nil, nil).body)
	camera := string(anon.send(t, "GET", "/pages/remise.js", nil, nil).body)
	// They are named under the scanner's hash (api/static).
	for _, dep := range []struct{ in, path, want string }{
		{remise, "vendor/jsqr/jsQR.js", "jsQR"},
		{camera, "camera.js", "export class Camera"},
	} {
		named := regexp.MustCompile(`"(/scanner/h/[0-9a-f]+/` + regexp.QuoteMeta(dep.path) + `)"`).FindStringSubmatch(dep.in)
		if named == nil {
			t.Errorf("%s: not named under a hash", dep.path)
			continue
		}
		if r := anon.send(t, "GET", named[1], nil, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), dep.want) {
			t.Errorf("%s: served %d", named[1], r.status)
		}
	}
	if r := anon.send(t, "GET", "/pages/nothing.js", nil, nil); r.status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", r.status)
	}
	if r := anon.send(t, "GET", "/pages/..%2Fpages.go", nil, nil); r.status != http.StatusNotFound {
		t.Errorf("path traversal: %d", r.status)
	}
}
