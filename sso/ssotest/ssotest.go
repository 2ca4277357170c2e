// Package ssotest runs a real OpenID Connect provider (zitadel/oidc) on
// loopback, so that the single sign-on of passnum is tested against the
// protocol as a provider speaks it, not against a mock of it.
package ssotest

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientID and ClientSecret are the one client the provider knows (a web
// client: client_secret_basic, PKCE optional but checked when sent).
const (
	ClientID     = "passnum"
	ClientSecret = "passnum-test-secret"
)

// loginPath is where the example storage's clients send the browser to log in.
const loginPath = "/login/username"

// otherClientID is the audience of the WrongAudience fault.
const otherClientID = "another-client"

// Fault makes the provider misbehave, with tokens it really signs.
type Fault int

const (
	NoFault       Fault = iota
	WrongNonce          // the ID token's nonce is not the one the client sent
	Expired             // the ID token is already expired when issued
	WrongAudience       // the ID token's aud is another client's id
)

// Provider is an OpenID Connect provider on loopback, for tests.
type Provider struct {
	Issuer string // "http://127.0.0.1:PORT" (exactly the discovery document's issuer)

	store *store
	op    *op.Provider
}

// Start starts a provider; it stops with the test (t.Cleanup). Safe for
// parallel tests: every provider has its own storage, keys and users.
func Start(t testing.TB) *Provider {
	t.Helper()
	mux := http.NewServeMux()
	// Unstarted, so that the issuer (which needs the port) is known before the
	// provider that announces it is built.
	srv := httptest.NewUnstartedServer(mux)
	p := &Provider{
		Issuer: "http://" + srv.Listener.Addr().String(),
		store:  &store{users: users{byName: map[string]*storage.User{}}},
	}
	// The client in this map only serves the secret check at the token
	// endpoint; GetClientByClientID builds a fresh one with the registered
	// redirect URIs, as the storage's map may not change once in use.
	p.store.Storage = storage.NewStorageWithClients(&p.store.users,
		map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret)})

	var key [32]byte
	rand.Read(key[:])
	var err error
	p.op, err = op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true},
		p.store, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		srv.Close()
		t.Fatalf("ssotest: %v", err)
	}
	mux.HandleFunc("GET "+loginPath, func(w http.ResponseWriter, r *http.Request) {
		renderLogin(w, r.FormValue("authRequestID"), "")
	})
	mux.HandleFunc("POST "+loginPath, p.checkLogin)
	mux.Handle("/", p.op)
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Register lets the client with ClientID/ClientSecret redirect to redirectURI
// (exact match); it may be called after Start, before the login that uses it.
// Calling again adds another URI.
func (p *Provider) Register(redirectURI string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.redirectURIs = append(p.store.redirectURIs, redirectURI)
}

// AddUser adds a person who can log in with username and password; subject
// is the `sub` claim, email and emailVerified the claims returned (in the ID
// token and at /userinfo). Adding a username again replaces that user.
func (p *Provider) AddUser(username, password, subject, email string, emailVerified bool) {
	p.store.users.add(&storage.User{
		ID: subject, Username: username, Password: password,
		Email: email, EmailVerified: emailVerified,
	})
}

