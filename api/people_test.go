package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/audit"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// person makes an account with role in org, logs it in and, when its
// roles ask for one, enrols its second factor: a browser ready to work.
func (e *env) person(t testing.TB, email string, org accounts.Org, role string) (*browser, accounts.Accepted) {
	t.Helper()
	a := accountstest.Person(t, e.accounts, email, org, role)
	b, r, s := e.signIn(t, map[string]any{"email": email, "password": accountstest.Password, "organisation": a.Organisation})
	if r.status != http.StatusOK {
		t.Fatalf("login of %s: %d %s", email, r.status, r.body)
	}
	if s.EnrolTOTP {
		var enrol struct {
			Secret string `json:"secret"`
		}
		b.change(t, "POST", "/session/totp", nil).decode(t, &enrol)
		if r := b.change(t, "POST", "/session/totp/confirm", map[string]string{"totp": accountstest.TOTP(enrol.Secret, e.Clock.T)}); r.status != http.StatusOK {
			t.Fatalf("second factor of %s: %d %s", email, r.status, r.body)
		}
	}
	return b, a
}

type peopleJSON struct {
	People []struct {
		Account int64  `json:"account"`
		Email   string `json:"email"`
		Role    string `json:"role"`
		You     bool   `json:"you"`
	} `json:"people"`
	Invitations []struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"invitations"`
}

// TestPeopleManagement: a département's manager adds a structure,
// invites its agent (the mail carries the link, the answer never), sees
// the invitation then the person, takes the role back and disables an
// account; another département's manager, the structure's agent and the
// département's key can do none of it, and bad input writes nothing.
func TestPeopleManagement(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		ctx := context.Background()
		manager, m := e.person(t, "responsable@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentManager)
		other, _ := e.person(t, "responsable@hauts-de-seine.fr", accounts.Org{Department: "92"}, access.RoleDepartmentManager)

		// A structure, then the organisations the manager manages.
		r := manager.api(t, "POST", "/api/v1/structures", map[string]any{"name": "CCAS de Trappes", "type": "ccas", "commune": "Trappes"}, manager.csrf)
		var trappes struct {
			ID         int64  `json:"id"`
			Department string `json:"department"`
			TypeLabel  string `json:"type_label"`
		}
		r.decode(t, &trappes)
		if r.status != http.StatusCreated || trappes.Department != "78" || trappes.TypeLabel != "CCAS" {
			t.Fatalf("add a structure: %d %s", r.status, r.body)
		}
		before := e.count(t, &ledger.Organisation{})
		er := manager.api(t, "POST", "/api/v1/structures", map[string]any{"name": "Mairie", "type": "mairie", "commune": "Trappes"}, manager.csrf).
			expect(t, http.StatusBadRequest, "invalid")
		if !strings.Contains(er.Error.Message, "ccas (CCAS)") {
			t.Errorf("an unknown type: %q", er.Error.Message)
		}
		other.api(t, "POST", "/api/v1/structures", map[string]any{"department": "78", "name": "MDS", "type": "mds", "commune": "Versailles"}, other.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		if n := e.count(t, &ledger.Organisation{}); n != before {
			t.Fatalf("%d organisations after refused additions, want %d", n, before)
		}
		var orgs struct {
			Organisations []struct {
				ID    int64  `json:"id"`
				Label string `json:"label"`
				Roles []struct {
					Role string `json:"role"`
				} `json:"roles"`
			} `json:"organisations"`
		}
		manager.api(t, "GET", "/api/v1/organisations", nil, "").decode(t, &orgs)
		if len(orgs.Organisations) != 2 || orgs.Organisations[0].Label != "Yvelines (78)" || len(orgs.Organisations[0].Roles) != 3 ||
			orgs.Organisations[1].ID != trappes.ID || len(orgs.Organisations[1].Roles) != 1 || orgs.Organisations[1].Roles[0].Role != access.RoleStructureAgent {
			t.Fatalf("the manager's organisations: %+v", orgs)
		}

		// The invitation: in the mail, never in the answer.
		invitations := e.count(t, &ledger.Invitation{})
		manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "pas une adresse", "role": "structure_agent", "organisation": trappes.ID}, manager.csrf).
			expect(t, http.StatusBadRequest, "invalid")
		manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "x@y.fr", "role": "department_finance", "department": "92"}, manager.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		other.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "x@y.fr", "role": "structure_agent", "organisation": trappes.ID}, other.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		if er := manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "x@y.fr", "role": "boss", "organisation": trappes.ID}, manager.csrf).
			expect(t, http.StatusBadRequest, "invalid"); er.Error.Field != "role" {
			t.Errorf("an unknown role marks %q", er.Error.Field)
		}
		if n := e.count(t, &ledger.Invitation{}); n != invitations {
			t.Fatalf("%d invitations after refused ones, want %d", n, invitations)
		}
		r = manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "accueil@ccas-trappes.fr", "role": "structure_agent", "organisation": trappes.ID}, manager.csrf)
		r.expect(t, http.StatusCreated, "")
		link := regexp.MustCompile(`Link: https://passnum\.example\.fr/invitation#(\S+)`)
		var found []string
		waitFor(t, "the invitation email", func() bool { found = link.FindStringSubmatch(e.mails.String()); return found != nil })
		token := found[1]
		if strings.Contains(string(r.body), token) || !strings.Contains(e.mails.String(), "responsable@yvelines.fr") {
			t.Fatalf("answer %s; mails:\n%s", r.body, e.mails.String())
		}
		var list peopleJSON
		manager.api(t, "GET", "/api/v1/people?organisation="+itoa(trappes.ID), nil, "").decode(t, &list)
		if len(list.People) != 0 || len(list.Invitations) != 1 || list.Invitations[0].Email != "accueil@ccas-trappes.fr" {
			t.Fatalf("before acceptance: %+v", list)
		}
		anon := &browser{e: e}
		anon.send(t, "POST", "/invitation", map[string]string{"token": token, "password": accountstest.Password}, nil).expect(t, http.StatusOK, "")
		manager.api(t, "GET", "/api/v1/people?organisation="+itoa(trappes.ID), nil, "").decode(t, &list)
		if len(list.People) != 1 || len(list.Invitations) != 0 || list.People[0].Role != access.RoleStructureAgent {
			t.Fatalf("after acceptance: %+v", list)
		}
		agentID := list.People[0].Account
		agent, r, _ := e.signIn(t, map[string]any{"email": "accueil@ccas-trappes.fr", "password": accountstest.Password})
		if r.status != http.StatusOK {
			t.Fatalf("the agent's login: %d %s", r.status, r.body)
		}
		agent.api(t, "GET", "/api/v1/stock", nil, "").expect(t, http.StatusOK, "")

		// An invitation to a mistyped address, cancelled: its link is
		// refused; another département cannot cancel it.
		r = manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "acceuil@ccas-trappes.fr", "role": "structure_agent", "organisation": trappes.ID}, manager.csrf)
		var typo struct {
			ID int64 `json:"id"`
		}
		r.decode(t, &typo)
		var typoToken []string
		waitFor(t, "the mistyped invitation's email", func() bool {
			typoToken = regexp.MustCompile(`To: acceuil@ccas-trappes\.fr[\s\S]*?Link: https://passnum\.example\.fr/invitation#(\S+)`).FindStringSubmatch(e.mails.String())
			return typoToken != nil
		})
		cancel := "/api/v1/invitations/" + itoa(typo.ID) + "/cancellation"
		other.api(t, "POST", cancel, nil, other.csrf).expect(t, http.StatusNotFound, "not_found")
		manager.api(t, "POST", cancel, nil, manager.csrf).expect(t, http.StatusNoContent, "")
		manager.api(t, "POST", cancel, nil, manager.csrf).expect(t, http.StatusConflict, "conflict")
		anon.send(t, "POST", "/invitation", map[string]string{"token": typoToken[1], "password": accountstest.Password}, nil).
			expect(t, http.StatusConflict, accounts.ELinkCancelled)
		manager.api(t, "GET", "/api/v1/people?organisation="+itoa(trappes.ID), nil, "").decode(t, &list)
		if len(list.Invitations) != 0 {
			t.Fatalf("a cancelled invitation is still listed: %+v", list)
		}

		// Who may not list people: the agent, a département's key, another
		// département's manager.
		agent.api(t, "GET", "/api/v1/people", nil, "").expect(t, http.StatusForbidden, "forbidden")
		e.do(t, request{method: "GET", path: "/api/v1/people?department=78", as: "department"}).expect(t, http.StatusForbidden, "forbidden")
		other.api(t, "GET", "/api/v1/people?organisation="+itoa(trappes.ID), nil, "").expect(t, http.StatusForbidden, "forbidden")
		manager.api(t, "GET", "/api/v1/people?department=7", nil, "").expect(t, http.StatusBadRequest, "invalid")
		// Its own département's people by default, itself marked.
		manager.api(t, "GET", "/api/v1/people", nil, "").decode(t, &list)
		if len(list.People) != 1 || !list.People[0].You || list.People[0].Account != m.Account {
			t.Fatalf("the département's people: %+v", list)
		}

		// The role taken back: the agent's session loses it at once.
		roleOf := map[string]any{"role": "structure_agent", "organisation": trappes.ID}
		other.api(t, "POST", "/api/v1/accounts/"+itoa(agentID)+"/role-removal", roleOf, other.csrf).expect(t, http.StatusForbidden, "forbidden")
		manager.api(t, "POST", "/api/v1/accounts/"+itoa(m.Account)+"/role-removal", map[string]any{"role": "department_manager"}, manager.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		manager.api(t, "POST", "/api/v1/accounts/"+itoa(agentID)+"/role-removal", roleOf, manager.csrf).expect(t, http.StatusNoContent, "")
		manager.api(t, "POST", "/api/v1/accounts/"+itoa(agentID)+"/role-removal", roleOf, manager.csrf).expect(t, http.StatusNotFound, "not_found")
		agent.api(t, "GET", "/api/v1/stock", nil, "").expect(t, http.StatusForbidden, "forbidden")

		// Disabled: the reader's session ends; not by another département,
		// not one's own.
		reader, ra := e.person(t, "lecteur@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader)
		other.api(t, "POST", "/api/v1/accounts/"+itoa(ra.Account)+"/disable", nil, other.csrf).expect(t, http.StatusNotFound, "not_found")
		manager.api(t, "POST", "/api/v1/accounts/"+itoa(m.Account)+"/disable", nil, manager.csrf).expect(t, http.StatusForbidden, "forbidden")
		manager.api(t, "POST", "/api/v1/accounts/"+itoa(ra.Account)+"/disable", nil, manager.csrf).expect(t, http.StatusNoContent, "")
		reader.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusUnauthorized, "unauthorized")
		manager.api(t, "POST", "/api/v1/accounts/"+itoa(ra.Account)+"/disable", nil, manager.csrf).expect(t, http.StatusConflict, "conflict")

		// The ledger names the manager for each change, and agrees with
		// the tables.
		var ev ledger.Event
		if err := db.Read(ctx).Where("type = ?", ledger.EventMembershipRemoved).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if want := access.AccountActor(m.Account, m.Organisation); ev.Actor != want {
			t.Errorf("the removal's actor is %q, want %q", ev.Actor, want)
		}
		e.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}

