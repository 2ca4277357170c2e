package accounts

import (
	"context"
	"time"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// ResetLifetime is how long a password reset link may be used.
const ResetLifetime = time.Hour

// resetEvery is the least time between two reset links for one account:
// a stranger typing someone's address again and again sends them one mail
// a minute at most (a request within it gets no new link).
const resetEvery = time.Minute

// RequestReset makes a single-use link that sets a new password, and
// returns its token to send to the address. For an address without an
// enabled account, or within a minute of the last link, it returns an
// empty token and writes nothing: the edge answers the same whatever
// happened ("if an account has this address, a link is on its way"), so
// that no one learns which addresses have an account.
func (s *Service) RequestReset(ctx context.Context, address string) (string, error) {
	addr, err := email(address)
	if err != nil {
		return "", err
	}
	secret, hash := newLinkSecret()
	var token string
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		var as []ledger.Account
		if err := tx.Where("email = ? AND disabled_at IS NULL", addr).Limit(1).Find(&as).Error; err != nil || len(as) == 0 {
			return err
		}
		a := as[0]
		var recent int64
		if err := tx.Model(&ledger.PasswordReset{}).Where("account_id = ? AND created_at > ?", a.ID, now.Add(-resetEvery)).
			Count(&recent).Error; err != nil || recent > 0 {
			return err
		}
		r := ledger.PasswordReset{SecretSHA256: hash, AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(ResetLifetime)}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		token = linkToken(r.ID, secret)
		// Whoever typed the address is not known: not necessarily the
		// account's holder.
		return tx.Append(ledger.Record{Entity: "account", EntityID: itoa(a.ID), Actor: "anonymous", At: now,
			Data: ledger.PasswordResetRequested{Account: a.ID, Reset: r.ID, ExpiresAt: formatTime(r.ExpiresAt)}})
	})
	return token, err
}

// Reset sets a new password with a reset link, once: the link and every
// other one of the account stop working, and the failed logins of its
// address are forgotten. Errors: invalid (password), link_invalid,
// link_used, link_expired, account_disabled.
// The account's sessions end with the old password: whoever stole one
// is logged out.
func (s *Service) Reset(ctx context.Context, token, password string) error {
	pw, err := checkPassword(password)
	if err != nil {
		return err
	}
	r, err := readLink(ctx, s.DB, token, func(r *ledger.PasswordReset) []byte { return r.SecretSHA256 }, resetInvalid)
	if err != nil {
		return err
	}
	if err := resetState(r, s.DB.Now()); err != nil {
		return err
	}
	pwHash := hashPassword(pw)
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		a, err := activeAccount(tx, r.AccountID)
		if err != nil {
			return err
		}
		used := tx.Model(&ledger.PasswordReset{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", r.ID, now).Update("used_at", now)
		if used.Error != nil {
			return used.Error
		}
		if used.RowsAffected != 1 {
			if err := tx.Where("id = ?", r.ID).Take(&r).Error; err != nil {
				return err
			}
			return resetState(r, now)
		}
		if err := tx.Model(&ledger.PasswordReset{}).Where("account_id = ? AND used_at IS NULL", a.ID).Update("used_at", now).Error; err != nil {
			return err
		}
		if err := tx.Model(&ledger.Account{}).Where("id = ?", a.ID).Update("password_hash", pwHash).Error; err != nil {
			return err
		}
		if err := tx.Where("email_sha256 = ?", throttleKey(a.Email)).Delete(&ledger.LoginThrottle{}).Error; err != nil {
			return err
		}
		if err := endSessions(tx, a.ID); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "account", EntityID: itoa(a.ID), Actor: access.AccountActor(a.ID, 0), At: now,
			Data: ledger.PasswordWasReset{Account: a.ID, Reset: r.ID}})
	})
}

func resetInvalid() *passnum.Error {
	return passnum.Errorf(passnum.KindNotFound, ELinkInvalid,
		"Ce lien pour changer de mot de passe n’est pas valable : vérifiez qu’il est complet (copiez-le en entier depuis le message), ou demandez-en un nouveau.")
}

func resetState(r ledger.PasswordReset, now time.Time) error {
	switch {
	case r.UsedAt != nil:
		return passnum.Errorf(passnum.KindConflict, ELinkUsed,
			"Ce lien pour changer de mot de passe a déjà servi : connectez-vous avec votre nouveau mot de passe, ou demandez un nouveau lien.")
	case !now.Before(r.ExpiresAt):
		return passnum.Errorf(passnum.KindConflict, ELinkExpired,
			"Ce lien pour changer de mot de passe a expiré (il vaut une heure) : demandez-en un nouveau.")
	}
	return nil
}
