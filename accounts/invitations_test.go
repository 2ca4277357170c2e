package accounts_test

import (
	"context"
	"errors"
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

// TestInviteAndAccept: the operator invites a département manager, who
// accepts with a password; the account, its role and the events exist,
// the email (typed in capitals) is stored lower-cased, and the events name
// the account and its organisation, never the address.
func TestInviteAndAccept(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		var a ledger.Account
		if err := db.Read(ctx).Where("id = ?", f.manager.Account).Take(&a).Error; err != nil {
			t.Fatal(err)
		}
		if a.Email != "responsable@yvelines.fr" || !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || a.TOTPSecret != nil {
			t.Fatalf("account %+v", a)
		}
		if !f.manager.Created || f.manager.Role != access.RoleDepartmentManager {
			t.Fatalf("accepted %+v", f.manager)
		}
		// The manager invites an agent of its structure, who accepts.
		inv, err := f.s.Invite(ctx, accountstest.Caller(f.manager), "agent@ccas-trappes.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		if err != nil {
			t.Fatal(err)
		}
		if !inv.ExpiresAt.Equal(f.Clock.T.Add(7 * 24 * time.Hour)) {
			t.Errorf("invitation expires at %s", inv.ExpiresAt)
		}
		agent, err := f.s.Accept(ctx, inv.Token, "une autre phrase de passe")
		if err != nil {
			t.Fatal(err)
		}
		var evs []ledger.Event
		if err := db.Read(ctx).Where("type LIKE 'account.%' OR type LIKE 'membership.%'").Order("id").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Type+" by "+ev.Actor+" "+ev.Data)
		}
		orgOf78 := f.manager.Organisation
		want := []string{
			"account.invited by test " + `{"id":1,"organisation":` + itoa(orgOf78) + `,"role":"department_manager","expires_at":"2026-12-03T10:00:00Z"}`,
			"account.created by " + actor(f.manager.Account, orgOf78) + ` {"id":1,"invitation":1}`,
			"membership.added by " + actor(f.manager.Account, orgOf78) + ` {"account":1,"organisation":` + itoa(orgOf78) + `,"role":"department_manager","invitation":1}`,
			"account.invited by " + actor(f.manager.Account, orgOf78) + ` {"id":2,"organisation":` + itoa(f.structure.ID) + `,"role":"structure_agent","expires_at":"2026-12-03T10:00:00Z"}`,
			"account.created by " + actor(agent.Account, f.structure.ID) + ` {"id":2,"invitation":2}`,
			"membership.added by " + actor(agent.Account, f.structure.ID) + ` {"account":2,"organisation":` + itoa(f.structure.ID) + `,"role":"structure_agent","invitation":2}`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, ev := range evs {
			if ev.DepartmentCode == nil || *ev.DepartmentCode != "78" {
				t.Errorf("event %s: département %v", ev.Type, ev.DepartmentCode)
			}
		}
		checkEvents(t, db)
	})
}

// TestAcceptExistingAccount: an address with an account gets the new role
// on it, only with that account's password.
func TestAcceptExistingAccount(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inv := f.inviteAgent(t, "RESPONSABLE@yvelines.fr")
		before := countAll(t, db)
		_, err := f.s.Accept(ctx, inv.Token, "une nouvelle phrase de passe")
		wantError(t, err, passnum.EInvalid, "Un compte existe déjà pour l’adresse responsable@yvelines.fr : tapez son mot de passe pour accepter l’invitation (ou changez-le d’abord avec « mot de passe oublié »).")
		if after := countAll(t, db); after != before {
			t.Fatalf("a refused acceptance wrote: %+v, before %+v", after, before)
		}
		// Guessing the account's password through the invitation is held
		// back by the login's lockout.
		for range 3 {
			f.s.Accept(ctx, inv.Token, wrongPassword)
		}
		_, err = f.s.Accept(ctx, inv.Token, wrongPassword)
		wantError(t, err, accounts.ELoginLocked, "Un compte existe déjà pour l’adresse responsable@yvelines.fr : tapez son mot de passe pour accepter l’invitation (ou changez-le d’abord avec « mot de passe oublié »). Trop d’essais : réessayez dans 1 minute.")
		_, err = f.s.Accept(ctx, inv.Token, accountstest.Password)
		wantError(t, err, accounts.ELoginLocked, "Trop d’essais pour cette adresse : réessayez dans 1 minute.")
		if _, err := f.s.Login(ctx, "responsable@yvelines.fr", accountstest.Password, ""); passnum.ErrorCode(err) != accounts.ELoginLocked {
			t.Fatalf("login during the lock: %v", err)
		}
		f.Clock.T = f.Clock.T.Add(time.Minute)
		a, err := f.s.Accept(ctx, inv.Token, accountstest.Password)
		if err != nil {
			t.Fatal(err)
		}
		if a.Created || a.Account != f.manager.Account || a.Organisation != f.structure.ID {
			t.Fatalf("accepted %+v", a)
		}
		if n := ledgertest.Count(t, db, &ledger.Account{}); n != 1 {
			t.Fatalf("%d accounts", n)
		}
		// Inviting it again to a role it holds is refused.
		_, err = f.s.Invite(ctx, f.op, "responsable@yvelines.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		wantError(t, err, passnum.EConflict, "Le compte de responsable@yvelines.fr a déjà le rôle agent de la structure dans cette organisation.")
	})
}

