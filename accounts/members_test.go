package accounts_test

import (
	"context"
	"strings"
	"testing"

	"passnum"
	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/audit"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestDisable: a manager disables an agent of its structure; the agent can
// no longer log in nor act; a manager of another département does not see
// the account; no one disables their own account, nor an admin unless an
// admin.
func TestDisable(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		mgr := accountstest.Caller(f.manager)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		other := accountstest.Caller(accountstest.Person(t, f.s, "responsable@hauts-de-seine.fr", accounts.Org{Department: "92"}, access.RoleDepartmentManager))
		admin := accountstest.Person(t, f.s, "admin@passnum.fr", accounts.Org{}, access.RoleAdmin)
		before := countAll(t, db)
		wantError(t, f.s.Disable(ctx, other, agent.Account), passnum.ENotFound, "Il n’y a pas de compte "+itoa(agent.Account)+".")
		wantError(t, f.s.Disable(ctx, mgr, 99), passnum.ENotFound, "Il n’y a pas de compte 99.")
		wantError(t, f.s.Disable(ctx, mgr, f.manager.Account), passnum.EForbidden,
			"Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre responsable.")
		wantError(t, f.s.Disable(ctx, accountstest.Caller(agent), f.manager.Account), passnum.EForbidden,
			"Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
		wantError(t, f.s.Disable(ctx, mgr, admin.Account), passnum.EForbidden,
			"Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
		if after := countAll(t, db); after != before {
			t.Fatalf("refused disablings wrote: %+v, before %+v", after, before)
		}
		if err := f.s.Disable(ctx, mgr, agent.Account); err != nil {
			t.Fatal(err)
		}
		wantError(t, f.s.Disable(ctx, mgr, agent.Account), passnum.EConflict, "Le compte "+itoa(agent.Account)+" est déjà désactivé.")
		_, err := f.s.Login(ctx, "agent@ccas.fr", accountstest.Password, "")
		wantError(t, err, accounts.EAccountDisabled, "Ce compte est désactivé : adressez-vous à un responsable de votre organisation.")
		// A wrong password on a disabled account says only that.
		_, err = f.s.Login(ctx, "agent@ccas.fr", wrongPassword, "")
		wantError(t, err, accounts.ELoginFailed, "Adresse e-mail ou mot de passe incorrect.")
		_, err = f.s.Structures(ctx, accountstest.Caller(agent), "78")
		wantError(t, err, passnum.EUnauthorized, "Compte inconnu ou désactivé : reconnectez-vous.")
		var ev ledger.Event
		if err := db.Read(ctx).Where("type = ?", ledger.EventAccountDisabled).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Actor != actor(f.manager.Account, f.manager.Organisation) || ev.Data != `{"account":`+itoa(agent.Account)+`}` ||
			ev.DepartmentCode == nil || *ev.DepartmentCode != "78" {
			t.Fatalf("event %+v", ev)
		}
		// An admin disables a manager anywhere.
		if err := f.s.Disable(ctx, accountstest.Caller(admin), f.manager.Account); err != nil {
			t.Fatal(err)
		}
		checkEvents(t, db)
		auditOK(t, f)
	})
}

// TestPeople: a manager lists the people of its département and of its
// structures, with their roles and second factor, and not those of
// another département.
func TestPeople(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		mgr := accountstest.Caller(f.manager)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		accountstest.Person(t, f.s, "responsable@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance)
		f.enrol(t, f.manager.Account)
		ps, err := f.s.People(ctx, mgr, accounts.Org{Department: "78"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].Email != "responsable@yvelines.fr" || ps[0].Role != access.RoleDepartmentFinance || !ps[0].TOTP ||
			ps[1].Role != access.RoleDepartmentManager || ps[0].ID != f.manager.Account {
			t.Fatalf("people of 78: %+v", ps)
		}
		ps, err = f.s.People(ctx, mgr, accounts.Org{ID: f.structure.ID})
		if err != nil || len(ps) != 1 || ps[0].ID != agent.Account || ps[0].Email != "agent@ccas.fr" || ps[0].TOTP {
			t.Fatalf("people of the structure: %+v, %v", ps, err)
		}
		// No one yet in 92 nor among the admins, and listing them makes no
		// organisation.
		events := ledgertest.Count(t, db, &ledger.Event{})
		for _, org := range []accounts.Org{{Department: "92"}, {}, {Venue: f.venue}} {
			if ps, err := f.s.People(ctx, f.op, org); err != nil || len(ps) != 0 {
				t.Fatalf("people of %+v: %+v, %v", org, ps, err)
			}
		}
		if n := ledgertest.Count(t, db, &ledger.Event{}); n != events {
			t.Fatalf("listing people wrote %d events", n-events)
		}
		_, err = f.s.People(ctx, mgr, accounts.Org{Department: "92"})
		wantError(t, err, passnum.EForbidden, "Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
		_, err = f.s.People(ctx, accountstest.Caller(agent), accounts.Org{ID: f.structure.ID})
		wantError(t, err, passnum.EForbidden, "Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
	})
}

// TestStructures: a manager adds structures to its département (not to
// another), each with its type and commune; names are unique per
// département whatever their case; the people of the département and its
// structures list them; bad input writes nothing.
func TestStructures(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		mgr := accountstest.Caller(f.manager)
		agent := accountstest.Caller(accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent))
		reader := accountstest.Caller(accountstest.Person(t, f.s, "lecteur@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader))
		mds, err := f.s.AddStructure(ctx, mgr, accounts.StructureInput{Department: "78", Name: " Maison des solidarités de Plaisir ", Type: "mds",
			Address: "2 rue de la Gare\n78370 Plaisir", Commune: "Plaisir"})
		if err != nil {
			t.Fatal(err)
		}
		if mds.Name != "Maison des solidarités de Plaisir" || mds.Kind != ledger.OrgStructure || *mds.DepartmentCode != "78" {
			t.Fatalf("structure %+v", mds)
		}
		before := countAll(t, db)
		const forbidden = "Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation."
		for name, c := range map[string]struct {
			by        accounts.Caller
			in        accounts.StructureInput
			code, msg string
		}{
			"Type": {mgr, accounts.StructureInput{Department: "78", Name: "X", Type: "mairie", Commune: "Trappes"}, passnum.EInvalid,
				"Le type de structure « mairie » n’existe pas : ccas (CCAS), mds (Maison départementale des solidarités), france_travail (France Travail), association ou other (autre)."},
			"NoName": {mgr, accounts.StructureInput{Department: "78", Name: " ", Type: "ccas", Commune: "Trappes"}, passnum.EInvalid,
				"Le nom de la structure fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « CCAS de Trappes »."},
			"NoCommune": {mgr, accounts.StructureInput{Department: "78", Name: "X", Type: "ccas"}, passnum.EInvalid,
				"La commune de la structure fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « Trappes »."},
			"Department": {mgr, accounts.StructureInput{Department: "7", Name: "X", Type: "ccas", Commune: "Trappes"}, passnum.EInvalid,
				"« 7 » n'est pas un code de département : donnez le code officiel, comme 78, 2A ou 971."},
			"UnknownDepartment": {f.op, accounts.StructureInput{Department: "75", Name: "X", Type: "ccas", Commune: "Paris"}, passnum.ENotFound,
				"Le département 75 n’existe pas dans le programme."},
			"Taken": {mgr, accounts.StructureInput{Department: "78", Name: "ccas DE trappes", Type: "ccas", Commune: "Trappes"}, passnum.EConflict,
				"Le département 78 a déjà une structure nommée « ccas DE trappes »."},
			"OtherDepartment": {mgr, accounts.StructureInput{Department: "92", Name: "X", Type: "ccas", Commune: "Nanterre"}, passnum.EForbidden, forbidden},
			"Reader":          {reader, accounts.StructureInput{Department: "78", Name: "X", Type: "ccas", Commune: "Trappes"}, passnum.EForbidden, forbidden},
			"Agent":           {agent, accounts.StructureInput{Department: "78", Name: "X", Type: "ccas", Commune: "Trappes"}, passnum.EForbidden, forbidden},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.s.AddStructure(ctx, c.by, c.in)
				wantError(t, err, c.code, c.msg)
			})
		}
		if after := countAll(t, db); after != before {
			t.Fatalf("refused structures wrote: %+v, before %+v", after, before)
		}
		for _, by := range []accounts.Caller{mgr, agent, reader, f.op} {
			ss, err := f.s.Structures(ctx, by, "78")
			if err != nil || len(ss) != 2 || ss[0].Name != "CCAS de Trappes" || ss[1].Name != "Maison des solidarités de Plaisir" ||
				ss[1].Commune != "Plaisir" || ss[1].StructureType != "mds" {
				t.Fatalf("structures of 78 for %+v: %+v, %v", by, ss, err)
			}
		}
		_, err = f.s.Structures(ctx, mgr, "92")
		wantError(t, err, passnum.EForbidden, forbidden)
		var ev ledger.Event
		if err := db.Read(ctx).Where("type = ? AND entity_id = ?", ledger.EventOrganisationAdded, itoa(mds.ID)).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		want := `{"id":` + itoa(mds.ID) + `,"kind":"structure","department":"78","name":"Maison des solidarités de Plaisir","structure_type":"mds","address":"2 rue de la Gare\n78370 Plaisir","commune":"Plaisir"}`
		if ev.Actor != actor(f.manager.Account, f.manager.Organisation) || ev.Data != want {
			t.Fatalf("event by %s: %s\nwant %s", ev.Actor, ev.Data, want)
		}
	})
}

