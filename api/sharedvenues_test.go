package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passnum/audit"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme/programmetest"
	"passnum/sepa"
	"passnum/voucher"
)

// otherIBAN is a second valid French IBAN: the account a venue moves to.
const otherIBAN = "FR1420041010050500013M02606"

type changeRequestJSON struct {
	ID         int64    `json:"id"`
	VenueID    int64    `json:"venue_id"`
	Department string   `json:"department"`
	Status     string   `json:"status"`
	Name       *string  `json:"name"`
	IBAN       *string  `json:"iban"`
	Awaiting   []string `json:"awaiting"`
	ApprovedBy []string `json:"approved_by"`
	Message    string   `json:"message"`
}

type venueWarningsJSON struct {
	VenueChangeRequests []changeRequestJSON `json:"venue_change_requests"`
	VenueNotices        []struct {
		VenueID    int64  `json:"venue_id"`
		Department string `json:"department"`
		Kind       string `json:"kind"`
		Message    string `json:"message"`
	} `json:"venue_notices"`
}

// handOver92 issues a batch of 92 and hands its first chéquier over: the
// vouchers a venue labelled for 92 redeems.
func handOver92(t *testing.T, e *env) []issuing.PrintedVoucher {
	t.Helper()
	ctx := context.Background()
	e.Issue(t, issuingtest.Request("92", 2, 4))
	number := voucher.FormatChequierNumber("92", 2026, 1)
	if _, err := e.Issuing.Activate(ctx, number, "", "test"); err != nil {
		t.Fatal(err)
	}
	pc, err := e.Issuing.Chequier(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	return pc.Vouchers
}

func codeOf(v issuing.PrintedVoucher) map[string]string { return map[string]string{"code": v.Code} }

// TestSharedVenueChangeNeedsApproval: venue 2 is labelled for 78 and 92. A
// new IBAN asked by 78 waits for 92, whose SEPA file meanwhile pays the
// account it knows; 92 sees the request in its warnings and approves it;
// 78 cannot approve its own. A venue of 78 alone, or an admin, changes at
// once.
func TestSharedVenueChangeNeedsApproval(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		v92 := handOver92(t, e)
		e.redeem(t, "venue2", codeOf(v92[0])).expect(t, http.StatusCreated, "")
		path := "/api/v1/venues/" + itoa(e.venue2)

		r := e.do(t, request{method: "PATCH", path: path, as: "department", json: map[string]string{"iban": otherIBAN, "reason": "nouveau RIB reçu le 12/10"}})
		r.expect(t, http.StatusAccepted, "")
		var cr changeRequestJSON
		r.decode(t, &cr)
		if cr.Status != "pending" || cr.Department != "78" || cr.IBAN == nil || *cr.IBAN != otherIBAN || len(cr.Awaiting) != 1 || cr.Awaiting[0] != "92" {
			t.Fatalf("%+v", cr)
		}
		var v venueJSON
		e.do(t, request{method: "GET", path: path, as: "admin"}).decode(t, &v)
		if v.IBAN != programmetest.IBAN {
			t.Fatalf("78 alone changed the IBAN of a venue 92 pays: %s", v.IBAN)
		}

		// 92 is told.
		var w venueWarningsJSON
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department92"}).decode(t, &w)
		if len(w.VenueChangeRequests) != 1 || w.VenueChangeRequests[0].ID != cr.ID || !strings.Contains(w.VenueChangeRequests[0].Message, "IBAN") {
			t.Fatalf("%+v", w)
		}
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department"}).decode(t, &w)
		if len(w.VenueChangeRequests) != 0 {
			t.Fatalf("78 is not the one to approve its own request: %+v", w)
		}

		// 92's November is paid to the account it knows, while the request waits.
		programmetest.PayingOffice(t, e.prog, "92", "Paierie départementale des Hauts-de-Seine", programmetest.IBAN)
		e.Clock.T = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		e.do(t, request{method: "POST", path: "/api/v1/settlement/92/2026-11/close", as: "department92"}).expect(t, http.StatusOK, "")
		r = e.do(t, request{method: "GET", path: "/api/v1/settlement/92/2026-11/sepa.xml", as: "department92"})
		r.expect(t, http.StatusOK, "")
		pay, _, err := sepa.Read(bytes.NewReader(r.body))
		if err != nil || len(pay.Transfers) != 1 || pay.Transfers[0].Creditor.IBAN != programmetest.IBAN {
			t.Fatalf("%v %+v", err, pay)
		}

		approval := "/api/v1/venue-change-requests/" + itoa(cr.ID) + "/approval"
		e.do(t, request{method: "POST", path: approval, as: "department", json: map[string]string{}}).expect(t, http.StatusForbidden, "forbidden")
		e.do(t, request{method: "POST", path: approval, as: "department92", json: map[string]string{}}).expect(t, http.StatusOK, "")
		e.do(t, request{method: "GET", path: path, as: "admin"}).decode(t, &v)
		if v.IBAN != otherIBAN {
			t.Fatalf("approved by 92, the IBAN is still %s", v.IBAN)
		}
		e.do(t, request{method: "POST", path: approval, as: "department92", json: map[string]string{}}).expect(t, http.StatusConflict, "change_decided")

		// 78 alone on venue 1: at once.
		r = e.do(t, request{method: "PATCH", path: "/api/v1/venues/" + itoa(e.venue1), as: "department", json: map[string]string{"name": "Médiathèque Anatole France", "reason": "changement de nom"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &v)
		if v.Name != "Médiathèque Anatole France" {
			t.Fatalf("%+v", v)
		}
		// An admin: at once, and 78 and 92 are told.
		r = e.do(t, request{method: "PATCH", path: path, as: "admin", json: map[string]string{"name": "France Services de Trappes", "reason": "statuts du 02/12"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &v)
		if v.Name != "France Services de Trappes" {
			t.Fatalf("%+v", v)
		}
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department92"}).decode(t, &w)
		if len(w.VenueNotices) == 0 {
			t.Fatalf("92 is not told of changes to a venue it pays: %+v", w)
		}

		// A request between 92 and 93 is none of 78's business: 404.
		ctx := context.Background()
		if _, err := e.prog.AddDepartment(ctx, "93", "Seine-Saint-Denis", "test"); err != nil {
			t.Fatal(err)
		}
		v9293, err := e.prog.AddVenue(ctx, programmetest.Venue(93, "Maison de l'emploi de Saint-Ouen", "92", "93"), "test")
		if err != nil {
			t.Fatal(err)
		}
		r = e.do(t, request{method: "PATCH", path: "/api/v1/venues/" + itoa(v9293.ID), as: "department92", json: map[string]string{"iban": otherIBAN, "reason": "RIB du 02/12"}})
		r.expect(t, http.StatusAccepted, "")
		r.decode(t, &cr)
		other := "/api/v1/venue-change-requests/" + itoa(cr.ID)
		e.do(t, request{method: "GET", path: other, as: "department"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "POST", path: other + "/approval", as: "department", json: map[string]string{}}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "POST", path: other + "/withdrawal", as: "department", json: map[string]string{}}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "POST", path: other + "/refusal", as: "department92", json: map[string]string{"reason": "x"}}).expect(t, http.StatusForbidden, "forbidden")
		e.do(t, request{method: "POST", path: other + "/withdrawal", as: "department92", json: map[string]string{"reason": "erreur"}}).expect(t, http.StatusOK, "")

		e.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit: %v", err)
		}
	})
}