// TestInviteRefusals: each bad invitation gets its French words and
// writes nothing, who invites whom included.
func TestInviteRefusals(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		mgr := accountstest.Caller(f.manager)
		reader := accountstest.Caller(accountstest.Person(t, f.s, "lecteur@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader))
		agent := accountstest.Caller(accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent))
		venueMgr := accountstest.Caller(accountstest.Person(t, f.s, "lieu@mediatheque.fr", accounts.Org{Venue: f.venue}, access.RoleVenueManager))
		other, err := f.s.AddStructure(ctx, f.op, accounts.StructureInput{Department: "92", Name: "MDS de Nanterre", Type: "mds", Commune: "Nanterre"})
		if err != nil {
			t.Fatal(err)
		}
		// An admin who also reads 78 has, acting for 78, a reader's rights.
		accountstest.Person(t, f.s, "admin@passnum.fr", accounts.Org{}, access.RoleAdmin)
		adminAsReader := accountstest.Caller(accountstest.Person(t, f.s, "admin@passnum.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader))
		const forbidden = "Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation."
		before := countAll(t, db)
		for _, c := range []struct {
			name  string
			by    accounts.Caller
			email string
			org   accounts.Org
			role  string
			code  string
			msg   string
		}{
			{"BadEmail", f.op, "pas une adresse", accounts.Org{Department: "78"}, access.RoleDepartmentReader, passnum.EInvalid,
				"« pas une adresse » n’est pas une adresse e-mail : écrivez-la comme prenom.nom@exemple.fr."},
			{"NoDomainDot", f.op, "agent@localhost", accounts.Org{Department: "78"}, access.RoleDepartmentReader, passnum.EInvalid,
				"« agent@localhost » n’est pas une adresse e-mail : écrivez-la comme prenom.nom@exemple.fr."},
			{"UnknownRole", f.op, "x@y.fr", accounts.Org{Department: "78"}, "boss", passnum.EInvalid,
				"Le rôle « boss » n’existe pas : department_manager, department_finance, department_reader, structure_agent, venue_manager, venue_volunteer, auditor ou admin."},
			{"RoleElsewhere", f.op, "x@y.fr", accounts.Org{Department: "78"}, access.RoleStructureAgent, passnum.EInvalid,
				"Le rôle structure_agent (agent de la structure) se donne dans une structure de distribution, pas dans un département."},
			{"AdminInDepartment", f.op, "x@y.fr", accounts.Org{Department: "78"}, access.RoleAdmin, passnum.EInvalid,
				"Le rôle admin (administrateur) se donne dans l’installation, pas dans un département."},
			{"UnknownDepartment", f.op, "x@y.fr", accounts.Org{Department: "75"}, access.RoleDepartmentReader, passnum.ENotFound,
				"Le département 75 n’existe pas dans le programme."},
			{"BadDepartment", f.op, "x@y.fr", accounts.Org{Department: "Yvelines"}, access.RoleDepartmentReader, passnum.EInvalid,
				"« Yvelines » n'est pas un code de département : donnez le code officiel, comme 78, 2A ou 971."},
			{"UnknownVenue", f.op, "x@y.fr", accounts.Org{Venue: 99}, access.RoleVenueManager, passnum.ENotFound, "Le lieu 99 n’existe pas."},
			{"UnknownOrganisation", f.op, "x@y.fr", accounts.Org{ID: 999}, access.RoleStructureAgent, passnum.ENotFound, "L’organisation 999 n’existe pas."},
			{"TwoOrganisations", f.op, "x@y.fr", accounts.Org{Department: "78", Venue: f.venue}, access.RoleVenueManager, passnum.EInvalid,
				"Désignez une seule organisation : un département, un lieu, ou une structure par son numéro."},
			{"ManagerOtherDepartment", mgr, "x@y.fr", accounts.Org{Department: "92"}, access.RoleDepartmentReader, passnum.EForbidden, forbidden},
			{"ManagerOtherStructure", mgr, "x@y.fr", accounts.Org{ID: other.ID}, access.RoleStructureAgent, passnum.EForbidden, forbidden},
			{"ManagerMakesAdmin", mgr, "x@y.fr", accounts.Org{}, access.RoleAdmin, passnum.EForbidden, forbidden},
			{"ManagerVenue", mgr, "x@y.fr", accounts.Org{Venue: f.venue}, access.RoleVenueVolunteer, passnum.EForbidden, forbidden},
			{"Reader", reader, "x@y.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader, passnum.EForbidden, forbidden},
			{"AdminActingAsReader", adminAsReader, "x@y.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader, passnum.EForbidden, forbidden},
			{"Agent", agent, "x@y.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent, passnum.EForbidden, forbidden},
			{"VenueManagerMakesManager", venueMgr, "x@y.fr", accounts.Org{Venue: f.venue}, access.RoleVenueManager, passnum.EForbidden, forbidden},
			{"NotMember", accounts.Caller{Account: f.manager.Account, Organisation: f.structure.ID}, "x@y.fr", accounts.Org{ID: f.structure.ID},
				access.RoleStructureAgent, passnum.EForbidden, forbidden},
			{"UnknownCaller", accounts.Caller{Account: 99, Organisation: 1}, "x@y.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader,
				passnum.EUnauthorized, "Compte inconnu ou désactivé : reconnectez-vous."},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.s.Invite(ctx, c.by, c.email, c.org, c.role)
				wantError(t, err, c.code, c.msg)
			})
		}
		if after := countAll(t, db); after != before {
			t.Fatalf("refused invitations wrote: %+v, before %+v", after, before)
		}
		// What they may do: a venue manager invites a volunteer, a
		// manager a finance agent of its département.
		if _, err := f.s.Invite(ctx, venueMgr, "benevole@mediatheque.fr", accounts.Org{Venue: f.venue}, access.RoleVenueVolunteer); err != nil {
			t.Error(err)
		}
		if _, err := f.s.Invite(ctx, mgr, "finances@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance); err != nil {
			t.Error(err)
		}
	})
}

// TestAcceptRefusals: a malformed, unknown, used or expired link is
// refused with its own words, as is a short password, and nothing is
// written; the link still works after a refused password.
func TestAcceptRefusals(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inv := f.inviteAgent(t, "agent@ccas.fr")
		const invalid = "Ce lien d’invitation n’est pas valable : vérifiez qu’il est complet (copiez-le en entier depuis le message), ou demandez une nouvelle invitation."
		id, secret, _ := strings.Cut(inv.Token, ".")
		before := countAll(t, db)
		for name, c := range map[string]struct{ token, password, code, msg string }{
			"Empty":      {"", accountstest.Password, accounts.ELinkInvalid, invalid},
			"Truncated":  {inv.Token[:len(inv.Token)-3], accountstest.Password, accounts.ELinkInvalid, invalid},
			"OtherID":    {"99." + secret, accountstest.Password, accounts.ELinkInvalid, invalid},
			"NoSecret":   {id + ".", accountstest.Password, accounts.ELinkInvalid, invalid},
			"ShortPass":  {inv.Token, "court", passnum.EInvalid, "Le mot de passe doit faire au moins 12 caractères (il en fait 5). Une phrase de plusieurs mots que vous retenez facilement convient très bien."},
			"NotANumber": {"x." + secret, accountstest.Password, accounts.ELinkInvalid, invalid},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.s.Accept(ctx, c.token, c.password)
				wantError(t, err, c.code, c.msg)
			})
		}
		if after := countAll(t, db); after != before {
			t.Fatalf("refused acceptances wrote: %+v, before %+v", after, before)
		}
		if _, err := f.s.Accept(ctx, inv.Token, accountstest.Password); err != nil {
			t.Fatal(err)
		}
		before = countAll(t, db)
		_, err := f.s.Accept(ctx, inv.Token, accountstest.Password)
		wantError(t, err, accounts.ELinkUsed, "Cette invitation a déjà servi, le 26/11/2026 à 11:00 : connectez-vous avec votre adresse e-mail et votre mot de passe.")
		if after := countAll(t, db); after != before {
			t.Fatalf("a second acceptance wrote: %+v, before %+v", after, before)
		}
		// Expired: a week later.
		late := f.inviteAgent(t, "tard@ccas.fr")
		before = countAll(t, db)
		f.Clock.T = f.Clock.T.Add(accounts.InvitationLifetime)
		_, err = f.s.Accept(ctx, late.Token, accountstest.Password)
		wantError(t, err, accounts.ELinkExpired, "Cette invitation a expiré le 03/12/2026 à 11:00 : demandez-en une nouvelle à la personne qui vous a invité.")
		if after := countAll(t, db); after != before {
			t.Fatalf("refused acceptances wrote: %+v, before %+v", after, before)
		}
	})
}

// TestAcceptConcurrently: many people accept one invitation at once (a
// link forwarded, a double click): exactly one account and one role are
// made, every other acceptance is told the link was used.
func TestAcceptConcurrently(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inv := f.inviteAgent(t, "agent@ccas.fr")
		before := countAll(t, db)
		const n = 12
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = f.s.Accept(ctx, inv.Token, accountstest.Password) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			var e *passnum.Error
			switch {
			case err == nil:
				won++
			case errors.As(err, &e) && (e.Code == accounts.ELinkUsed || e.Code == passnum.EConflict):
			default:
				t.Errorf("acceptance: %v", err)
			}
		}
		after := countAll(t, db)
		if won != 1 || after.accounts != before.accounts+1 || after.memberships != before.memberships+1 || after.events != before.events+2 {
			t.Fatalf("%d acceptances won; rows %+v, before %+v", won, after, before)
		}
	})
}
