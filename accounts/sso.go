package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
	"passnum/sso"
)

// Single sign-on: package sso proves who the person is at the provider;
// here is which account that opens. An identity (issuer, subject) opens
// only the account an invitation accepted through the provider bound it
// to: the provider's say-so never creates an account with a role, and an
// address alone never links one (anyone may open an account at some
// providers with any address). The second factor stays passnum's: the
// provider's multi-factor login is not something passnum can see, so an
// account with a role that moves money types its code here as after a
// password, under the same lockout.

// EIdentityUnknown: the provider proved an identity that no invitation
// bound to an account.
const EIdentityUnknown = "identity_unknown"

// ESSOInProgress: another request (a double tap) is taking the same
// login's answer to the provider; this one waits for nothing.
const ESSOInProgress = "request_in_progress"

// SSOLoginLifetime is how long a login may take at the provider: time to
// type a password there, not to leave the page for the day.
const SSOLoginLifetime = 10 * time.Minute

func ssoNotConfigured() *passnum.Error {
	return passnum.NotFound("La connexion par un fournisseur d’identité n’est pas configurée ici : connectez-vous avec votre adresse e-mail et votre mot de passe.")
}

func ssoExpired() *passnum.Error {
	return passnum.Errorf(passnum.KindUnauthorized, sso.EFailed,
		"Cette connexion a expiré ou a déjà servi : recommencez depuis la page de connexion.")
}

// SSOName is the provider's name for the buttons, "" when single sign-on
// is not configured.
func (s *Service) SSOName() string {
	if s.SSO == nil {
		return ""
	}
	return s.SSO.Name()
}

// StartSSO starts a login through the provider: it keeps the flow for
// SSOLoginLifetime and returns the secret of the browser's cookie that
// names it, and the provider's address to send the browser to. With an
// invitation's token, the login accepts that invitation; the token is
// checked now, so that a used or expired link says so before the person
// goes to the provider. Errors: not_found (not configured),
// sso_unavailable, and the invitation's link_* errors.
func (s *Service) StartSSO(ctx context.Context, invitation string) (secret, authURL string, err error) {
	if s.SSO == nil {
		return "", "", ssoNotConfigured()
	}
	var invID *int64
	if invitation != "" {
		inv, err := readLink(ctx, s.DB, invitation, func(i *ledger.Invitation) []byte { return i.SecretSHA256 }, invitationInvalid)
		if err != nil {
			return "", "", err
		}
		if err := invitationState(inv, s.DB.Now()); err != nil {
			return "", "", err
		}
		invID = &inv.ID
	}
	flow, authURL, err := s.SSO.Begin(ctx)
	if err != nil {
		return "", "", err
	}
	secret = rand.Text()
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		// Logins abandoned at the provider go as others start.
		if err := tx.Where("expires_at < ?", now).Delete(&ledger.SSOLogin{}).Error; err != nil {
			return err
		}
		return tx.Create(&ledger.SSOLogin{SecretSHA256: ssoKey(secret), State: flow.State, Nonce: flow.Nonce, Verifier: flow.Verifier,
			InvitationID: invID, CreatedAt: now, ExpiresAt: now.Add(SSOLoginLifetime)}).Error
	})
	if err != nil {
		return "", "", err
	}
	return secret, authURL, nil
}

func ssoKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SSOLogin ends a login through the provider, for the browser holding the
// cookie's secret; session is the account of that browser's open session
// (0: none), which accepting an invitation for an existing account needs. The first call brings the provider's return (ret): the
// flow is used once, the identity proved and tied to its account (or, for
// an invitation, the invitation accepted with it). When the account has a
// second factor, the call answers totp_required and the next ones bring
// the code (ret is then ignored) until it is right, the lockout allows,
// or the ten minutes are over. Errors: sso_failed (expired, already used,
// or the provider's answer proves nothing), identity_unknown,
// sso_unavailable, account_disabled, totp_required, totp_invalid,
// login_locked, request_in_progress; for an invitation, its link_* errors,
// invalid (the provider's address is not the invitation's, or the account
// exists and is not the one logged in) and conflict.
func (s *Service) SSOLogin(ctx context.Context, secret string, ret sso.Return, totp string, session int64) (Login, error) {
	if s.SSO == nil {
		return Login{}, ssoNotConfigured()
	}
	key := ssoKey(secret)
	var rows []ledger.SSOLogin
	if err := s.DB.Read(ctx).Where("secret_sha256 = ? AND expires_at > ?", key, s.DB.Now()).Limit(1).Find(&rows).Error; err != nil {
		return Login{}, err
	}
	if secret == "" || len(rows) == 0 {
		return Login{}, ssoExpired()
	}
	row := rows[0]
	if row.AccountID == nil {
		// A return for another login (another tab's, or planted by a
		// link) leaves this one alone.
		if subtle.ConstantTimeCompare([]byte(ret.State), []byte(row.State)) != 1 {
			return Login{}, passnum.Errorf(passnum.KindUnauthorized, sso.EFailed,
				"Cette réponse du fournisseur d’identité n’est pas celle de la connexion en cours : recommencez depuis la page de connexion.")
		}
		// One request takes the answer to the provider: two at once (a
		// double tap) would spend its code twice, and the loser's
		// refusal would end the winner's login.
		var claimed int64
		err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
			r := tx.Model(&ledger.SSOLogin{}).Where("secret_sha256 = ? AND claimed_at IS NULL", key).Update("claimed_at", tx.Now())
			claimed = r.RowsAffected
			return r.Error
		})
		if err != nil {
			return Login{}, err
		}
		if claimed != 1 {
			return Login{}, passnum.Errorf(passnum.KindConflict, ESSOInProgress,
				"Votre connexion est déjà en cours de vérification : patientez quelques secondes.")
		}
		id, err := s.SSO.Finish(ctx, sso.Flow{State: row.State, Nonce: row.Nonce, Verifier: row.Verifier}, ret)
		if err != nil {
			// The provider's codes are single use: this login cannot
			// be tried again.
			return Login{}, errors.Join(err, s.DB.Tx(ctx, func(tx *ledger.Tx) error {
				return tx.Where("secret_sha256 = ?", key).Delete(&ledger.SSOLogin{}).Error
			}))
		}
		account, err := s.identified(ctx, row, id, session)
		if err != nil {
			return Login{}, err
		}
		row.AccountID = &account
	}
	var a ledger.Account
	if err := s.DB.Read(ctx).Where("id = ?", *row.AccountID).Take(&a).Error; err != nil {
		return Login{}, err
	}
	if a.DisabledAt != nil {
		return Login{}, accountDisabled()
	}
	// The lockout counts codes only: the provider checked the rest.
	lock := throttleKey(a.Email)
	step, err := s.secondFactor(ctx, a, lock, totp)
	if err != nil {
		return Login{}, err
	}
	return s.logIn(ctx, a, step, func(tx *ledger.Tx) error {
		// Once: the same cookie opens no second session.
		r := tx.Where("secret_sha256 = ? AND account_id = ?", key, a.ID).Delete(&ledger.SSOLogin{})
		if r.Error == nil && r.RowsAffected != 1 {
			return ssoExpired()
		}
		if r.Error != nil || step == nil {
			return r.Error
		}
		return tx.Where("email_sha256 = ?", lock).Delete(&ledger.LoginThrottle{}).Error
	})
}

// identified ties the identity the provider proved to the login's row,
// once, and returns its account: the one the identity is bound to, or for
// an invitation the account it is accepted for.
func (s *Service) identified(ctx context.Context, row ledger.SSOLogin, id sso.Identity, session int64) (int64, error) {
	var account int64
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		var err error
		if row.InvitationID != nil {
			account, err = acceptWithIdentity(tx, *row.InvitationID, id, session)
		} else {
			account, err = boundAccount(tx, id)
		}
		if err != nil {
			return err
		}
		r := tx.Model(&ledger.SSOLogin{}).Where("secret_sha256 = ? AND account_id IS NULL", row.SecretSHA256).Update("account_id", account)
		if r.Error == nil && r.RowsAffected != 1 {
			return ssoExpired()
		}
		return r.Error
	})
	if err != nil && passnum.ErrorCode(err) != passnum.EInternal {
		// A refusal ends the login: the provider's code is spent.
		err = errors.Join(err, s.DB.Tx(ctx, func(tx *ledger.Tx) error {
			return tx.Where("secret_sha256 = ?", row.SecretSHA256).Delete(&ledger.SSOLogin{}).Error
		}))
	}
	return account, err
}