// TestSuspensionIsPerDepartment: 78 suspends venue 2, labelled for 78 and
// 92; 78's vouchers are refused there, 92's still accepted, and 92 is told.
func TestSuspensionIsPerDepartment(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		v92 := handOver92(t, e)
		e.do(t, request{method: "POST", path: "/api/v1/venues/" + itoa(e.venue2) + "/suspension", as: "department",
			json: map[string]string{"reason": "enquête en cours"}}).expect(t, http.StatusOK, "")
		if got := e.check(t, "venue2", e.code(0)); got.Accepted || got.Reason != "venue_suspended" {
			t.Fatalf("78's voucher at a venue 78 suspended: %+v", got)
		}
		if got := e.check(t, "venue2", codeOf(v92[0])); !got.Accepted {
			t.Fatalf("92's voucher at a venue only 78 suspended: %+v", got)
		}
		e.redeem(t, "venue2", codeOf(v92[1])).expect(t, http.StatusCreated, "")
		e.redeem(t, "venue2", e.code(1)).expect(t, http.StatusUnprocessableEntity, "basket_rejected")
		var w venueWarningsJSON
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department92"}).decode(t, &w)
		if len(w.VenueNotices) != 1 || w.VenueNotices[0].Kind != "suspended" || w.VenueNotices[0].Department != "78" {
			t.Fatalf("%+v", w)
		}

		// 78's label lapses: 92's vouchers are still accepted.
		path := "/api/v1/venues/" + itoa(e.venue2)
		e.do(t, request{method: "POST", path: path + "/reinstatement", as: "department", json: map[string]string{"reason": "enquête close"}}).expect(t, http.StatusOK, "")
		r := e.do(t, request{method: "POST", path: path + "/label", as: "department", json: map[string]string{"until": voucher.Today(e.Clock.T).String(), "reason": "label d'un jour"}})
		r.expect(t, http.StatusOK, "")
		var v venueJSON
		r.decode(t, &v)
		if v.Status != "labelled" || v.LabelExpiresOn != voucher.Today(e.Clock.T).String() {
			t.Fatalf("78 sees its own label: %+v", v)
		}
		e.Clock.T = e.Clock.T.Add(48 * time.Hour)
		if got := e.check(t, "venue2", e.code(2)); got.Accepted || got.Reason != "venue_not_labelled" || !strings.Contains(got.Message, "département Yvelines (78)") {
			t.Fatalf("78's voucher after 78's label lapsed: %+v", got)
		}
		if got := e.check(t, "venue2", codeOf(v92[2])); !got.Accepted {
			t.Fatalf("92's voucher after 78's label lapsed: %+v", got)
		}
		// 92 cannot change 78's label.
		e.do(t, request{method: "POST", path: path + "/suspension", as: "department92", json: map[string]string{"department": "78", "reason": "x"}}).
			expect(t, http.StatusForbidden, "forbidden")
		e.Seal(t)
		ks, _ := db.KeySet(context.Background())
		if _, err := audit.Verify(context.Background(), db, ks); err != nil {
			t.Fatalf("audit: %v", err)
		}
	})
}

