// Package accounts is the people of the programme and the organisations
// they work for (docs/accounts.md): départements, their distribution
// structures, venues, auditors' bodies and the installation; personal
// accounts with an Argon2id password and a TOTP second factor; their roles
// in organisations; invitations, logins with a lockout that no one can use
// to learn which addresses have an account, and password resets. API keys
// (package apikeys) stay, for machines.
//
// Every change appends a ledger event whose actor is the account that made
// it and the organisation it acted for ("account:17@organisation:4"):
// emails never reach the ledger.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"passnum"
	"passnum/access"
	"passnum/ledger"
	"passnum/sso"
	"passnum/voucher"
)

// orgKinds is the kind of organisation each role of a person is held in
// (what each may do is access's table).
var orgKinds = map[string]ledger.OrganisationKind{
	access.RoleDepartmentManager: ledger.OrgDepartment,
	access.RoleDepartmentFinance: ledger.OrgDepartment,
	access.RoleDepartmentReader:  ledger.OrgDepartment,
	access.RoleStructureAgent:    ledger.OrgStructure,
	access.RoleVenueManager:      ledger.OrgVenue,
	access.RoleVenueVolunteer:    ledger.OrgVenue,
	access.RoleAuditor:           ledger.OrgAuditor,
	access.RoleAdmin:             ledger.OrgInstallation,
}

// roleOrder is the people's roles in the order pages offer them.
var roleOrder = []string{access.RoleDepartmentManager, access.RoleDepartmentFinance, access.RoleDepartmentReader,
	access.RoleStructureAgent, access.RoleVenueManager, access.RoleVenueVolunteer, access.RoleAuditor, access.RoleAdmin}

// Error codes, beside the generic ones.
const (
	// ELoginFailed: wrong email or password, the same for both.
	ELoginFailed = "login_failed"
	// ELoginLocked: too many failures for this address; the message says
	// how long to wait, and the error's RetryAfter too.
	ELoginLocked = "login_locked"
	// ETOTPRequired: the password is right; the code of the second factor
	// is needed too.
	ETOTPRequired = "totp_required"
	// ETOTPInvalid: a wrong, stale or already used second-factor code.
	ETOTPInvalid = "totp_invalid"
	// EAccountDisabled: the account was disabled by a manager.
	EAccountDisabled = "account_disabled"
	// ELinkInvalid: an invitation or reset link that is malformed or
	// unknown; ELinkUsed: one already used; ELinkExpired: one past its
	// expiry.
	ELinkInvalid = "link_invalid"
	ELinkUsed    = "link_used"
	ELinkExpired = "link_expired"
	// ELinkCancelled: an invitation its manager cancelled.
	ELinkCancelled = "link_cancelled"
)

// Service manages organisations, accounts and their roles. It is safe for
// concurrent use.
type Service struct {
	DB *ledger.DB // and its clock
	// SSO is the identity provider people may log in with (nil: none,
	// only passwords).
	SSO *sso.Provider

	dummyOnce sync.Once
	dummy     string // a hash to verify when the email is unknown
}

// Caller is who asks for a change: an account acting for one of the
// organisations it holds a role in, or the operator at the command line,
// who may do what an admin may.
type Caller struct {
	Account      int64
	Organisation int64
	// Operator names the operator ("cli:alice") when Account is zero.
	Operator string
}

// Operator is the caller of the command line.
func Operator(actor string) Caller { return Caller{Operator: actor} }

// Actor names the caller in the ledger: the account by its id and the
// organisation it acts for, never a name or an email.
func (c Caller) Actor() string {
	if c.Account == 0 {
		return c.Operator
	}
	return access.AccountActor(c.Account, c.Organisation)
}

// standing is what a caller may do: its roles in the organisation it acts
// for, and whether that makes it an admin.
type standing struct {
	admin bool
	org   ledger.Organisation
	roles []string
}

func (st standing) has(role string) bool { return slices.Contains(st.roles, role) }

// forbidden is the refusal of a caller whose roles do not allow the
// change. Each refusal is a new *Error, so that no caller can change
// another's.
func forbidden() *passnum.Error {
	return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden,
		"Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
}

