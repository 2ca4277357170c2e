package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme/programmetest"
	"passnum/sepa"
	"passnum/settlement"
	"passnum/voucher"
)

type periodJSON struct {
	Department string
	Month      string
	Closed     bool
	ClosedBy   string `json:"closed_by"`
	// ClosableFrom: when an open month may be closed.
	ClosableFrom *time.Time `json:"closable_from"`
	GrossCents   int64      `json:"gross_cents"`
	NetCents     int64      `json:"net_cents"`
	Statements   []struct {
		VenueID     int64 `json:"venue_id"`
		Reference   string
		Redemptions int
		GrossCents  int64 `json:"gross_cents"`
		NetCents    int64 `json:"net_cents"`
		IBAN        string
		Lines       []struct {
			Kind        string
			AmountCents int64 `json:"amount_cents"`
		}
	}
}

type venueStatementsJSON struct {
	Month      string
	VenueID    int64 `json:"venue_id"`
	NetCents   int64 `json:"net_cents"`
	Statements []struct {
		Department string
		Closed     bool
		Reference  string
		NetCents   int64 `json:"net_cents"`
		Lines      []struct {
			Kind        string
			Number      string
			Label       string
			AmountCents int64 `json:"amount_cents"`
		}
	}
}

// TestSettlement follows November 2026 of the département 78 over HTTP:
// what venue 1 sees it will be paid, the closing (not before the month is
// over, once, and with reversals refused after it), the files (CSV, PDF,
// SEPA, the same as the settlement package writes) and adjustments.
func TestSettlement(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		e.redeem(t, "venue1", e.code(0), e.code(1)).expect(t, http.StatusCreated, "")
		e.redeem(t, "venue2", e.code(2)).expect(t, http.StatusCreated, "")
		r := e.redeem(t, "venue1", e.code(3))
		var mistaken resultJSON
		r.decode(t, &mistaken)
		e.do(t, request{method: "POST", path: "/api/v1/redemptions/" + itoa(mistaken.RedemptionID) + "/reversal", as: "venue1",
			json: map[string]string{"reason": "mauvaise séance"}}).expect(t, http.StatusOK, "")

		// What venue 1 will be reimbursed, as its scanner page shows it.
		var mine venueStatementsJSON
		e.do(t, request{method: "GET", path: "/api/v1/statements", as: "venue1"}).decode(t, &mine)
		if mine.Month != "2026-11" || mine.VenueID != e.venue1 || mine.NetCents != 2000 || len(mine.Statements) != 1 ||
			mine.Statements[0].Department != "78" || mine.Statements[0].Closed || len(mine.Statements[0].Lines) != 4 ||
			mine.Statements[0].Reference != settlement.Reference("78", settlement.Month{Year: 2026, Month: time.November}, e.venue1) {
			t.Fatalf("%+v", mine)
		}
		e.do(t, request{method: "GET", path: "/api/v1/statements?month=2026-10", as: "venue1"}).decode(t, &mine)
		if mine.Month != "2026-10" || mine.NetCents != 0 || len(mine.Statements) != 0 {
			t.Fatalf("%+v", mine)
		}
		e.do(t, request{method: "GET", path: "/api/v1/statements?month=novembre", as: "venue1", offContract: true}).expect(t, 400, "invalid")

		// A basket sent just before midnight (Paris) on the 30th.
		e.Clock.T = time.Date(2026, 11, 30, 22, 50, 0, 0, time.UTC)
		r = e.redeem(t, "venue1", e.code(4))
		var late resultJSON
		r.decode(t, &late)

		// The month can be closed from 00:15 on the 1st.
		e.Clock.T = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
		closeNov := request{method: "POST", path: "/api/v1/settlement/78/2026-11/close", as: "department"}
		er := e.do(t, closeNov).expect(t, http.StatusConflict, "period_not_over")
		if er.Error.Message != "Le mois 2026-11 ne peut être clos qu'à partir du 01/12/2026 à 00:15 (heure de Paris), quand tous ses encaissements sont enregistrés." {
			t.Fatal(er.Error.Message)
		}
		var p periodJSON
		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11", as: "auditor"}).decode(t, &p)
		if p.Closed || p.GrossCents != 5000 || p.NetCents != 4000 || len(p.Statements) != 2 || p.Statements[0].Lines != nil {
			t.Fatalf("%+v", p)
		}
		if want := time.Date(2026, 11, 30, 23, 15, 0, 0, time.UTC); p.ClosableFrom == nil || !p.ClosableFrom.Equal(want) {
			t.Errorf("the open month may be closed from %v, want %v (as its refusal says)", p.ClosableFrom, want)
		}
		for _, path := range []string{"/api/v1/settlement/78/2026-11/sepa.xml", "/api/v1/settlement/78/2026-11/statements/" + itoa(e.venue1) + ".pdf"} {
			e.do(t, request{method: "GET", path: path, as: "admin"}).expect(t, http.StatusConflict, "period_not_over")
		}

		e.Clock.T = time.Date(2026, 11, 30, 23, 16, 0, 0, time.UTC)
		r = e.do(t, closeNov)
		r.expect(t, http.StatusOK, "")
		p = periodJSON{}
		r.decode(t, &p)
		if !p.Closed || p.ClosedBy != e.actor("department") || p.NetCents != 4000 || p.Statements[0].IBAN != programmetest.IBAN || p.ClosableFrom != nil {
			t.Fatalf("%+v", p)
		}
		e.do(t, closeNov).expect(t, http.StatusConflict, "period_closed")
		// The late basket is within the venue's reversal window, but its month is paid.
		e.do(t, request{method: "POST", path: "/api/v1/redemptions/" + itoa(late.RedemptionID) + "/reversal", as: "venue1",
			json: map[string]string{"reason": "erreur"}}).expect(t, http.StatusConflict, "period_settled")

		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11?lines=true", as: "department"}).decode(t, &p)
		if len(p.Statements[0].Lines) != 5 || p.Statements[0].Lines[2].Kind != "reversal" && p.Statements[0].Lines[3].Kind != "reversal" {
			t.Fatalf("%+v", p.Statements[0])
		}
		var periods struct {
			Periods []struct {
				Department, Month string
				Venues            int
				NetCents          int64 `json:"net_cents"`
				ClosedBy          string
			}
		}
		e.do(t, request{method: "GET", path: "/api/v1/settlement/periods?department=78", as: "auditor"}).decode(t, &periods)
		if len(periods.Periods) != 1 || periods.Periods[0].Month != "2026-11" || periods.Periods[0].Venues != 2 || periods.Periods[0].NetCents != 4000 {
			t.Fatalf("%+v", periods)
		}

		// The files are the settlement package's.
		period, err := e.settle.Period(ctx, "78", settlement.Month{Year: 2026, Month: time.November})
		if err != nil {
			t.Fatal(err)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements.csv", as: "auditor"})
		r.expect(t, http.StatusOK, "")
		var want bytes.Buffer
		if err := settlement.WriteCSV(&want, period); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil || len(rows) != 1+5+1 || rows[0][0] != "department" || rows[1][2] != "closed" || !bytes.Equal(r.body, want.Bytes()) {
			t.Fatalf("CSV %v: %q", err, r.body)
		}
		if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
			cd != `attachment; filename="settlement-78-2026-11-statements.csv"` {
			t.Fatalf("%s %s", ct, cd)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + itoa(e.venue1) + ".pdf", as: "venue1"})
		r.expect(t, http.StatusOK, "")
		want.Reset()
		if err := settlement.WriteStatementPDF(&want, period, e.venue1); err != nil {
			t.Fatal(err)
		}
		if r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) || !bytes.Equal(r.body, want.Bytes()) {
			t.Fatalf("statement: %s, %d bytes, want %d", r.header.Get("Content-Type"), len(r.body), want.Len())
		}
		// The same statement's lines as CSV, for the venue's spreadsheet:
		// the period's rows of that venue only.
		r = e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + itoa(e.venue1) + ".csv", as: "venue1"})
		r.expect(t, http.StatusOK, "")
		rows, err = csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil || len(rows) < 2 || rows[0][3] != "venue_id" {
			t.Fatalf("the venue's CSV: %v %q", err, r.body)
		}
		for _, row := range rows[1:] {
			if row[3] != itoa(e.venue1) || row[2] != "closed" {
				t.Errorf("a row of the venue's CSV: %v", row)
			}
		}
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="settlement-78-2026-11-venue-`+itoa(e.venue1)+`.csv"` {
			t.Errorf("CSV file name %s", cd)
		}
		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + itoa(e.venue1) + ".csv", as: "venue2"}).
			expect(t, http.StatusNotFound, "not_found")
		for _, file := range []string{"999.pdf", "abc.pdf", itoa(e.venue1), "0.pdf", itoa(e.venue1) + ".txt"} {
			e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + file, as: "admin", offContract: true}).
				expect(t, http.StatusNotFound, "not_found")
		}

		sepaPath := "/api/v1/settlement/78/2026-11/sepa.xml"
		er = e.do(t, request{method: "GET", path: sepaPath, as: "department"}).expect(t, http.StatusConflict, "payer_missing")
		if !strings.HasPrefix(er.Error.Hint, "PATCH /api/v1/departments/{code}") {
			t.Fatalf("hint %q", er.Error.Hint)
		}
		e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: map[string]string{
			"payer_name": "Paierie départementale des Yvelines", "payer_iban": programmetest.IBAN}}).expect(t, http.StatusAccepted, "")
		e.do(t, request{method: "POST", path: "/api/v1/departments/78/settings/confirmation", as: "admin"}).expect(t, http.StatusOK, "")
		if period, err = e.settle.Period(ctx, "78", settlement.Month{Year: 2026, Month: time.November}); err != nil {
			t.Fatal(err)
		}
		for q, day := range map[string]voucher.Day{"": 0, "?execution=2026-12-10": mustDay(t, "2026-12-10")} {
			r = e.do(t, request{method: "GET", path: sepaPath + q, as: "department"})
			r.expect(t, http.StatusOK, "")
			pay, err := e.settle.Payment(period, day)
			if err != nil {
				t.Fatal(err)
			}
			want.Reset()
			if err := sepa.Write(&want, pay); err != nil {
				t.Fatal(err)
			}
			if r.header.Get("Content-Type") != "application/xml" || !bytes.Equal(r.body, want.Bytes()) {
				t.Fatalf("%s: the SEPA file differs from settlement.Payment + sepa.Write:\n%s", q, r.body)
			}
			got, sum, err := sepa.Read(bytes.NewReader(r.body))
			if err != nil || sum.Transactions != 2 || sum.TotalCents != 4000 || got.Debtor.IBAN != programmetest.IBAN {
				t.Fatalf("%+v %+v %v", got, sum, err)
			}
		}
		e.do(t, request{method: "GET", path: sepaPath + "?execution=2026-11-30", as: "department"}).expect(t, http.StatusBadRequest, "invalid")
		e.do(t, request{method: "GET", path: sepaPath + "?execution=demain", as: "department", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-10/sepa.xml", as: "department"}).expect(t, http.StatusConflict, "period_not_over")

		// Adjustments count in the open month.
		adjust := func(as string, body map[string]any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/settlement/adjustments", as: as, json: body, offContract: true})
		}
		r = adjust("department", map[string]any{"department": "78", "venue_id": e.venue1, "amount_cents": -500, "reason": "chèque payé deux fois",
			"redemption_id": late.RedemptionID})
		r.expect(t, http.StatusCreated, "")
		var a struct {
			ID           int64
			Month        string
			AmountCents  int64 `json:"amount_cents"`
			RedemptionID int64 `json:"redemption_id"`
			CreatedBy    string
		}
		r.decode(t, &a)
		if a.Month != "2026-12" || a.AmountCents != -500 || a.RedemptionID != late.RedemptionID || r.header.Get("Location") != "/api/v1/settlement/78/2026-12" {
			t.Fatalf("%+v", a)
		}
		e.do(t, request{method: "GET", path: "/api/v1/statements?month=2026-12", as: "venue1"}).decode(t, &mine)
		if mine.NetCents != -500 || len(mine.Statements) != 1 || mine.Statements[0].Lines[0].Kind != "adjustment" || mine.Statements[0].Lines[0].Label != "chèque payé deux fois" {
			t.Fatalf("%+v", mine)
		}
		v92, err := e.prog.AddVenue(ctx, programmetest.Venue(92, "Lieu de 92", "92"), "test")
		if err != nil {
			t.Fatal(err)
		}
		adjustments := e.count(t, &ledger.SettlementAdjustment{})
		for name, c := range map[string]struct {
			as     string
			body   map[string]any
			status int
			code   string
			text   string
		}{
			"Zero":           {"department", map[string]any{"department": "78", "venue_id": e.venue1, "amount_cents": 0, "reason": "x"}, 400, "invalid", "non nul"},
			"Huge":           {"department", map[string]any{"department": "78", "venue_id": e.venue1, "amount_cents": 100_000_01, "reason": "x"}, 400, "invalid", "100 000"},
			"NoReason":       {"department", map[string]any{"department": "78", "venue_id": e.venue1, "amount_cents": 100}, 400, "invalid", "Le motif fait de 1 à 200 caractères"},
			"Euros":          {"department", map[string]any{"department": "78", "venue_id": e.venue1, "amount_cents": 1.5, "reason": "x"}, 400, "invalid_json", "« amount_cents »"},
			"OtherVenue":     {"department", map[string]any{"department": "78", "venue_id": v92.ID, "amount_cents": 100, "reason": "x"}, 404, "not_found", "n'existe pas ou n'est pas labellisé pour le département 78"},
			"NotItsVenue":    {"admin", map[string]any{"department": "78", "venue_id": v92.ID, "amount_cents": 100, "reason": "x"}, 400, "invalid", "pas labellisé"},
			"UnknownVenue":   {"admin", map[string]any{"department": "78", "venue_id": 999, "amount_cents": 100, "reason": "x"}, 404, "not_found", "999"},
			"OthersBasket":   {"admin", map[string]any{"department": "78", "venue_id": e.venue2, "amount_cents": 100, "reason": "x", "redemption_id": late.RedemptionID}, 404, "not_found", "encaissement"},
			"OtherDept":      {"department", map[string]any{"department": "92", "venue_id": e.venue2, "amount_cents": 100, "reason": "x"}, 403, "forbidden", "92"},
			"NoDepartment":   {"admin", map[string]any{"venue_id": e.venue1, "amount_cents": 100, "reason": "x"}, 400, "invalid", "département"},
			"VenueAsString":  {"admin", map[string]any{"department": "78", "venue_id": "1", "amount_cents": 100, "reason": "x"}, 400, "invalid_json", "« venue_id »"},
			"NegativeBasket": {"admin", map[string]any{"department": "78", "venue_id": e.venue1, "amount_cents": 100, "reason": "x", "redemption_id": -1}, 404, "not_found", "encaissement -1"},
			"NoVenue":        {"admin", map[string]any{"department": "78", "amount_cents": 100, "reason": "x"}, 404, "not_found", "Le lieu 0"},
		} {
			t.Run("Adjust"+name, func(t *testing.T) {
				er := adjust(c.as, c.body).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
			})
		}
		if e.count(t, &ledger.SettlementAdjustment{}) != adjustments {
			t.Fatal("a refused adjustment was recorded")
		}

		// January cannot close while December, with activity, is open.
		e.Clock.T = time.Date(2027, 2, 2, 9, 0, 0, 0, time.UTC)
		e.do(t, request{method: "POST", path: "/api/v1/settlement/78/2027-01/close", as: "admin"}).expect(t, http.StatusConflict, "period_order")
		e.do(t, request{method: "POST", path: "/api/v1/settlement/78/2026-12/close", as: "admin"}).expect(t, http.StatusOK, "")
		e.do(t, request{method: "POST", path: "/api/v1/settlement/78/2027-01/close", as: "admin"}).expect(t, http.StatusOK, "")
		for _, m := range []string{"2026-13", "26-11", "2026-1"} {
			e.do(t, request{method: "GET", path: "/api/v1/settlement/78/" + m, as: "admin", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
		}
		e.do(t, request{method: "GET", path: "/api/v1/settlement/75/2026-11", as: "admin"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11?lines=oui", as: "admin", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
	})
}

func mustDay(t *testing.T, s string) voucher.Day {
	d, err := voucher.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBadMonths: a month outside what the programme can hold is refused with
// a French message, on every route that takes one, and writes nothing; it
// is never read as another month (0000-01 used to close 1970-01).
func TestBadMonths(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		e.Clock.T = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		events := func() (n int64) {
			if err := db.Read(context.Background()).Model(&ledger.Event{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := events()
		for _, m := range []string{"0000-01", "1969-12", "2150-01", "9999-12", "2026-13", "2026-00"} {
			for _, r := range []request{
				{method: "GET", path: "/api/v1/settlement/78/" + m, as: "department"},
				{method: "POST", path: "/api/v1/settlement/78/" + m + "/close", as: "department"},
				{method: "GET", path: "/api/v1/settlement/78/" + m + "/statements.csv", as: "department"},
				{method: "GET", path: "/api/v1/statements?month=" + m, as: "venue1"},
			} {
				er := e.do(t, r).expect(t, http.StatusBadRequest, "invalid")
				if !strings.Contains(er.Error.Message, "AAAA-MM") || !strings.Contains(er.Error.Message, m) {
					t.Errorf("%s %s: %q", r.method, r.path, er.Error.Message)
				}
			}
		}
		if after := events(); after != before {
			t.Fatalf("refused months wrote %d ledger events", after-before)
		}
	})
}

// PATCH /api/v1/departments/{code} sets the contact phone printed on the
// covers and statements; a wrong number is refused in French and changes
// nothing.
func TestDepartmentContactPhone(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		var d struct {
			ContactPhone string `json:"contact_phone"`
		}
		r := e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: map[string]string{"contact_phone": "+33 1 39 07 78 78"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &d)
		if d.ContactPhone != "01 39 07 78 78" {
			t.Fatalf("contact phone %q", d.ContactPhone)
		}
		er := e.do(t, request{method: "PATCH", path: "/api/v1/departments/78", as: "department", json: map[string]string{"contact_phone": "01 39"}}).
			expect(t, http.StatusBadRequest, "invalid")
		if !strings.Contains(er.Error.Message, "n’est pas un numéro de téléphone") {
			t.Errorf("message %q", er.Error.Message)
		}
		var list struct {
			Departments []struct {
				Code         string `json:"code"`
				ContactPhone string `json:"contact_phone"`
			} `json:"departments"`
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/departments", as: "department"})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Departments) != 1 || list.Departments[0].ContactPhone != "01 39 07 78 78" {
			t.Errorf("after a refused number: %+v", list.Departments)
		}
	})
}
