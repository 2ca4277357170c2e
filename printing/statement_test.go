package printing

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"passnum/voucher"
)

const testIBAN = "FR76 3000 6000 0112 3456 7890 189"

// testStatement is a statement of the Yvelines for October 2026 with n
// redemptions of 10 €, then a reversal of the last one and an adjustment,
// and totals that add up.
func testStatement(tb testing.TB, n int) Statement {
	tb.Helper()
	s := Statement{
		Reference: "REL-78-2026-10-0042", DepartmentCode: "78", DepartmentName: "Yvelines",
		PayerName: "Paierie départementale des Yvelines", ContactPhone: "01 39 07 78 78", TransferDay: mustDay(tb, "2026-11-02"),
		VenueID: 42, VenueName: "Médiathèque Jean-Jaurès", VenueSIRET: "12345678900012",
		VenueAddress: "12 rue de la Paix\n78000 Versailles", VenueIBAN: testIBAN,
		PeriodStart: mustDay(tb, "2026-10-01"), PeriodEnd: mustDay(tb, "2026-10-31"),
		ClosedAt:              time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC),
		CommissionBasisPoints: 150,
	}
	at := time.Date(2026, 10, 1, 7, 0, 0, 0, time.UTC)
	for i := range n {
		at = at.Add(17 * time.Minute)
		s.Lines = append(s.Lines, StatementLine{At: at, Kind: LineRedemption, RedemptionID: int64(1000 + i/2),
			VoucherNumber: voucher.FormatNumber(uint64(1950 + i)), AmountCents: 1000})
	}
	if n > 0 {
		last := s.Lines[n-1]
		s.Lines = append(s.Lines,
			StatementLine{At: last.At.Add(3 * time.Minute), Kind: LineReversal, RedemptionID: last.RedemptionID,
				VoucherNumber: last.VoucherNumber, AmountCents: -1000},
			StatementLine{At: last.At.Add(time.Hour), Kind: LineAdjustment,
				Label: "chèque refusé à tort le 3 octobre", AmountCents: 1250})
	}
	return withTotals(s)
}

// withTotals sets the totals from the lines, as the settlement would.
func withTotals(s Statement) Statement {
	s.GrossCents, s.ReversedCents, s.AdjustmentCents = 0, 0, 0
	for _, l := range s.Lines {
		switch l.Kind {
		case LineRedemption:
			s.GrossCents += l.AmountCents
		case LineReversal:
			s.ReversedCents -= l.AmountCents
		case LineAdjustment:
			s.AdjustmentCents += l.AmountCents
		}
	}
	s.CommissionCents = (s.GrossCents*s.CommissionBasisPoints + 5000) / 10000
	s.NetCents = s.GrossCents - s.ReversedCents + s.AdjustmentCents - s.CommissionCents
	return s
}

func statementBytes(tb testing.TB, s Statement) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := RenderStatement(&buf, s); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// plainSpaces is how pdftotext writes French spaces.
var plainSpaces = strings.NewReplacer(nbsp, " ", nnbsp, " ")

func TestStatementContent(t *testing.T) {
	s := testStatement(t, 3)
	// 12:05 UTC is 14:05 in Paris in October (summer time).
	s.Lines[1].At = time.Date(2026, 10, 1, 12, 5, 0, 0, time.UTC)
	s.Lines[2].At = s.Lines[1].At.Add(time.Minute)
	s.Lines[3].At = s.Lines[2].At.Add(time.Minute)
	s.Lines[4].At = s.Lines[3].At.Add(time.Minute)
	// 3 × 10 € - 10 € + 12,50 € - 0,45 € of commission.
	if s.NetCents != 3205 {
		t.Fatalf("test statement nets %d cents", s.NetCents)
	}
	text := pdfText(t, writeTemp(t, statementBytes(t, s)), 0)
	want := []string{
		"Relevé de remboursement", "REL-78-2026-10-0042", "Yvelines (78)",
		"Médiathèque Jean-Jaurès", "SIRET 123 456 789 00012", "12 rue de la Paix", "78000 Versailles",
		"FR76 **** **** **** **** ***0 189",
		"du 1er octobre 2026 au 31 octobre 2026", "01/11/2026 03:00",
		"Date et heure", "Encaissement", "Chèque", "Libellé", "Montant",
		"01/10/2026 14:05", "Annulation de l’encaissement", "Régularisation : chèque refusé à tort le 3 octobre",
		"−10 €", "12,50 €", "Chèques encaissés (3)", "30 €", "Annulations (1)", "Régularisations (1)",
		"Commission (1,50 %)", "−0,45 €", "Net à payer", "32,05 €", "Page 1 / 1",
		"Payeur", "Paierie départementale", "pour le département Yvelines (78)", "Contact : 01 39 07 78 78",
		"Virement prévu le", "2 novembre 2026",
	}
	for _, l := range s.Lines {
		if l.VoucherNumber != "" {
			want = append(want, l.VoucherNumber)
		}
	}
	for _, w := range want {
		if !strings.Contains(text, plainSpaces.Replace(w)) {
			t.Errorf("%q not in the statement", w)
		}
	}
	for _, secret := range []string{"3000 6000", "FR7630006000011234567890189", "0112 3456"} {
		if strings.Contains(text, secret) {
			t.Errorf("the statement shows the IBAN (%q)", secret)
		}
	}
	if strings.ContainsRune(text, '\ufffd') {
		t.Error("replacement character in the text")
	}
}

