package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/audit"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/sso"
	"passnum/sso/ssotest"
)

// withProvider starts an identity provider and lets the env's accounts log
// people in through it, as passnum serve --oidc-issuer does.
func (e *env) withProvider(t testing.TB) *ssotest.Provider {
	t.Helper()
	p := ssotest.Start(t)
	back := e.srv.URL + "/connexion/sso"
	p.Register(back)
	provider, err := sso.New(sso.Config{Name: "ProConnect", Issuer: p.Issuer, ClientID: ssotest.ClientID,
		ClientSecret: ssotest.ClientSecret, RedirectURL: back})
	if err != nil {
		t.Fatal(err)
	}
	e.accounts.SSO = provider
	return p
}

// ssoStart is a browser pressing « Se connecter avec ProConnect » (with an
// invitation's token: « Accepter avec ProConnect »): it holds the login's
// cookie and gets the provider's address.
func (e *env) ssoStart(t testing.TB, invitation string) (*browser, string) {
	t.Helper()
	b := &browser{e: e}
	r := b.send(t, "POST", "/session/sso", map[string]string{"invitation": invitation}, nil)
	var start struct {
		URL string `json:"url"`
	}
	r.decode(t, &start)
	if r.status != http.StatusOK || start.URL == "" {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "passnum_sso" && ck.HttpOnly && ck.SameSite == http.SameSiteLaxMode && ck.Path == "/" {
			b.cookie = ck
		}
	}
	if b.cookie == nil {
		t.Fatalf("no login cookie: %v", r.header["Set-Cookie"])
	}
	return b, start.URL
}

// ssoBack sends the provider's return to POST /session, as the login page
// does, with the second factor's code when totp is not empty; on success
// the browser holds the session.
func (b *browser) ssoBack(t testing.TB, back map[string]string, totp string) (response, accountSessionJSON) {
	t.Helper()
	body := map[string]any{"sso": back}
	if totp != "" {
		body["totp"] = totp
	}
	r := b.send(t, "POST", "/session", body, nil)
	var s accountSessionJSON
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if strings.HasPrefix(ck.Value, accounts.SessionPrefix) {
			session = ck
		}
	}
	if r.status == http.StatusOK {
		r.decode(t, &s)
		if session == nil || session.SameSite != http.SameSiteStrictMode {
			t.Fatalf("no session cookie after a login: %v", r.header["Set-Cookie"])
		}
		b.cookie, b.csrf = session, s.CSRFToken
	} else if session != nil {
		t.Fatalf("a refused login (%d %s) set a session cookie", r.status, r.body)
	}
	return r, s
}

// providerReturn is the query of the provider's redirect, as the page
// passes it on.
func providerReturn(t testing.TB, p *ssotest.Provider, authURL, username string) map[string]string {
	t.Helper()
	u := p.Login(t, authURL, username, "mot de passe du fournisseur")
	if u.Path != "/connexion/sso" {
		t.Fatalf("the provider sent the browser to %s", u)
	}
	q := u.Query()
	return map[string]string{"code": q.Get("code"), "state": q.Get("state"), "error": q.Get("error")}
}

