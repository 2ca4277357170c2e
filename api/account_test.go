package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// accountSessionJSON is what GET /session says of an account's session.
type accountSessionJSON struct {
	Role          string `json:"role"`
	Name          string `json:"name"`
	Home          string `json:"home"`
	CSRFToken     string `json:"csrf_token"`
	Account       int64  `json:"account"`
	Organisation  int64  `json:"organisation"`
	EnrolTOTP     bool   `json:"enrol_totp"`
	Organisations []struct {
		ID    int64    `json:"id"`
		Label string   `json:"label"`
		Roles []string `json:"roles"`
	} `json:"organisations"`
}

// signIn logs a person in through POST /session; the answer is returned
// as it came, with the browser holding the cookie when it succeeded.
func (e *env) signIn(t testing.TB, body map[string]any) (*browser, response, accountSessionJSON) {
	t.Helper()
	b := &browser{e: e}
	r := b.send(t, "POST", "/session", body, nil)
	var s accountSessionJSON
	if r.status == http.StatusOK {
		r.decode(t, &s)
		cookies := (&http.Response{Header: r.header}).Cookies()
		if len(cookies) != 1 || !strings.HasPrefix(cookies[0].Value, accounts.SessionPrefix) || !cookies[0].HttpOnly ||
			cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].MaxAge != int(accounts.SessionLifetime/time.Second) {
			t.Fatalf("login cookies %+v", cookies)
		}
		b.cookie, b.csrf = cookies[0], s.CSRFToken
	}
	return b, r, s
}

func (b *browser) session(t testing.TB) accountSessionJSON {
	t.Helper()
	r := b.send(t, "GET", "/session", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /session: %d %s", r.status, r.body)
	}
	var s accountSessionJSON
	r.decode(t, &s)
	return s
}

func (b *browser) change(t testing.TB, method, path string, body any) response {
	t.Helper()
	return b.send(t, method, path, body, map[string]string{"X-CSRF-Token": b.csrf})
}