// TestVenueNameSEPACannotWrite: a name with no character the SEPA set can
// write is refused when entered, in French, for a venue and a payer.
func TestVenueNameSEPACannotWrite(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		name := "Цифровой клуб"
		body := map[string]any{"name": name, "siret": programmetest.SIRET(77), "iban": programmetest.IBAN, "departments": []string{"78"}}
		er := e.do(t, request{method: "POST", path: "/api/v1/venues", as: "department", json: body}).expect(t, http.StatusBadRequest, "invalid")
		if !strings.Contains(er.Error.Message, "virement SEPA") {
			t.Fatal(er.Error.Message)
		}
		for _, as := range []string{"department", "admin"} {
			er = e.do(t, request{method: "PATCH", path: "/api/v1/venues/" + itoa(e.venue2), as: as, json: map[string]string{"name": name, "reason": "x"}}).
				expect(t, http.StatusBadRequest, "invalid")
			if !strings.Contains(er.Error.Message, "virement SEPA") {
				t.Fatal(er.Error.Message)
			}
		}
		er = e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: map[string]string{"payer_name": "金库"}}).
			expect(t, http.StatusBadRequest, "invalid")
		if !strings.Contains(er.Error.Message, "virement SEPA") {
			t.Fatal(er.Error.Message)
		}
	})
}