// SetFault makes the provider misbehave, with tokens it really signs, each
// time it issues tokens (at the client's code exchange) until
// SetFault(NoFault). The fault is read at the exchange, not at the login,
// because the ID token's lifetime belongs to the client, not to the login.
func (p *Provider) SetFault(f Fault) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.fault = f
}

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><form method="POST" action="` + loginPath + `">
{{with .Error}}<p id="error" role="alert">{{.}}</p>{{end}}
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">Username</label> <input name="username" id="username" autocomplete="username">
<label for="password">Password</label> <input type="password" name="password" id="password">
<button type="submit">Sign in</button>
</form></body></html>
`))

func renderLogin(w http.ResponseWriter, id, errMsg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginForm.Execute(w, struct{ ID, Error string }{id, errMsg})
}

// checkLogin marks the auth request as done for the user, then hands the
// browser back to the provider, which redirects it to the client.
func (p *Provider) checkLogin(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if err := p.store.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
		renderLogin(w, id, err.Error())
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), p.Issuer)
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(ctx, id), http.StatusFound)
}

// Login does over HTTP what a browser does: GET authURL (the provider's
// authorization URL), submit the provider's login form with username and
// password, and return the URL the provider redirects to off itself (the
// client's redirect URI with code and state, or with error=...), without
// following it. It uses its own HTTP client: the provider sets no cookie, and
// the caller's own cookies are for the redirect URI, which the caller follows.
// It fails the test on any unexpected step, so call it from the test's
// goroutine.
func (p *Provider) Login(t testing.TB, authURL, username, password string) *url.URL {
	t.Helper()
	issuer, _ := url.Parse(p.Issuer)
	client := &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != issuer.Host || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	// leftProvider returns where resp redirects off the provider, if it does.
	leftProvider := func(resp *http.Response) *url.URL {
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			return nil
		}
		u, err := resp.Location()
		if err != nil {
			t.Fatalf("ssotest: redirect without location: %v", err)
		}
		return u
	}
	do := func(req *http.Request, err error) *http.Response {
		t.Helper()
		if err != nil {
			t.Fatalf("ssotest: %v", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("ssotest: %s %s: %v", req.Method, req.URL, err)
		}
		resp.Body.Close()
		return resp
	}

	if u, err := url.Parse(authURL); err != nil || u.Host != issuer.Host {
		t.Fatalf("ssotest: auth URL %q is not on the provider %s", authURL, p.Issuer)
	}
	resp := do(http.NewRequestWithContext(t.Context(), http.MethodGet, authURL, nil))
	if u := leftProvider(resp); u != nil {
		return u // the provider refused the request without a login
	}
	form := resp.Request.URL
	if resp.StatusCode != http.StatusOK || form.Path != loginPath {
		t.Fatalf("ssotest: GET %s ended at %s with %s, not at the login form", authURL, form, resp.Status)
	}
	values := url.Values{
		"id":       {form.Query().Get("authRequestID")},
		"username": {username},
		"password": {password},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, form.String(), strings.NewReader(values.Encode()))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp = do(req, err)
	u := leftProvider(resp)
	if u == nil {
		t.Fatalf("ssotest: the login of %q ended at %s with %s (wrong password?), not at a redirect to the client",
			username, resp.Request.URL, resp.Status)
	}
	return u
}

// store wraps the example storage, to add users and redirect URIs while the
// provider runs and to make it sign faulty ID tokens.
type store struct {
	*storage.Storage
	users users

	mu           sync.Mutex
	redirectURIs []string
	fault        Fault
}

func (s *store) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != ClientID {
		return nil, errors.New("client not found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	uris := s.redirectURIs
	if len(uris) == 0 {
		uris = []string{"urn:ssotest:none-registered"} // else WebClient allows a default of its own
	}
	c := client{Client: storage.WebClient(ClientID, ClientSecret, uris...), lifetime: time.Hour}
	switch s.fault {
	case Expired:
		c.lifetime = -time.Hour
	case WrongAudience:
		c.id = otherClientID // see faultyRequest.GetClientID
	}
	return c, nil
}

// AuthRequestByCode is how the token endpoint gets the login it issues the
// ID token for, so this is where the nonce and audience are falsified.
func (s *store) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == WrongNonce || s.fault == WrongAudience {
		// The access token made from this request loses its client id (the
		// example storage only knows its own type); only custom scopes use it.
		return faultyRequest{r.(*storage.AuthRequest), s.fault}, nil
	}
	return r, nil
}

type faultyRequest struct {
	*storage.AuthRequest
	fault Fault
}

func (r faultyRequest) GetNonce() string {
	if r.fault == WrongNonce {
		return "not-" + r.AuthRequest.GetNonce()
	}
	return r.AuthRequest.GetNonce()
}

func (r faultyRequest) GetAudience() []string {
	if r.fault == WrongAudience {
		return []string{otherClientID}
	}
	return r.AuthRequest.GetAudience()
}

// GetClientID changes too, as the provider adds the request's client id to
// aud; the client's GetID then follows, or the token endpoint refuses to
// exchange the code of another client.
func (r faultyRequest) GetClientID() string {
	if r.fault == WrongAudience {
		return otherClientID
	}
	return r.AuthRequest.GetClientID()
}

type client struct {
	*storage.Client
	lifetime time.Duration
	id       string // if not empty, replaces ClientID
}

func (c client) GetID() string {
	if c.id != "" {
		return c.id
	}
	return c.Client.GetID()
}

func (c client) IDTokenLifetime() time.Duration { return c.lifetime }

// IDTokenUserinfoClaimsAssertion keeps email out of the ID token, as
// providers do when they issue an access token alongside: the client must
// read it from /userinfo.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return false }

// users is a storage.UserStore to which users can be added while the
// provider runs (the example's own store is fixed).
type users struct {
	mu     sync.RWMutex
	byName map[string]*storage.User
}

func (u *users) add(user *storage.User) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byName[user.Username] = user
}

func (u *users) GetUserByUsername(name string) *storage.User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.byName[name]
}

func (u *users) GetUserByID(id string) *storage.User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	for _, user := range u.byName {
		if user.ID == id {
			return user
		}
	}
	return nil
}

// ExampleClientID names the example's JWT-profile service account, unused here.
func (u *users) ExampleClientID() string { return storage.ServiceUserID }
