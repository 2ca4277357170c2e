package figures_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"passnum/figures"
)

// The figures' CSV writes a département's name that starts like a formula
// as text (OWASP CSV injection), as the settlement CSV does.
func TestFiguresCSVCellsAreNotFormulas(t *testing.T) {
	hostile := []string{`=HYPERLINK("http://x","y")`, "@SUM(1)", "+1", "-1+2", "\tx", "\rx"}
	var f figures.Figures
	for _, h := range hostile {
		f.Departments = append(f.Departments, figures.DepartmentFigures{Code: "78", Name: h,
			Counts: figures.Counts{UnusedCents: -1200}})
	}
	var buf bytes.Buffer
	if err := figures.WriteCSV(&buf, f); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows[1:] {
		if r[4] != "'"+hostile[i] {
			t.Errorf("département name %q written as %q, want %q", hostile[i], r[4], "'"+hostile[i])
		}
		if r[26] != "-1200" || r[27] != "-12.00" {
			t.Errorf("a negative amount is written %q, %q: want the plain numbers -1200, -12.00", r[26], r[27])
		}
	}
}

// TestFiguresCSVFunnel: the funnel's rows follow the batches', one per
// structure, commune and month, every row as wide as the header, and a
// structure's name is text even when it starts like a formula.
func TestFiguresCSVFunnel(t *testing.T) {
	f := figures.Figures{AsOf: "2026-11-26", Department: "78",
		Departments: []figures.DepartmentFigures{{Code: "78", Name: "Yvelines"}},
		Structures: []figures.StructureFigures{{ID: 4, Department: "78", Name: "=CCAS", Commune: "Trappes",
			Funnel: figures.Funnel{Received: 5, InStock: 1, HandedOver: 3, Started: 2, Finished: 1, Voided: 1}}},
		Communes:     []figures.CommuneFigures{{Department: "78", Commune: "Trappes", Structures: 1, Funnel: figures.Funnel{Received: 5, HandedOver: 3}}},
		FunnelMonths: []figures.FunnelMonth{{Month: "2026-10", Funnel: figures.Funnel{Received: 5, ExpiredUnused: 1}}},
	}
	var buf bytes.Buffer
	if err := figures.WriteCSV(&buf, f); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll() // fails on a row of another width
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want the header, a département, a structure, a commune and a month", len(rows))
	}
	get := func(r int, name string) string { return rows[r][col[name]] }
	for _, c := range []struct {
		row        int
		name, want string
	}{
		{1, "level", "department"}, {1, "funnel_received", ""},
		{2, "level", "structure"}, {2, "name", "'=CCAS"}, {2, "structure_id", "4"}, {2, "commune", "Trappes"},
		{2, "funnel_received", "5"}, {2, "funnel_in_stock", "1"}, {2, "funnel_handed_over", "3"}, {2, "funnel_started", "2"},
		{2, "funnel_finished", "1"}, {2, "funnel_voided", "1"}, {2, "chequiers_printed", ""},
		{3, "level", "commune"}, {3, "funnel_structures", "1"}, {3, "funnel_handed_over", "3"},
		{4, "level", "funnel_month"}, {4, "month", "2026-10"}, {4, "department", "78"}, {4, "funnel_expired_unused", "1"},
	} {
		if got := get(c.row, c.name); got != c.want {
			t.Errorf("row %d, %s: %q, want %q", c.row, c.name, got, c.want)
		}
	}
}
