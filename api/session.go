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
	"passnum/accounts"
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
	sessionCookie = "passnum_session"

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

// cookieName is the name of one of passnum's cookies for this request's
// scheme: __Host- prefixed over HTTPS.
func cookieName(r *http.Request, name string) string {
	if secureRequest(r) {
		return "__Host-" + name
	}
	return name
}

func sessionCookieName(r *http.Request) string { return cookieName(r, sessionCookie) }

// sessionSecret reads the cookie of this request's scheme, "" if none.
func sessionSecret(r *http.Request) string {
	ck, err := r.Cookie(sessionCookieName(r))
	if err != nil || len(ck.Value) > 100 {
		return ""
	}
	return ck.Value
}

// pageSession is a session of the pages: opened with an API key typed once
// (apikeys/sessions.go) or by a person's login (accounts/sessions.go).
// The cookie's secret says which: an account session's starts with
// accounts.SessionPrefix.
type pageSession struct {
	secret    string
	expiresAt time.Time
	principal access.Principal
	key       *apikeys.Session  // one of the two
	account   *accounts.Session //
}

func keySession(ks apikeys.Session) pageSession {
	return pageSession{secret: ks.Secret, expiresAt: ks.ExpiresAt, principal: ks.Principal, key: &ks}
}

func accountSession(as accounts.Session) pageSession {
	return pageSession{secret: as.Secret, expiresAt: as.ExpiresAt, principal: as.Principal(), account: &as}
}

// findSession returns the session of the request's cookie; an
// unauthorized error (noSession) if there is none, it expired, or its key
// was revoked or its account disabled.
func (s *server) findSession(c echo.Context) (pageSession, error) {
	ctx, secret := c.Request().Context(), sessionSecret(c.Request())
	if strings.HasPrefix(secret, accounts.SessionPrefix) {
		as, err := s.Accounts.Session(ctx, secret)
		if err != nil {
			return pageSession{}, err
		}
		return accountSession(as), nil
	}
	ks, err := s.Keys.Session(ctx, secret)
	if err != nil {
		return pageSession{}, err
	}
	return keySession(ks), nil
}