// The settlement lists each reversal under its redemption and the
// adjustments last; the venue reads its lines in time order. A venue that
// has not given its IBAN yet still gets its statement, and is told why it
// is not paid.
func TestStatementOrderAndNoIBAN(t *testing.T) {
	s := testStatement(t, 3)
	s.VenueIBAN = ""
	rev, adj := s.Lines[3], s.Lines[4]
	adj.At = s.Lines[0].At.Add(time.Minute)
	rev.RedemptionID, rev.VoucherNumber = s.Lines[0].RedemptionID, s.Lines[0].VoucherNumber
	rev.At = s.Lines[1].At.Add(time.Minute)
	given := []StatementLine{s.Lines[0], rev, s.Lines[1], s.Lines[2], adj}
	s.Lines = append([]StatementLine(nil), given...)
	text := pdfText(t, writeTemp(t, statementBytes(t, s)), 0)
	var order []string
	dated := regexp.MustCompile(`^\d\d/\d\d/\d{4} \d\d:\d\d `)
	for _, l := range strings.Split(text, "\n") {
		if !dated.MatchString(l) {
			continue
		}
		for _, kind := range []string{"Chèque encaissé", "Annulation", "Régularisation"} {
			if strings.Contains(l, kind) {
				order = append(order, kind)
			}
		}
	}
	want := "Chèque encaissé,Régularisation,Chèque encaissé,Annulation,Chèque encaissé"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("lines printed in the order %s, want %s", got, want)
	}
	if s.Lines[1] != rev {
		t.Error("RenderStatement reordered the caller's lines")
	}
	for _, w := range []string{"IBAN non renseigné", "Aucun IBAN n’est enregistré", "Communiquez votre IBAN"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q not in a statement without IBAN", w)
		}
	}
}

func TestStatementEmpty(t *testing.T) {
	s := testStatement(t, 0)
	s.CommissionBasisPoints = 0
	s = withTotals(s)
	text := pdfText(t, writeTemp(t, statementBytes(t, s)), 0)
	for _, w := range []string{"Aucun encaissement sur la période", "Chèques encaissés (0)"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q not in the empty statement", w)
		}
	}
	// pdftotext may drop the no-break space of a short amount: "0€".
	if !regexp.MustCompile(`Net à payer +0 ?€`).MatchString(text) {
		t.Errorf("the empty statement does not say it pays 0 €:\n%s", text)
	}
	for _, w := range []string{"Commission", "Date et heure"} {
		if strings.Contains(text, w) {
			t.Errorf("the empty statement shows %q", w)
		}
	}
}

// A busy venue's month: 2,000 lines. Every page but the last is full, the
// lines follow each other across pages, none is lost or repeated, and each
// page has the table header and says which page of how many it is.
func TestStatementLong(t *testing.T) {
	const n = 2000
	s := testStatement(t, n)
	pdf := statementBytes(t, s)
	pages := strings.Split(strings.TrimSuffix(pdfText(t, writeTemp(t, pdf), 0), "\f"), "\f")
	if got := bytes.Count(pdf, []byte("/Type /Page\n")); got != len(pages) {
		t.Fatalf("%d pages in the PDF, %d in the text", got, len(pages))
	}
	number := regexp.MustCompile(`\d{4} \d{4} \d{3}`)
	var seen []string
	perPage := make([]int, len(pages))
	for i, p := range pages {
		if want := "Page " + strconv.Itoa(i+1) + " / " + strconv.Itoa(len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d does not say %q", i+1, want)
		}
		if !strings.Contains(p, "REL-78-2026-10-0042") {
			t.Errorf("page %d does not name the statement", i+1)
		}
		found := number.FindAllString(p, -1)
		perPage[i] = len(found)
		if len(found) > 0 && !strings.Contains(p, "Date et heure") {
			t.Errorf("page %d has lines but no table header", i+1)
		}
		seen = append(seen, found...)
	}
	// The reversal repeats the last voucher's number.
	if len(seen) != n+1 {
		t.Fatalf("%d voucher numbers printed, want %d", len(seen), n+1)
	}
	for i := range n {
		if want := voucher.FormatNumber(uint64(1950 + i)); seen[i] != want {
			t.Fatalf("line %d shows %s, want %s", i+1, seen[i], want)
		}
	}
	// Lines per page: page 1 under the header, then full pages, then the
	// rest; the totals go under the last lines if they fit.
	full := perPage[1]
	if full < 55 {
		t.Errorf("%d lines per page: a 2,000-line month would take %d pages", full, n/full)
	}
	rows := n + 2 // with the reversal and the adjustment
	wantPages := 1 + (rows-perPage[0]+full-1)/full
	if last := pages[len(pages)-1]; !strings.Contains(last, "Net à payer") {
		t.Error("the totals are not on the last page")
	} else if perPage[len(pages)-1] == 0 {
		wantPages++ // the totals did not fit under the last lines
	}
	if len(pages) != wantPages {
		t.Errorf("%d pages for %d lines (%d on page 1, %d per page), want %d: %v", len(pages), rows, perPage[0], full, wantPages, perPage)
	}
	for i := 1; i < len(pages)-1; i++ {
		if perPage[i] != full && !(i == len(pages)-2 && perPage[len(pages)-1] == 0) {
			t.Errorf("page %d has %d lines, other full pages %d", i+1, perPage[i], full)
		}
	}
}

