package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/accounts"
	"passnum/mail"
	"passnum/qrcode"
)

// The routes of people's accounts behind the pages (docs/pages.md,
// "Accounts"): choosing the organisation a session acts for, enrolling the
// second factor, one's own sessions, accepting an invitation and resetting
// a password. Like /session they are for browsers and live outside
// /api/v1; every rule is accounts'.

// The pages of accounts, and the links that open them. The token of a link
// is in the fragment, which browsers never send to a server nor in a
// Referer, so it stays out of every log on the way; the page's script
// reads it and sends it in a JSON body.
const (
	accountPath    = "/compte"
	invitationPath = "/invitation"
	resetPath      = "/mot-de-passe"
	forgotPath     = "/mot-de-passe-oublie"
)

// InvitationLink is the link that accepts an invitation, at base (the
// address people reach passnum at).
func InvitationLink(base, token string) string {
	return strings.TrimRight(base, "/") + invitationPath + "#" + token
}

// ResetLink is the link that sets a new password.
func ResetLink(base, token string) string {
	return strings.TrimRight(base, "/") + resetPath + "#" + token
}

// accountOf is the account session of the request, its CSRF token checked
// for a change; a key's session is refused.
func (s *server) accountOf(c echo.Context) (accounts.Session, error) {
	ses, err := s.findSession(c)
	if err != nil {
		return accounts.Session{}, err
	}
	state(c).principal = &ses.principal
	if err := checkCSRF(c, ses); err != nil {
		return accounts.Session{}, err
	}
	if ses.account == nil {
		return accounts.Session{}, newProblem(passnum.KindForbidden, codeForbidden,
			"Cette session est ouverte avec une clé d'accès : ce qui suit est pour les comptes personnels (adresse e-mail et mot de passe).")
	}
	return *ses.account, nil
}

// accountRequest is accountOf, then the request's JSON body into req.
func (s *server) accountRequest(c echo.Context, req any) (accounts.Session, error) {
	as, err := s.accountOf(c)
	if err != nil {
		return as, err
	}
	return as, s.decodeJSON(c, req)
}

func (s *server) answerSession(c echo.Context, as accounts.Session) error {
	ses := accountSession(as)
	state(c).principal = &ses.principal
	return respond(c, http.StatusOK, newSessionInfo(ses))
}

// chooseOrganisation makes the session act for another of the account's
// organisations (PUT /session/organisation).
func (s *server) chooseOrganisation(c echo.Context) error {
	var req struct {
		Organisation int64 `json:"organisation"`
	}
	as, err := s.accountRequest(c, &req)
	if err != nil {
		return err
	}
	if req.Organisation <= 0 {
		return passnum.Invalid("Choisissez dans la liste l’organisation pour laquelle vous agissez.").On("organisation")
	}
	as, err = s.Accounts.ChooseOrganisation(c.Request().Context(), as, req.Organisation)
	if err != nil {
		return err
	}
	return s.answerSession(c, as)
}

// totpEnrolment is a second factor to add: the secret to type and the QR
// code of its otpauth:// URI, as rows of "0" and "1" for the page to draw
// (an image would need the CSP to allow data: URLs).
type totpEnrolment struct {
	Secret string   `json:"secret"`
	URI    string   `json:"uri"`
	QR     []string `json:"qr"`
}

// enrolTOTP draws a second-factor secret for the account
// (POST /session/totp).
func (s *server) enrolTOTP(c echo.Context) error {
	as, err := s.accountOf(c)
	if err != nil {
		return err
	}
	e, err := s.Accounts.EnrolTOTP(c.Request().Context(), as.Account.ID)
	if err != nil {
		return err
	}
	qr, err := qrRows(e.URI, "l’adresse e-mail est trop longue. Tapez la clé à la main.")
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, totpEnrolment{Secret: e.Secret, URI: e.URI, QR: qr})
}

// qrRows encodes text in the smallest QR code that holds it, at level M
// (as an authenticator's camera reads a screen, nothing is damaged).
func qrRows(text, tooLong string) ([]string, error) {
	for v := 1; v <= 40; v++ {
		m, err := qrcode.Encode(text, v, qrcode.M)
		if err != nil {
			continue
		}
		rows := make([]string, m.Size())
		line := make([]byte, m.Size())
		for y := range rows {
			for x := range line {
				line[x] = '0'
				if m.Dark(x, y) {
					line[x] = '1'
				}
			}
			rows[y] = string(line)
		}
		return rows, nil
	}
	return nil, passnum.Invalid("Le code QR ne peut pas être fait : %s", tooLong)
}

// confirmTOTP turns the enrolled second factor on with a first code, and
// gives the session its roles (POST /session/totp/confirm).
func (s *server) confirmTOTP(c echo.Context) error {
	var req struct {
		TOTP string `json:"totp"`
	}
	as, err := s.accountRequest(c, &req)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.Accounts.ConfirmTOTP(ctx, as.Account.ID, strings.TrimSpace(req.TOTP)); err != nil {
		return err
	}
	if as, err = s.Accounts.Session(ctx, as.Secret); err != nil {
		return err
	}
	if as, err = s.Accounts.ChooseOrganisation(ctx, as, 0); err != nil {
		return err
	}
	return s.answerSession(c, as)
}

