package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/access"
	"passnum/apikeys"
)

// Sessions of the département and auditor pages (docs/pages.md): apikeys
// opens, finds and ends them (apikeys/sessions.go says why they are rows in
// a table); here is what HTTP adds, the cookie that carries a session's
// secret and the check against forgery.
//
// CSRF: SameSite=Strict keeps the cookie off cross-site requests in current
// browsers, but not in every browser nor against a sibling subdomain, so
// every state-changing request made with the cookie must also carry the
// X-CSRF-Token header. The token is an HMAC of the session's secret: the
// page's script gets it from GET /session, a cross-site page can neither
// read it nor compute it, and the server stores nothing more.

const (
	// The cookie is __Host- prefixed when it is Secure: the browser then
	// refuses it unless it was set over HTTPS for this host and path /,
	// so a sibling subdomain cannot plant one. Over plain HTTP (a
	// developer's own machine) the prefix is not allowed.
	secureSessionCookie = "__Host-passnum_session"
	plainSessionCookie  = "passnum_session"

	csrfHeader = "X-CSRF-Token"
)

// secureRequest reports whether the browser reached us over HTTPS: directly,
// or through a reverse proxy that terminates TLS and says so with
// X-Forwarded-Proto. A client forging the header gains nothing: it only
// gets a Secure cookie its own plain-HTTP browser will not send back.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func sessionCookieName(r *http.Request) string {
	if secureRequest(r) {
		return secureSessionCookie
	}
	return plainSessionCookie
}

// sessionSecret reads the cookie of this request's scheme, "" if none.
func sessionSecret(r *http.Request) string {
	ck, err := r.Cookie(sessionCookieName(r))
	if err != nil || len(ck.Value) > 100 {
		return ""
	}
	return ck.Value
}

// findSession returns the session of the request's cookie; an
// unauthorized error (noSession) if there is none, it expired, or its key
// was revoked.
func (s *server) findSession(c echo.Context) (apikeys.Session, error) {
	return s.Keys.Session(c.Request().Context(), sessionSecret(c.Request()))
}

// noSession: the error findSession gives when there is no live session.
func noSession(err error) bool { return passnum.ErrorCode(err) == passnum.EUnauthorized }

// sessionPrincipal authenticates a request by its session cookie, for
// require: a state-changing request must also carry the CSRF token, checked
// before anything runs.
func (s *server) sessionPrincipal(c echo.Context) (access.Principal, error) {
	ses, err := s.findSession(c)
	if err != nil {
		return access.Principal{}, err
	}
	state(c).principal = &ses.Principal
	if err := checkCSRF(c, ses); err != nil {
		return access.Principal{}, err
	}
	return ses.Principal, nil
}

// csrfToken is the session's anti-forgery token: an HMAC of its secret,
// so that it needs no storage and cannot be computed without the cookie.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("passnum csrf token v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errCrossSite = newProblem(passnum.KindForbidden, codeForbidden, "Requête refusée : elle vient d'un autre site que passnum.")

// safeMethod: a method that changes nothing, which needs no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a state-changing request without the session's token.
// Sec-Fetch-Site, which browsers set and scripts cannot, is a second line:
// a request another site made is refused even with a token.
func checkCSRF(c echo.Context, ses apikeys.Session) error {
	r := c.Request()
	if safeMethod(r.Method) {
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return errCrossSite
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || !hmac.Equal([]byte(got), []byte(csrfToken(ses.Secret))) {
		return newProblem(passnum.KindForbidden, codeForbidden, "Jeton anti-falsification (CSRF) absent ou périmé : rechargez la page et recommencez.")
	}
	return nil
}

type loginRequest struct {
	Key string `json:"key"`
}

// sessionInfo is what the pages learn about their session.
type sessionInfo struct {
	Role       string    `json:"role"`
	Department string    `json:"department,omitempty"`
	Name       string    `json:"name"`   // the key's name
	Prefix     string    `json:"prefix"` // the key's public name
	Home       string    `json:"home"`   // the page to open
	ExpiresAt  time.Time `json:"expires_at"`
	CSRFToken  string    `json:"csrf_token"`
}

func newSessionInfo(ses apikeys.Session) sessionInfo {
	p := ses.Principal
	return sessionInfo{Role: audience(p), Department: p.Department, Name: p.Name, Prefix: p.Prefix,
		Home: homePage(p), ExpiresAt: ses.ExpiresAt.UTC(), CSRFToken: csrfToken(ses.Secret)}
}

// login exchanges an API key for a session (POST /session). JSON only:
// a cross-site HTML form cannot send it, which protects the login itself
// from forgery (being logged in as someone else); Sec-Fetch-Site too.
func (s *server) login(c echo.Context) error {
	if site := c.Request().Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCrossSite
	}
	var req loginRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.authenticate(c, strings.TrimSpace(req.Key))
	if err != nil {
		return err
	}
	state(c).principal = &p
	ses, err := s.Keys.OpenSession(c.Request().Context(), p)
	if err != nil {
		return err
	}
	setSessionCookie(c, ses)
	return respond(c, http.StatusOK, newSessionInfo(ses))
}

// currentSession tells the pages who is logged in, and their CSRF token
// (GET /session); 401 when nobody is.
func (s *server) currentSession(c echo.Context) error {
	ses, err := s.findSession(c)
	if err != nil {
		return err
	}
	state(c).principal = &ses.Principal
	return respond(c, http.StatusOK, newSessionInfo(ses))
}

// logout ends the session (DELETE /session), so that the cookie is
// worthless even if it was copied. It needs the CSRF token, like any
// change; without a live session it only clears the cookie.
func (s *server) logout(c echo.Context) error {
	ses, err := s.findSession(c)
	if noSession(err) {
		clearSessionCookie(c)
		return c.NoContent(http.StatusNoContent)
	}
	if err != nil {
		return err
	}
	state(c).principal = &ses.Principal
	if err := checkCSRF(c, ses); err != nil {
		return err
	}
	if err := s.Keys.EndSession(c.Request().Context(), ses); err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.NoContent(http.StatusNoContent)
}

func setSessionCookie(c echo.Context, ses apikeys.Session) {
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: sessionCookieName(r), Value: ses.Secret, Path: "/", Expires: ses.ExpiresAt,
		MaxAge: int(apikeys.SessionLifetime / time.Second), HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(c echo.Context) {
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}
