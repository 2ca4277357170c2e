package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

const wrongPassword = "ce n’est pas le bon mot de passe"

// TestLoginRoles: an agent without a second factor logs in with its
// roles; a département manager or finance agent without one is sent to
// enrol it, with no role; an admin too.
func TestLoginRoles(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		accountstest.Person(t, f.s, "Agent@CCAS.fr", accounts.Org{Department: "92"}, access.RoleDepartmentReader)
		l, err := f.s.Login(ctx, " AGENT@ccas.fr ", accountstest.Password, "")
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != accounts.LoginOK || l.Account.ID != agent.Account || l.Account.Email != "agent@ccas.fr" || len(l.Memberships) != 2 ||
			l.Memberships[0].Role != access.RoleStructureAgent || l.Memberships[0].Organisation.Name != "CCAS de Trappes" ||
			l.Memberships[1].Role != access.RoleDepartmentReader || *l.Memberships[1].Organisation.DepartmentCode != "92" {
			t.Fatalf("login %+v", l)
		}
		for _, role := range []struct {
			email string
			org   accounts.Org
			role  string
		}{
			{"finances@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance},
			{"admin@passnum.fr", accounts.Org{}, access.RoleAdmin},
		} {
			accountstest.Person(t, f.s, role.email, role.org, role.role)
		}
		for _, addr := range []string{"responsable@yvelines.fr", "finances@yvelines.fr", "admin@passnum.fr"} {
			l, err := f.s.Login(ctx, addr, accountstest.Password, "")
			if err != nil {
				t.Fatal(err)
			}
			if l.Status != accounts.LoginEnrolTOTP || l.Memberships != nil || l.Account.Email != addr {
				t.Fatalf("%s: login %+v, want the second factor's enrolment and no role", addr, l)
			}
		}
	})
}

// TestLoginTOTP: enrolment with a first code; then every login needs the
// current code, a wrong one counts as a failure, a used one is refused
// (even within its 30 seconds), the codes of the step before and after
// pass, two steps away they do not.
func TestLoginTOTP(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		const addr = "responsable@yvelines.fr"
		e, err := f.s.EnrolTOTP(ctx, f.manager.Account)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Secret) != 32 || e.URI != "otpauth://totp/passnum:responsable@yvelines.fr?algorithm=SHA1&digits=6&issuer=passnum&period=30&secret="+e.Secret {
			t.Fatalf("enrolment %+v", e)
		}
		// Not on until confirmed: the login still asks for enrolment.
		if l, err := f.s.Login(ctx, addr, accountstest.Password, ""); err != nil || l.Status != accounts.LoginEnrolTOTP {
			t.Fatalf("before confirmation: %+v, %v", l, err)
		}
		events := ledgertest.Count(t, db, &ledger.Event{})
		wrong := "000000"
		if accountstest.TOTP(e.Secret, f.Clock.T) == wrong {
			wrong = "111111"
		}
		wantError(t, f.s.ConfirmTOTP(ctx, f.manager.Account, wrong), accounts.ETOTPInvalid,
			"Ce code ne convient pas, ou il a déjà servi : attendez que votre application en montre un nouveau et tapez-le.")
		if n := ledgertest.Count(t, db, &ledger.Event{}); n != events {
			t.Fatal("a refused confirmation wrote an event")
		}
		now := f.Clock.T
		if err := f.s.ConfirmTOTP(ctx, f.manager.Account, accountstest.TOTP(e.Secret, now)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.EnrolTOTP(ctx, f.manager.Account); err == nil {
			t.Fatal("a second enrolment over a confirmed factor")
		}
		_, err = f.s.Login(ctx, addr, accountstest.Password, "")
		wantError(t, err, accounts.ETOTPRequired, "Tapez le code à 6 chiffres que montre votre application d’authentification.")
		// The confirming code is spent.
		_, err = f.s.Login(ctx, addr, accountstest.Password, accountstest.TOTP(e.Secret, now))
		wantError(t, err, accounts.ETOTPInvalid, "Ce code ne convient pas, ou il a déjà servi : attendez que votre application en montre un nouveau et tapez-le.")
		// 30 s later, the phone a step behind: its code passes once.
		f.Clock.T = now.Add(60 * time.Second)
		behind := accountstest.TOTP(e.Secret, now.Add(30*time.Second))
		l, err := f.s.Login(ctx, addr, accountstest.Password, behind)
		if err != nil || l.Status != accounts.LoginOK || len(l.Memberships) != 1 {
			t.Fatalf("login with the code of the step before: %+v, %v", l, err)
		}
		if _, err := f.s.Login(ctx, addr, accountstest.Password, behind); accountsCode(err) != accounts.ETOTPInvalid {
			t.Fatalf("replayed code: %v", err)
		}
		// Two steps away, either way.
		for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second} {
			if _, err := f.s.Login(ctx, addr, accountstest.Password, accountstest.TOTP(e.Secret, f.Clock.T.Add(d))); accountsCode(err) != accounts.ETOTPInvalid {
				t.Fatalf("code %v away: %v", d, err)
			}
		}
		ahead := accountstest.TOTP(e.Secret, f.Clock.T.Add(30*time.Second))
		if _, err := f.s.Login(ctx, addr, accountstest.Password, ahead); err != nil {
			t.Fatalf("code of the step after: %v", err)
		}
		checkEvents(t, db)
		auditOK(t, f)
	})
}

