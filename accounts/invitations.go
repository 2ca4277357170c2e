package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// InvitationLifetime is how long an invitation link may be used: a week,
// time to read one's mail after a few days off.
const InvitationLifetime = 7 * 24 * time.Hour

// Invitation is an invitation just made. Token is what the link carries:
// the caller sends it by mail (or, with no mail server, the command line
// prints the link for the operator); it is never shown again.
type Invitation struct {
	ID           int64
	Token        string
	Email        string
	Organisation ledger.Organisation
	Label        string // the organisation's name, for the mail
	Role         string
	ExpiresAt    time.Time
}

// Invite makes a single-use link that gives email the role in org: an
// account made with it, or the role added to the account that already has
// the address. A département manager invites to its département and its
// structures, a venue manager volunteers of its venue, an admin (and the
// operator) anyone anywhere. Errors: invalid (email, role, organisation),
// forbidden(), not_found (organisation), conflict (the account has the role).
func (s *Service) Invite(ctx context.Context, c Caller, address string, org Org, role string) (Invitation, error) {
	addr, err := email(address)
	if err != nil {
		return Invitation{}, err
	}
	kind, ok := orgKinds[role]
	if !ok {
		return Invitation{}, passnum.Invalid("Le rôle « %s » n’existe pas : %s ou %s.", passnum.Shorten(role, 30),
			strings.Join(roleOrder[:len(roleOrder)-1], ", "), roleOrder[len(roleOrder)-1]).On("role")
	}
	secret, hash := newLinkSecret()
	inv := Invitation{Email: addr, Role: role}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		if inv.Organisation, err = resolve(tx, c.Actor(), org); err != nil {
			return err
		}
		if inv.Organisation.Kind != kind {
			return passnum.Invalid("Le rôle %s (%s) se donne dans %s, pas dans %s.", role, access.RoleName(role), kindNames[kind], kindNames[inv.Organisation.Kind])
		}
		if !st.mayGrant(inv.Organisation, role) {
			return forbidden()
		}
		var held int64
		err = tx.Model(&ledger.Membership{}).Joins("JOIN accounts a ON a.id = memberships.account_id").
			Where("a.email = ? AND memberships.organisation_id = ? AND memberships.role = ?", addr, inv.Organisation.ID, role).
			Count(&held).Error
		if err != nil {
			return err
		}
		if held > 0 {
			return passnum.Conflict("Le compte de %s a déjà le rôle %s dans cette organisation.", addr, access.RoleName(role))
		}
		now := tx.Now()
		row := ledger.Invitation{SecretSHA256: hash, Email: addr, OrganisationID: inv.Organisation.ID, Role: role,
			CreatedAt: now, CreatedBy: c.Actor(), ExpiresAt: now.Add(InvitationLifetime)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		inv.ID, inv.ExpiresAt, inv.Token = row.ID, row.ExpiresAt, linkToken(row.ID, secret)
		if inv.Label, err = label(tx.DB, inv.Organisation); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "invitation", EntityID: itoa(row.ID), Department: deref(inv.Organisation.DepartmentCode),
			Actor: c.Actor(), At: now, Data: ledger.AccountInvited{ID: row.ID, Organisation: inv.Organisation.ID, Role: role,
				ExpiresAt: formatTime(row.ExpiresAt)}})
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

var kindNames = map[ledger.OrganisationKind]string{
	ledger.OrgInstallation: "l’installation",
	ledger.OrgDepartment:   "un département",
	ledger.OrgStructure:    "une structure de distribution",
	ledger.OrgVenue:        "un lieu",
	ledger.OrgAuditor:      "un organisme d’audit",
}

// Accepted is the result of an accepted invitation.
type Accepted struct {
	Account      int64
	Email        string // the address invited, which logs in
	Created      bool   // a new account; false: the role was added to an existing one
	Organisation int64
	Role         string
}