// openSession is one of the account's sessions, as its owner sees it.
type openSession struct {
	ID           int64     `json:"id"`
	Current      bool      `json:"current"`
	Device       string    `json:"device"`
	Organisation string    `json:"organisation,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// mySessions lists the account's open sessions (GET /sessions).
func (s *server) mySessions(c echo.Context) error {
	as, err := s.accountOf(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.OpenSessions(c.Request().Context(), as.Account.ID)
	if err != nil {
		return err
	}
	labels := map[int64]string{}
	for _, m := range as.Memberships {
		labels[m.Organisation.ID] = m.Label
	}
	out := make([]openSession, len(list))
	for i, o := range list {
		out[i] = openSession{ID: o.ID, Current: o.ID == as.ID, Device: device(o.UserAgent), Organisation: labels[o.Organisation],
			CreatedAt: o.CreatedAt, ExpiresAt: o.ExpiresAt}
	}
	return respond(c, http.StatusOK, map[string]any{"sessions": out})
}

// endMySession ends one of the account's sessions (DELETE /sessions/:id);
// the current one is a logout.
func (s *server) endMySession(c echo.Context) error {
	as, err := s.accountOf(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return passnum.NotFound("Il n’y a pas de session « %s ».", passnum.Shorten(c.Param("id"), 20))
	}
	if err := s.Accounts.EndOwnSession(c.Request().Context(), as.Account.ID, id); err != nil {
		return err
	}
	if id == as.ID {
		clearSessionCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

// device names a browser from its User-Agent, as its owner would: "Chrome
// sur Android". Only for recognising one's sessions: it can be forged.
func device(ua string) string {
	has := func(s string) bool { return strings.Contains(ua, s) }
	var browser, system string
	switch {
	case has("Edg/"):
		browser = "Edge"
	case has("Firefox/"):
		browser = "Firefox"
	case has("Chrome/") || has("Chromium/"):
		browser = "Chrome"
	case has("Safari/"):
		browser = "Safari"
	}
	switch {
	case has("Android"):
		system = "Android"
	case has("iPhone") || has("iPad"):
		system = "iPhone ou iPad"
	case has("Windows"):
		system = "Windows"
	case has("Mac OS X"):
		system = "Mac"
	case has("Linux"):
		system = "Linux"
	}
	switch {
	case browser != "" && system != "":
		return browser + " sur " + system
	case browser != "" || system != "":
		return browser + system
	}
	return "Navigateur inconnu"
}

// tokenAndPassword reads a link's token and the password typed with it,
// from a page of this site only: what accepting an invitation and
// choosing a new password both receive.
func (s *server) tokenAndPassword(c echo.Context) (token, password string, err error) {
	if err := rejectCrossSite(c); err != nil {
		return "", "", err
	}
	var req struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	err = s.decodeJSON(c, &req)
	return req.Token, req.Password, err
}

// acceptInvitation accepts an invitation with the password typed
// (POST /invitation); the page then logs in with it.
func (s *server) acceptInvitation(c echo.Context) error {
	token, password, err := s.tokenAndPassword(c)
	if err != nil {
		return err
	}
	a, err := s.Accounts.Accept(c.Request().Context(), token, password)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, map[string]any{"email": a.Email, "created": a.Created})
}

// requestReset sends a reset link to the address typed, if an account has
// it (POST /password-reset). The answer is the same whatever happened, and
// the mail goes out after it, so that neither the words nor the time of
// the answer tell whether the address has an account. Each request counts
// against the client's address like a failed login, so that no one sends
// a flood of mails to many addresses from one place.
func (s *server) requestReset(c echo.Context) error {
	if err := rejectCrossSite(c); err != nil {
		return err
	}
	var req struct {
		Email string `json:"email"`
	}
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if wait := s.limits.authByAddress.take(clientAddress(c), s.limits.now()); wait > 0 {
		s.metrics.RateLimited("failed_authentications_by_address")
		return authLimited(wait)
	}
	token, err := s.Accounts.RequestReset(c.Request().Context(), req.Email)
	if err != nil {
		return err
	}
	if token != "" {
		m := mail.PasswordReset{To: strings.TrimSpace(req.Email), Link: ResetLink(s.publicURL, token),
			Expires: s.now().Add(accounts.ResetLifetime), Date: s.now()}
		s.later(c, "a password reset email was not sent", func(ctx context.Context) error {
			msg, err := m.Message()
			if err != nil {
				return err
			}
			return s.Mail.Send(ctx, msg)
		})
	}
	return respond(c, http.StatusAccepted, map[string]string{"message": "Si un compte a cette adresse, un lien pour choisir un nouveau mot de passe vient de lui être envoyé. Il marche pendant une heure. Pensez à regarder dans les indésirables."})
}

// later runs work once the request is answered, such as sending an email
// (a slow mail server must not hold the answer, nor tell by its time
// what happened); a failure is the operator's to read in the log, with
// the request's id.
func (s *server) later(c echo.Context, what string, work func(ctx context.Context) error) {
	id := c.Response().Header().Get(echo.HeaderXRequestID)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := work(ctx); err != nil {
			s.log.Error(what, "request_id", id, "error", err.Error())
		}
	}()
}

// resetPassword sets a new password with a reset link
// (POST /password-reset/new).
func (s *server) resetPassword(c echo.Context) error {
	token, password, err := s.tokenAndPassword(c)
	if err != nil {
		return err
	}
	if err := s.Accounts.Reset(c.Request().Context(), token, password); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
