package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// Sessions of the pages opened by a login (docs/accounts.md, "Sessions").
// As the sessions of API keys (apikeys/sessions.go, which says why they are
// rows), the browser keeps a random secret in a cookie and the table its
// SHA-256. A session acts for one organisation of the account, which its
// owner may change without logging in again. Each lookup reads the
// account and its roles again: a disabled account, a role taken away or a
// second factor still to enrol counts at the next request, on every
// replica.

// SessionLifetime is absolute, a working day, as for the sessions of keys.
const SessionLifetime = 8 * time.Hour

// SessionPrefix starts the secret of every account session, so that the
// edge knows which table a cookie names without a second query: the other
// sessions' secrets are base64url, which has no dot.
const SessionPrefix = "a."

// Session is an open session of an account.
type Session struct {
	ID          int64
	Secret      string // what the browser sends back; only its SHA-256 is stored
	Account     Person
	Memberships []Member // every role of the account, in every organisation
	// Organisation is the one the session acts for; zero when none is
	// chosen yet, or while EnrolTOTP holds.
	Organisation int64
	// EnrolTOTP: the account holds a role that moves money and has no
	// second factor: the session has no roles until it enrols one.
	EnrolTOTP bool
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Principal is who the session acts as: the account, for its organisation,
// with every role it holds there; no roles while the second factor is to
// be enrolled or when it holds none there any more.
func (ses Session) Principal() access.Principal {
	p := access.Principal{Account: ses.Account.ID, Name: ses.Account.Email}
	if ses.EnrolTOTP || ses.Organisation == 0 {
		return p
	}
	p.Organisation = ses.Organisation
	for _, m := range ses.Memberships {
		if m.Organisation.ID != ses.Organisation {
			continue
		}
		p.Roles = append(p.Roles, m.Role)
		o := m.Organisation
		p.Department = deref(o.DepartmentCode)
		p.VenueID = deref(o.VenueID)
		if o.Kind == ledger.OrgStructure {
			p.Structure = o.ID
		}
	}
	return p
}

// Caller is the session as the caller of this package's changes.
func (ses Session) Caller() Caller {
	return Caller{Account: ses.Account.ID, Organisation: ses.Principal().Organisation}
}

// mustEnrol tells whether an account must enrol a second factor before it
// acts at all: it holds a role that moves money and has none. Login and
// every session lookup ask it, so a role given during a session counts too.
func mustEnrol(totp bool, members []Member) bool {
	if totp {
		return false
	}
	for _, m := range members {
		if access.MovesMoney(m.Role) {
			return true
		}
	}
	return false
}

func sessionNone() *passnum.Error {
	return passnum.Errorf(passnum.KindUnauthorized, passnum.EUnauthorized,
		"Session absente, expirée ou fermée : reconnectez-vous avec votre adresse e-mail et votre mot de passe.")
}

func notMember() *passnum.Error {
	return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden,
		"Vous n’avez pas de rôle dans cette organisation : choisissez-en une de la liste.")
}