// TestAccountLoginSecondFactor: a département manager logs in with a
// password, is sent to enrol a second factor and may do nothing else;
// once enrolled the session has the manager's roles, its changes are the
// account's in the ledger, and every later login needs the code.
func TestAccountLoginSecondFactor(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		manager := accountstest.Person(t, e.accounts, "responsable@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentManager)
		login := map[string]any{"email": "Responsable@Yvelines.fr", "password": accountstest.Password}

		_, r, _ := e.signIn(t, map[string]any{"email": "responsable@yvelines.fr", "password": "pas le bon mot de passe"})
		if er := r.expect(t, http.StatusUnauthorized, accounts.ELoginFailed); er.Error.Field != "password" {
			t.Errorf("wrong password marks %q", er.Error.Field)
		}
		_, r, _ = e.signIn(t, map[string]any{"email": "", "password": "x"})
		if er := r.expect(t, http.StatusBadRequest, "invalid"); er.Error.Field != "email" {
			t.Errorf("no email marks %q", er.Error.Field)
		}

		b, r, s := e.signIn(t, login)
		if r.status != http.StatusOK || !s.EnrolTOTP || s.Home != "/compte" || s.Organisation != 0 || s.Account != manager.Account ||
			len(s.Organisations) != 1 || s.Organisations[0].Label != "Yvelines (78)" || s.Organisations[0].Roles[0] != "responsable du département" {
			t.Fatalf("login before the second factor: %d %+v", r.status, s)
		}
		b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusForbidden, "forbidden")
		if r := b.send(t, "GET", "/departement/commandes", nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/compte" {
			t.Errorf("a page before the second factor: %d to %q", r.status, r.header.Get("Location"))
		}
		if r := b.send(t, "POST", "/session/totp", nil, nil); r.status != http.StatusForbidden {
			t.Errorf("enrolment without the CSRF token: %d", r.status)
		}
		r = b.change(t, "POST", "/session/totp", nil)
		var enrol struct {
			Secret string   `json:"secret"`
			URI    string   `json:"uri"`
			QR     []string `json:"qr"`
		}
		r.decode(t, &enrol)
		if r.status != http.StatusOK || len(enrol.Secret) != 32 || !strings.HasPrefix(enrol.URI, "otpauth://totp/") ||
			len(enrol.QR) < 21 || len(enrol.QR[0]) != len(enrol.QR) || !regexp.MustCompile(`^[01]+$`).MatchString(enrol.QR[0]) {
			t.Fatalf("enrolment: %d %s", r.status, r.body)
		}
		b.change(t, "POST", "/session/totp/confirm", map[string]string{"totp": "000000"}).expect(t, http.StatusUnauthorized, accounts.ETOTPInvalid)
		r = b.change(t, "POST", "/session/totp/confirm", map[string]string{"totp": accountstest.TOTP(enrol.Secret, e.Clock.T)})
		if r.status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}
		s = b.session(t)
		if s.EnrolTOTP || s.Organisation != manager.Organisation || s.Home != "/departement/" || s.Role != "department" {
			t.Fatalf("after enrolment: %+v", s)
		}
		batch := map[string]any{"department": "78", "chequiers": 2, "vouchers_per_chequier": 2, "face_value_cents": 1000, "programme_end": "2027-11-30"}
		b.api(t, "POST", "/api/v1/batches", batch, b.csrf).expect(t, http.StatusCreated, "")
		var ev ledger.Event
		if err := db.Read(context.Background()).Where("type = ?", "batch.issued").Order("id DESC").First(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if want := access.AccountActor(manager.Account, manager.Organisation); ev.Actor != want {
			t.Errorf("the batch's actor is %q, want %q", ev.Actor, want)
		}
		// Finance's work stays closed to a manager.
		b.api(t, "POST", "/api/v1/settlement/78/2026-11/close", nil, b.csrf).expect(t, http.StatusForbidden, "forbidden")

		e.Clock.T = e.Clock.T.Add(time.Minute)
		_, r, _ = e.signIn(t, login)
		if er := r.expect(t, http.StatusUnauthorized, accounts.ETOTPRequired); er.Error.Field != "totp" {
			t.Errorf("the code asked for marks %q", er.Error.Field)
		}
		login["totp"] = accountstest.TOTP(enrol.Secret, e.Clock.T)
		if _, r, s := e.signIn(t, login); r.status != http.StatusOK || s.EnrolTOTP || s.Organisation != manager.Organisation {
			t.Fatalf("login with the code: %d %+v", r.status, s)
		}
		// The same code, replayed by someone who saw it, is refused.
		_, r, _ = e.signIn(t, login)
		r.expect(t, http.StatusUnauthorized, accounts.ETOTPInvalid)
	})
}

// addStructure adds the CCAS de Trappes to 78.
func (e *env) addStructure(t testing.TB) ledger.Organisation {
	t.Helper()
	o, err := e.accounts.AddStructure(context.Background(), accounts.Operator("test"),
		accounts.StructureInput{Department: "78", Name: "CCAS de Trappes", Type: "ccas", Commune: "Trappes"})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestAccountOrganisations: a person acting for a structure and for
// another département's reading has each one's scope in turn.
func TestAccountOrganisations(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	structure := e.addStructure(t)
	accountstest.Person(t, e.accounts, "agent@ccas.fr", accounts.Org{ID: structure.ID}, access.RoleStructureAgent)
	reader := accountstest.Person(t, e.accounts, "agent@ccas.fr", accounts.Org{Department: "92"}, access.RoleDepartmentReader)
	b, r, s := e.signIn(t, map[string]any{"email": "agent@ccas.fr", "password": accountstest.Password})
	if r.status != http.StatusOK || s.Organisation != structure.ID || s.Home != "/departement/remise" || len(s.Organisations) != 2 {
		t.Fatalf("login: %d %+v", r.status, s)
	}
	b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusForbidden, "forbidden")
	b.change(t, "PUT", "/session/organisation", map[string]int64{"organisation": 999}).expect(t, http.StatusForbidden, "forbidden")
	b.change(t, "PUT", "/session/organisation", map[string]int64{"organisation": 0}).expect(t, http.StatusBadRequest, "invalid")
	if r := b.send(t, "PUT", "/session/organisation", map[string]int64{"organisation": reader.Organisation}, nil); r.status != http.StatusForbidden {
		t.Errorf("a choice without the CSRF token: %d", r.status)
	}
	if r := b.change(t, "PUT", "/session/organisation", map[string]int64{"organisation": reader.Organisation}); r.status != http.StatusOK {
		t.Fatalf("choice: %d %s", r.status, r.body)
	}
	s = b.session(t)
	if s.Organisation != reader.Organisation || s.Home != "/departement/" {
		t.Fatalf("after the choice: %+v", s)
	}
	// 92's reader sees 92's batches, none of 78's.
	var list struct {
		Batches []struct {
			Department string `json:"department"`
		} `json:"batches"`
	}
	r = b.api(t, "GET", "/api/v1/batches", nil, "")
	r.decode(t, &list)
	if r.status != http.StatusOK || len(list.Batches) != 0 {
		t.Fatalf("92's batches: %d %s", r.status, r.body)
	}
	b.api(t, "GET", "/api/v1/batches/"+itoa(e.batch.Batch.ID), nil, "").expect(t, http.StatusNotFound, "not_found")
	// Signed in straight into 92.
	if _, r, s := e.signIn(t, map[string]any{"email": "agent@ccas.fr", "password": accountstest.Password, "organisation": reader.Organisation}); r.status != http.StatusOK || s.Organisation != reader.Organisation {
		t.Fatalf("login into 92: %d %+v", r.status, s)
	}
}