// TestAuditorBodies: only an admin adds an auditors' body, whose name is
// unique whatever its case; its people are auditors, and only an admin
// invites them.
func TestAuditorBodies(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		crc, err := f.s.AddAuditorBody(ctx, f.op, " Chambre régionale des comptes ")
		if err != nil || crc.Name != "Chambre régionale des comptes" || crc.Kind != ledger.OrgAuditor {
			t.Fatalf("body %+v, %v", crc, err)
		}
		before := countAll(t, db)
		_, err = f.s.AddAuditorBody(ctx, f.op, "CHAMBRE régionale des comptes")
		wantError(t, err, passnum.EConflict, "Un organisme d’audit s’appelle déjà « CHAMBRE régionale des comptes ».")
		_, err = f.s.AddAuditorBody(ctx, f.op, "")
		wantError(t, err, passnum.EInvalid, "Le nom de l’organisme d’audit fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « Chambre régionale des comptes ».")
		_, err = f.s.AddAuditorBody(ctx, accountstest.Caller(f.manager), "Inspection")
		wantError(t, err, passnum.EForbidden, "Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
		_, err = f.s.Invite(ctx, accountstest.Caller(f.manager), "auditeur@crc.fr", accounts.Org{ID: crc.ID}, access.RoleAuditor)
		wantError(t, err, passnum.EForbidden, "Vos rôles ne vous permettent pas de faire cela : demandez-le à un responsable de votre organisation.")
		if after := countAll(t, db); after != before {
			t.Fatalf("refusals wrote: %+v, before %+v", after, before)
		}
		auditor := accountstest.Person(t, f.s, "auditeur@crc.fr", accounts.Org{ID: crc.ID}, access.RoleAuditor)
		l, err := f.s.Login(ctx, "auditeur@crc.fr", accountstest.Password, "")
		if err != nil || l.Status != accounts.LoginOK || len(l.Memberships) != 1 || l.Memberships[0].Organisation.ID != crc.ID ||
			l.Account.ID != auditor.Account {
			t.Fatalf("auditor's login: %+v, %v", l, err)
		}
	})
}

