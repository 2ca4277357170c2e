package printing

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// figure is a row of vouchers of 10 € in chéquiers of 10 whose invariant
// holds.
func figure(label string, issued, redeemed, voided, expired int64) FigureRow {
	const value = 1000
	outstanding := issued - redeemed - voided - expired
	return FigureRow{
		Label:            label,
		ChequiersPrinted: issued / 10, ChequiersActivated: issued / 20, ChequiersNotHandedOut: issued/10 - issued/20,
		ChequiersStarted: redeemed / 5,
		VouchersIssued:   issued, IssuedCents: issued * value,
		VouchersRedeemed: redeemed, RedeemedCents: redeemed * value,
		VouchersVoided: voided, VoidedCents: voided * value,
		VouchersExpired: expired, ExpiredCents: expired * value,
		VouchersOutstanding: outstanding, OutstandingCents: outstanding * value,
		UnusedCents:    (outstanding + expired) * value,
		InvariantHolds: true,
	}
}

func testReport(tb testing.TB, months int) ProgrammeReport {
	tb.Helper()
	r := ProgrammeReport{
		Title:       "Pass numérique — tous départements",
		AsOf:        mustDay(tb, "2026-10-31"),
		GeneratedAt: time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC),
		Departments: []FigureRow{
			figure("Yvelines (78)", 12000, 4830, 120, 0),
			figure("Hauts-de-Seine (92)", 8000, 1000, 0, 40),
		},
		Batches: []FigureRow{
			figure("Lot 1 — Yvelines", 6000, 3000, 100, 0),
			figure("Lot 2 — Yvelines", 6000, 1830, 20, 0),
			figure("Lot 3 — Hauts-de-Seine", 8000, 1000, 0, 40),
		},
		Warnings: []string{
			"Le lot 1 — Yvelines arrive au terme du programme le 31/12/2026 : 3 000 chèques sont encore en circulation.",
			"Le lot 3 — Hauts-de-Seine n'a encore aucun chéquier remis.",
		},
		Settlements: []SettlementRow{
			{Period: "2026-09", Department: "Yvelines (78)", Venues: 14, NetCents: 1_234_550, Closed: true},
			{Period: "2026-10", Department: "Yvelines (78)", Venues: 17, NetCents: 1_502_000},
		},
	}
	// The Hauts-de-Seine's batch needs no activation: nothing records its
	// hand-overs.
	for _, f := range []*FigureRow{&r.Departments[1], &r.Batches[2]} {
		f.ChequiersActivated, f.ChequiersNotHandedOut, f.ChequiersUntracked = 0, 0, f.ChequiersPrinted
	}
	// A difference of 10 € that the ledger's figures show: it must be
	// printed as such.
	r.Batches[1].OutstandingCents -= 1000
	r.Batches[1].InvariantHolds = false
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -months, 0)
	for i := range months {
		m := start.AddDate(0, i, 0)
		r.Months = append(r.Months, MonthRow{Month: m.Format("2006-01"), Vouchers: int64(40 + 37*i), Cents: int64(40+37*i) * 1000})
	}
	for i := range 12 {
		r.TopVenues = append(r.TopVenues, VenueRow{Name: fmt.Sprintf("Lieu n°%d des Yvelines", i+1),
			Vouchers: int64(500 - 30*i), Cents: int64(500-30*i) * 1000})
	}
	// The distribution funnel: two structures of Trappes, their commune,
	// and the months they received their chéquiers.
	r.Structures = []FunnelRow{
		{Label: "CCAS de Trappes", Place: "Trappes", Received: 120, InStock: 20, HandedOver: 96, Started: 70, Finished: 31, ExpiredUnused: 4, Voided: 4},
		{Label: "Association Trappes Numérique", Place: "Trappes", Received: 30, InStock: 30},
	}
	r.Communes = []FunnelRow{{Label: "Trappes", Structures: 2, Received: 150, InStock: 50, HandedOver: 96, Started: 70, Finished: 31, ExpiredUnused: 4, Voided: 4}}
	r.ReceivedMonths = []FunnelRow{
		{Label: "2026-09", Received: 100, InStock: 0, HandedOver: 96, Started: 70, Finished: 31, ExpiredUnused: 4, Voided: 4},
		{Label: "2026-10", Received: 50, InStock: 50},
	}
	return r
}