// endSession ends a session at once, whichever its kind.
func (s *server) endSession(c echo.Context, ses pageSession) error {
	if ses.account != nil {
		return s.Accounts.EndSession(c.Request().Context(), *ses.account)
	}
	return s.Keys.EndSession(c.Request().Context(), *ses.key)
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
	state(c).principal = &ses.principal
	if err := checkCSRF(c, ses); err != nil {
		return access.Principal{}, err
	}
	return ses.principal, nil
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
func checkCSRF(c echo.Context, ses pageSession) error {
	r := c.Request()
	if safeMethod(r.Method) {
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return errCrossSite
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || !hmac.Equal([]byte(got), []byte(csrfToken(ses.secret))) {
		return newProblem(passnum.KindForbidden, codeForbidden, "Jeton anti-falsification (CSRF) absent ou périmé : rechargez la page et recommencez.")
	}
	return nil
}

// loginRequest is a login with an API key, or with an account: email,
// password, the second factor's code once asked for, and the organisation
// to act for (none: the account's first).
type loginRequest struct {
	Key          *string `json:"key"` // present: a login with a key
	Email        string  `json:"email"`
	Password     string  `json:"password"`
	TOTP         string  `json:"totp"`
	Organisation int64   `json:"organisation"`
	// SSO present: a login through the identity provider (sso.go), with
	// the provider's return, then the code if asked for.
	SSO *ssoReturn `json:"sso"`
}

// sessionInfo is what the pages learn about their session.
type sessionInfo struct {
	Role       string    `json:"role"`
	Department string    `json:"department,omitempty"`
	Name       string    `json:"name"`             // the key's name, or the account's email
	Prefix     string    `json:"prefix,omitempty"` // the key's public name
	Home       string    `json:"home"`             // the page to open
	Venue      int64     `json:"venue,omitempty"`  // a venue's key or people: their venue
	ExpiresAt  time.Time `json:"expires_at"`
	CSRFToken  string    `json:"csrf_token"`
	// An account's session: the account, the organisation it acts for
	// and those it may choose, and whether its second factor is to enrol.
	Account       int64          `json:"account,omitempty"`
	Organisation  int64          `json:"organisation,omitempty"`
	Organisations []organisation `json:"organisations,omitempty"`
	EnrolTOTP     bool           `json:"enrol_totp,omitempty"`
}

// organisation is one the account holds roles in, with their French names.
type organisation struct {
	ID    int64    `json:"id"`
	Label string   `json:"label"`
	Roles []string `json:"roles"`
}

// organisations groups an account's roles by organisation, in its order.
func organisations(ms []accounts.Member) []organisation {
	var out []organisation
	for _, m := range ms {
		if n := len(out); n == 0 || out[n-1].ID != m.Organisation.ID {
			out = append(out, organisation{ID: m.Organisation.ID, Label: m.Label})
		}
		last := &out[len(out)-1]
		last.Roles = append(last.Roles, access.RoleName(m.Role))
	}
	return out
}

func newSessionInfo(ses pageSession) sessionInfo {
	p := ses.principal
	info := sessionInfo{Role: audience(p), Department: p.Department, Name: p.Name, Prefix: p.Prefix, Venue: p.VenueID,
		Home: homePage(p), ExpiresAt: ses.expiresAt.UTC(), CSRFToken: csrfToken(ses.secret)}
	if as := ses.account; as != nil {
		info.Account, info.Organisation, info.EnrolTOTP = as.Account.ID, p.Organisation, as.EnrolTOTP
		info.Organisations = organisations(as.Memberships)
	}
	return info
}

// rejectCrossSite refuses a request another site made: the login and the
// other requests that need no session (accepting an invitation, a reset)
// are JSON only, which a cross-site HTML form cannot send, and the
// browser's Sec-Fetch-Site says where a script's request comes from. They
// are protected from forgery so (being logged in as someone else).
func rejectCrossSite(c echo.Context) error {
	if site := c.Request().Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCrossSite
	}
	return nil
}

// login opens a session (POST /session), with an API key or an account.
func (s *server) login(c echo.Context) error {
	if err := rejectCrossSite(c); err != nil {
		return err
	}
	var req loginRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	var ses pageSession
	if req.Key != nil {
		p, err := s.authenticate(c, strings.TrimSpace(*req.Key))
		if err != nil {
			return err
		}
		state(c).principal = &p
		ks, err := s.Keys.OpenSession(c.Request().Context(), p)
		if err != nil {
			return err
		}
		ses = keySession(ks)
	} else {
		login := s.accountLogin
		if req.SSO != nil {
			login = s.ssoLogin
		}
		as, err := login(c, req)
		if err != nil {
			return err
		}
		ses = accountSession(as)
		state(c).principal = &ses.principal
	}
	setSessionCookie(c, ses)
	return respond(c, http.StatusOK, newSessionInfo(ses))
}

// accountLogin checks an account's login and opens its session. A wrong
// password or code counts against the client's address too (authFailed),
// beside the service's lockout of the address typed.
func (s *server) accountLogin(c echo.Context, req loginRequest) (accounts.Session, error) {
	ctx := c.Request().Context()
	switch {
	case strings.TrimSpace(req.Email) == "":
		return accounts.Session{}, passnum.Invalid("Tapez l’adresse e-mail de votre compte.").On("email")
	case req.Password == "":
		return accounts.Session{}, passnum.Invalid("Tapez votre mot de passe.").On("password")
	}
	l, err := s.Accounts.Login(ctx, req.Email, req.Password, strings.TrimSpace(req.TOTP))
	if code := passnum.ErrorCode(err); code == accounts.ELoginFailed || code == accounts.ETOTPInvalid {
		return accounts.Session{}, s.authFailed(c, err)
	}
	if err != nil {
		return accounts.Session{}, err
	}
	return s.Accounts.OpenSession(ctx, l, req.Organisation, c.Request().UserAgent())
}

// currentSession tells the pages who is logged in, and their CSRF token
// (GET /session); 401 when nobody is.
func (s *server) currentSession(c echo.Context) error {
	ses, err := s.findSession(c)
	if err != nil {
		return err
	}
	state(c).principal = &ses.principal
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
	state(c).principal = &ses.principal
	if err := checkCSRF(c, ses); err != nil {
		return err
	}
	if err := s.endSession(c, ses); err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// setSessionCookie sets the cookie of a session just opened, for as long
// as the session lasts.
func setSessionCookie(c echo.Context, ses pageSession) {
	r := c.Request()
	life := apikeys.SessionLifetime
	if ses.account != nil {
		life = accounts.SessionLifetime
	}
	c.SetCookie(&http.Cookie{Name: sessionCookieName(r), Value: ses.secret, Path: "/", Expires: ses.expiresAt,
		MaxAge: int(life / time.Second), HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(c echo.Context) {
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}