// TestVenueManagerPeople: a venue's manager manages its venue's
// volunteers only: it invites and lists them, gives no other role, sees
// no other venue's people and adds no structure.
func TestVenueManagerPeople(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		manager, _ := e.person(t, "responsable@mediatheque.fr", accounts.Org{Venue: e.venue1}, access.RoleVenueManager)
		var orgs struct {
			Organisations []struct {
				Venue int64 `json:"venue"`
				Roles []struct {
					Role string `json:"role"`
				} `json:"roles"`
			} `json:"organisations"`
		}
		manager.api(t, "GET", "/api/v1/organisations", nil, "").decode(t, &orgs)
		if len(orgs.Organisations) != 1 || orgs.Organisations[0].Venue != e.venue1 || len(orgs.Organisations[0].Roles) != 1 ||
			orgs.Organisations[0].Roles[0].Role != access.RoleVenueVolunteer {
			t.Fatalf("the venue manager's organisations: %+v", orgs)
		}
		manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "benevole@mediatheque.fr", "role": "venue_volunteer"}, manager.csrf).
			expect(t, http.StatusCreated, "")
		manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "chef@mediatheque.fr", "role": "venue_manager"}, manager.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		manager.api(t, "POST", "/api/v1/invitations", map[string]any{"email": "x@mediatheque.fr", "role": "venue_volunteer", "venue": e.venue2}, manager.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		manager.api(t, "GET", "/api/v1/people?venue="+itoa(e.venue2), nil, "").expect(t, http.StatusForbidden, "forbidden")
		var list peopleJSON
		manager.api(t, "GET", "/api/v1/people", nil, "").decode(t, &list)
		if len(list.Invitations) != 1 || list.Invitations[0].Email != "benevole@mediatheque.fr" || len(list.People) != 1 || !list.People[0].You {
			t.Fatalf("the venue's people: %+v", list)
		}
		manager.api(t, "POST", "/api/v1/structures", map[string]any{"department": "78", "name": "CCAS", "type": "ccas", "commune": "Trappes"}, manager.csrf).
			expect(t, http.StatusForbidden, "forbidden")
	})
}