func accountsCode(err error) string { return passnum.ErrorCode(err) }

// TestNoEnumeration: an unknown address and a known one with a wrong
// password get the same error after the same work (one Argon2id hash
// each: counted, not timed, so that a loaded machine cannot fail it), and
// are locked out alike.
func TestNoEnumeration(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		const msg = "Adresse e-mail ou mot de passe incorrect."
		// The first login of a process, whatever its address, also makes
		// the hash that unknown addresses are checked against.
		f.s.Login(ctx, "premier@essai.fr", wrongPassword, "")
		for _, addr := range []string{"personne@nulle-part.fr", "responsable@yvelines.fr"} {
			for range 3 {
				before := accounts.ArgonRuns()
				_, err := f.s.Login(ctx, addr, wrongPassword, "")
				wantError(t, err, accounts.ELoginFailed, msg)
				if n := accounts.ArgonRuns() - before; n != 1 {
					t.Fatalf("%s: a failed login ran %d Argon2id hashes, want 1", addr, n)
				}
			}
		}
		// The fourth failure of each, then the fifth locks both the same.
		for _, addr := range []string{"personne@nulle-part.fr", "responsable@yvelines.fr"} {
			_, err := f.s.Login(ctx, addr, wrongPassword, "")
			wantError(t, err, accounts.ELoginFailed, msg)
			_, err = f.s.Login(ctx, addr, wrongPassword, "")
			wantError(t, err, accounts.ELoginLocked, "Adresse e-mail ou mot de passe incorrect. Trop d’essais : réessayez dans 1 minute.")
			_, err = f.s.Login(ctx, addr, accountstest.Password, "")
			wantError(t, err, accounts.ELoginLocked, "Trop d’essais pour cette adresse : réessayez dans 1 minute.")
		}
		// Nothing of it reaches the ledger.
		checkEvents(t, db)
	})
}

