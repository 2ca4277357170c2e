package accounts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestReset: a request for an unknown address writes nothing and returns
// no link, as does a second request within a minute; the link sets a new
// password once, ends the lockout, and the old password stops working.
func TestReset(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		const addr = "responsable@yvelines.fr"
		before := countAll(t, db)
		if token, err := f.s.RequestReset(ctx, "personne@nulle-part.fr"); err != nil || token != "" {
			t.Fatalf("unknown address: %q, %v", token, err)
		}
		if after := countAll(t, db); after != before {
			t.Fatalf("a request for an unknown address wrote: %+v", after)
		}
		_, err := f.s.RequestReset(ctx, "pas une adresse")
		wantError(t, err, passnum.EInvalid, "« pas une adresse » n’est pas une adresse e-mail : écrivez-la comme prenom.nom@exemple.fr.")
		// Locked out first: the reset lets the person in at once.
		for range 5 {
			f.s.Login(ctx, addr, wrongPassword, "")
		}
		token, err := f.s.RequestReset(ctx, "Responsable@Yvelines.fr")
		if err != nil || token == "" {
			t.Fatalf("reset request: %q, %v", token, err)
		}
		if again, err := f.s.RequestReset(ctx, addr); err != nil || again != "" {
			t.Fatalf("a second request within the minute: %q, %v", again, err)
		}
		f.Clock.T = f.Clock.T.Add(time.Minute + time.Second)
		second, err := f.s.RequestReset(ctx, addr)
		if err != nil || second == "" {
			t.Fatalf("a request a minute later: %q, %v", second, err)
		}
		before = countAll(t, db)
		wantError(t, f.s.Reset(ctx, token, "court"), passnum.EInvalid,
			"Le mot de passe doit faire au moins 12 caractères (il en fait 5). Une phrase de plusieurs mots que vous retenez facilement convient très bien.")
		const invalid = "Ce lien pour changer de mot de passe n’est pas valable : vérifiez qu’il est complet (copiez-le en entier depuis le message), ou demandez-en un nouveau."
		wantError(t, f.s.Reset(ctx, token[:len(token)-1], "un tout nouveau mot de passe"), accounts.ELinkInvalid, invalid)
		wantError(t, f.s.Reset(ctx, "abc", "un tout nouveau mot de passe"), accounts.ELinkInvalid, invalid)
		if after := countAll(t, db); after != before {
			t.Fatalf("refused resets wrote: %+v, before %+v", after, before)
		}
		if err := f.s.Reset(ctx, token, "un tout nouveau mot de passe"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Login(ctx, addr, accountstest.Password, ""); passnum.ErrorCode(err) != accounts.ELoginFailed {
			t.Fatalf("old password after the reset: %v", err)
		}
		if _, err := f.s.Login(ctx, addr, "un tout nouveau mot de passe", ""); err != nil {
			t.Fatalf("new password: %v", err)
		}
		before = countAll(t, db)
		wantError(t, f.s.Reset(ctx, token, "encore un autre mot de passe"), accounts.ELinkUsed,
			"Ce lien pour changer de mot de passe a déjà servi : connectez-vous avec votre nouveau mot de passe, ou demandez un nouveau lien.")
		// The other link of the account stopped with the first.
		wantError(t, f.s.Reset(ctx, second, "encore un autre mot de passe"), accounts.ELinkUsed,
			"Ce lien pour changer de mot de passe a déjà servi : connectez-vous avec votre nouveau mot de passe, ou demandez un nouveau lien.")
		f.Clock.T = f.Clock.T.Add(2 * time.Minute)
		late, err := f.s.RequestReset(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.T = f.Clock.T.Add(accounts.ResetLifetime)
		before = countAll(t, db)
		wantError(t, f.s.Reset(ctx, late, "encore un autre mot de passe"), accounts.ELinkExpired,
			"Ce lien pour changer de mot de passe a expiré (il vaut une heure) : demandez-en un nouveau.")
		if after := countAll(t, db); after != before {
			t.Fatalf("refused resets wrote: %+v, before %+v", after, before)
		}
		var evs []ledger.Event
		db.Read(ctx).Where("type LIKE 'account.password%'").Order("id").Find(&evs)
		var types []string
		for _, ev := range evs {
			types = append(types, ev.Type+" "+ev.Actor)
		}
		want := "account.password_reset_requested anonymous account.password_reset_requested anonymous account.password_reset account:1 account.password_reset_requested anonymous"
		if got := strings.Join(types, " "); got != want {
			t.Errorf("events %s\nwant   %s", got, want)
		}
		checkEvents(t, db)
		auditOK(t, f)
	})
}

// TestResetDisabled: a disabled account gets no link, and a link made
// before it was disabled no longer works.
func TestResetDisabled(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		token, err := f.s.RequestReset(ctx, "agent@ccas.fr")
		if err != nil || token == "" {
			t.Fatal(token, err)
		}
		if err := f.s.Disable(ctx, f.op, agent.Account); err != nil {
			t.Fatal(err)
		}
		f.Clock.T = f.Clock.T.Add(2 * time.Minute)
		if again, err := f.s.RequestReset(ctx, "agent@ccas.fr"); err != nil || again != "" {
			t.Fatalf("a disabled account's request: %q, %v", again, err)
		}
		wantError(t, f.s.Reset(ctx, token, "un tout nouveau mot de passe"), accounts.EAccountDisabled,
			"Ce compte est désactivé : adressez-vous à un responsable de votre organisation.")
	})
}
