package api

import (
	"passnum/access"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passnum"
)

// require authenticates the bearer key and admits only the principals
// whose roles grant one of perms (access's table). The principal it finds is the
// only source of who the caller is: a venue acts as the venue of its key,
// whatever the request says.
//
// A request without an Authorization header may instead carry the session
// cookie of the département and auditor pages (session.go), which stands for
// the key it was opened with; a state-changing one must then carry the
// session's CSRF token too. With an Authorization header the cookie is
// ignored, so a bearer client behaves exactly as if sessions did not exist.
func (s *server) require(perms ...access.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			header := c.Request().Header.Get(echo.HeaderAuthorization)
			var (
				p   access.Principal
				err error
			)
			if header == "" && sessionSecret(c.Request()) != "" {
				// A stale cookie is a browser's, not a guess: not counted.
				p, err = s.sessionPrincipal(c)
			} else {
				secret, ok := bearer(header)
				if !ok {
					return newProblem(passnum.KindUnauthorized, passnum.EUnauthorized, "Clé d'accès absente : envoyez l'en-tête « Authorization: Bearer <clé> ».")
				}
				p, err = s.authenticate(c, secret)
			}
			if err != nil {
				return err
			}
			state(c).principal = &p
			if !admits(p, perms) {
				return refused(p)
			}
			return next(c)
		}
	}
}

// authenticate checks a secret key; a wrong one counts against the
// client's address (authFailed). There is no limit before the check: a key
// carries 256 random bits, so online guessing is hopeless however many
// tries are allowed, and the check (a SHA-256 and one indexed lookup, in
// constant time, apikeys.Service.Authenticate) costs no more than any
// request made with a right key.
func (s *server) authenticate(c echo.Context, secret string) (access.Principal, error) {
	p, err := s.Keys.Authenticate(c.Request().Context(), secret)
	if passnum.ErrorCode(err) == passnum.EUnauthorized {
		return p, s.authFailed(c, err)
	}
	if err == nil {
		// A venue's scanner says which release it runs and how many
		// baskets it holds offline (apikeys.Service.Report).
		h := c.Request().Header
		if pending, err := strconv.Atoi(h.Get(scannerPendingHeader)); err == nil && h.Get(scannerVersionHeader) != "" {
			s.Keys.Report(c.Request().Context(), p, h.Get(scannerVersionHeader), pending)
		}
	}
	return p, err
}

// The headers a venue's scanner reports itself with.
const (
	scannerVersionHeader = "Passnum-Scanner-Version"
	scannerPendingHeader = "Passnum-Scanner-Pending"
)

// admits tells whether p holds one of perms; a venue's permission needs
// the venue it is for.
func admits(p access.Principal, perms []access.Permission) bool {
	for _, perm := range perms {
		venueWork := perm == access.Redeem || perm == access.VenueStatements || perm == access.SeeVenue
		if p.May(perm) && (!venueWork || p.VenueID > 0) {
			return true
		}
	}
	return false
}

// refused is the answer to a principal whose roles do not grant what it
// asked for.
func refused(p access.Principal) error {
	if p.Account != 0 {
		return newProblem(passnum.KindForbidden, codeForbidden, "Votre rôle (%s) ne permet pas cette opération : demandez-la à un responsable de votre organisation.", p.RoleNames())
	}
	return newProblem(passnum.KindForbidden, codeForbidden, "Cette clé d'accès (rôle %s) ne permet pas cette opération.", p.RoleNames())
}

// bearer reads "Bearer <secret>"; the scheme is case-insensitive (RFC 9110).
func bearer(header string) (string, bool) {
	scheme, secret, ok := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	return secret, ok && strings.EqualFold(scheme, "Bearer") && secret != ""
}

// principal is the caller, for handlers behind require.
func principal(c echo.Context) access.Principal {
	if p := state(c).principal; p != nil {
		return *p
	}
	return access.Principal{}
}
