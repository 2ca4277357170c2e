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

// openSession logs address in with Password (and code, if any) and opens a
// session for org.
func (f *fixture) openSession(t *testing.T, address, code string, org int64) accounts.Session {
	t.Helper()
	ctx := context.Background()
	l, err := f.s.Login(ctx, address, accountstest.Password, code)
	if err != nil {
		t.Fatal(err)
	}
	ses, err := f.s.OpenSession(ctx, l, org, "Mozilla/5.0 (Linux; Android 14) Chrome/131.0")
	if err != nil {
		t.Fatal(err)
	}
	return ses
}

// TestSessionOrganisations: a person with roles in two organisations acts
// for the first after login, and for the other once chosen, with the roles
// and the territory of each; an organisation that is not theirs is
// refused, and the lookup gives what the session holds now.
func TestSessionOrganisations(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		reader := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{Department: "92"}, access.RoleDepartmentReader)
		ses := f.openSession(t, "agent@ccas.fr", "", 0)
		if !strings.HasPrefix(ses.Secret, accounts.SessionPrefix) || ses.EnrolTOTP || !ses.ExpiresAt.Equal(ses.CreatedAt.Add(accounts.SessionLifetime)) {
			t.Fatalf("session %+v", ses)
		}
		p := ses.Principal()
		if p.Account != agent.Account || p.Organisation != f.structure.ID || p.Structure != f.structure.ID || p.Department != "78" ||
			!p.Has(access.RoleStructureAgent) || len(p.Roles) != 1 || p.Name != "agent@ccas.fr" ||
			ses.Memberships[0].Label != "CCAS de Trappes" || ses.Memberships[1].Label != "Hauts-de-Seine (92)" {
			t.Fatalf("first organisation: %+v", p)
		}
		if got := p.Actor(); got != access.AccountActor(agent.Account, f.structure.ID) {
			t.Fatalf("actor %q", got)
		}
		ses, err := f.s.ChooseOrganisation(ctx, ses, reader.Organisation)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.s.Session(ctx, ses.Secret)
		if err != nil {
			t.Fatal(err)
		}
		p = again.Principal()
		if p.Organisation != reader.Organisation || p.Department != "92" || p.Structure != 0 || !p.Has(access.RoleDepartmentReader) ||
			len(p.Roles) != 1 || len(again.Memberships) != 2 {
			t.Fatalf("after the choice: %+v (%d memberships)", p, len(again.Memberships))
		}
		if _, err := f.s.ChooseOrganisation(ctx, again, f.manager.Organisation+1000); passnum.ErrorCode(err) != passnum.EForbidden {
			t.Fatalf("an organisation not theirs: %v", err)
		}
		for _, secret := range []string{"", "a.", ses.Secret + "x", strings.TrimPrefix(ses.Secret, accounts.SessionPrefix)} {
			if _, err := f.s.Session(ctx, secret); passnum.ErrorCode(err) != passnum.EUnauthorized {
				t.Fatalf("secret %q: %v", secret, err)
			}
		}
	})
}

// TestSessionSecondFactorFirst: a manager without a second factor gets a
// session with no role, which may choose nothing until it has one; an
// agent given a role that moves money during a session loses its roles at
// the next request until it enrols.
func TestSessionSecondFactorFirst(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ses := f.openSession(t, "responsable@yvelines.fr", "", 0)
		if !ses.EnrolTOTP || len(ses.Principal().Roles) != 0 || ses.Organisation != 0 {
			t.Fatalf("session before the second factor: %+v", ses)
		}
		if _, err := f.s.ChooseOrganisation(ctx, ses, f.manager.Organisation); passnum.ErrorCode(err) != passnum.EForbidden {
			t.Fatalf("choice before the second factor: %v", err)
		}
		f.enrol(t, f.manager.Account)
		ses, err := f.s.Session(ctx, ses.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if ses.EnrolTOTP {
			t.Fatal("still to enrol after the second factor")
		}
		ses, err = f.s.ChooseOrganisation(ctx, ses, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p := ses.Principal(); !p.Has(access.RoleDepartmentManager) || p.Department != "78" {
			t.Fatalf("after enrolment: %+v", p)
		}

		accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		agent := f.openSession(t, "agent@ccas.fr", "", 0)
		if !agent.Principal().Has(access.RoleStructureAgent) {
			t.Fatalf("agent %+v", agent.Principal())
		}
		accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance)
		agent, err = f.s.Session(ctx, agent.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if !agent.EnrolTOTP || len(agent.Principal().Roles) != 0 {
			t.Fatalf("a role that moves money given during the session: %+v", agent.Principal())
		}
	})
}

// TestSessionsEnd: a session ends at logout, at its expiry, when its owner
// ends it from another browser, when the account is disabled and when its
// password is reset; no one ends another's session.
func TestSessionsEnd(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		agent := accountstest.Person(t, f.s, "agent@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		other := accountstest.Person(t, f.s, "autre@ccas.fr", accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
		gone := func(ses accounts.Session, why string) {
			t.Helper()
			if _, err := f.s.Session(ctx, ses.Secret); passnum.ErrorCode(err) != passnum.EUnauthorized {
				t.Fatalf("%s: the session still works (%v)", why, err)
			}
		}
		office := f.openSession(t, "agent@ccas.fr", "", 0)
		phone := f.openSession(t, "agent@ccas.fr", "", 0)
		theirs := f.openSession(t, "autre@ccas.fr", "", 0)
		list, err := f.s.OpenSessions(ctx, agent.Account)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != phone.ID || list[1].ID != office.ID || list[0].UserAgent == "" || list[0].Organisation != f.structure.ID {
			t.Fatalf("open sessions: %+v", list)
		}
		if err := f.s.EndOwnSession(ctx, agent.Account, theirs.ID); passnum.ErrorCode(err) != passnum.ENotFound {
			t.Fatalf("ending another's session: %v", err)
		}
		if _, err := f.s.Session(ctx, theirs.Secret); err != nil {
			t.Fatalf("the other's session after a refused end: %v", err)
		}
		if err := f.s.EndOwnSession(ctx, agent.Account, phone.ID); err != nil {
			t.Fatal(err)
		}
		gone(phone, "ended from the office")
		if err := f.s.EndSession(ctx, office); err != nil {
			t.Fatal(err)
		}
		gone(office, "logout")

		late := f.openSession(t, "agent@ccas.fr", "", 0)
		f.Clock.T = f.Clock.T.Add(accounts.SessionLifetime - time.Second)
		if _, err := f.s.Session(ctx, late.Secret); err != nil {
			t.Fatalf("a second before the expiry: %v", err)
		}
		f.Clock.T = f.Clock.T.Add(time.Second)
		gone(late, "expiry")

		reset := f.openSession(t, "agent@ccas.fr", "", 0)
		token, err := f.s.RequestReset(ctx, "agent@ccas.fr")
		if err != nil || token == "" {
			t.Fatalf("reset link: %q, %v", token, err)
		}
		if err := f.s.Reset(ctx, token, "une toute nouvelle phrase"); err != nil {
			t.Fatal(err)
		}
		gone(reset, "password reset")

		if err := f.s.Disable(ctx, f.op, other.Account); err != nil {
			t.Fatal(err)
		}
		gone(theirs, "account disabled")
	})
}
