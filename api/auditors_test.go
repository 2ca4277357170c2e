package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"passnum/audit"
	"passnum/figures"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/printing"
	"passnum/signals"
	"passnum/voucher"
)

// TestLedgerExport: an auditor downloads the sealed ledger and verifies it
// with the public keys the API serves, without the database.
func TestLedgerExport(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 3)
		for i := range 20 {
			e.redeem(t, "venue1", e.code(i)).expect(t, http.StatusCreated, "")
		}
		e.do(t, request{method: "POST", path: "/api/v1/chequiers/" + chequier78(5) + "/void", as: "department", json: map[string]string{"reason": "perdu"}}).
			expect(t, http.StatusOK, "")
		e.Seal(t)
		// Written after the seal: not in the export, which says so.
		e.redeem(t, "venue1", e.code(25)).expect(t, http.StatusCreated, "")

		r := e.do(t, request{method: "GET", path: "/api/v1/ledger/export", as: "auditor"})
		r.expect(t, http.StatusOK, "")
		if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="passnum-ledger-2026-11-26.jsonl"` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		// Streamed: the length is not known before the end.
		if cl := r.header.Get("Content-Length"); cl != "" {
			t.Fatalf("Content-Length %s: the export was buffered", cl)
		}
		ks := voucher.NewKeySet()
		if err := json.Unmarshal(e.do(t, request{method: "GET", path: "/api/v1/keys"}).body, ks); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.VerifyExport(bytes.NewReader(r.body), ks)
		if err != nil {
			t.Fatalf("the export does not verify: %v", err)
		}
		var sealed int64
		if err := db.Read(context.Background()).Model(&ledger.Event{}).Where("seq IS NOT NULL").Count(&sealed).Error; err != nil {
			t.Fatal(err)
		}
		if rep.LastSeq != sealed || rep.KeysFromFile || rep.Unsealed != 1 {
			t.Fatalf("report %+v, %d sealed events", rep, sealed)
		}
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		sc.Buffer(nil, 1<<20)
		lines := 0
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("line %d is not JSON: %s", lines+1, sc.Bytes())
			}
			lines++
		}
		if int64(lines) < sealed+2 {
			t.Fatalf("%d lines for %d events", lines, sealed)
		}
	})
}

// TestFigures: the figures and the report PDF are those of the figures
// package, scoped to the caller's département.
func TestFigures(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 2)
		e.redeem(t, "venue1", e.code(0), e.code(1)).expect(t, http.StatusCreated, "")
		e.redeem(t, "venue2", e.code(10)).expect(t, http.StatusCreated, "")
		e.Issue(t, issuingtest.Request("92", 4, 5))

		var all figures.Figures
		r := e.do(t, request{method: "GET", path: "/api/v1/figures", as: "auditor"})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &all)
		if all.AsOf != "2026-11-26" || all.Department != "" || len(all.Departments) != 2 || len(all.Batches) != 2 ||
			all.Total.VouchersRedeemed != 3 || all.Total.RedeemedCents != 3000 || all.Total.VouchersIssued != 220 || !all.Total.InvariantHolds {
			t.Fatalf("%+v", all)
		}
		want, err := (&figures.Service{DB: db}).Compute(context.Background(), figures.Filter{AsOf: voucher.Today(e.Clock.T)})
		if err != nil {
			t.Fatal(err)
		}
		if wantJSON, _ := json.Marshal(want); !bytes.Equal(bytes.TrimSpace(r.body), wantJSON) {
			t.Fatalf("the API's figures differ from the package's:\n%s\n%s", r.body, wantJSON)
		}

		var own figures.Figures
		e.do(t, request{method: "GET", path: "/api/v1/figures?as_of=2028-01-01", as: "department92"}).decode(t, &own)
		if own.Department != "92" || len(own.Departments) != 1 || own.Total.VouchersExpired != 20 || own.Total.VouchersRedeemed != 0 || len(own.Venues) != 0 {
			t.Fatalf("%+v", own)
		}
		e.do(t, request{method: "GET", path: "/api/v1/figures?department=78", as: "department92"}).expect(t, http.StatusForbidden, "forbidden")
		e.do(t, request{method: "GET", path: "/api/v1/figures?department=75", as: "admin"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: "/api/v1/figures?as_of=hier", as: "admin", offContract: true}).expect(t, http.StatusBadRequest, "invalid")

		r = e.do(t, request{method: "GET", path: "/api/v1/reports/programme.pdf?department=78", as: "department"})
		r.expect(t, http.StatusOK, "")
		f78, err := (&figures.Service{DB: db}).Compute(context.Background(), figures.Filter{Department: "78", AsOf: voucher.Today(e.Clock.T)})
		if err != nil {
			t.Fatal(err)
		}
		rep := f78.Report(e.Clock.T)
		if rep.Signals, err = (&signals.Service{DB: db}).ForReport(context.Background(), "78", rep.AsOf); err != nil {
			t.Fatal(err)
		}
		var pdf bytes.Buffer
		if err := printing.RenderProgrammeReport(&pdf, rep); err != nil {
			t.Fatal(err)
		}
		if r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) || !bytes.Equal(r.body, pdf.Bytes()) ||
			r.header.Get("Content-Disposition") != `attachment; filename="programme-report-78-2026-11-26.pdf"` {
			t.Fatalf("report: %s %s, %d bytes, want %d", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), len(r.body), pdf.Len())
		}
		e.do(t, request{method: "GET", path: "/api/v1/reports/programme.pdf", as: "venue1"}).expect(t, http.StatusForbidden, "forbidden")

		// The CSV is the package's, with the funnel's rows.
		r = e.do(t, request{method: "GET", path: "/api/v1/figures.csv?department=78", as: "department"})
		r.expect(t, http.StatusOK, "")
		var csv bytes.Buffer
		if err := figures.WriteCSV(&csv, f78); err != nil {
			t.Fatal(err)
		}
		if r.header.Get("Content-Type") != "text/csv; charset=utf-8" || !bytes.Equal(r.body, csv.Bytes()) || !bytes.Contains(r.body, []byte("funnel_received")) ||
			r.header.Get("Content-Disposition") != `attachment; filename="figures-78-2026-11-26.csv"` {
			t.Fatalf("CSV: %s %s:\n%s", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), r.body)
		}
		e.do(t, request{method: "GET", path: "/api/v1/figures.csv?department=78", as: "department92"}).expect(t, http.StatusForbidden, "forbidden")
		e.do(t, request{method: "GET", path: "/api/v1/figures.csv", as: "venue1"}).expect(t, http.StatusForbidden, "forbidden")
	})
}
