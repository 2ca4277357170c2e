package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/archive"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme/programmetest"
)

type venueJSON struct {
	ID             int64
	Name           string
	Status         string
	SIRET          string
	Address        string
	IBAN           string
	BIC            string
	Contact        *string
	Departments    []string
	LabelExpiresOn string `json:"label_expires_on"`
}

// TestVenues labels a venue over HTTP and takes it through its statuses;
// every refusal is in French and writes nothing. The programme's own
// messages are pinned by programme's TestMessages; text here is what the
// API says itself (the body, the scope, the query), "" for the
// programme's.
func TestVenues(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		siret := programmetest.SIRET(42)
		spaced := siret[:3] + " " + siret[3:6] + " " + siret[6:9] + " " + siret[9:]
		body := map[string]any{"name": "  Association Clic Solidaire ", "siret": spaced, "address": "3 rue des Lilas, 78190 Trappes",
			"iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "bnpafrpp", "contact": "Mme Martin, 01 23 45 67 89",
			"departments": []string{"78"}, "label_until": "2027-06-30", "reason": "comité du 12/10"}
		r := e.do(t, request{method: "POST", path: "/api/v1/venues", as: "department", json: body})
		r.expect(t, http.StatusCreated, "")
		var v venueJSON
		r.decode(t, &v)
		if v.Name != "Association Clic Solidaire" || v.SIRET != siret || v.IBAN != programmetest.IBAN || v.BIC != "BNPAFRPP" ||
			v.Status != "labelled" || v.LabelExpiresOn != "2027-06-30" || v.Contact == nil || len(v.Departments) != 1 ||
			r.header.Get("Location") != "/api/v1/venues/"+itoa(v.ID) {
			t.Fatalf("%+v", v)
		}
		path := "/api/v1/venues/" + itoa(v.ID)

		// Bad input: nothing is written.
		venues, events := e.count(t, &ledger.Venue{}), e.count(t, &ledger.Event{})
		alteredSIRET := []byte(siret)
		alteredSIRET[5] = '0' + (alteredSIRET[5]-'0'+1)%10
		alteredIBAN := strings.Replace(programmetest.IBAN, "0189", "0198", 1)
		with := func(k string, val any) map[string]any {
			o := map[string]any{"name": "Autre lieu", "siret": programmetest.SIRET(43), "iban": programmetest.IBAN, "departments": []string{"78"}}
			if val == nil {
				delete(o, k)
			} else {
				o[k] = val
			}
			return o
		}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
			text   string
		}{
			{"AlteredSIRET", with("siret", string(alteredSIRET)), 400, "invalid", ""},
			{"ShortSIRET", with("siret", "1234"), 400, "invalid", ""},
			{"LettersInSIRET", with("siret", "ABCDEFGHIJKLMN"), 400, "invalid", ""},
			{"AlteredIBAN", with("iban", alteredIBAN), 400, "invalid", ""},
			{"IBANOutsideSEPA", with("iban", "US64SVBKUS6S3300958879"), 400, "invalid", ""},
			{"NoIBAN", with("iban", nil), 400, "invalid", ""},
			{"BadBIC", with("bic", "BNP"), 400, "invalid", ""},
			{"NoName", with("name", "  "), 400, "invalid", ""},
			{"LongName", with("name", strings.Repeat("é", 201)), 400, "invalid", ""},
			{"NoDepartment", with("departments", []string{}), 400, "invalid", ""},
			{"BadDepartment", with("departments", []string{"7"}), 400, "invalid", "« 7 » n'est pas un code de département"},
			{"OtherDepartment", with("departments", []string{"78", "92"}), 403, "forbidden", "département 92"},
			{"PastLabel", with("label_until", "2026-01-01"), 400, "invalid", ""},
			{"BadLabelDate", with("label_until", "31/12/2027"), 400, "invalid", "AAAA-MM-JJ"},
			{"SIRETTaken", with("siret", siret), 409, "venue_siret_taken", ""},
			{"NULInContact", with("contact", "a\u0000b"), 400, "invalid", ""},
			{"UnknownField", with("email", "x@example.org"), 400, "invalid_json", "« email »"},
			{"DepartmentsAsString", with("departments", "78"), 400, "invalid_json", "« departments » doit être une liste"},
		}
		// The field a page marks; none for the others.
		fields := map[string]string{"AlteredSIRET": "siret", "ShortSIRET": "siret", "LettersInSIRET": "siret", "SIRETTaken": "siret",
			"AlteredIBAN": "iban", "IBANOutsideSEPA": "iban", "NoIBAN": "iban", "BadBIC": "bic"}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				er := e.do(t, request{method: "POST", path: "/api/v1/venues", as: "department", json: c.body, offContract: true}).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
				if er.Error.Field != fields[c.name] {
					t.Errorf("field %q, want %q", er.Error.Field, fields[c.name])
				}
			})
		}
		e.do(t, request{method: "POST", path: "/api/v1/venues", as: "department", body: raw(`{"name":"x"`), offContract: true}).expect(t, 400, "invalid_json")
		r = e.do(t, request{method: "POST", path: "/api/v1/venues", as: "admin", json: with("departments", []string{"75"})})
		if r.expect(t, 400, "department_unknown"); !strings.Contains(string(r.body), `"hint":"Les départements du programme sont ceux de GET /api/v1/departments`) {
			t.Errorf("no hint: %s", r.body)
		}
		if e.count(t, &ledger.Venue{}) != venues || e.count(t, &ledger.Event{}) != events {
			t.Fatal("a refused venue wrote something")
		}

		// Changes.
		patch := func(as string, b any) response {
			return e.do(t, request{method: "PATCH", path: path, as: as, json: b, offContract: true})
		}
		// A new IBAN waits for a second person (four eyes): the one who
		// asked cannot approve it; an admin can.
		r = patch("department", map[string]any{"iban": "FR14 2004 1010 0505 0001 3M02 606", "name": "Clic Solidaire", "reason": "nouveau RIB"})
		var cr struct {
			ID       int64    `json:"id"`
			Awaiting []string `json:"awaiting"`
			Message  string   `json:"message"`
		}
		r.decode(t, &cr)
		if r.status != http.StatusAccepted || fmt.Sprint(cr.Awaiting) != "[78]" || !strings.Contains(cr.Message, "deuxième personne") {
			t.Fatalf("IBAN change: %d %s", r.status, r.body)
		}
		patch("admin", map[string]any{"iban": "FR7630001007941234567890185", "reason": "RIB"}).expect(t, http.StatusForbidden, "forbidden")
		decision := "/api/v1/venue-change-requests/" + itoa(cr.ID) + "/approval"
		e.do(t, request{method: "POST", path: decision, as: "department", json: map[string]string{}}).expect(t, http.StatusForbidden, "forbidden")
		accountstest.Person(t, e.accounts, "finances@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance)
		e.do(t, request{method: "POST", path: decision, as: "admin", json: map[string]string{}}).expect(t, http.StatusOK, "")
		// 78's finance people are told, after the answer.
		waitFor(t, "the notice of the new IBAN", func() bool {
			return strings.Contains(e.mails.String(), "To: finances@yvelines.fr\nSubject: Coordonnées bancaires changées : Clic Solidaire")
		})
		r = e.do(t, request{method: "GET", path: path, as: "department"})
		v = venueJSON{}
		r.decode(t, &v)
		if v.IBAN != "FR1420041010050500013M02606" || v.BIC != "" || v.Name != "Clic Solidaire" || v.Address != "3 rue des Lilas, 78190 Trappes" {
			t.Fatalf("%+v", v)
		}
		for name, c := range map[string]struct {
			body   any
			status int
			code   string
			text   string
		}{
			"NoReason":      {map[string]any{"name": "X"}, 400, "invalid", ""},
			"Nothing":       {map[string]any{"reason": "rien"}, 400, "invalid", ""},
			"BICAlone":      {map[string]any{"bic": "BNPAFRPP", "reason": "x"}, 400, "invalid", ""},
			"AlteredIBAN":   {map[string]any{"iban": alteredIBAN, "reason": "x"}, 400, "invalid", ""},
			"EmptyName":     {map[string]any{"name": "", "reason": "x"}, 400, "invalid", ""},
			"NullName":      {map[string]any{"name": nil, "reason": "x"}, 400, "invalid", "Rien à changer"}, // null is no change
			"StatusByPatch": {map[string]any{"status": "labelled", "reason": "x"}, 400, "invalid_json", "« status »"},
		} {
			t.Run("Patch"+name, func(t *testing.T) {
				er := patch("department", c.body).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
			})
		}
		e.do(t, request{method: "PATCH", path: "/api/v1/venues/999", as: "admin", json: map[string]any{"name": "X", "reason": "x"}}).expect(t, 404, "not_found")
		e.do(t, request{method: "PATCH", path: "/api/v1/venues/abc", as: "admin", json: map[string]any{"name": "X", "reason": "x"}, offContract: true}).expect(t, 400, "invalid")

		// The label's life.
		status := func(action string, b any, want int, code string) venueJSON {
			t.Helper()
			r := e.do(t, request{method: "POST", path: path + "/" + action, as: "department", json: b, offContract: want == http.StatusBadRequest})
			r.expect(t, want, code)
			var out venueJSON
			if want == http.StatusOK {
				r.decode(t, &out)
			}
			return out
		}
		why := map[string]string{"reason": "enquête"}
		status("reinstatement", why, 409, "venue_status")
		if v := status("suspension", why, 200, ""); v.Status != "suspended" {
			t.Fatalf("%+v", v)
		}
		status("suspension", why, 409, "venue_status")
		status("label", map[string]string{"reason": "renouvellement"}, 409, "venue_label_suspended")
		if v := status("reinstatement", why, 200, ""); v.Status != "labelled" || v.LabelExpiresOn != "2027-06-30" {
			t.Fatalf("reinstated: %+v", v)
		}
		if v := status("unlabelling", why, 200, ""); v.Status != "unlabelled" {
			t.Fatalf("%+v", v)
		}
		status("unlabelling", why, 409, "venue_status")
		status("suspension", map[string]string{"reason": ""}, 400, "invalid")
		if v := status("label", map[string]string{"reason": "nouveau comité"}, 200, ""); v.Status != "labelled" || v.LabelExpiresOn != "" {
			t.Fatalf("labelled again without end: %+v", v)
		}
		status("label", map[string]string{"until": "2026-11-25", "reason": "x"}, 400, "invalid")
		if v := status("label", map[string]string{"until": "2028-12-31", "reason": "prolongation"}, 200, ""); v.LabelExpiresOn != "2028-12-31" {
			t.Fatalf("%+v", v)
		}
		var ev []ledger.Event
		if err := db.Read(context.Background()).Where("entity = ? AND entity_id = ?", "venue", itoa(v.ID)).Order("id").Find(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if len(ev) != 9 {
			t.Fatalf("%d venue events", len(ev))
		}
		for _, x := range ev {
			// The admin approved the IBAN, which applied it.
			want := e.actor("department")
			if x.Type == ledger.EventChangeApproved || x.Type == ledger.EventVenueUpdated && strings.Contains(x.Data, `"iban"`) {
				want = e.actor("admin")
			}
			if x.Actor != want || strings.Contains(x.Data, "Martin") {
				t.Fatalf("event %s: actor %q, data %s", x.Type, x.Actor, x.Data)
			}
		}

		// The auditor reads it without its contact; the venue's own key reads it with.
		var seen map[string]any
		e.do(t, request{method: "GET", path: path, as: "auditor"}).decode(t, &seen)
		if _, ok := seen["contact"]; ok || seen["siret"] != siret {
			t.Fatalf("%v", seen)
		}
		var list struct {
			Venues []venueJSON
			Next   int64
		}
		e.do(t, request{method: "GET", path: "/api/v1/venues?limit=2", as: "admin"}).decode(t, &list)
		if len(list.Venues) != 2 || list.Next != list.Venues[1].ID {
			t.Fatalf("%+v", list)
		}
		e.do(t, request{method: "GET", path: "/api/v1/venues?after=" + itoa(list.Next), as: "admin"}).decode(t, &list)
		if len(list.Venues) != 1 || list.Venues[0].ID != v.ID {
			t.Fatalf("%+v", list)
		}
		var own venueJSON
		e.do(t, request{method: "GET", path: "/api/v1/venues/" + itoa(e.venue1), as: "venue1"}).decode(t, &own)
		if own.ID != e.venue1 || own.Contact == nil {
			t.Fatalf("%+v", own)
		}
	})
}