// TestMySessions: a person lists their sessions and ends another of
// theirs; no one ends someone else's; a key's session has no such list.
func TestMySessions(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	structure := e.addStructure(t)
	accountstest.Person(t, e.accounts, "agent@ccas.fr", accounts.Org{ID: structure.ID}, access.RoleStructureAgent)
	accountstest.Person(t, e.accounts, "autre@ccas.fr", accounts.Org{ID: structure.ID}, access.RoleStructureAgent)
	creds := map[string]any{"email": "agent@ccas.fr", "password": accountstest.Password}
	office, _, _ := e.signIn(t, creds)
	phone, _, _ := e.signIn(t, creds)
	other, _, _ := e.signIn(t, map[string]any{"email": "autre@ccas.fr", "password": accountstest.Password})
	var list struct {
		Sessions []struct {
			ID           int64  `json:"id"`
			Current      bool   `json:"current"`
			Device       string `json:"device"`
			Organisation string `json:"organisation"`
		} `json:"sessions"`
	}
	r := office.send(t, "GET", "/sessions", nil, nil)
	r.decode(t, &list)
	if r.status != http.StatusOK || len(list.Sessions) != 2 || list.Sessions[0].Current || !list.Sessions[1].Current ||
		list.Sessions[0].Organisation != "CCAS de Trappes" || list.Sessions[0].Device == "" {
		t.Fatalf("sessions: %d %s", r.status, r.body)
	}
	var otherList struct {
		Sessions []struct {
			ID int64 `json:"id"`
		} `json:"sessions"`
	}
	other.send(t, "GET", "/sessions", nil, nil).decode(t, &otherList)
	office.change(t, "DELETE", "/sessions/"+itoa(otherList.Sessions[0].ID), nil).expect(t, http.StatusNotFound, "not_found")
	other.send(t, "GET", "/session", nil, nil).expect(t, http.StatusOK, "")
	office.change(t, "DELETE", "/sessions/nope", nil).expect(t, http.StatusNotFound, "not_found")
	if r := office.change(t, "DELETE", "/sessions/"+itoa(list.Sessions[0].ID), nil); r.status != http.StatusNoContent {
		t.Fatalf("end the phone's session: %d %s", r.status, r.body)
	}
	phone.send(t, "GET", "/session", nil, nil).expect(t, http.StatusUnauthorized, "unauthorized")
	office.send(t, "GET", "/session", nil, nil).expect(t, http.StatusOK, "")

	key, _ := e.login(t, "department", nil)
	key.send(t, "GET", "/sessions", nil, nil).expect(t, http.StatusForbidden, "forbidden")
}

