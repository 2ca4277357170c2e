package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"passnum"
	"passnum/figures"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestReport runs 'passnum report' on the demo programme and on a session
// on each dialect, and checks that the table, the CSV and the JSON agree.
func TestReport(t *testing.T) {
	t.Run("Demo", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "demo")
		mustRun(t, nil, "demo", "--dir", dir)
		env := []string{"PASSNUM_DATA_DIR=" + dir}
		f := reportAgrees(t, env)
		if len(f.Departments) != 2 || len(f.Batches) == 0 || f.Total.VouchersIssued == 0 || !f.Total.InvariantHolds {
			t.Fatalf("demo figures: %+v", f)
		}

		pdf := filepath.Join(t.TempDir(), "rapport-78.pdf")
		r := run(t, env, "report", "--department", "78", "--format", "json", "--pdf", pdf)
		if r.code != 0 || !strings.Contains(r.stderr, "wrote the report to "+pdf) {
			t.Fatalf("--pdf: exit %d\n%s", r.code, r.stderr)
		}
		if data, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
			t.Fatalf("the PDF: %v", err)
		}
		var only figures.Figures
		if err := json.Unmarshal([]byte(r.stdout), &only); err != nil {
			t.Fatal(err)
		}
		if only.Department != "78" || len(only.Departments) != 1 || only.Total != only.Departments[0].Counts {
			t.Fatalf("département 78: %+v", only)
		}
		for _, b := range only.Batches {
			if b.Department != "78" {
				t.Fatalf("the figures of 78 show batch %d of %s", b.ID, b.Department)
			}
		}
	})
	t.Run("Errors", func(t *testing.T) {
		env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
		mustRun(t, env, "init")
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"report", "--format", "xml"}, "choose table, csv or json"},
			{[]string{"report", "--department", "93"}, "Le département 93 n'existe pas dans le programme."},
			{[]string{"report", "--as-of", "31/12/2027"}, "write it as YYYY-MM-DD"},
		} {
			r := run(t, env, c.args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%v: exit %d, stderr %q", c.args, r.code, r.stderr)
			}
		}
	})
	for _, d := range []ledger.Dialect{ledger.SQLite, ledger.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + ledgertest.URL(t, d)}
			mustRun(t, env, "init")
			mustRun(t, env, "department", "add", "78", "Yvelines")
			mustRun(t, env, "department", "add", "92", "Hauts-de-Seine")
			out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "5", "--vouchers", "2", "--valid-until", nextYearEnd())
			mustRun(t, env, "issue", "--department", "92", "--chequiers", "3", "--vouchers", "4", "--value", "15", "--no-activation", "--valid-until", nextYearEnd())
			first := firstChequier(t, out)
			mustRun(t, env, "activate", first)
			mustRun(t, env, "void", strings.Replace(first, "000001", "000002", 1), "--reason", "perdu")
			f := reportAgrees(t, env)
			// 78: 10 vouchers of 10 €, 2 voided with chéquier 2; 92: 12 of
			// 15 €, its 3 chéquiers without activation, whose hand-over is
			// not recorded: none counted handed out.
			if f.Departments[0].VouchersIssued != 10 || f.Departments[0].VouchersVoided != 2 || f.Departments[0].ChequiersHandedOut != 1 ||
				f.Departments[1].IssuedCents != 18000 || f.Departments[1].ChequiersHandedOut != 0 || f.Departments[1].ChequiersUntracked != 3 || f.Total.OutstandingCents != 8*1000+18000 || !f.Total.InvariantHolds {
				t.Fatalf("figures %+v", f)
			}
			// Two years on, everything unused has expired.
			later := mustRun(t, env, "report", "--as-of", strconv.Itoa(nextYear()+1)+"-01-01", "--format", "json")
			var g figures.Figures
			if err := json.Unmarshal([]byte(later), &g); err != nil {
				t.Fatal(err)
			}
			if g.Total.VouchersOutstanding != 0 || g.Total.ExpiredCents != f.Total.OutstandingCents || !g.Total.InvariantHolds {
				t.Fatalf("after expiry: %+v", g.Total)
			}
		})
	}
}

func nextYear() int {
	y, _ := strconv.Atoi(nextYearEnd()[:4])
	return y
}