// TestDepartmentSettings sets a département's paying office and commission.
func TestDepartmentSettings(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		var d struct {
			Code, Name, PayerName, PayerIBAN, PayerBIC string
			Commission                                 int64 `json:"commission_basis_points"`
		}
		// The contact phone applies at once; the paying office and the
		// commission wait for a second person.
		office := map[string]any{"payer_name": "Paierie départementale", "payer_iban": "FR76 3000 6000 0112 3456 7890 189", "payer_bic": "BNPAFRPP"}
		asked := map[string]any{"commission_basis_points": 150, "contact_phone": "01 39 07 78 78"}
		for k, v := range office {
			asked[k] = v
		}
		r := e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: asked})
		r.expect(t, http.StatusOK, "")
		var waiting struct {
			PayerIBAN string `json:"payer_iban"`
			Awaiting  []struct {
				Subject string `json:"subject"`
				ByYou   bool   `json:"by_you"`
				Data    struct {
					IBAN string `json:"payer_iban"`
				} `json:"data"`
			} `json:"awaiting"`
		}
		r.decode(t, &waiting)
		r.decode(t, &d)
		if d.Commission != 0 || waiting.PayerIBAN != "" || len(waiting.Awaiting) != 1 || waiting.Awaiting[0].Subject != "settings" ||
			!strings.Contains(string(r.body), `"contact_phone":"01 39 07 78 78"`) ||
			!waiting.Awaiting[0].ByYou || waiting.Awaiting[0].Data.IBAN != programmetest.IBAN {
			t.Fatalf("after asking: %s", r.body)
		}
		e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: office}).expect(t, http.StatusConflict, "awaiting_second_person")
		confirm := "/api/v1/departments/78/settings/confirmation"
		if er := e.do(t, request{method: "POST", path: confirm, as: "department"}).expect(t, http.StatusForbidden, "forbidden"); !strings.Contains(er.Error.Message, "une autre personne doit confirmer") {
			t.Errorf("the asker confirming: %q", er.Error.Message)
		}
		e.do(t, request{method: "POST", path: confirm, as: "department92"}).expect(t, http.StatusForbidden, "forbidden")
		r = e.do(t, request{method: "POST", path: confirm, as: "admin"})
		r.expect(t, http.StatusOK, "")
		var raw map[string]any
		r.decode(t, &raw)
		if raw["payer_iban"] != programmetest.IBAN || raw["payer_bic"] != "BNPAFRPP" || raw["payer_name"] != "Paierie départementale" ||
			raw["commission_basis_points"] != float64(150) || len(raw["awaiting"].([]any)) != 0 {
			t.Fatalf("after the confirmation: %s", r.body)
		}
		var ev ledger.Event
		if err := db.Read(context.Background()).Where("type = ?", ledger.EventDepartmentUpdated).Order("id DESC").First(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Actor != e.actor("admin") || !strings.Contains(string(ev.Data), `"requested_by":"`+e.actor("department")+`"`) {
			t.Errorf("the event: %s by %s", ev.Data, ev.Actor)
		}
		e.do(t, request{method: "POST", path: confirm, as: "admin"}).expect(t, http.StatusNotFound, "nothing_asked")
		// Asked again, then withdrawn by the one who asked, with a reason.
		other := map[string]any{"payer_iban": "FR1420041010050500013M02606"}
		e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: other}).expect(t, http.StatusAccepted, "")
		refuse := "/api/v1/departments/78/settings/refusal"
		if er := e.do(t, request{method: "POST", path: refuse, as: "department", json: map[string]string{"reason": ""}}).expect(t, http.StatusBadRequest, "invalid"); er.Error.Field != "reason" {
			t.Errorf("a refusal without reason marks %q", er.Error.Field)
		}
		e.do(t, request{method: "POST", path: refuse, as: "department", json: map[string]string{"reason": "erreur de saisie"}}).expect(t, http.StatusNoContent, "")
		r = e.do(t, request{method: "GET", path: "/api/v1/departments", as: "department"})
		if !strings.Contains(string(r.body), `"payer_iban":"`+programmetest.IBAN+`"`) || !strings.Contains(string(r.body), `"awaiting":[]`) {
			t.Fatalf("after the withdrawal: %s", r.body)
		}
		for name, c := range map[string]struct {
			path   string
			body   any
			status int
			code   string
			text   string
		}{
			"Nothing":      {"78", map[string]any{}, 400, "invalid", ""},
			"BICAlone":     {"78", map[string]any{"payer_bic": "BNPAFRPP"}, 400, "invalid", ""},
			"AlteredIBAN":  {"78", map[string]any{"payer_iban": "FR7630006000011234567890198"}, 400, "invalid", ""},
			"Commission":   {"78", map[string]any{"commission_basis_points": 10001}, 400, "invalid", ""},
			"Negative":     {"78", map[string]any{"commission_basis_points": -1}, 400, "invalid", ""},
			"EmptyPayer":   {"78", map[string]any{"payer_name": " "}, 400, "invalid", ""},
			"Other":        {"92", map[string]any{"commission_basis_points": 1}, 403, "forbidden", "département 92"},
			"BadCode":      {"ABC", map[string]any{"commission_basis_points": 1}, 400, "invalid", "code de département"},
			"UnknownField": {"78", map[string]any{"name": "Yvelines"}, 400, "invalid_json", "« name »"},
		} {
			t.Run(name, func(t *testing.T) {
				er := e.do(t, request{method: "PATCH", path: "/api/v1/departments/" + c.path, as: "department", json: c.body, offContract: true}).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
			})
		}
		e.do(t, request{method: "PATCH", path: "/api/v1/departments/75", as: "admin", json: map[string]any{"commission_basis_points": 1}}).
			expect(t, http.StatusNotFound, "not_found")
		var list struct{ Departments []map[string]any }
		e.do(t, request{method: "GET", path: "/api/v1/departments", as: "auditor"}).decode(t, &list)
		if len(list.Departments) != 2 || list.Departments[0]["commission_basis_points"] != 150.0 || list.Departments[1]["code"] != "92" {
			t.Fatalf("%+v", list)
		}
	})
}

