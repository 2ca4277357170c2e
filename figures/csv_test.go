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