// pick is the organisation a session acts for: the one asked for, which
// must be one of the account's, or its first one when none is asked for.
func pick(members []Member, org int64) (int64, error) {
	for _, m := range members {
		if org == 0 || m.Organisation.ID == org {
			return m.Organisation.ID, nil
		}
	}
	if len(members) == 0 {
		return 0, passnum.Errorf(passnum.KindForbidden, passnum.EForbidden,
			"Votre compte n’a plus aucun rôle : adressez-vous à un responsable de votre organisation.")
	}
	return 0, notMember()
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// maxUserAgent bounds what is kept of a browser's name, for the list of
// one's sessions.
const maxUserAgent = 200

// OpenSession opens a session for a successful Login, for org (zero: the
// account's first organisation). An account that must enrol its second
// factor gets a session for that alone. Expired sessions are swept here,
// the one place that adds rows. Errors: forbidden (org is not one of the
// account's, or the account has no role left).
func (s *Service) OpenSession(ctx context.Context, l Login, org int64, userAgent string) (Session, error) {
	ses := Session{Account: l.Account, Memberships: l.Memberships, EnrolTOTP: l.Status == LoginEnrolTOTP,
		UserAgent: passnum.Shorten(strings.TrimSpace(userAgent), maxUserAgent)}
	if ses.EnrolTOTP {
		// Login hides the roles until then; the session reads them itself.
		ms, err := s.members(s.DB.Read(ctx), l.Account.ID)
		if err != nil {
			return Session{}, err
		}
		ses.Memberships = ms
	} else {
		o, err := pick(ses.Memberships, org)
		if err != nil {
			return Session{}, err
		}
		ses.Organisation = o
	}
	b := make([]byte, 32)
	rand.Read(b)
	ses.Secret = SessionPrefix + base64.RawURLEncoding.EncodeToString(b)
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if err := tx.Where("expires_at <= ?", now).Delete(&ledger.AccountSession{}).Error; err != nil {
			return err
		}
		row := ledger.AccountSession{TokenHash: hashSecret(ses.Secret), AccountID: l.Account.ID, UserAgent: ses.UserAgent,
			CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
		if ses.Organisation != 0 {
			row.OrganisationID = &ses.Organisation
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ses.ID, ses.CreatedAt, ses.ExpiresAt = row.ID, row.CreatedAt.UTC(), row.ExpiresAt.UTC()
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	return ses, nil
}

// Session returns the open session of a secret, with the account's roles
// as they are now. Errors: unauthorized (no such session, it expired or
// was ended, or the account is disabled).
func (s *Service) Session(ctx context.Context, secret string) (Session, error) {
	if !strings.HasPrefix(secret, SessionPrefix) {
		return Session{}, sessionNone()
	}
	q := s.DB.Read(ctx)
	var rows []struct {
		ledger.AccountSession
		Email           string
		TOTPConfirmedAt *time.Time `gorm:"column:totp_confirmed_at"`
		DisabledAt      *time.Time
		AccountCreated  time.Time
	}
	err := q.Raw(`SELECT s.*, a.email, a.totp_confirmed_at, a.disabled_at, a.created_at AS account_created
		FROM account_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, hashSecret(secret)).Scan(&rows).Error
	if err != nil {
		return Session{}, err
	}
	if len(rows) == 0 || rows[0].DisabledAt != nil || !s.DB.Now().Before(rows[0].ExpiresAt) {
		return Session{}, sessionNone()
	}
	r := rows[0]
	members, err := s.members(q, r.AccountID)
	if err != nil {
		return Session{}, err
	}
	ses := Session{ID: r.ID, Secret: secret, Memberships: members, UserAgent: r.UserAgent,
		Account:   Person{ID: r.AccountID, Email: r.Email, TOTP: r.TOTPConfirmedAt != nil, CreatedAt: r.AccountCreated},
		EnrolTOTP: mustEnrol(r.TOTPConfirmedAt != nil, members), CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if !ses.EnrolTOTP {
		ses.Organisation = deref(r.OrganisationID)
	}
	return ses, nil
}

// ChooseOrganisation makes the session act for org, one of the account's
// organisations (zero: its first), without logging in again; it is also
// how a session that has just enrolled its second factor gets its roles.
// Errors: forbidden (not a member; the second factor still to enrol).
func (s *Service) ChooseOrganisation(ctx context.Context, ses Session, org int64) (Session, error) {
	if ses.EnrolTOTP {
		return Session{}, totpFirst()
	}
	o, err := pick(ses.Memberships, org)
	if err != nil {
		return Session{}, err
	}
	r := s.DB.Read(ctx).Model(&ledger.AccountSession{}).Where("id = ?", ses.ID).Update("organisation_id", o)
	if r.Error != nil {
		return Session{}, r.Error
	}
	if r.RowsAffected != 1 {
		return Session{}, sessionNone()
	}
	ses.Organisation = o
	return ses, nil
}

func totpFirst() *passnum.Error {
	return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden,
		"Vos rôles demandent un second facteur : ajoutez-le d’abord (une application d’authentification sur votre téléphone).")
}

// EndSession ends a session at once (logout): its row is deleted, so a
// copy of its secret is worthless. Ending one that is gone already is not
// an error.
func (s *Service) EndSession(ctx context.Context, ses Session) error {
	return s.DB.Read(ctx).Delete(&ledger.AccountSession{}, ses.ID).Error
}

// OpenSessions lists an account's open sessions, the newest first, for
// their owner to recognise and end those that are not theirs.
func (s *Service) OpenSessions(ctx context.Context, account int64) ([]Session, error) {
	var rows []ledger.AccountSession
	err := s.DB.Read(ctx).Where("account_id = ? AND expires_at > ?", account, s.DB.Now()).Order("created_at DESC, id DESC").Find(&rows).Error
	out := make([]Session, len(rows))
	for i, r := range rows {
		out[i] = Session{ID: r.ID, Account: Person{ID: r.AccountID}, Organisation: deref(r.OrganisationID), UserAgent: r.UserAgent,
			CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	}
	return out, err
}

// EndOwnSession ends one of the account's sessions, from another browser
// (a phone left logged in at the office). Errors: not_found (no such open
// session of this account: another's is as if it did not exist).
func (s *Service) EndOwnSession(ctx context.Context, account, id int64) error {
	r := s.DB.Read(ctx).Where("id = ? AND account_id = ?", id, account).Delete(&ledger.AccountSession{})
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected != 1 {
		return passnum.NotFound("Il n’y a pas de session %d ouverte sur votre compte : elle est peut-être déjà fermée.", id)
	}
	return nil
}

// endSessions ends every session of an account, in the transaction that
// disables it or resets its password: a stolen cookie dies with the old
// password.
func endSessions(tx *ledger.Tx, account int64) error {
	return tx.Where("account_id = ?", account).Delete(&ledger.AccountSession{}).Error
}

// members lists an account's roles, by organisation then role, in one
// query: a session reads them on every request.
func (s *Service) members(q *gorm.DB, account int64) ([]Member, error) {
	var rows []struct {
		Role, Label string
		ledger.Organisation
	}
	err := q.Raw(`SELECT m.role, o.*, `+labelColumn+` AS label
		FROM memberships m JOIN organisations o ON o.id = m.organisation_id `+labelJoins+`
		WHERE m.account_id = ? ORDER BY m.organisation_id, m.role`, account).Scan(&rows).Error
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = Member{Organisation: r.Organisation, Role: r.Role, Label: labelOf(r.Organisation, r.Label)}
	}
	return out, err
}

// An organisation's label is the name its people know it by: a
// département's name and code, a venue's name, a structure's or an
// auditors' body's own; labelColumn reads it for o, with labelJoins.
const (
	labelColumn = `COALESCE(d.name || ' (' || d.code || ')', v.name, o.name)`
	labelJoins  = `LEFT JOIN departments d ON o.kind = 'department' AND d.code = o.department_code
		LEFT JOIN venues v ON v.id = o.venue_id`
)

func labelOf(o ledger.Organisation, read string) string {
	if o.Kind == ledger.OrgInstallation {
		return "Administration de passnum"
	}
	return read
}

// label reads one organisation's label.
func label(q *gorm.DB, o ledger.Organisation) (string, error) {
	var read string
	err := q.Raw(`SELECT `+labelColumn+` FROM organisations o `+labelJoins+` WHERE o.id = ?`, o.ID).Scan(&read).Error
	return labelOf(o, read), err
}
