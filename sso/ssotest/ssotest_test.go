package ssotest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The redirect URI is never fetched: Login stops before it.
const redirectURI = "http://127.0.0.1:1/callback"

// flow is a client's view of one login: what it sent and what it got back.
type flow struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	nonce    string
	token    *oauth2.Token
	rawID    string
}

// login runs a plain OAuth2 code flow (PKCE S256, nonce) against p as a
// client would, up to the exchange of the code.
func login(t *testing.T, p *Provider, fault Fault) flow {
	t.Helper()
	p.Register(redirectURI)
	p.AddUser("alice", "alice-pw", "sub-alice", "alice@example.org", true)
	p.SetFault(fault)

	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: ClientID, ClientSecret: ClientSecret, RedirectURL: redirectURI,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email"},
	}
	pkce, state, nonce := oauth2.GenerateVerifier(), "state-1", "nonce-1"
	back := p.Login(t, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce(nonce)), "alice", "alice-pw")

	if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURI {
		t.Fatalf("redirected to %s, want %s", back, redirectURI)
	}
	q := back.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("redirect query %v: want state %q and a code", q, state)
	}
	token, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := token.Extra("id_token").(string)
	if rawID == "" {
		t.Fatal("no id_token in the token response")
	}
	return flow{provider, provider.Verifier(&oidc.Config{ClientID: ClientID}), nonce, token, rawID}
}

func TestHappyPath(t *testing.T) {
	t.Parallel()
	p := Start(t)
	f := login(t, p, NoFault)

	idToken, err := f.verifier.Verify(t.Context(), f.rawID)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if idToken.Issuer != p.Issuer || idToken.Subject != "sub-alice" || idToken.Nonce != f.nonce {
		t.Errorf("ID token iss %q sub %q nonce %q", idToken.Issuer, idToken.Subject, idToken.Nonce)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	// As at providers that issue an access token too, the email is
	// only at /userinfo.
	if err := idToken.Claims(&claims); err != nil || claims.Email != "" {
		t.Errorf("ID token claims %+v, %v", claims, err)
	}

	info, err := f.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(f.token))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != idToken.Subject || info.Email != "alice@example.org" || !info.EmailVerified {
		t.Errorf("userinfo %+v", info)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("WrongNonce", func(t *testing.T) {
		t.Parallel()
		f := login(t, Start(t), WrongNonce)
		idToken, err := f.verifier.Verify(t.Context(), f.rawID)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if idToken.Nonce == f.nonce {
			t.Errorf("nonce %q is the one sent", idToken.Nonce)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		f := login(t, Start(t), Expired)
		_, err := f.verifier.Verify(t.Context(), f.rawID)
		if expired := new(oidc.TokenExpiredError); !errors.As(err, &expired) {
			t.Errorf("verify: %v, want an expiry error", err)
		}
	})
	t.Run("WrongAudience", func(t *testing.T) {
		t.Parallel()
		f := login(t, Start(t), WrongAudience)
		// go-oidc has no error type for it, only this message.
		if _, err := f.verifier.Verify(t.Context(), f.rawID); err == nil || !strings.Contains(err.Error(), "audience") {
			t.Errorf("verify: %v, want an audience error", err)
		}
	})
}

// TestLoginForm checks the page a headless browser fills in, and that a wrong
// password shows it again with an error rather than failing the provider.
func TestLoginForm(t *testing.T) {
	t.Parallel()
	p := Start(t)
	p.Register(redirectURI)
	p.AddUser("alice", "alice-pw", "sub-alice", "alice@example.org", true)
	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: ClientID, RedirectURL: redirectURI, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}

	get := func(u string) (*http.Response, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, page := get(conf.AuthCodeURL("s"))
	for _, want := range []string{`method="POST"`, `name="username" id="username"`,
		`type="password" name="password" id="password"`, `type="hidden" name="id"`, `<button type="submit">`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s:\n%s", want, page)
		}
	}

	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err = http.PostForm(resp.Request.URL.String(), url.Values{"id": {id}, "username": {"alice"}, "password": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="error"`) || !strings.Contains(string(body), `value="`+id+`"`) {
		t.Errorf("wrong password: %s\n%s", resp.Status, body)
	}

	// The same auth request still logs in with the right password.
	stopOff := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), p.Issuer+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err = stopOff.PostForm(resp.Request.URL.String(), url.Values{"id": {id}, "username": {"alice"}, "password": {"alice-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if back, err := resp.Location(); err != nil || back.Query().Get("code") == "" {
		t.Errorf("good password after a wrong one: %s, %v", resp.Status, err)
	}
}