// TestVenueArchive: the département that labels a venue and an auditor
// get its archive, which Check accepts with the public keys; another
// département gets not_found; a device's key none (a lost phone would
// hand over the venue's bank history).
func TestVenueArchive(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		e.redeem(t, "venue1", e.code(0), e.code(1)).expect(t, http.StatusCreated, "")
		path := "/api/v1/venues/" + itoa(e.venue1) + "/archive"
		ks, err := db.KeySet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"department", "auditor"} {
			r := e.do(t, request{method: "GET", path: path, as: who})
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" ||
				!strings.Contains(r.header.Get("Content-Disposition"), "dossier-lieu-") {
				t.Fatalf("%s: %d %v", who, r.status, r.header)
			}
			rep, err := archive.Check(bytes.NewReader(r.body), int64(len(r.body)), ks)
			if err != nil || rep.Receipts != 1 || rep.AcceptedCents != 2000 {
				t.Fatalf("%s's archive: %+v %v", who, rep, err)
			}
		}
		e.do(t, request{method: "GET", path: path, as: "department92"}).expect(t, http.StatusNotFound, "not_found")
		for _, who := range []string{"venue1", "venue2"} {
			e.do(t, request{method: "GET", path: path, as: who}).expect(t, http.StatusForbidden, "forbidden")
		}
	})
}