func reportBytes(tb testing.TB, r ProgrammeReport) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := RenderProgrammeReport(&buf, r); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// lineWith returns the first line of text that contains s.
func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestReportContent(t *testing.T) {
	r := testReport(t, 12)
	text := pdfText(t, writeTemp(t, reportBytes(t, r)), 0)
	for _, w := range []string{
		"Pass numérique — tous départements", "chiffres au 31/10/2026", "01/11/2026 08:30",
		"Points d’attention", "3 000 chèques sont encore en circulation", "n’a encore aucun chéquier remis",
		"Par département", "Par lot", "Chéquiers", "imprimés", "non remis", "entamés", "émis", "utilisés",
		"annulés", "expirés", "en circulation", "Taux", "d’utilisation", "Valeur non utilisée", "à restituer", "Contrôle",
		"Encaissements par mois", "Lieux qui ont le plus encaissé", "Remboursements aux lieux",
		"sept. 2026", "12 345,50 €", "clôturée", "en cours",
	} {
		if !strings.Contains(text, plainSpaces.Replace(w)) {
			t.Errorf("%q not in the report", w)
		}
	}
	// Each département's figures, on its line: printed chéquiers,
	// vouchers issued, redeemed, the rate; values on the line below.
	for label, want := range map[string][]string{
		"Yvelines (78)":       {"1 200", "12 000", "4 830", "120", "40,3 %", "70 500 €"},
		"Hauts-de-Seine (92)": {"800", "8 000", "1 000", "12,5 %", "70 000 €"},
	} {
		line := lineWith(text, label)
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q not on its line %q", label, w, line)
			}
		}
		if !strings.Contains(line, "OK") {
			t.Errorf("%s: no OK on its line %q", label, line)
		}
	}
	if line := lineWith(text, "120 000 €"); !strings.Contains(line, "48 300 €") {
		t.Errorf("the Yvelines' values are not under their counts: %q", line)
	}
	if line := lineWith(text, "Lot 2 — Yvelines"); !strings.Contains(line, "ÉCART") {
		t.Errorf("the failing batch is not marked: %q", line)
	}
	for _, ok := range []string{"Lot 1 — Yvelines", "Lot 3 — Hauts-de-Seine"} {
		if line := lineWith(text, ok); strings.Contains(line, "ÉCART") || !strings.Contains(line, "OK") {
			t.Errorf("%s is not marked OK: %q", ok, line)
		}
	}
	// What a funder asks first, before any table: people who used their
	// chéquier (966 + 200), vouchers used (4 830 + 1 000), what the venues
	// were paid for the closed months (September), the value due back
	// (70 500 € + 70 000 €).
	first := strings.Split(text, "\f")[0]
	for _, w := range []string{"1 166", "personnes ont utilisé leur chéquier", "5 830", "chèques utilisés",
		"12 345,50 €", "payés aux lieux", "140 500 €", "à restituer"} {
		if i := strings.Index(first, plainSpaces.Replace(w)); i < 0 || i > strings.Index(first, "Par département") {
			t.Errorf("%q is not among the headline figures, before the tables", w)
		}
	}
	// A batch without activation: its hand-overs are not known, not
	// counted as done.
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.Contains(l, "Lot 3 — Hauts-de-Seine") && (!strings.Contains(l, "remise") || !strings.Contains(l, "—") ||
			i+1 == len(lines) || !strings.Contains(lines[i+1], "non suivie")) {
			t.Errorf("the batch without activation is not marked 'remise non suivie':\n%s", strings.Join(lines[i:min(i+2, len(lines))], "\n"))
		}
	}
	if !strings.Contains(text, "Remise non suivie : chéquiers des lots sans activation") {
		t.Error("the report does not explain 'remise non suivie'")
	}
	if !strings.Contains(text, "ne sont pas la somme des chèques en circulation") {
		t.Error("the report does not explain the écart")
	}
	for _, m := range []string{"nov. 2025", "déc. 2025", "janv. 2026", "févr. 2026", "mars 2026", "avr. 2026",
		"mai 2026", "juin 2026", "juil. 2026", "août 2026", "sept. 2026", "oct. 2026"} {
		if !strings.Contains(text, m) {
			t.Errorf("month label %q not in the chart", m)
		}
	}
	for i := range 12 {
		name := fmt.Sprintf("Lieu n°%d des Yvelines", i+1)
		if got := strings.Contains(text, name); got != (i < maxTopVenues) {
			t.Errorf("%s printed: %v", name, got)
		}
	}
	if strings.ContainsRune(text, '\ufffd') {
		t.Error("replacement character in the text")
	}
	// The funnel, each row on its line: received, in stock, handed over,
	// started, finished, expired unused, voided.
	for _, w := range []string{"Remise par les structures de distribution", "Remise par commune", "Remise par mois de réception",
		"commencés", "terminés", "expirés non", "Commencés : au moins un chèque utilisé"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q not in the report", w)
		}
	}
	rows := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		rows[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, want := range []string{"CCAS de Trappes Trappes 120 20 96 70 31 4 4 0", "Association Trappes Numérique Trappes 30 30 0 0 0 0 0 0",
		"Trappes 2 150 50 96 70 31 4 4 0", "sept. 2026 100 0 96 70 31 4 4 0", "oct. 2026 50 50 0 0 0 0 0 0"} {
		if !rows[plainSpaces.Replace(want)] {
			t.Errorf("no line %q in the report", want)
		}
	}
}

