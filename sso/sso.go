// Package sso logs people in through an identity provider with OpenID
// Connect: the authorization code flow with PKCE (S256) and a nonce, for
// départements that have their own provider or use ProConnect, the State's
// federation of public agents. It proves who the person is at the provider
// and nothing more: which passnum account that identity opens, and only
// once an invitation bound them, is the accounts service's rule
// (accounts/sso.go). The design and what a spike proved of the libraries
// are in docs/accounts.md (Single sign-on).
package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"passnum"
)

// Error codes.
const (
	// EFailed: the provider's answer did not prove an identity (refused or
	// cancelled at the provider, a token that is forged, expired, for
	// another client or with another nonce, a code already used). The
	// person starts again; the reason is logged for the operator.
	EFailed = "sso_failed"
	// EUnavailable: the provider cannot be reached; password logins still
	// work.
	EUnavailable = "sso_unavailable"
)

// Config names the provider and passnum's registration there.
type Config struct {
	// Name is the provider as people know it, on the buttons: "ProConnect",
	// "Yvelines Connect".
	Name string
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document (/.well-known/openid-configuration) gives it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends the person back: the public
	// address of passnum's /connexion/sso, registered at the provider.
	RedirectURL string
	// HTTPClient talks to the provider (nil: one with a 10 s timeout, so
	// that a provider that hangs does not hold a login for ever).
	HTTPClient *http.Client
	Logger     *slog.Logger // nil: slog.Default()
}

// Provider is one identity provider. Discovery runs at the first login,
// not at start: passnum serves (and password logins work) while the
// provider is down, and a failed discovery is tried again at the next
// login. It is safe for concurrent use.
type Provider struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider // nil until discovered
}

// New checks the configuration; it does not reach the provider.
func New(cfg Config) (*Provider, error) {
	for _, f := range []struct{ name, v string }{{"name", cfg.Name}, {"issuer", cfg.Issuer},
		{"client id", cfg.ClientID}, {"client secret", cfg.ClientSecret}, {"redirect URL", cfg.RedirectURL}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, fmt.Errorf("single sign-on: the provider's %s is missing", f.name)
		}
	}
	for _, u := range []string{cfg.Issuer, cfg.RedirectURL} {
		if err := CheckURL(u); err != nil {
			return nil, fmt.Errorf("single sign-on: %w", err)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Provider{cfg: cfg, log: log}, nil
}

// CheckURL says what is wrong with the issuer's or the redirect's URL:
// https, or plain http on loopback alone (a provider started by a test),
// since the codes and tokens they carry open accounts.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		return fmt.Errorf("%q is not an https:// address: give it as https://auth.example.fr (plain http only on loopback)", s)
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Name is the provider as people know it.
func (p *Provider) Name() string { return p.cfg.Name }

// Issuer is the provider's issuer URL, which with a subject names an
// identity.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	dp, err := oidc.NewProvider(oidc.ClientContext(ctx, p.cfg.HTTPClient), p.cfg.Issuer)
	if err != nil {
		p.log.Warn("single sign-on: the provider's discovery failed", "issuer", p.cfg.Issuer, "err", err)
		return nil, passnum.Errorf(passnum.KindUnavailable, EUnavailable,
			"%s ne répond pas en ce moment : réessayez dans quelques minutes, ou connectez-vous avec votre mot de passe.", p.cfg.Name)
	}
	p.provider = dp
	return dp, nil
}

func (p *Provider) oauth(dp *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: dp.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email"}}
}

// Flow is what one login keeps between sending the person to the provider
// and their return: the state that ties the return to this start, the
// nonce that ties the ID token to it, and the PKCE verifier that only this
// start can show. The caller keeps it server-side (never in the page).
type Flow struct {
	State, Nonce, Verifier string
}

// Begin starts a login: the Flow to keep, and the provider's address to
// send the person to.
func (p *Provider) Begin(ctx context.Context) (Flow, string, error) {
	dp, err := p.discover(ctx)
	if err != nil {
		return Flow{}, "", err
	}
	f := Flow{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier()}
	return f, p.oauth(dp).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// Return is what the provider's redirect carries back: a code, or an
// error (the person cancelled, the provider refused), and the state.
type Return struct {
	Code, State, Error string
}

// Identity is a person as the provider proved them.
type Identity struct {
	Issuer, Subject string
	// Email is the address the provider gives, lower-cased;
	// EmailVerified whether it says it checked the person holds it.
	Email         string
	EmailVerified bool
}

// Finish checks the provider's return against the flow it belongs to and
// returns the identity it proves. go-oidc checks the ID token's
// signature, issuer, audience and expiry; the nonce is compared here (the
// library leaves it to its caller), and the email is read from /userinfo
// (providers leave it out of the ID token when they issue an access
// token) for the same subject. Any failure is EFailed, its reason logged.
func (p *Provider) Finish(ctx context.Context, f Flow, r Return) (Identity, error) {
	dp, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	id, reason := p.finish(oidc.ClientContext(ctx, p.cfg.HTTPClient), dp, f, r)
	if reason != nil {
		p.log.Warn("single sign-on: refused", "issuer", p.cfg.Issuer, "reason", reason)
		if r.Error != "" {
			return Identity{}, passnum.Errorf(passnum.KindUnauthorized, EFailed,
				"La connexion avec %s a été annulée ou refusée : recommencez, ou connectez-vous avec votre mot de passe.", p.cfg.Name)
		}
		return Identity{}, passnum.Errorf(passnum.KindUnauthorized, EFailed,
			"La connexion avec %s n’a pas abouti : recommencez avec le bouton « Se connecter avec %s ». Si cela se reproduit, connectez-vous avec votre mot de passe.",
			p.cfg.Name, p.cfg.Name)
	}
	return id, nil
}

func (p *Provider) finish(ctx context.Context, dp *oidc.Provider, f Flow, r Return) (Identity, error) {
	switch {
	case r.Error != "":
		return Identity{}, fmt.Errorf("the provider answered error %q", r.Error)
	case r.Code == "":
		return Identity{}, errors.New("no code in the return")
	case subtle.ConstantTimeCompare([]byte(r.State), []byte(f.State)) != 1:
		return Identity{}, errors.New("the state is not this login's")
	}
	oc := p.oauth(dp)
	tok, err := oc.Exchange(ctx, r.Code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("exchanging the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return Identity{}, errors.New("no ID token in the token response")
	}
	it, err := dp.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(it.Nonce), []byte(f.Nonce)) != 1 {
		return Identity{}, errors.New("the ID token's nonce is not this login's")
	}
	info, err := dp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return Identity{}, fmt.Errorf("reading /userinfo: %w", err)
	}
	if info.Subject != it.Subject {
		return Identity{}, errors.New("/userinfo names another subject than the ID token") // neither is logged: they name people
	}
	return Identity{Issuer: it.Issuer, Subject: it.Subject, Email: strings.ToLower(strings.TrimSpace(info.Email)),
		EmailVerified: info.EmailVerified}, nil
}