// standingOf reads the caller's roles in tx. An unknown or disabled account
// is refused, so that disabling an account stops what it was doing at once.
func standingOf(tx *ledger.Tx, c Caller) (standing, error) {
	if c.Account == 0 {
		if c.Operator == "" {
			return standing{}, fmt.Errorf("accounts: a caller with neither account nor operator")
		}
		return standing{admin: true}, nil
	}
	var a ledger.Account
	err := tx.Where("id = ?", c.Account).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && a.DisabledAt != nil {
		return standing{}, passnum.Errorf(passnum.KindUnauthorized, passnum.EUnauthorized, "Compte inconnu ou désactivé : reconnectez-vous.")
	}
	if err != nil {
		return standing{}, err
	}
	var st standing
	err = tx.Model(&ledger.Membership{}).Where("account_id = ? AND organisation_id = ?", c.Account, c.Organisation).
		Pluck("role", &st.roles).Error
	if err != nil {
		return standing{}, err
	}
	if len(st.roles) == 0 {
		return standing{}, forbidden()
	}
	// An admin has an admin's powers only when acting as one, for the
	// installation: acting for a département, it has that role's.
	st.admin = st.has(access.RoleAdmin)
	if err := tx.Where("id = ?", c.Organisation).Take(&st.org).Error; err != nil {
		return standing{}, err
	}
	return st, nil
}

// manages tells whether the caller manages the people of org: an admin
// everywhere; a département manager its département and its structures; a
// venue manager its venue.
func (st standing) manages(org ledger.Organisation) bool {
	switch {
	case st.admin:
		return true
	case st.has(access.RoleDepartmentManager):
		return (org.Kind == ledger.OrgDepartment || org.Kind == ledger.OrgStructure) &&
			deref(org.DepartmentCode) == deref(st.org.DepartmentCode)
	case st.has(access.RoleVenueManager):
		return org.ID == st.org.ID
	}
	return false
}

// mayGrant tells whether the caller may invite someone to role in org:
// whoever manages org, for the roles of that organisation's people; only
// an admin makes admins and auditors, and a venue manager only volunteers.
func (st standing) mayGrant(org ledger.Organisation, role string) bool {
	switch {
	case st.admin:
		return true
	case role == access.RoleAdmin || role == access.RoleAuditor:
		return false
	case !st.has(access.RoleDepartmentManager) && role != access.RoleVenueVolunteer:
		return false
	}
	return st.manages(org)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Links (invitations, password resets) are "ID.SECRET": the id finds the
// row, the secret's SHA-256 is compared in constant time with the stored
// one, so that a copy of the database opens no link. 256 bits of secret.
func newLinkSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

func linkToken(id int64, secret string) string { return itoa(id) + "." + secret }

// readLink reads the row (an invitation, a password reset) a link's
// token names, or invalid when the token is malformed, names no row, or
// carries another secret than the row's.
func readLink[T any](ctx context.Context, db *ledger.DB, token string, secretOf func(*T) []byte, invalid func() *passnum.Error) (T, error) {
	var row T
	idPart, secret, ok := strings.Cut(strings.TrimSpace(token), ".")
	id, err := strconv.ParseInt(idPart, 10, 64)
	if !ok || len(token) > 200 || secret == "" || err != nil || id <= 0 {
		return row, invalid()
	}
	err = db.Read(ctx).Where("id = ?", id).Take(&row).Error
	h := sha256.Sum256([]byte(secret))
	if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && subtle.ConstantTimeCompare(h[:], secretOf(&row)) != 1 {
		return row, invalid()
	}
	return row, err
}

// email reads an email address as typed: trimmed and lower-cased, which is
// how accounts store it, so that it is unique whatever its case. The check
// is deliberately loose (an @ between two non-empty parts, a dot in the
// domain): whether the address works is what the invitation mail proves.
func email(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "@") || len(e) > 254 || strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", passnum.Invalid("« %s » n’est pas une adresse e-mail : écrivez-la comme prenom.nom@exemple.fr.", passnum.Shorten(strings.TrimSpace(s), 60)).On("email")
	}
	return e, nil
}

// insertIfAbsent inserts a row unless a unique index already holds
// one like it, and tells whether it did.
func insertIfAbsent(tx *ledger.Tx, row any) (bool, error) {
	r := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	return r.RowsAffected == 1, r.Error
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// parisTime writes an instant as the people of the programme read it:
// "26/11/2026 à 11:00".
func parisTime(t time.Time) string { return t.In(voucher.Paris()).Format("02/01/2006 à 15:04") }