// TestInvitationAndReset: an invitation accepted through the API makes the
// account (a bad password writes nothing); a reset link goes by email to
// an account's address only, with the same answer for any address; using
// it changes the password and ends the sessions; a disabled account's
// session ends at once.
func TestInvitationAndReset(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		ctx := context.Background()
		inv, err := e.accounts.Invite(ctx, accounts.Operator("test"), "lecteur@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader)
		if err != nil {
			t.Fatal(err)
		}
		anon := &browser{e: e}
		r := anon.send(t, "POST", "/invitation", map[string]string{"token": inv.Token, "password": "court"}, nil)
		if er := r.expect(t, http.StatusBadRequest, "invalid"); er.Error.Field != "password" || !strings.Contains(er.Error.Message, "au moins 12 caractères") {
			t.Errorf("short password: %+v", er)
		}
		if n := e.count(t, &ledger.Account{}); n != 0 {
			t.Fatalf("%d accounts after a refused acceptance", n)
		}
		anon.send(t, "POST", "/invitation", map[string]string{"token": inv.Token, "password": accountstest.Password},
			map[string]string{"Sec-Fetch-Site": "cross-site"}).expect(t, http.StatusForbidden, "forbidden")
		r = anon.send(t, "POST", "/invitation", map[string]string{"token": inv.Token, "password": accountstest.Password}, nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"email":"lecteur@yvelines.fr"`) {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		anon.send(t, "POST", "/invitation", map[string]string{"token": inv.Token, "password": accountstest.Password}, nil).
			expect(t, http.StatusConflict, accounts.ELinkUsed)
		b, r, s := e.signIn(t, map[string]any{"email": "lecteur@yvelines.fr", "password": accountstest.Password})
		if r.status != http.StatusOK || s.Home != "/departement/" {
			t.Fatalf("login: %d %+v", r.status, s)
		}

		sent := func() string { return e.mails.String() }
		var answers []string
		for _, addr := range []string{"lecteur@yvelines.fr", "personne@nulle-part.fr"} {
			r := anon.send(t, "POST", "/password-reset", map[string]string{"email": addr}, nil)
			if r.status != http.StatusAccepted {
				t.Fatalf("reset for %s: %d %s", addr, r.status, r.body)
			}
			answers = append(answers, string(r.body))
		}
		if answers[0] != answers[1] {
			t.Errorf("the answers tell the addresses apart:\n%s\n%s", answers[0], answers[1])
		}
		link := regexp.MustCompile(`Link: https://passnum\.example\.fr/mot-de-passe#(\S+)`)
		var m []string
		waitFor(t, "the reset email", func() bool { m = link.FindStringSubmatch(sent()); return m != nil })
		if strings.Contains(sent(), "personne@nulle-part.fr") || !strings.Contains(sent(), "To: lecteur@yvelines.fr") {
			t.Fatalf("emails sent:\n%s", sent())
		}
		anon.send(t, "POST", "/password-reset", map[string]string{"email": "pas une adresse"}, nil).expect(t, http.StatusBadRequest, "invalid")
		anon.send(t, "POST", "/password-reset/new", map[string]string{"token": m[1], "password": "court"}, nil).expect(t, http.StatusBadRequest, "invalid")
		if r := anon.send(t, "POST", "/password-reset/new", map[string]string{"token": m[1], "password": "une toute nouvelle phrase"}, nil); r.status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		b.send(t, "GET", "/session", nil, nil).expect(t, http.StatusUnauthorized, "unauthorized")
		e.signIn(t, map[string]any{"email": "lecteur@yvelines.fr", "password": accountstest.Password})
		b, r, _ = e.signIn(t, map[string]any{"email": "lecteur@yvelines.fr", "password": "une toute nouvelle phrase"})
		if r.status != http.StatusOK {
			t.Fatalf("login with the new password: %d %s", r.status, r.body)
		}
		if err := e.accounts.Disable(ctx, accounts.Operator("test"), s.Account); err != nil {
			t.Fatal(err)
		}
		b.api(t, "GET", "/api/v1/batches", nil, "").expect(t, http.StatusUnauthorized, "unauthorized")
	})
}