// TestSingleSignOn: a person logs in through the département's identity
// provider only once an invitation accepted through it bound their
// identity to an account; any other identity, a token the provider signed
// wrongly (nonce, audience, expiry), a replayed or stolen return, and an
// address that is not the invitation's are refused with no session; an
// account with a role that moves money still types passnum's code.
func TestSingleSignOn(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		ctx := context.Background()
		p := e.withProvider(t)
		const pw = "mot de passe du fournisseur"
		p.AddUser("agent", pw, "sub-agent-7f3a", "Agent.SSO@yvelines.fr", true)
		p.AddUser("autre", pw, "sub-autre-91c2", "autre@yvelines.fr", true)
		p.AddUser("douteux", pw, "sub-douteux-11", "finances@yvelines.fr", false)

		// Nobody is bound yet: the identity opens nothing, and no account
		// is made.
		b, url := e.ssoStart(t, "")
		r, _ := b.ssoBack(t, providerReturn(t, p, url, "agent"), "")
		if er := r.expect(t, http.StatusUnauthorized, accounts.EIdentityUnknown); !strings.Contains(er.Error.Message, "Demandez une invitation") {
			t.Errorf("unknown identity: %q", er.Error.Message)
		}
		if n := e.count(t, &ledger.Account{}); n != 0 {
			t.Fatalf("%d accounts after an unknown identity", n)
		}

		inv, err := e.accounts.Invite(ctx, accounts.Operator("test"), "agent.sso@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader)
		if err != nil {
			t.Fatal(err)
		}
		// Another person at the provider holding the link is refused:
		// the provider must vouch for the invitation's address.
		b, url = e.ssoStart(t, inv.Token)
		r, _ = b.ssoBack(t, providerReturn(t, p, url, "autre"), "")
		if er := r.expect(t, http.StatusBadRequest, "invalid"); !strings.Contains(er.Error.Message, "agent.sso@yvelines.fr") ||
			!strings.Contains(er.Error.Message, "autre@yvelines.fr") {
			t.Errorf("another address: %q", er.Error.Message)
		}
		if n := e.count(t, &ledger.AccountIdentity{}); n != 0 {
			t.Fatalf("%d identities bound after a refusal", n)
		}
		// The invitation is still good: its holder accepts it.
		b, url = e.ssoStart(t, inv.Token)
		r, s := b.ssoBack(t, providerReturn(t, p, url, "agent"), "")
		if r.status != http.StatusOK || s.Name != "agent.sso@yvelines.fr" || s.Home != "/departement/" || s.EnrolTOTP {
			t.Fatalf("accepting through the provider: %d %s", r.status, r.body)
		}
		if got := b.session(t); got.Account != s.Account || len(got.Organisations) != 1 || got.Organisations[0].Label != "Yvelines (78)" {
			t.Errorf("the session: %+v", got)
		}
		var ev ledger.Event
		if err := db.Read(ctx).Where("type = ?", ledger.EventIdentityLinked).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Actor != access.AccountActor(s.Account, s.Organisation) || strings.Contains(string(ev.Data), "sub-agent") ||
			!strings.Contains(string(ev.Data), p.Issuer) {
			t.Errorf("the link's event: %s by %s", ev.Data, ev.Actor)
		}
		// The link is spent; the account has no password to guess.
		(&browser{e: e}).send(t, "POST", "/session/sso", map[string]string{"invitation": inv.Token}, nil).expect(t, http.StatusConflict, accounts.ELinkUsed)
		_, r, _ = e.signIn(t, map[string]any{"email": "agent.sso@yvelines.fr", "password": ""})
		r.expect(t, http.StatusBadRequest, "invalid")

		// From now on the provider logs the person in.
		b, url = e.ssoStart(t, "")
		back := providerReturn(t, p, url, "agent")
		if r, s2 := b.ssoBack(t, back, ""); r.status != http.StatusOK || s2.Account != s.Account {
			t.Fatalf("login through the provider: %d %s", r.status, r.body)
		}
		// Its return is single use, and worthless to another browser.
		replay := &browser{e: e, cookie: &http.Cookie{Name: "passnum_sso", Value: "vole-par-un-autre"}}
		r, _ = replay.ssoBack(t, back, "")
		r.expect(t, http.StatusUnauthorized, sso.EFailed)
		thief, _ := e.ssoStart(t, "")
		r, _ = thief.ssoBack(t, back, "")
		r.expect(t, http.StatusUnauthorized, sso.EFailed)

		// Sent many times at once (a double tap, a retried request), one
		// return opens one session; the others are told to wait, and
		// leave the login's cookie in place.
		b, url = e.ssoStart(t, "")
		back = providerReturn(t, p, url, "agent")
		body, _ := json.Marshal(map[string]any{"sso": back})
		codes := make(chan int, 8)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", e.srv.URL+"/session", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
				res, err := e.srv.Client().Do(req)
				if err != nil {
					codes <- 0
					return
				}
				res.Body.Close()
				if res.StatusCode == http.StatusConflict && strings.Contains(strings.Join(res.Header["Set-Cookie"], " "), "passnum_sso=;") {
					codes <- -1
					return
				}
				codes <- res.StatusCode
			})
		}
		wg.Wait()
		close(codes)
		opened := 0
		for c := range codes {
			switch c {
			case http.StatusOK:
				opened++
			case http.StatusUnauthorized, http.StatusConflict:
			default:
				t.Errorf("a concurrent return answered %d", c)
			}
		}
		if opened != 1 {
			t.Errorf("one return opened %d sessions", opened)
		}

		// Tokens the provider really signs, but not for this login.
		for _, f := range []ssotest.Fault{ssotest.WrongNonce, ssotest.WrongAudience, ssotest.Expired} {
			p.SetFault(f)
			b, url := e.ssoStart(t, "")
			r, _ := b.ssoBack(t, providerReturn(t, p, url, "agent"), "")
			if er := r.expect(t, http.StatusUnauthorized, sso.EFailed); !strings.Contains(er.Error.Message, "n’a pas abouti") {
				t.Errorf("fault %d: %q", f, er.Error.Message)
			}
		}
		p.SetFault(ssotest.NoFault)
		// The person cancels at the provider, which says so with the
		// login's state; a return of another login leaves this one alone.
		b, url = e.ssoStart(t, "")
		state := regexp.MustCompile(`[?&]state=([^&]+)`).FindStringSubmatch(url)[1]
		r, _ = b.ssoBack(t, map[string]string{"error": "access_denied", "state": "une-autre"}, "")
		r.expect(t, http.StatusUnauthorized, sso.EFailed)
		r, _ = b.ssoBack(t, map[string]string{"error": "access_denied", "state": state}, "")
		if er := r.expect(t, http.StatusUnauthorized, sso.EFailed); !strings.Contains(er.Error.Message, "annulée") {
			t.Errorf("cancelled: %q", er.Error.Message)
		}

		// A role that moves money: the provider's word is not enough, the
		// account enrols passnum's second factor, then types its code.
		fin, err := e.accounts.Invite(ctx, accounts.Operator("test"), "agent.sso@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance)
		if err != nil {
			t.Fatal(err)
		}
		b, url = e.ssoStart(t, fin.Token)
		r, s = b.ssoBack(t, providerReturn(t, p, url, "agent"), "")
		if r.status != http.StatusOK || !s.EnrolTOTP || s.Home != "/compte" {
			t.Fatalf("a finance role through the provider: %d %s", r.status, r.body)
		}
		b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusForbidden, "forbidden")
		enrol, err := e.accounts.EnrolTOTP(ctx, s.Account)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.accounts.ConfirmTOTP(ctx, s.Account, accountstest.TOTP(enrol.Secret, e.Clock.T)); err != nil {
			t.Fatal(err)
		}
		e.Clock.T = e.Clock.T.Add(30e9)
		b, url = e.ssoStart(t, "")
		r, _ = b.ssoBack(t, providerReturn(t, p, url, "agent"), "")
		if er := r.expect(t, http.StatusUnauthorized, accounts.ETOTPRequired); er.Error.Field != "totp" {
			t.Errorf("the code asked for marks %q", er.Error.Field)
		}
		r, _ = b.ssoBack(t, map[string]string{}, "000000")
		r.expect(t, http.StatusUnauthorized, accounts.ETOTPInvalid)
		r, s = b.ssoBack(t, map[string]string{}, accountstest.TOTP(enrol.Secret, e.Clock.T))
		if r.status != http.StatusOK || s.EnrolTOTP || len(s.Organisations) != 1 || len(s.Organisations[0].Roles) != 2 {
			t.Fatalf("with the code: %d %s", r.status, r.body)
		}

		// Someone who already has an account with a password: the
		// provider's word alone binds nothing to it; logged in with the
		// password in this browser, the same acceptance binds it.
		p.AddUser("lectrice", pw, "sub-lectrice-3", "lectrice@yvelines.fr", true)
		accountstest.Person(t, e.accounts, "lectrice@yvelines.fr", accounts.Org{Department: "92"}, access.RoleDepartmentReader)
		more, err := e.accounts.Invite(ctx, accounts.Operator("test"), "lectrice@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader)
		if err != nil {
			t.Fatal(err)
		}
		b, url = e.ssoStart(t, more.Token)
		r, _ = b.ssoBack(t, providerReturn(t, p, url, "lectrice"), "")
		if er := r.expect(t, http.StatusBadRequest, "invalid"); !strings.Contains(er.Error.Message, "Un compte existe déjà") {
			t.Errorf("an existing account: %q", er.Error.Message)
		}
		logged, lr, _ := e.signIn(t, map[string]any{"email": "lectrice@yvelines.fr", "password": accountstest.Password})
		if lr.status != http.StatusOK {
			t.Fatalf("password login: %d %s", lr.status, lr.body)
		}
		b, url = e.ssoStart(t, more.Token)
		b.header = map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value + "; " + logged.cookie.Name + "=" + logged.cookie.Value}
		r, s3 := b.ssoBack(t, providerReturn(t, p, url, "lectrice"), "")
		if r.status != http.StatusOK || len(s3.Organisations) != 2 {
			t.Fatalf("accepting while logged in: %d %s", r.status, r.body)
		}

		// An address the provider did not check accepts nothing.
		other, err := e.accounts.Invite(ctx, accounts.Operator("test"), "finances@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader)
		if err != nil {
			t.Fatal(err)
		}
		b, url = e.ssoStart(t, other.Token)
		r, _ = b.ssoBack(t, providerReturn(t, p, url, "douteux"), "")
		if er := r.expect(t, http.StatusBadRequest, "invalid"); !strings.Contains(er.Error.Message, "sans l’avoir vérifiée") {
			t.Errorf("unverified address: %q", er.Error.Message)
		}

		// A disabled account is closed whichever way one logs in.
		if err := e.accounts.Disable(ctx, accounts.Operator("test"), s.Account); err != nil {
			t.Fatal(err)
		}
		b, url = e.ssoStart(t, "")
		r, _ = b.ssoBack(t, providerReturn(t, p, url, "agent"), "")
		r.expect(t, http.StatusForbidden, accounts.EAccountDisabled)

		(&browser{e: e}).send(t, "POST", "/session/sso", map[string]string{}, map[string]string{"Sec-Fetch-Site": "cross-site"}).
			expect(t, http.StatusForbidden, "forbidden")

		// The ledger holds every account, role and bound identity.
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit: %v", err)
		}
	})
}

// TestSingleSignOnOff: without a provider the pages offer no button and
// the endpoints say so.
func TestSingleSignOnOff(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	(&browser{e: e}).send(t, "POST", "/session/sso", map[string]string{}, nil).expect(t, http.StatusNotFound, "not_found")
	if r := (&browser{e: e}).send(t, "GET", "/connexion", nil, nil); strings.Contains(string(r.body), `id="sso"`) {
		t.Error("the login page offers single sign-on that is not configured")
	}
	e.withProvider(t)
	for _, path := range []string{"/connexion", "/invitation"} {
		if r := (&browser{e: e}).send(t, "GET", path, nil, nil); !strings.Contains(string(r.body), "avec ProConnect") {
			t.Errorf("%s offers no single sign-on: %s", path, r.body)
		}
	}
}