// TestDirectory: the public list of venues, with no session and no
// script, lists the venues that redeem today, filtered by département and
// by a search that ignores case and accents; a suspended label leaves it;
// nothing found is said.
func TestDirectory(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		anon := &browser{e: e}
		page := func(query string) string {
			t.Helper()
			r := anon.send(t, "GET", "/lieux"+query, nil, nil)
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("/lieux%s: %d %v", query, r.status, r.header)
			}
			return string(r.body)
		}
		all := page("")
		if !strings.Contains(all, "2 lieux") || !strings.Contains(all, "Médiathèque de Trappes") || !strings.Contains(all, "France Services") ||
			strings.Contains(all, "<script") {
			t.Fatalf("all venues:\n%s", all)
		}
		if p := page("?departement=92"); !strings.Contains(p, "1 lieu<") || strings.Contains(p, "Médiathèque") || !strings.Contains(p, "de Hauts-de-Seine (92)") {
			t.Errorf("the 92's venues:\n%s", p)
		}
		if p := page("?q=MEDIATHEQUE"); !strings.Contains(p, "1 lieu<") || !strings.Contains(p, "Médiathèque de Trappes") {
			t.Errorf("a search without accents:\n%s", p)
		}
		if p := page("?q=Lyon&departement=zz"); !strings.Contains(p, "0 lieu<") || !strings.Contains(p, "Aucun lieu ne correspond") {
			t.Errorf("nothing found:\n%s", p)
		}
		e.do(t, request{method: "POST", path: "/api/v1/venues/" + itoa(e.venue1) + "/suspension", as: "department",
			json: map[string]string{"reason": "enquête en cours"}}).expect(t, http.StatusOK, "")
		if p := page(""); strings.Contains(p, "Médiathèque de Trappes") || !strings.Contains(p, "1 lieu<") {
			t.Errorf("a suspended venue is listed:\n%s", p)
		}
	})
}
