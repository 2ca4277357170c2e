package settlement_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"passnum/settlement"
)

// hostile are cells a spreadsheet would run as formulas (OWASP CSV
// injection): a venue name, a reference, an adjustment's reason.
var hostile = []string{`=HYPERLINK("http://x","y")`, "@SUM(1)", "+1", "-1+2", "\tx", "\rx"}

// TestCSVCellsAreNotFormulas writes a period whose every text column
// starts like a formula: each comes back prefixed with a single quote, so
// that a spreadsheet shows it as text, while negative amounts stay numbers.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	at := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	p := settlement.Period{Department: "78", Month: "2026-11"}
	for i, h := range hostile {
		p.Statements = append(p.Statements, settlement.Statement{VenueID: int64(i + 1), VenueName: h, Reference: h,
			Lines: []settlement.Line{{At: at, Kind: h, Number: h, Label: h, AmountCents: -1200}}})
	}
	var buf bytes.Buffer
	if err := settlement.WriteCSV(&buf, p); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := rows[0]
	col := func(name string) int { return slices.Index(header, name) }
	if len(rows) != 1+len(hostile) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(hostile))
	}
	for i, r := range rows[1:] {
		for _, name := range []string{"venue_name", "reference", "kind", "voucher_number", "label"} {
			if got, want := r[col(name)], "'"+hostile[i]; got != want {
				t.Errorf("%s %q written as %q, want %q", name, hostile[i], got, want)
			}
		}
		if r[col("amount_cents")] != "-1200" || r[col("amount_eur")] != "-12.00" {
			t.Errorf("a negative amount is written %q, %q: want the plain numbers -1200, -12.00", r[col("amount_cents")], r[col("amount_eur")])
		}
	}
}

// A period's transfers are planned for the first working day after it was
// closed (Paris days): the statements announce it, Payment executes on it.
func TestTransferDay(t *testing.T) {
	for closed, want := range map[string]string{
		"2026-11-02T08:00:00Z": "2026-11-03", // a Monday: Tuesday
		"2026-11-06T10:00:00Z": "2026-11-09", // a Friday: Monday
		"2026-11-07T10:00:00Z": "2026-11-09", // a Saturday: Monday
		"2026-10-31T23:30:00Z": "2026-11-02", // Sunday 1 November 00:30 in Paris: Monday
	} {
		at, err := time.Parse(time.RFC3339, closed)
		if err != nil {
			t.Fatal(err)
		}
		if got := settlement.TransferDay(at).String(); got != want {
			t.Errorf("closed at %s: transfer planned on %s, want %s", closed, got, want)
		}
	}
}