// TestLockout: four failures are free; then each failure locks the
// address twice as long, up to 15 minutes, however long the attack goes
// on; a login refused while locked is not counted; after the lock the
// right password gets in and the count starts again.
func TestLockout(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		const addr = "responsable@yvelines.fr"
		fail := func(wantCode, wantMsg string) {
			t.Helper()
			_, err := f.s.Login(ctx, addr, wrongPassword, "")
			wantError(t, err, wantCode, wantMsg)
		}
		for range 4 {
			fail(accounts.ELoginFailed, "Adresse e-mail ou mot de passe incorrect.")
		}
		for _, minutes := range []int{1, 2, 4, 8, 15, 15, 15} {
			unit := "minutes"
			if minutes == 1 {
				unit = "minute"
			}
			fail(accounts.ELoginLocked, "Adresse e-mail ou mot de passe incorrect. Trop d’essais : réessayez dans "+itoa(int64(minutes))+" "+unit+".")
			// Locked: even the right password waits, and is told how long.
			f.Clock.T = f.Clock.T.Add(time.Duration(minutes)*time.Minute - 30*time.Second)
			_, err := f.s.Login(ctx, addr, accountstest.Password, "")
			wantError(t, err, accounts.ELoginLocked, "Trop d’essais pour cette adresse : réessayez dans 1 minute.")
			var e *passnum.Error
			if !errors.As(err, &e) || e.RetryAfter != 30*time.Second {
				t.Fatalf("retry after %v", e.RetryAfter)
			}
			f.Clock.T = f.Clock.T.Add(30 * time.Second)
		}
		l, err := f.s.Login(ctx, addr, accountstest.Password, "")
		if err != nil || l.Account.ID != f.manager.Account {
			t.Fatalf("after the lock: %+v, %v", l, err)
		}
		fail(accounts.ELoginFailed, "Adresse e-mail ou mot de passe incorrect.")
	})
}

// TestRehashOnLogin: a password hashed with older parameters is hashed
// again with today's at the next successful login, and still works.
func TestRehashOnLogin(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		old := accounts.HashWith(accountstest.Password, 8192, 1)
		if err := db.Read(ctx).Model(&ledger.Account{}).Where("id = ?", f.manager.Account).Update("password_hash", old).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Login(ctx, "responsable@yvelines.fr", accountstest.Password, ""); err != nil {
			t.Fatal(err)
		}
		var a ledger.Account
		if err := db.Read(ctx).Where("id = ?", f.manager.Account).Take(&a).Error; err != nil {
			t.Fatal(err)
		}
		if a.PasswordHash == old || a.PasswordHash[:31] != "$argon2id$v=19$m=19456,t=2,p=1$" {
			t.Fatalf("hash after login: %s", a.PasswordHash)
		}
		if _, err := f.s.Login(ctx, "responsable@yvelines.fr", accountstest.Password, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTOTPReplayConcurrently: one code sent by several logins at once (a
// code read over a shoulder, a replayed request) lets exactly one in.
func TestTOTPReplayConcurrently(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		secret := f.enrol(t, f.manager.Account)
		code := accountstest.TOTP(secret, f.Clock.T)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = f.s.Login(ctx, "responsable@yvelines.fr", accountstest.Password, code) })
		}
		wg.Wait()
		in := 0
		for _, err := range errs {
			switch passnum.ErrorCode(err) {
			case "":
				in++
			case accounts.ETOTPInvalid, accounts.ELoginLocked:
				// Each code is counted before it is judged: past the
				// free tries, the burst meets the lock.
			default:
				t.Errorf("login: %v", err)
			}
		}
		if in != 1 {
			t.Fatalf("%d logins passed with one code", in)
		}
	})
}

// TestTOTPGuessesAtOnce: a burst of wrong codes sent at once, by someone
// who has the password (or the provider's login), gets no more codes
// judged than the free tries before the address locks; the holder's right
// code, once the lock is over, lets them in.
func TestTOTPGuessesAtOnce(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		secret := f.enrol(t, f.manager.Account)
		const n = 40
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.s.Login(ctx, "responsable@yvelines.fr", accountstest.Password, fmt.Sprintf("%06d", 100000+i))
			})
		}
		wg.Wait()
		judged := 0
		for _, err := range errs {
			switch passnum.ErrorCode(err) {
			case accounts.ETOTPInvalid:
				judged++
			case accounts.ELoginLocked:
				if strings.Contains(err.Error(), "Ce code ne convient pas") {
					judged++ // the one that started the lock
				}
			default:
				t.Errorf("a guess: %v", err)
			}
		}
		if judged > 5 {
			t.Errorf("%d codes judged before the lock, want at most 5", judged)
		}
		f.Clock.T = f.Clock.T.Add(16 * time.Minute)
		if _, err := f.s.Login(ctx, "responsable@yvelines.fr", accountstest.Password, accountstest.TOTP(secret, f.Clock.T)); err != nil {
			t.Fatalf("the holder after the lock: %v", err)
		}
	})
}