// TestClosedMonthNeverChanges: November is closed for 78 with venue 2 in
// it; venue 2 then gets a new name and IBAN through the approval flow.
// November's CSV, PDF statement and SEPA file still show the old ones;
// December's show the new.
func TestClosedMonthNeverChanges(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		e.redeem(t, "venue2", e.code(0)).expect(t, http.StatusCreated, "")
		programmetest.PayingOffice(t, e.prog, "78", "Paierie départementale des Yvelines", programmetest.IBAN)
		e.Clock.T = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		e.do(t, request{method: "POST", path: "/api/v1/settlement/78/2026-11/close", as: "department"}).expect(t, http.StatusOK, "")

		r := e.do(t, request{method: "PATCH", path: "/api/v1/venues/" + itoa(e.venue2), as: "department",
			json: map[string]string{"name": "Espace numérique de Trappes", "iban": otherIBAN, "bic": "PSSTFRPP", "reason": "fusion du 01/12"}})
		r.expect(t, http.StatusAccepted, "")
		var cr changeRequestJSON
		r.decode(t, &cr)
		e.do(t, request{method: "POST", path: "/api/v1/venue-change-requests/" + itoa(cr.ID) + "/approval", as: "department92", json: map[string]string{}}).
			expect(t, http.StatusOK, "")

		files := func(month string) (csvText, pdfText string, pay sepa.Payment) {
			base := "/api/v1/settlement/78/" + month
			r := e.do(t, request{method: "GET", path: base + "/statements.csv", as: "department"})
			r.expect(t, http.StatusOK, "")
			rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("%v %q", err, r.body)
			}
			r = e.do(t, request{method: "GET", path: base + "/statements/" + itoa(e.venue2) + ".pdf", as: "department"})
			r.expect(t, http.StatusOK, "")
			r2 := e.do(t, request{method: "GET", path: base + "/sepa.xml", as: "department"})
			r2.expect(t, http.StatusOK, "")
			pay, _, err = sepa.Read(bytes.NewReader(r2.body))
			if err != nil || len(pay.Transfers) != 1 {
				t.Fatalf("%v %+v", err, pay)
			}
			return rows[1][4], pdftotext(t, r.body), pay
		}
		name, text, pay := files("2026-11")
		if name != "France Services" || !strings.Contains(text, "France Services") || strings.Contains(text, "Espace numérique") ||
			!strings.Contains(text, "***0 189") {
			t.Fatalf("November, closed, now reads %q and\n%s", name, text)
		}
		if c := pay.Transfers[0].Creditor; c.Name != "France Services" || c.IBAN != programmetest.IBAN || c.BIC != "" {
			t.Fatalf("November's transfer now goes to %+v", c)
		}

		e.redeem(t, "venue2", e.code(1)).expect(t, http.StatusCreated, "")
		e.Clock.T = time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)
		e.do(t, request{method: "POST", path: "/api/v1/settlement/78/2026-12/close", as: "department"}).expect(t, http.StatusOK, "")
		name, text, pay = files("2026-12")
		if name != "Espace numérique de Trappes" || !strings.Contains(text, "Espace numérique de Trappes") {
			t.Fatalf("December reads %q and\n%s", name, text)
		}
		if c := pay.Transfers[0].Creditor; c.Name != "Espace numerique de Trappes" || c.IBAN != otherIBAN || c.BIC != "PSSTFRPP" {
			t.Fatalf("December's transfer goes to %+v", c)
		}

		// The frozen venue is the one the events describe at closing.
		ctx := context.Background()
		e.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatalf("audit: %v", err)
		}
		db.Read(ctx).Exec(`UPDATE settlement_statements SET venue_name = 'Autre nom'`)
		if _, err := audit.Verify(ctx, db, ks); err == nil || !strings.Contains(err.Error(), "Autre nom") {
			t.Fatalf("audit passed a renamed closed statement: %v", err)
		}
	})
}

// pdftotext is the text of a PDF, as a reader would copy it.
func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatalf("pdftotext not found: install poppler-utils (apt-get install -y poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "statement.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}
