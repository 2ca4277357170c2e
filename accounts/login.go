package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// The lockout: the first freeFailures failed logins for an address cost
// nothing; each further one locks the address for twice as long as the
// one before, from firstLock up to maxLock. The legitimate holder is
// therefore never locked out for longer than maxLock, even under a steady
// attack, and a guesser gets about 100 tries a day. A login refused during
// the lock is not counted and does not check the password. Failures are
// forgotten after a success, a password reset, or failureMemory without
// one. Counting per client address is left to the edge (the API's limit
// of failed authentications per address).
const (
	freeFailures  = 4
	firstLock     = time.Minute
	maxLock       = 15 * time.Minute
	failureMemory = 24 * time.Hour
)

// lockFor is how long the address is locked after its n-th failure in a row.
func lockFor(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := firstLock
	for i := freeFailures + 1; i < n && d < maxLock; i++ {
		d *= 2
	}
	return min(d, maxLock)
}

// throttleKey names an address in login_throttles: its SHA-256, so that
// the table holds no address an account does not have.
func throttleKey(addr string) []byte {
	h := sha256.Sum256([]byte(addr))
	return h[:]
}

// LoginStatus is where a login with the right password stands.
type LoginStatus int

const (
	// LoginOK: the account is logged in with its roles.
	LoginOK LoginStatus = iota
	// LoginEnrolTOTP: the account holds a role that moves money and has no
	// second factor yet: the edge lets it enrol one (EnrolTOTP, ConfirmTOTP)
	// and nothing else, and Memberships is empty.
	LoginEnrolTOTP
)

// Login is a successful login.
type Login struct {
	Status      LoginStatus
	Account     Person
	Memberships []Member // the account's roles, each in its organisation
}

// Person is an account as shown: never its password hash nor its TOTP
// secret.
type Person struct {
	ID         int64
	Email      string
	TOTP       bool // a second factor is confirmed
	DisabledAt *time.Time
	CreatedAt  time.Time
}

func personOf(a ledger.Account) Person {
	return Person{ID: a.ID, Email: a.Email, TOTP: a.TOTPConfirmedAt != nil, DisabledAt: a.DisabledAt, CreatedAt: a.CreatedAt}
}

// Member is one role of an account in an organisation.
type Member struct {
	Organisation ledger.Organisation
	Role         string
	// Label names the organisation as its people know it: the
	// département's or the venue's name, the structure's or the body's.
	Label string
}

func loginFailed() *passnum.Error {
	return passnum.Errorf(passnum.KindUnauthorized, ELoginFailed, "Adresse e-mail ou mot de passe incorrect.").On("password")
}

func accountDisabled() *passnum.Error {
	return passnum.Errorf(passnum.KindForbidden, EAccountDisabled,
		"Ce compte est désactivé : adressez-vous à un responsable de votre organisation.")
}

// Login checks an email, a password and, for an account with a second
// factor, its current code (totp; empty when the person has not been asked
// for it yet). An unknown address and a wrong password get the same error
// after the same work (one Argon2id hash), and are held back by the same
// lockout. Errors: login_failed, login_locked (with RetryAfter),
// totp_required, totp_invalid, account_disabled.
func (s *Service) Login(ctx context.Context, address, password, totp string) (Login, error) {
	addr, err := email(address)
	if err != nil {
		addr = address // counted like any unknown address
	}
	key := throttleKey(addr)
	if err := s.lockedOut(ctx, key); err != nil {
		return Login{}, err
	}
	var as []ledger.Account
	if err := s.DB.Read(ctx).Where("email = ?", addr).Limit(1).Find(&as).Error; err != nil {
		return Login{}, err
	}
	// An account made through single sign-on has no password: it is
	// checked against the dummy too, so that its answer takes as long.
	phc := s.dummyHash()
	if len(as) == 1 && as[0].PasswordHash != "" {
		phc = as[0].PasswordHash
	}
	ok, rehash := verifyPassword(phc, password)
	if !ok || len(as) == 0 {
		return Login{}, s.fail(ctx, key, loginFailed())
	}
	a := as[0]
	if a.DisabledAt != nil {
		return Login{}, accountDisabled()
	}
	step, err := s.secondFactor(ctx, a, key, totp)
	if err != nil {
		return Login{}, err
	}
	return s.logIn(ctx, a, step, func(tx *ledger.Tx) error {
		if rehash {
			if err := tx.Model(&ledger.Account{}).Where("id = ?", a.ID).Update("password_hash", hashPassword(password)).Error; err != nil {
				return err
			}
		}
		return tx.Where("email_sha256 = ?", key).Delete(&ledger.LoginThrottle{}).Error
	})
}