// Accept uses an invitation, once. For an address without an account it
// makes one with password, which must follow the password rule; for one
// with an account, password must be that account's, so that whoever holds
// the link alone adds no role to someone else's account. A link already
// used or expired is refused and nothing is written, however many accept
// it at once. Errors: link_invalid, link_used, link_expired, invalid
// (password), account_disabled, conflict (the role is already held).
func (s *Service) Accept(ctx context.Context, token, password string) (Accepted, error) {
	inv, err := readLink(ctx, s.DB, token, func(i *ledger.Invitation) []byte { return i.SecretSHA256 }, invitationInvalid)
	if err != nil {
		return Accepted{}, err
	}
	if err := invitationState(inv, s.DB.Now()); err != nil {
		return Accepted{}, err
	}
	res := Accepted{Email: inv.Email, Organisation: inv.OrganisationID, Role: inv.Role}
	var existing []ledger.Account
	if err := s.DB.Read(ctx).Where("email = ?", inv.Email).Limit(1).Find(&existing).Error; err != nil {
		return Accepted{}, err
	}
	// The slow hashing runs before the transaction, which stays short.
	var pwHash string
	if len(existing) == 1 {
		// The password of an existing account is guessed here under the
		// login's lockout, or an invitation would be a way around it.
		a, key := existing[0], throttleKey(inv.Email)
		if err := s.lockedOut(ctx, key); err != nil {
			return Accepted{}, err
		}
		if ok, _ := verifyPassword(a.PasswordHash, password); !ok {
			return Accepted{}, s.fail(ctx, key, passnum.Invalid(
				"Un compte existe déjà pour l’adresse %s : tapez son mot de passe pour accepter l’invitation (ou changez-le d’abord avec « mot de passe oublié »).", inv.Email).On("password"))
		}
		if a.DisabledAt != nil {
			return Accepted{}, accountDisabled()
		}
		res.Account = a.ID
	} else {
		pw, err := checkPassword(password)
		if err != nil {
			return Accepted{}, err
		}
		pwHash, res.Created = hashPassword(pw), true
	}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := useInvitation(tx, &inv, &res, pwHash); err != nil {
			return err
		}
		if !res.Created {
			// The right password: its failures are forgotten, as at login.
			return tx.Where("email_sha256 = ?", throttleKey(inv.Email)).Delete(&ledger.LoginThrottle{}).Error
		}
		return nil
	})
	if err != nil {
		return Accepted{}, err
	}
	return res, nil
}

// useInvitation uses the invitation, once, for res.Account, or for a new
// account with password hash pwHash when res.Created (with no password:
// an account made through single sign-on), and gives the role. Accepting
// with a password and through single sign-on both end here, so that the
// invitation is used the same way whichever the person chose.
func useInvitation(tx *ledger.Tx, inv *ledger.Invitation, res *Accepted, pwHash string) error {
	now := tx.Now()
	used := tx.Model(&ledger.Invitation{}).Where("id = ? AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > ?", inv.ID, now).
		Update("accepted_at", now)
	if used.Error != nil {
		return used.Error
	}
	if used.RowsAffected != 1 {
		if err := tx.Where("id = ?", inv.ID).Take(inv).Error; err != nil {
			return err
		}
		return invitationState(*inv, now)
	}
	var org ledger.Organisation
	if err := tx.Where("id = ?", inv.OrganisationID).Take(&org).Error; err != nil {
		return err
	}
	dept := deref(org.DepartmentCode)
	if res.Created {
		a := ledger.Account{Email: inv.Email, PasswordHash: pwHash, CreatedAt: now}
		if err := tx.Create(&a).Error; err != nil {
			if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrDuplicate) {
				return passnum.Conflict("Un compte vient d’être créé pour l’adresse %s : ouvrez le lien à nouveau et tapez son mot de passe.", inv.Email)
			}
			return err
		}
		res.Account = a.ID
		err := tx.Append(ledger.Record{Entity: "account", EntityID: itoa(a.ID), Department: dept,
			Actor: access.AccountActor(a.ID, org.ID), At: now, Data: ledger.AccountCreated{ID: a.ID, Invitation: inv.ID}})
		if err != nil {
			return err
		}
	}
	actor := access.AccountActor(res.Account, org.ID)
	if err := tx.Model(&ledger.Invitation{}).Where("id = ?", inv.ID).Update("account_id", res.Account).Error; err != nil {
		return err
	}
	m := ledger.Membership{AccountID: res.Account, OrganisationID: org.ID, Role: inv.Role, CreatedAt: now, CreatedBy: inv.CreatedBy}
	if err := tx.Create(&m).Error; err != nil {
		if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrDuplicate) {
			return passnum.Conflict("Votre compte a déjà le rôle %s dans cette organisation : connectez-vous.", access.RoleName(inv.Role))
		}
		return err
	}
	return tx.Append(ledger.Record{Entity: "account", EntityID: itoa(res.Account), Department: dept,
		Actor: actor, At: now, Data: ledger.MembershipAdded{Account: res.Account, Organisation: org.ID, Role: inv.Role, Invitation: inv.ID}})
}

