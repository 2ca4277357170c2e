package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/accounts"
	"passnum/sso"
)

// Single sign-on's HTTP side (the rules are in accounts/sso.go). The
// browser keeps only a cookie naming its login in progress; the state,
// nonce and verifier stay in the database. That cookie is SameSite=Lax:
// the provider's return is a navigation from another site, which a Strict
// cookie would not follow. The return lands on the login page, whose
// script passes the provider's answer to POST /session: the session
// cookie (Strict) is then set by a same-site request, and every refusal
// is a JSON error shown like any login's.

const (
	ssoCookie = "passnum_sso"
	// SSOReturnPath is the redirect URL's path, registered at the
	// provider after the public URL.
	SSOReturnPath = "/connexion/sso"
)

func ssoCookieName(r *http.Request) string { return cookieName(r, ssoCookie) }

// ssoReturn is the provider's return, as the login page read it from its
// address; empty when the page sends the second factor's code.
type ssoReturn struct {
	Code  string `json:"code"`
	State string `json:"state"`
	Error string `json:"error"`
}

// startSSO starts a login through the provider (POST /session/sso), to
// accept an invitation when its token is given, and answers the
// provider's address for the page to go to.
func (s *server) startSSO(c echo.Context) error {
	if err := rejectCrossSite(c); err != nil {
		return err
	}
	var req struct {
		Invitation string `json:"invitation"`
	}
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	secret, authURL, err := s.Accounts.StartSSO(c.Request().Context(), req.Invitation)
	if err != nil {
		return err
	}
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: ssoCookieName(r), Value: secret, Path: "/", MaxAge: int(accounts.SSOLoginLifetime.Seconds()),
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
	return respond(c, http.StatusOK, map[string]string{"url": authURL})
}

// ssoLogin ends a login through the provider and opens its session; the
// cookie goes once the login is over, whichever way.
func (s *server) ssoLogin(c echo.Context, req loginRequest) (accounts.Session, error) {
	r := c.Request()
	var secret string
	if ck, err := r.Cookie(ssoCookieName(r)); err == nil && len(ck.Value) <= 100 {
		secret = ck.Value
	}
	// An invitation accepted for an existing account needs that account
	// logged in here (accounts.SSOLogin).
	var session int64
	if ses, err := s.findSession(c); err == nil && ses.account != nil {
		session = ses.account.Account.ID
	}
	ret := sso.Return{Code: req.SSO.Code, State: req.SSO.State, Error: req.SSO.Error}
	l, err := s.Accounts.SSOLogin(r.Context(), secret, ret, strings.TrimSpace(req.TOTP), session)
	switch code := passnum.ErrorCode(err); code {
	case "":
	case accounts.ETOTPInvalid:
		return accounts.Session{}, s.authFailed(c, err)
	case accounts.ETOTPRequired, accounts.ELoginLocked, accounts.ESSOInProgress:
		// The login goes on: it waits for its code, or for the request
		// that holds it.
		return accounts.Session{}, err
	default:
		clearSSOCookie(c)
		return accounts.Session{}, err
	}
	clearSSOCookie(c)
	return s.Accounts.OpenSession(r.Context(), l, req.Organisation, r.UserAgent())
}

func clearSSOCookie(c echo.Context) {
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: ssoCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
}