func TestStatementDeterministic(t *testing.T) {
	s := testStatement(t, 40)
	first := statementBytes(t, s)
	if again := statementBytes(t, s); !bytes.Equal(first, again) {
		t.Fatal("the same statement rendered twice gave other bytes")
	}
	if !bytes.Contains(first, []byte("/CreationDate (D:20261101020000)")) {
		t.Error("the PDF's date is not the closing time (in UTC)")
	}
}

func TestStatementRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(s *Statement)
		want string // in the error
	}{
		{"gross", func(s *Statement) { s.GrossCents += 100 }, "GrossCents"},
		{"reversed", func(s *Statement) { s.ReversedCents = 0 }, "ReversedCents"},
		{"adjustment", func(s *Statement) { s.AdjustmentCents = -s.AdjustmentCents }, "AdjustmentCents"},
		{"net", func(s *Statement) { s.NetCents++ }, "NetCents"},
		{"commission not taken off", func(s *Statement) { s.NetCents += s.CommissionCents }, "NetCents"},
		{"line changed after the totals", func(s *Statement) { s.Lines[0].AmountCents = 2000 }, "GrossCents"},
		{"no reference", func(s *Statement) { s.Reference = " " }, "reference"},
		{"no venue name", func(s *Statement) { s.VenueName = "" }, "no name"},
		{"period backwards", func(s *Statement) { s.PeriodEnd = s.PeriodStart - 1 }, "before it starts"},
		{"not an IBAN", func(s *Statement) { s.VenueIBAN = "FR76 3000 60" }, "IBAN"},
		{"SIRET", func(s *Statement) { s.VenueSIRET = "1234" }, "SIRET"},
		{"not closed", func(s *Statement) { s.ClosedAt = time.Time{} }, "ClosedAt"},
		{"commission without rate", func(s *Statement) { s.CommissionBasisPoints = 0 }, "CommissionCents"},
		{"unknown kind", func(s *Statement) { s.Lines[1].Kind = "refund" }, `"refund"`},
		{"positive reversal", func(s *Statement) { s.Lines[3].AmountCents = 1000 }, "must be negative"},
		{"adjustment without reason", func(s *Statement) { s.Lines[4].Label = "" }, "reason"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testStatement(t, 3)
			tc.edit(&s)
			var buf bytes.Buffer
			err := RenderStatement(&buf, s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), compactIBAN(testIBAN)) {
				t.Errorf("the error shows the IBAN: %v", err)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

func TestMaskIBAN(t *testing.T) {
	for in, want := range map[string]string{
		testIBAN:                      "FR76 **** **** **** **** ***0 189",
		"fr7630006000011234567890189": "FR76 **** **** **** **** ***0 189",
		"NO9386011117947":             "NO93 **** ***7 947",
	} {
		if got := maskIBAN(in); got != want {
			t.Errorf("maskIBAN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStatementPreview writes docs/statement.png, the first page of a
// statement, for people to look at; run with -update-previews.
func TestStatementPreview(t *testing.T) {
	if !*updatePreviews {
		t.Skip("run with -update-previews to rewrite docs/statement.png")
	}
	writePreview(t, statementBytes(t, testStatement(t, 60)), "statement.png")
}

// writePreview rasterizes the first page of a PDF at 80 dpi into docs/.
func writePreview(t *testing.T, pdf []byte, name string) {
	t.Helper()
	needTool(t, "pdftoppm")
	out := filepath.Join(t.TempDir(), "p")
	cmd := exec.Command("pdftoppm", "-r", "80", "-png", "-singlefile", "-f", "1", "-l", "1", writeTemp(t, pdf), out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