func invitationInvalid() *passnum.Error {
	return passnum.Errorf(passnum.KindNotFound, ELinkInvalid,
		"Ce lien d’invitation n’est pas valable : vérifiez qu’il est complet (copiez-le en entier depuis le message), ou demandez une nouvelle invitation.")
}

// invitationState refuses an invitation already used, cancelled or
// expired at now.
func invitationState(inv ledger.Invitation, now time.Time) error {
	switch {
	case inv.CancelledAt != nil:
		return passnum.Errorf(passnum.KindConflict, ELinkCancelled,
			"Cette invitation a été annulée le %s : demandez-en une nouvelle à la personne qui vous a invité.", parisTime(*inv.CancelledAt))
	case inv.AcceptedAt != nil:
		return passnum.Errorf(passnum.KindConflict, ELinkUsed,
			"Cette invitation a déjà servi, le %s : connectez-vous avec votre adresse e-mail et votre mot de passe.", parisTime(*inv.AcceptedAt))
	case !now.Before(inv.ExpiresAt):
		return passnum.Errorf(passnum.KindConflict, ELinkExpired,
			"Cette invitation a expiré le %s : demandez-en une nouvelle à la personne qui vous a invité.", parisTime(inv.ExpiresAt))
	}
	return nil
}

// CancelInvitation cancels an invitation not used yet, for those who
// manage its organisation's people: its link is refused from then on.
// Errors: forbidden(), not_found (no such invitation there), conflict
// (already used, cancelled or expired).
func (s *Service) CancelInvitation(ctx context.Context, c Caller, id int64) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		var inv ledger.Invitation
		var o ledger.Organisation
		err = tx.Where("id = ?", id).Take(&inv).Error
		if err == nil {
			err = tx.Where("id = ?", inv.OrganisationID).Take(&o).Error
		}
		if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && !st.manages(o) {
			// Another organisation's invitation is as if it did not exist.
			return passnum.NotFound("Il n’y a pas d’invitation n° %d.", id)
		}
		if err != nil {
			return err
		}
		now := tx.Now()
		r := tx.Model(&ledger.Invitation{}).Where("id = ? AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > ?", id, now).
			Update("cancelled_at", now)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			if err := tx.Where("id = ?", id).Take(&inv).Error; err != nil {
				return err
			}
			switch {
			case inv.AcceptedAt != nil:
				return passnum.Conflict("L’invitation n° %d a déjà servi : pour retirer ce rôle, retirez-le à la personne.", id)
			case inv.CancelledAt != nil:
				return passnum.Conflict("L’invitation n° %d est déjà annulée.", id)
			}
			return passnum.Conflict("L’invitation n° %d a expiré : elle ne peut déjà plus servir.", id)
		}
		return tx.Append(ledger.Record{Entity: "invitation", EntityID: itoa(id), Department: deref(o.DepartmentCode),
			Actor: c.Actor(), At: now, Data: ledger.InvitationCancelled{ID: id}})
	})
}