// boundAccount is the account an identity is bound to.
func boundAccount(tx *ledger.Tx, id sso.Identity) (int64, error) {
	var link ledger.AccountIdentity
	err := tx.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).Take(&link).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, passnum.Errorf(passnum.KindUnauthorized, EIdentityUnknown,
			"Aucun compte du Pass numérique n’est lié à cette identité. Demandez une invitation à un responsable de votre organisation, "+
				"ouvrez le lien reçu par e-mail et acceptez-la avec le même bouton. Si vous avez déjà un compte, connectez-vous avec votre mot de passe.")
	}
	return link.AccountID, err
}

// acceptWithIdentity accepts the invitation for the identity, whose
// provider must vouch for the invitation's address: holding the link and
// that mailbox at the provider is the proof a password would be for a new
// account, made without a password. An account that exists already is
// another matter: the provider's word would bind a way into it that
// outlives its password, so it must be the account logged in in this
// browser (session), or already bound to this identity.
func acceptWithIdentity(tx *ledger.Tx, invitation int64, id sso.Identity, session int64) (int64, error) {
	var inv ledger.Invitation
	if err := tx.Where("id = ?", invitation).Take(&inv).Error; err != nil {
		return 0, err
	}
	if err := invitationState(inv, tx.Now()); err != nil {
		return 0, err
	}
	if !id.EmailVerified || id.Email != inv.Email {
		given := "aucune adresse"
		switch {
		case id.Email != "" && id.EmailVerified:
			given = "l’adresse " + id.Email
		case id.Email != "":
			given = "l’adresse " + id.Email + ", sans l’avoir vérifiée"
		}
		return 0, passnum.Invalid("L’invitation est pour l’adresse %s, mais votre fournisseur d’identité donne %s : "+
			"connectez-vous chez lui avec l’adresse de l’invitation, ou acceptez-la avec un mot de passe.", inv.Email, given)
	}
	res := Accepted{Email: inv.Email, Organisation: inv.OrganisationID, Role: inv.Role}
	var existing []ledger.Account
	if err := tx.Where("email = ?", inv.Email).Limit(1).Find(&existing).Error; err != nil {
		return 0, err
	}
	var links []ledger.AccountIdentity
	if err := tx.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).Limit(1).Find(&links).Error; err != nil {
		return 0, err
	}
	bound := len(links) == 1 && len(existing) == 1 && links[0].AccountID == existing[0].ID
	switch {
	case len(links) == 1 && !bound:
		return 0, passnum.Conflict("Votre identité chez ce fournisseur est déjà liée à un autre compte du Pass numérique : "+
			"connectez-vous avec elle, ou acceptez l’invitation avec le mot de passe du compte %s.", inv.Email)
	case len(existing) == 1 && existing[0].DisabledAt != nil:
		return 0, accountDisabled()
	case len(existing) == 1 && !bound && existing[0].ID != session:
		return 0, passnum.Invalid("Un compte existe déjà pour l’adresse %s : acceptez l’invitation avec son mot de passe. "+
			"Pour vous connecter ensuite avec votre fournisseur d’identité, connectez-vous d’abord avec ce mot de passe dans ce navigateur, "+
			"puis rouvrez le lien et choisissez le fournisseur.", inv.Email)
	case len(existing) == 1:
		res.Account = existing[0].ID
	default:
		res.Created = true
	}
	if err := useInvitation(tx, &inv, &res, ""); err != nil {
		return 0, err
	}
	if bound {
		return res.Account, nil // an account bound before, given one more role
	}
	if err := tx.Create(&ledger.AccountIdentity{Issuer: id.Issuer, Subject: id.Subject, AccountID: res.Account, CreatedAt: tx.Now()}).Error; err != nil {
		if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrDuplicate) {
			return 0, passnum.Conflict("Votre identité vient d’être liée à un compte : connectez-vous avec le bouton du fournisseur.")
		}
		return 0, err
	}
	var org ledger.Organisation
	if err := tx.Where("id = ?", inv.OrganisationID).Take(&org).Error; err != nil {
		return 0, err
	}
	return res.Account, tx.Append(ledger.Record{Entity: "account", EntityID: itoa(res.Account), Department: deref(org.DepartmentCode),
		Actor: access.AccountActor(res.Account, org.ID), At: tx.Now(), Data: ledger.IdentityLinked{Account: res.Account, Issuer: id.Issuer, Invitation: inv.ID}})
}