// TestAuditCatchesPeopleBehindTheLedger: a role given, an identity bound,
// an account re-enabled or an organisation renamed in the tables, without
// its event,
// fails the audit and is named.
func TestAuditCatchesPeopleBehindTheLedger(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		if err := f.s.Disable(ctx, f.op, agent.Account); err != nil {
			t.Fatal(err)
		}
		auditOK(t, f)
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, do, undo, want string
		}{
			{"Role", "INSERT INTO memberships (account_id, organisation_id, role, created_at, created_by) SELECT " + itoa(agent.Account) + ", " + itoa(f.manager.Organisation) + ", 'department_finance', created_at, 'x' FROM accounts WHERE id = 1",
				"DELETE FROM memberships WHERE role = 'department_finance'",
				"membership " + itoa(agent.Account) + "/" + itoa(f.manager.Organisation) + "/department_finance: exists but no event gave it"},
			{"Identity", "INSERT INTO account_identities (issuer, subject, account_id, created_at) SELECT 'https://idp.example.fr', 'intrus', " + itoa(agent.Account) + ", created_at FROM accounts WHERE id = 1",
				"DELETE FROM account_identities",
				"account_identity " + itoa(agent.Account) + "/https://idp.example.fr: exists but no event bound it"},
			{"Enabled", "UPDATE accounts SET disabled_at = NULL WHERE id = " + itoa(agent.Account),
				"UPDATE accounts SET disabled_at = created_at WHERE id = " + itoa(agent.Account),
				"account " + itoa(agent.Account) + ": disabled is false but the ledger says true"},
			{"Renamed", "UPDATE organisations SET name = 'CCAS de Plaisir' WHERE id = " + itoa(f.structure.ID),
				"UPDATE organisations SET name = 'CCAS de Trappes' WHERE id = " + itoa(f.structure.ID),
				"organisation " + itoa(f.structure.ID) + ": is structure \"78\" \"CCAS de Plaisir\" 0 but the ledger says structure \"78\" \"CCAS de Trappes\" 0"},
		} {
			t.Run(c.name, func(t *testing.T) {
				if err := db.Read(ctx).Exec(c.do).Error; err != nil {
					t.Fatal(err)
				}
				_, err := audit.Verify(ctx, db, ks)
				if err == nil || !strings.HasPrefix(err.Error(), c.want) {
					t.Fatalf("audit: %v\nwant %s", err, c.want)
				}
				if err := db.Read(ctx).Exec(c.undo).Error; err != nil {
					t.Fatal(err)
				}
				if _, err := audit.Verify(ctx, db, ks); err != nil {
					t.Fatalf("audit once undone: %v", err)
				}
			})
		}
	})
}
