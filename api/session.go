package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/apikeys"
	"passnum/ledger"
)

// Sessions of the département and auditor pages (docs/pages.md).
//
// A person types an API key once, on /connexion; the server checks it and
// answers with a cookie holding a fresh random secret. The key itself never
// reaches the browser's storage. The database keeps the secret's SHA-256
// and the key the session was opened with (ledger.WebSession), and every
// request joins the two: revoking the key, logging out or reaching the
// expiry ends the session at once, on every replica.
//
// Why a table rather than a signed, stateless cookie: a signed cookie needs
// a secret shared by every replica, which passnum does not have, and it
// cannot be ended before its expiry, so a copied cookie would outlive the
// logout. A table costs one indexed read per request, which a bearer key
// costs too.
//
// CSRF: SameSite=Strict keeps the cookie off cross-site requests in current
// browsers, but not in every browser nor against a sibling subdomain, so
// every state-changing request made with the cookie must also carry the
// X-CSRF-Token header. The token is an HMAC of the session's secret: the
// page's script gets it from GET /session, a cross-site page can neither
// read it nor compute it, and the server stores nothing more.

const (
	// sessionLifetime is absolute: a working day, after which the person
	// types the key again. It is not extended by use.
	sessionLifetime = 8 * time.Hour

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

// webSession is a session found from its cookie.
type webSession struct {
	id        int64
	secret    string // the cookie's value, to derive the CSRF token
	expiresAt time.Time
	principal apikeys.Principal
}

// sessionSecret reads the cookie of this request's scheme, "" if none.
func sessionSecret(r *http.Request) string {
	ck, err := r.Cookie(sessionCookieName(r))
	if err != nil || len(ck.Value) > 100 {
		return ""
	}
	return ck.Value
}

// sessionRow is what one query reads: the session and its key.
type sessionRow struct {
	ID             int64
	ExpiresAt      time.Time
	KeyID          int64
	Prefix         string
	Role           string
	DepartmentCode *string
	VenueID        *int64
	Name           string
}

var errNoSession = newProblem(passnum.KindUnauthorized, apikeys.EUnauthorized, "Session absente, expirée ou fermée : reconnectez-vous avec votre clé d'accès.")

// findSession returns the session of the request's cookie, or
// errNoSession if there is none, it expired, or its key was revoked.
func (s *server) findSession(c echo.Context) (*webSession, error) {
	secret := sessionSecret(c.Request())
	if secret == "" {
		return nil, errNoSession
	}
	var rows []sessionRow
	err := s.DB.Read(c.Request().Context()).Raw(`SELECT s.id, s.expires_at, k.id AS key_id, k.prefix, k.role, k.department_code, k.venue_id, k.name
		FROM web_sessions s JOIN api_keys k ON k.id = s.api_key_id
		WHERE s.token_hash = ? AND k.revoked_at IS NULL`, tokenHash(secret)).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || !s.now().Before(rows[0].ExpiresAt) || rows[0].Role == apikeys.RoleVenue {
		return nil, errNoSession
	}
	r := rows[0]
	p := apikeys.Principal{KeyID: r.KeyID, Prefix: r.Prefix, Role: r.Role, Name: r.Name}
	if r.DepartmentCode != nil {
		p.Department = *r.DepartmentCode
	}
	return &webSession{id: r.ID, secret: secret, expiresAt: r.ExpiresAt, principal: p}, nil
}

// sessionPrincipal authenticates a request by its session cookie, for
// require: a state-changing request must also carry the CSRF token, checked
// before anything runs.
func (s *server) sessionPrincipal(c echo.Context) (apikeys.Principal, error) {
	ws, err := s.findSession(c)
	if err != nil {
		return apikeys.Principal{}, err
	}
	state(c).principal = &ws.principal
	if err := checkCSRF(c, ws); err != nil {
		return apikeys.Principal{}, err
	}
	return ws.principal, nil
}

func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// csrfToken is the session's anti-forgery token: an HMAC of its secret,
// so that it needs no storage and cannot be computed without the cookie.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("passnum csrf token v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// safeMethod: a method that changes nothing, which needs no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a state-changing request without the session's token.
// Sec-Fetch-Site, which browsers set and scripts cannot, is a second line:
// a request another site made is refused even with a token.
func checkCSRF(c echo.Context, ws *webSession) error {
	r := c.Request()
	if safeMethod(r.Method) {
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return newProblem(passnum.KindForbidden, codeForbidden, "Requête refusée : elle vient d'un autre site que passnum.")
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || !hmac.Equal([]byte(got), []byte(csrfToken(ws.secret))) {
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

func newSessionInfo(ws *webSession) sessionInfo {
	p := ws.principal
	return sessionInfo{Role: p.Role, Department: p.Department, Name: p.Name, Prefix: p.Prefix,
		Home: homePage(p.Role), ExpiresAt: ws.expiresAt.UTC(), CSRFToken: csrfToken(ws.secret)}
}

// homePage is where a role lands after logging in.
func homePage(role string) string {
	if role == apikeys.RoleAuditor {
		return "/auditeur/"
	}
	return "/departement/"
}

// login exchanges an API key for a session (POST /session). JSON only:
// a cross-site HTML form cannot send it, which protects the login itself
// from forgery (being logged in as someone else); Sec-Fetch-Site too.
func (s *server) login(c echo.Context) error {
	if site := c.Request().Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return newProblem(passnum.KindForbidden, codeForbidden, "Requête refusée : elle vient d'un autre site que passnum.")
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
	if p.Role == apikeys.RoleVenue {
		return newProblem(passnum.KindForbidden, codeForbidden, "Cette clé est celle d'une structure : elle sert au scanner des chèques, pas à ces pages. Utilisez une clé de département ou d'auditeur.")
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	now := s.now().UTC()
	ws := &webSession{secret: secret, expiresAt: now.Add(sessionLifetime), principal: p}
	err = s.DB.Tx(c.Request().Context(), func(tx *ledger.Tx) error {
		// Expired sessions are swept here, the one place that adds rows.
		if err := tx.Where("expires_at <= ?", now).Delete(&ledger.WebSession{}).Error; err != nil {
			return err
		}
		row := ledger.WebSession{TokenHash: tokenHash(secret), APIKeyID: p.KeyID, CreatedAt: now, ExpiresAt: ws.expiresAt}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ws.id = row.ID
		return nil
	})
	if err != nil {
		return err
	}
	setSessionCookie(c, secret, ws.expiresAt)
	return respond(c, http.StatusOK, newSessionInfo(ws))
}

// currentSession tells the pages who is logged in, and their CSRF token
// (GET /session); 401 when nobody is.
func (s *server) currentSession(c echo.Context) error {
	ws, err := s.findSession(c)
	if err != nil {
		return err
	}
	state(c).principal = &ws.principal
	return respond(c, http.StatusOK, newSessionInfo(ws))
}

// logout ends the session (DELETE /session): its row is deleted, so the
// cookie is worthless even if it was copied. It needs the CSRF token, like
// any change; without a live session it only clears the cookie.
func (s *server) logout(c echo.Context) error {
	ws, err := s.findSession(c)
	if errors.Is(err, errNoSession) {
		clearSessionCookie(c)
		return c.NoContent(http.StatusNoContent)
	}
	if err != nil {
		return err
	}
	state(c).principal = &ws.principal
	if err := checkCSRF(c, ws); err != nil {
		return err
	}
	if err := s.DB.Read(c.Request().Context()).Delete(&ledger.WebSession{}, ws.id).Error; err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.NoContent(http.StatusNoContent)
}

func setSessionCookie(c echo.Context, secret string, expires time.Time) {
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: sessionCookieName(r), Value: secret, Path: "/", Expires: expires,
		MaxAge: int(sessionLifetime / time.Second), HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(c echo.Context) {
	r := c.Request()
	c.SetCookie(&http.Cookie{Name: sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}