// waitFor polls cond until it holds (a mail sent after the answer), and
// fails after a generous budget.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still no %s after a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStockRoles: the département allocates stock to its structures; a
// structure's agent sees its own stock only, hands over the chéquiers it
// holds and no other structure's, and moves none; another département
// moves none of 78's.
func TestStockRoles(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		trappes := e.addStructure(t)
		other, err := e.accounts.AddStructure(context.Background(), accounts.Operator("test"),
			accounts.StructureInput{Department: "78", Name: "MDS de Versailles", Type: "mds", Commune: "Versailles"})
		if err != nil {
			t.Fatal(err)
		}
		var moved struct {
			Event       string `json:"event"`
			Count       int    `json:"count"`
			First, Last string
		}
		for _, to := range []int64{trappes.ID, other.ID} {
			r := e.do(t, request{method: "POST", path: "/api/v1/stock/moves", as: "department",
				json: map[string]any{"to": to, "batch": e.batch.Batch.ID, "count": 2}})
			r.expect(t, http.StatusOK, "")
			r.decode(t, &moved)
		}
		theirs := moved.First // at Versailles
		e.do(t, request{method: "POST", path: "/api/v1/stock/moves", as: "department92",
			json: map[string]any{"department": "78", "to": trappes.ID, "batch": e.batch.Batch.ID, "count": 1}}).expect(t, http.StatusForbidden, "forbidden")

		accountstest.Person(t, e.accounts, "agent@ccas.fr", accounts.Org{ID: trappes.ID}, access.RoleStructureAgent)
		agent, r, _ := e.signIn(t, map[string]any{"email": "agent@ccas.fr", "password": accountstest.Password})
		if r.status != http.StatusOK {
			t.Fatalf("login: %d %s", r.status, r.body)
		}
		var stock struct {
			Holdings []struct {
				Structure int64 `json:"structure"`
				Count     int64 `json:"count"`
				AgeDays   *int  `json:"age_days"`
			} `json:"holdings"`
		}
		r = agent.api(t, "GET", "/api/v1/stock", nil, "")
		r.decode(t, &stock)
		if r.status != http.StatusOK || len(stock.Holdings) != 1 || stock.Holdings[0].Structure != trappes.ID || stock.Holdings[0].Count != 2 ||
			stock.Holdings[0].AgeDays == nil || *stock.Holdings[0].AgeDays != 0 {
			t.Fatalf("the agent's stock: %d %s", r.status, r.body)
		}
		agent.api(t, "POST", "/api/v1/stock/moves", map[string]any{"to": trappes.ID, "batch": e.batch.Batch.ID, "count": 1}, agent.csrf).
			expect(t, http.StatusForbidden, "forbidden")
		er := agent.api(t, "POST", "/api/v1/chequiers/activation", map[string]string{"number": theirs}, agent.csrf).expect(t, http.StatusForbidden, issuing.ENotInStock)
		if !strings.Contains(er.Error.Message, "pas dans le stock de votre structure") {
			t.Errorf("another structure's chéquier: %q", er.Error.Message)
		}
		mine := e.batch.FirstChequier
		r = agent.api(t, "POST", "/api/v1/chequiers/activation", map[string]string{"number": mine, "beneficiary_ref": "CCAS-17-0193"}, agent.csrf)
		r.expect(t, http.StatusOK, "")
		// The same reference on a second chéquier: a warning first, then
		// the confirmed hand-over.
		second := strings.Replace(mine, "000001", "000002", 1)
		er = agent.api(t, "POST", "/api/v1/chequiers/activation", map[string]string{"number": second, "beneficiary_ref": "CCAS-17-0193"}, agent.csrf).
			expect(t, http.StatusConflict, issuing.ERefUsed)
		if er.Error.Field != "beneficiary_ref" || !strings.Contains(er.Error.Message, "déjà utilisée pour le chéquier "+mine) {
			t.Errorf("second hand-over for one reference: %+v", er.Error)
		}
		agent.api(t, "POST", "/api/v1/chequiers/activation", map[string]any{"number": second, "beneficiary_ref": "CCAS-17-0193", "same_person": true}, agent.csrf).
			expect(t, http.StatusOK, "")
		var ev ledger.Event
		if err := db.Read(context.Background()).Where("type = ?", ledger.EventChequierActivated).Order("id DESC").First(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(ev.Actor, "@organisation:"+itoa(trappes.ID)) {
			t.Errorf("the hand-over's actor is %q, want the agent acting for the CCAS", ev.Actor)
		}
	})
}