// Four years of months and many batches: the chart's labels stand upright
// and stay readable, and the batch table runs over pages with its header
// on each.
func TestReportLong(t *testing.T) {
	r := testReport(t, maxReportMonths)
	for i := range 60 {
		r.Batches = append(r.Batches, figure(fmt.Sprintf("Lot %d — 92", 10+i), 1000, int64(10*i), 0, 0))
	}
	pdf := reportBytes(t, r)
	text := pdfText(t, writeTemp(t, pdf), 0)
	for i := range maxReportMonths {
		m := time.Date(2022, time.November+time.Month(i), 1, 0, 0, 0, 0, time.UTC)
		if label := formatMonth(m.Year(), m.Month()); !strings.Contains(text, label) {
			t.Errorf("month label %q not in the chart", label)
		}
	}
	pages := strings.Split(strings.TrimSuffix(text, "\f"), "\f")
	if n := bytes.Count(pdf, []byte("/Type /Page\n")); n != len(pages) || n < 3 {
		t.Fatalf("%d pages in the PDF, %d in the text", n, len(pages))
	}
	batches := 0
	batchRow := regexp.MustCompile(`(?m)^ *Lot \d+ — (92|Hauts-de-Seine)`)
	for i, p := range pages {
		if !strings.Contains(p, fmt.Sprintf("Page %d / %d", i+1, len(pages))) {
			t.Errorf("page %d does not say which of %d it is", i+1, len(pages))
		}
		if n := len(batchRow.FindAllString(p, -1)); n > 0 {
			batches += n
			if !strings.Contains(p, "imprimés") {
				t.Errorf("page %d lists batches without the table header", i+1)
			}
		}
	}
	// Lot 3 and the 60 added batches.
	if batches != 61 {
		t.Errorf("%d batch rows of département 92, want 61", batches)
	}
}

func TestReportDeterministic(t *testing.T) {
	r := testReport(t, 12)
	first := reportBytes(t, r)
	if again := reportBytes(t, r); !bytes.Equal(first, again) {
		t.Fatal("the same report rendered twice gave other bytes")
	}
	if !bytes.Contains(first, []byte("/CreationDate (D:20261101073000)")) {
		t.Error("the PDF's date is not GeneratedAt (in UTC)")
	}
}

func TestReportEmpty(t *testing.T) {
	r := ProgrammeReport{Title: "Pass numérique — Yvelines (78)", AsOf: mustDay(t, "2026-01-31"),
		GeneratedAt: time.Date(2026, 2, 1, 6, 0, 0, 0, time.UTC)}
	text := pdfText(t, writeTemp(t, reportBytes(t, r)), 0)
	for _, w := range []string{"Aucun département.", "Aucun lot.", "Aucun encaissement.", "Aucune période de remboursement."} {
		if !strings.Contains(text, w) {
			t.Errorf("%q not in an empty report", w)
		}
	}
	if strings.Contains(text, "Points d’attention") {
		t.Error("an empty warnings box is printed")
	}
}

func TestReportRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(r *ProgrammeReport)
		want []string // in the error
	}{
		{"invariant claimed but broken", func(r *ProgrammeReport) { r.Departments[0].VouchersRedeemed++ },
			[]string{"Yvelines (78)", "InvariantHolds is true"}},
		{"écart claimed but none", func(r *ProgrammeReport) { r.Batches[1].OutstandingCents += 1000 },
			[]string{"Lot 2 — Yvelines", "InvariantHolds is false"}},
		{"negative figure", func(r *ProgrammeReport) { r.Batches[0].ChequiersStarted = -1 }, []string{"Lot 1 — Yvelines"}},
		{"no title", func(r *ProgrammeReport) { r.Title = "" }, []string{"title"}},
		{"no date", func(r *ProgrammeReport) { r.GeneratedAt = time.Time{} }, []string{"GeneratedAt"}},
		{"months out of order", func(r *ProgrammeReport) { r.Months[3], r.Months[4] = r.Months[4], r.Months[3] },
			[]string{"oldest first"}},
		{"bad month", func(r *ProgrammeReport) { r.Months[0].Month = "2026-13" }, []string{`"2026-13"`}},
		{"too many months", func(r *ProgrammeReport) {
			for len(r.Months) <= maxReportMonths {
				r.Months = append(r.Months, r.Months[0])
			}
		}, []string{"at most 48"}},
		{"empty warning", func(r *ProgrammeReport) { r.Warnings[1] = " " }, []string{"warning 2"}},
		{"funnel that does not add up", func(r *ProgrammeReport) { r.Structures[0].InStock++ }, []string{"structure \"CCAS de Trappes\"", "does not add up"}},
		{"more finished than started", func(r *ProgrammeReport) { r.ReceivedMonths[0].Finished = 71 }, []string{"month of reception \"2026-09\""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testReport(t, 12)
			tc.edit(&r)
			var buf bytes.Buffer
			err := RenderProgrammeReport(&buf, r)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

func TestFormatPercentAndMonths(t *testing.T) {
	for _, tc := range []struct {
		num, den int64
		decimals int
		want     string
	}{
		{150, 10000, 2, "1,50 %"}, {4830, 12000, 1, "40,3 %"}, {1, 3, 1, "33,3 %"}, {2, 3, 1, "66,7 %"},
		{0, 5, 1, "0,0 %"}, {5, 5, 1, "100,0 %"}, {10000, 10000, 2, "100,00 %"},
	} {
		if got := plainSpaces.Replace(formatPercent(tc.num, tc.den, tc.decimals)); got != tc.want {
			t.Errorf("formatPercent(%d, %d, %d) = %q, want %q", tc.num, tc.den, tc.decimals, got, tc.want)
		}
	}
	if got := formatLongDay(mustDay(t, "2026-10-01")) + " · " + formatLongDay(mustDay(t, "2026-08-31")); got != "1er octobre 2026 · 31 août 2026" {
		t.Errorf("formatLongDay: %q", got)
	}
	if got := formatSignedEuros(-1250); got != minus+"12,50"+nbsp+"€" {
		t.Errorf("formatSignedEuros(-1250) = %q", got)
	}
	if got := niceStep(1); got != 100 {
		t.Errorf("niceStep(1) = %d", got)
	}
	if got := niceStep(250_001); got != 500_000 {
		t.Errorf("niceStep(250 001) = %d", got)
	}
}

// TestReportPreview writes docs/report.png, the first page of a programme
// report, for people to look at; run with -update-previews.
func TestReportPreview(t *testing.T) {
	if !*updatePreviews {
		t.Skip("run with -update-previews to rewrite docs/report.png")
	}
	writePreview(t, reportBytes(t, testReport(t, 12)), "report.png")
}

// TestReportSignals: the auditors' signals get their section with the
// period, each rule, venue, day and evidence (wrapped in its column); none
// says so; a report made without them has no section.
func TestReportSignals(t *testing.T) {
	r := testReport(t, 2)
	r.Signals = &SignalSection{From: mustDay(t, "2026-10-02"), To: mustDay(t, "2026-10-31"), Rows: []SignalRow{
		{Name: "Chéquier entier d’un coup", Venue: "Médiathèque de Trappes", Day: mustDay(t, "2026-10-12"),
			Evidence: "Les 10 chèques d’un même chéquier encaissés d’un coup (encaissement 42), alors qu’un chéquier sert à plusieurs séances."},
	}}
	text := pdfText(t, writeTemp(t, reportBytes(t, r)), 0)
	for _, w := range []string{"Signaux à examiner, du 02/10/2026 au 31/10/2026", "Chéquier entier d’un coup", "Médiathèque de Trappes",
		"12/10/2026", "encaissement 42", "plusieurs séances"} {
		if !strings.Contains(text, plainSpaces.Replace(w)) {
			t.Errorf("%q not in the report", w)
		}
	}
	r.Signals.Rows = nil
	if text := pdfText(t, writeTemp(t, reportBytes(t, r)), 0); !strings.Contains(text, "Aucun signal") {
		t.Error("no signal is not said")
	}
	r.Signals = nil
	if text := pdfText(t, writeTemp(t, reportBytes(t, r)), 0); strings.Contains(text, "Signaux à examiner") {
		t.Error("a section without signals given")
	}
}