// secondFactor checks the code of an account whose second factor is
// confirmed, and returns the time step to record (nil for an account
// without one). Each code counts against the address's lockout (key),
// whichever way the person proved the first factor; the caller's success
// deletes the count.
func (s *Service) secondFactor(ctx context.Context, a ledger.Account, key []byte, totp string) (*int64, error) {
	switch {
	case a.TOTPConfirmedAt == nil:
		return nil, nil
	case totp == "":
		return nil, passnum.Errorf(passnum.KindUnauthorized, ETOTPRequired,
			"Tapez le code à 6 chiffres que montre votre application d’authentification.").On("totp")
	}
	lock, err := s.attempt(ctx, key)
	if err != nil {
		return nil, err
	}
	st, ok := totpMatch(a.TOTPSecret, totp, s.DB.Now(), a.TOTPLastStep)
	switch {
	case !ok && lock > 0:
		return nil, locked(totpInvalid().Message+" Trop d’essais", lock)
	case !ok:
		return nil, totpInvalid()
	}
	return &st, nil
}

// logIn ends a login whose factors were checked: it records the code's
// step (step, when there is one) and runs done in the same transaction,
// then returns the account with its roles, or only the second factor to
// enrol.
func (s *Service) logIn(ctx context.Context, a ledger.Account, step *int64, done func(tx *ledger.Tx) error) (Login, error) {
	members, err := s.members(s.DB.Read(ctx), a.ID)
	if err != nil {
		return Login{}, err
	}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if step != nil {
			// Conditional: two logins with the same code, at once, cannot
			// both pass.
			r := tx.Model(&ledger.Account{}).Where("id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)", a.ID, *step).
				Update("totp_last_step", *step)
			if r.Error != nil {
				return r.Error
			}
			if r.RowsAffected != 1 {
				return totpInvalid()
			}
		}
		return done(tx)
	})
	if err != nil {
		return Login{}, err
	}
	l := Login{Account: personOf(a), Memberships: members}
	if mustEnrol(a.TOTPConfirmedAt != nil, members) {
		l.Status, l.Memberships = LoginEnrolTOTP, nil
	}
	return l, nil
}

func totpInvalid() *passnum.Error {
	return passnum.Errorf(passnum.KindUnauthorized, ETOTPInvalid,
		"Ce code ne convient pas, ou il a déjà servi : attendez que votre application en montre un nouveau et tapez-le.").On("totp")
}

// lockedOut returns the lockout error while the address is locked.
func (s *Service) lockedOut(ctx context.Context, key []byte) error {
	var th []ledger.LoginThrottle
	if err := s.DB.Read(ctx).Where("email_sha256 = ?", key).Find(&th).Error; err != nil {
		return err
	}
	now := s.DB.Now()
	if len(th) == 1 && th[0].LockedUntil != nil && now.Before(*th[0].LockedUntil) {
		return locked("Trop d’essais pour cette adresse", th[0].LockedUntil.Sub(now))
	}
	return nil
}

// fail counts a failed login for the address and returns refusal, or the
// lockout it starts.
func (s *Service) fail(ctx context.Context, key []byte, refusal *passnum.Error) error {
	lock, err := s.attempt(ctx, key)
	switch {
	case err != nil:
		return err
	case lock > 0:
		return locked(refusal.Message+" Trop d’essais", lock)
	}
	return refusal
}

// attempt counts one try for the address and returns the lock it starts
// (0: none); while the address is locked it counts nothing and returns the
// lockout error. The second factor's code is counted before it is judged:
// codes sent at once are then counted one after the other, each seeing the
// ones before, so that no more than the free tries are judged before the
// lock holds (a guess costs no Argon2id there to slow a burst down). A
// success deletes the row, with the count.
func (s *Service) attempt(ctx context.Context, key []byte) (time.Duration, error) {
	var lock time.Duration
	var refused error
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if err := tx.Where("last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?)", now.Add(-failureMemory), now).
			Delete(&ledger.LoginThrottle{}).Error; err != nil {
			return err
		}
		// The upsert holds the row until commit: concurrent tries count
		// one after the other; during a lock it changes nothing.
		row := ledger.LoginThrottle{EmailSHA256: key, Failures: 1, LastFailureAt: now}
		r := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email_sha256"}},
			DoUpdates: clause.Assignments(map[string]any{"failures": gorm.Expr("login_throttles.failures + 1"), "last_failure_at": now}),
			Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "login_throttles.locked_until IS NULL OR login_throttles.locked_until <= ?", Vars: []any{now}}}},
		}).Create(&row)
		if r.Error != nil {
			return r.Error
		}
		if err := tx.Where("email_sha256 = ?", key).Take(&row).Error; err != nil {
			return err
		}
		if r.RowsAffected == 0 {
			refused = locked("Trop d’essais pour cette adresse", row.LockedUntil.Sub(now))
			return nil
		}
		if lock = lockFor(row.Failures); lock > 0 {
			return tx.Model(&ledger.LoginThrottle{}).Where("email_sha256 = ?", key).Update("locked_until", now.Add(lock)).Error
		}
		return nil
	})
	if err == nil {
		err = refused
	}
	return lock, err
}