var columns = regexp.MustCompile(`\s{2,}`)

// reportAgrees runs the report as a table, CSV and JSON, checks that they
// say the same, and returns the JSON's figures.
func reportAgrees(t *testing.T, env []string) figures.Figures {
	t.Helper()
	var f figures.Figures
	if err := json.Unmarshal([]byte(mustRun(t, env, "report", "--format", "json")), &f); err != nil {
		t.Fatal(err)
	}
	table := mustRun(t, env, "report")
	if !strings.HasPrefix(table, "Figures as of "+f.AsOf+" ") {
		t.Fatalf("table:\n%s", table)
	}
	sections := map[string][][]string{}
	var current string
	for _, line := range strings.Split(table, "\n") {
		switch {
		case strings.HasPrefix(line, "== "):
			current = strings.Fields(line)[1]
		case current != "" && line != "":
			sections[current] = append(sections[current], columns.Split(strings.TrimSpace(line), -1))
		}
	}

	// Départements: one line per figure, one column per département, then the total.
	deps := sections["Départements"]
	cols := make([]figures.Counts, 0, len(f.Departments)+1)
	for i, d := range f.Departments {
		if deps[0][i+1] != d.Code+" "+d.Name {
			t.Fatalf("column %d is %q, want %s %s", i+1, deps[0][i+1], d.Code, d.Name)
		}
		cols = append(cols, d.Counts)
	}
	if len(f.Departments) > 1 {
		cols = append(cols, f.Total)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	eur := passnum.FormatEuros
	want := map[string]func(c figures.Counts) string{
		"chéquiers printed":                   func(c figures.Counts) string { return n(c.ChequiersPrinted) },
		"chéquiers handed out":                func(c figures.Counts) string { return n(c.ChequiersHandedOut) },
		"chéquiers not handed out":            func(c figures.Counts) string { return n(c.ChequiersNotHandedOut) },
		"chéquiers untracked (no activation)": func(c figures.Counts) string { return n(c.ChequiersUntracked) },
		"chéquiers started":                   func(c figures.Counts) string { return n(c.ChequiersStarted) },
		"vouchers issued":                     func(c figures.Counts) string { return n(c.VouchersIssued) },
		"vouchers redeemed":                   func(c figures.Counts) string { return n(c.VouchersRedeemed) },
		"vouchers voided":                     func(c figures.Counts) string { return n(c.VouchersVoided) },
		"vouchers expired":                    func(c figures.Counts) string { return n(c.VouchersExpired) },
		"vouchers outstanding":                func(c figures.Counts) string { return n(c.VouchersOutstanding) },
		"vouchers redeemed late":              func(c figures.Counts) string { return n(c.LateVouchers) },
		"EUR issued":                          func(c figures.Counts) string { return eur(c.IssuedCents) },
		"EUR redeemed":                        func(c figures.Counts) string { return eur(c.RedeemedCents) },
		"EUR voided":                          func(c figures.Counts) string { return eur(c.VoidedCents) },
		"EUR expired":                         func(c figures.Counts) string { return eur(c.ExpiredCents) },
		"EUR outstanding":                     func(c figures.Counts) string { return eur(c.OutstandingCents) },
		"EUR redeemed late":                   func(c figures.Counts) string { return eur(c.LateCents) },
		"EUR unused, due back":                func(c figures.Counts) string { return eur(c.UnusedCents) },
		"check": func(c figures.Counts) string {
			return map[bool]string{true: "OK", false: "DISCREPANCY"}[c.InvariantHolds]
		},
	}
	seen := 0
	for _, row := range deps[1:] {
		get, ok := want[row[0]]
		if !ok {
			continue
		}
		seen++
		if len(row) != len(cols)+1 {
			t.Fatalf("line %q has %d columns, want %d", row[0], len(row)-1, len(cols))
		}
		for i, c := range cols {
			if row[i+1] != get(c) {
				t.Errorf("%s, column %d: table %s, JSON %s", row[0], i+1, row[i+1], get(c))
			}
		}
	}
	if seen != len(want) {
		t.Fatalf("the départements table shows %d of the %d figures:\n%s", seen, len(want), table)
	}

	// Batches: BATCH DÉP VALUE STAGE PRINTED HANDED-OUT STARTED ISSUED REDEEMED VOIDED EXPIRED OUTSTANDING UNUSED RATE CHECK.
	batches := sections["Batches"][1:]
	if len(batches) != len(f.Batches) {
		t.Fatalf("%d batch lines, %d batches in the JSON", len(batches), len(f.Batches))
	}
	for i, b := range f.Batches {
		wantRow := []string{n(b.ID), b.Department, eur(b.FaceValueCents), string(b.Stage), n(b.ChequiersPrinted), n(b.ChequiersHandedOut),
			n(b.ChequiersStarted), n(b.VouchersIssued), n(b.VouchersRedeemed), n(b.VouchersVoided), n(b.VouchersExpired),
			n(b.VouchersOutstanding), eur(b.UnusedCents)}
		if got := batches[i][:len(wantRow)]; strings.Join(got, "|") != strings.Join(wantRow, "|") {
			t.Errorf("batch line %d: table %q, JSON %q", i+1, got, wantRow)
		}
	}

	// Venues and months, when there are any.
	if len(f.Venues) > 0 {
		for i, v := range f.Venues {
			row := sections["Venues"][i+1]
			if row[0] != n(v.ID) || row[1] != n(v.Redemptions) || row[2] != n(v.Vouchers) || row[3] != eur(v.Cents) ||
				row[4] != n(v.LateRedemptions) || row[5] != eur(v.LateCents) || row[6] != v.Name {
				t.Errorf("venue line %q, JSON %+v", row, v)
			}
		}
	}
	for i, m := range f.Months {
		row := sections["Months"][i+1]
		if strings.Join(row, "|") != strings.Join([]string{m.Month, n(m.Redemptions), n(m.Vouchers), eur(m.Cents),
			n(m.LateRedemptions), eur(m.LateCents), n(m.Activations)}, "|") {
			t.Errorf("month line %q, JSON %+v", row, m)
		}
	}

	// Structures: the funnel, the JSON's.
	for i, st := range f.Structures {
		row := sections["Structures"][i+1]
		if strings.Join(row, "|") != strings.Join([]string{n(st.ID), st.Department, n(st.Received), n(st.InStock), n(st.HandedOver),
			n(st.Started), n(st.Finished), n(st.ExpiredUnused), n(st.Voided), n(st.Untracked), st.Commune, st.Name}, "|") {
			t.Errorf("structure line %q, JSON %+v", row, st)
		}
	}

	// CSV: one row per département and per batch, the same figures, then
	// the funnel's.
	rows, err := csv.NewReader(strings.NewReader(mustRun(t, env, "report", "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(f.Departments)+len(f.Batches)+len(f.Structures)+len(f.Communes)+len(f.FunnelMonths) || rows[0][0] != "level" {
		t.Fatalf("CSV has %d rows for %d départements, %d batches, %d structures, %d communes and %d months",
			len(rows), len(f.Departments), len(f.Batches), len(f.Structures), len(f.Communes), len(f.FunnelMonths))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for i, d := range f.Departments {
		r := rows[1+i]
		if r[col["level"]] != "department" || r[col["department"]] != d.Code || r[col["issued_cents"]] != n(d.IssuedCents) ||
			r[col["unused_eur"]] != eur(d.UnusedCents) || r[col["vouchers_outstanding"]] != n(d.VouchersOutstanding) {
			t.Errorf("CSV row %q, JSON %+v", r, d)
		}
	}
	for i, b := range f.Batches {
		r := rows[1+len(f.Departments)+i]
		if r[col["level"]] != "batch" || r[col["batch"]] != n(b.ID) || r[col["redeemed_cents"]] != n(b.RedeemedCents) ||
			r[col["invariant_holds"]] != strconv.FormatBool(b.InvariantHolds) {
			t.Errorf("CSV row %q, JSON %+v", r, b)
		}
	}
	for i, st := range f.Structures {
		r := rows[1+len(f.Departments)+len(f.Batches)+i]
		if r[col["level"]] != "structure" || r[col["structure_id"]] != n(st.ID) || r[col["funnel_received"]] != n(st.Received) ||
			r[col["funnel_handed_over"]] != n(st.HandedOver) {
			t.Errorf("CSV row %q, JSON %+v", r, st)
		}
	}
	return f
}