// locked is the lockout error, saying how long to wait in whole minutes,
// rounded up.
func locked(why string, wait time.Duration) error {
	minutes := int((wait + time.Minute - 1) / time.Minute)
	unit := "minutes"
	if minutes == 1 {
		unit = "minute"
	}
	e := passnum.Errorf(passnum.KindRateLimited, ELoginLocked, "%s : réessayez dans %d %s.", why, minutes, unit)
	e.RetryAfter = wait
	return e
}

// dummyHash is a hash of today's parameters that no password matches, to
// verify when the address has no account: the same work as a real one.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = hashPassword(rand.Text()) })
	return s.dummy
}

// TOTPEnrolment is a second factor to add to an authenticator application.
type TOTPEnrolment struct {
	Secret string // base32, for typing by hand
	URI    string // otpauth://, for a QR code
}

// EnrolTOTP draws a new second-factor secret for an account without a
// confirmed one; it counts once ConfirmTOTP has seen a first code. Calling
// it again replaces the unconfirmed secret. Errors: unauthorized (unknown
// or disabled account), conflict (a second factor is already confirmed).
func (s *Service) EnrolTOTP(ctx context.Context, account int64) (TOTPEnrolment, error) {
	secret := make([]byte, totpSecret)
	rand.Read(secret)
	var e TOTPEnrolment
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		a, err := activeAccount(tx, account)
		if err != nil {
			return err
		}
		if a.TOTPConfirmedAt != nil {
			return passnum.Conflict("Votre compte a déjà un second facteur. Pour en changer d’appareil, demandez à un responsable de le réinitialiser.")
		}
		if err := tx.Model(&ledger.Account{}).Where("id = ?", account).Updates(map[string]any{"totp_secret": secret, "totp_last_step": nil}).Error; err != nil {
			return err
		}
		e = TOTPEnrolment{Secret: totpBase32.EncodeToString(secret), URI: totpURI(secret, a.Email)}
		return nil
	})
	return e, err
}

// ConfirmTOTP turns the enrolled second factor on, given a first code from
// the application: from then on every login needs one. Errors:
// unauthorized, conflict (nothing enrolled, or already confirmed),
// totp_invalid.
func (s *Service) ConfirmTOTP(ctx context.Context, account int64, code string) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		a, err := activeAccount(tx, account)
		if err != nil {
			return err
		}
		if a.TOTPConfirmedAt != nil || a.TOTPSecret == nil {
			return passnum.Conflict("Il n’y a pas de second facteur en attente de confirmation sur ce compte : commencez par l’ajouter.")
		}
		step, ok := totpMatch(a.TOTPSecret, code, tx.Now(), a.TOTPLastStep)
		if !ok {
			return totpInvalid()
		}
		r := tx.Model(&ledger.Account{}).Where("id = ? AND totp_confirmed_at IS NULL", account).
			Updates(map[string]any{"totp_confirmed_at": tx.Now(), "totp_last_step": step})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Conflict("Le second facteur de ce compte vient d’être confirmé.")
		}
		return tx.Append(ledger.Record{Entity: "account", EntityID: itoa(account), Actor: access.AccountActor(account, 0),
			At: tx.Now(), Data: ledger.TOTPEnabled{Account: account}})
	})
}

// activeAccount reads an account that exists and is not disabled.
func activeAccount(tx *ledger.Tx, id int64) (ledger.Account, error) {
	var a ledger.Account
	err := tx.Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, passnum.Errorf(passnum.KindUnauthorized, passnum.EUnauthorized, "Compte inconnu ou désactivé : reconnectez-vous.")
	}
	if err == nil && a.DisabledAt != nil {
		return a, accountDisabled()
	}
	return a, err
}
