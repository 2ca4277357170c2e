package printing

import (
	"errors"
	"fmt"
	"io"
	"passnum"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"passnum/voucher"
)

// ProgrammeReport is what the funders and auditors of a programme read:
// where the chéquiers and the money are, as of one day.
type ProgrammeReport struct {
	Title       string      // "Pass numérique — Yvelines (78)", "Pass numérique — tous départements"
	AsOf        voucher.Day // the figures are those at the end of this day
	GeneratedAt time.Time   // also the PDF's date
	Departments []FigureRow // one row per département
	Batches     []FigureRow // one row per batch ("Lot 3 — 78")
	Months      []MonthRow  // redemptions per month, oldest first, at most 48
	TopVenues   []VenueRow  // sorted by the caller; the first 10 are printed
	Settlements []SettlementRow
	Warnings    []string // programme timeline warnings, printed in a box
	// The distribution funnel: per structure (Label its name, Place its
	// commune), per commune (Place empty, Structures set) and per month
	// of reception (Label "2026-10", oldest first).
	Structures     []FunnelRow
	Communes       []FunnelRow
	ReceivedMonths []FunnelRow
	// Signals are the auditors' signals of the days up to AsOf (package
	// signals); nil leaves the section out.
	Signals *SignalSection
}

// SignalSection is the auditors' signals of a period.
type SignalSection struct {
	From, To voucher.Day // both included
	Rows     []SignalRow
}

// SignalRow is one signal as the report prints it.
type SignalRow struct {
	Name     string // the rule in French
	Venue    string
	Day      voucher.Day
	Evidence string
}

// FunnelRow is what became of the chéquiers a distribution structure, a
// commune or a month's cohort received: Received = InStock + HandedOver +
// Voided + Untracked; Started, Finished and ExpiredUnused are among
// HandedOver.
type FunnelRow struct {
	Label         string
	Place         string // a structure's commune
	Structures    int    // a commune's
	Received      int64
	InStock       int64
	HandedOver    int64
	Started       int64
	Finished      int64
	ExpiredUnused int64
	Voided        int64
	Untracked     int64
}

// FigureRow is the state of the chéquiers and vouchers of a département or
// of a batch.
type FigureRow struct {
	Label                 string
	ChequiersPrinted      int64
	ChequiersActivated    int64
	ChequiersNotHandedOut int64
	ChequiersStarted      int64
	// ChequiersUntracked are chéquiers of batches without activation,
	// whose hand-over is not recorded: printed "remise non suivie", never
	// counted handed out.
	ChequiersUntracked  int64
	VouchersIssued      int64
	IssuedCents         int64
	VouchersRedeemed    int64
	RedeemedCents       int64
	VouchersVoided      int64
	VoidedCents         int64
	VouchersExpired     int64
	ExpiredCents        int64
	VouchersOutstanding int64
	OutstandingCents    int64
	UnusedCents         int64 // value due back to the funder at the programme's end
	// InvariantHolds says that issued = outstanding + redeemed + voided +
	// expired, in count and in value. A row where it does not hold is
	// printed, marked: it is what an auditor must see.
	InvariantHolds bool
}

// MonthRow is what was redeemed in one month.
type MonthRow struct {
	Month    string // "2026-10"
	Vouchers int64
	Cents    int64
}

// VenueRow is what one venue redeemed.
type VenueRow struct {
	Name     string
	Vouchers int64
	Cents    int64
}

// SettlementRow is one settlement period of one département.
type SettlementRow struct {
	Period     string // "2026-10", printed "oct. 2026"; another text is printed as is
	Department string // as people name it, "Yvelines (78)"
	Venues     int
	NetCents   int64
	Closed     bool
}

const (
	maxReportMonths = 48 // the programme runs four years
	maxTopVenues    = 10
)

// RenderProgrammeReport writes the report as a landscape A4 PDF in French.
// It refuses a row whose figures contradict its InvariantHolds, since the
// report would then hide or invent a discrepancy. Nothing is written to w
// on error.
func RenderProgrammeReport(w io.Writer, r ProgrammeReport) error {
	if w == nil {
		return errors.New("printing: nil writer")
	}
	months, err := checkReport(&r)
	if err != nil {
		return err
	}
	d, err := renderPaged(r.Title, r.GeneratedAt, func(d *pdfDoc, pages int) {
		rd := reportDrawer{d: d, r: &r, months: months, pages: pages}
		rd.draw()
	})
	if err != nil {
		return err
	}
	if err := d.Output(w); err != nil {
		return fmt.Errorf("printing: writing the PDF: %w", err)
	}
	return nil
}

// invariantHolds computes what FigureRow.InvariantHolds must say.
func (f *FigureRow) invariantHolds() bool {
	return f.VouchersIssued == f.VouchersOutstanding+f.VouchersRedeemed+f.VouchersVoided+f.VouchersExpired &&
		f.IssuedCents == f.OutstandingCents+f.RedeemedCents+f.VoidedCents+f.ExpiredCents
}

// checkReport checks the report and returns the chart's month labels.
func checkReport(r *ProgrammeReport) ([]string, error) {
	switch {
	case strings.TrimSpace(r.Title) == "":
		return nil, errors.New("printing: report without a title: name the programme and its départements")
	case utf8.RuneCountInString(r.Title) > 100:
		return nil, errors.New("printing: report title too long to print (at most 100 characters)")
	case r.AsOf == 0:
		return nil, errors.New("printing: report: AsOf is not set: give the day the figures are for")
	case r.GeneratedAt.IsZero():
		return nil, errors.New("printing: report: GeneratedAt is not set: give the time the figures were read")
	case len(r.Months) > maxReportMonths:
		return nil, fmt.Errorf("printing: report: %d months; the chart shows at most %d", len(r.Months), maxReportMonths)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("printing: report: %s", fmt.Sprintf(format, args...))
	}
	for _, t := range []struct {
		what string
		rows []FigureRow
	}{{"département", r.Departments}, {"batch", r.Batches}} {
		for i := range t.rows {
			f := &t.rows[i]
			if strings.TrimSpace(f.Label) == "" {
				return nil, fail("%s row %d has no label", t.what, i+1)
			}
			for _, v := range []int64{f.ChequiersPrinted, f.ChequiersActivated, f.ChequiersNotHandedOut, f.ChequiersStarted, f.ChequiersUntracked,
				f.VouchersIssued, f.IssuedCents, f.VouchersRedeemed, f.RedeemedCents, f.VouchersVoided, f.VoidedCents,
				f.VouchersExpired, f.ExpiredCents, f.VouchersOutstanding, f.OutstandingCents, f.UnusedCents} {
				if v < 0 || v > maxCents {
					return nil, fail("%s %q: figure %d is not between 0 and %d", t.what, f.Label, v, int64(maxCents))
				}
			}
			if holds := f.invariantHolds(); holds != f.InvariantHolds {
				return nil, fail("%s %q: InvariantHolds is %v, but its figures say %v: issued %d vouchers (%d cents), "+
					"outstanding + redeemed + voided + expired %d vouchers (%d cents)", t.what, f.Label, f.InvariantHolds, holds,
					f.VouchersIssued, f.IssuedCents,
					f.VouchersOutstanding+f.VouchersRedeemed+f.VouchersVoided+f.VouchersExpired,
					f.OutstandingCents+f.RedeemedCents+f.VoidedCents+f.ExpiredCents)
			}
		}
	}
	labels := make([]string, len(r.Months))
	var previous time.Time
	for i, m := range r.Months {
		t, err := time.Parse("2006-01", m.Month)
		if err != nil || len(m.Month) != len("2006-01") {
			return nil, fail("month %q is not YYYY-MM", m.Month)
		}
		if i > 0 && !t.After(previous) {
			return nil, fail("month %s comes after %s: give the months oldest first, once each", r.Months[i-1].Month, m.Month)
		}
		if m.Vouchers < 0 || m.Cents < 0 || m.Cents > maxCents {
			return nil, fail("month %s: %d vouchers, %d cents", m.Month, m.Vouchers, m.Cents)
		}
		previous = t
		labels[i] = formatMonth(t.Year(), t.Month())
	}
	for i, v := range r.TopVenues[:min(len(r.TopVenues), maxTopVenues)] {
		if strings.TrimSpace(v.Name) == "" || v.Vouchers < 0 || v.Cents < 0 || v.Cents > maxCents {
			return nil, fail("venue row %d (%q): a name and non-negative figures are needed", i+1, v.Name)
		}
	}
	for i, s := range r.Settlements {
		if strings.TrimSpace(s.Period) == "" || s.Venues < 0 || s.NetCents < -maxCents || s.NetCents > maxCents {
			return nil, fail("settlement row %d: a period, a non-negative number of venues and an amount within ±%d cents are needed", i+1, int64(maxCents))
		}
	}
	for i, w := range r.Warnings {
		if strings.TrimSpace(w) == "" {
			return nil, fail("warning %d is empty", i+1)
		}
	}
	for _, t := range []struct {
		what string
		rows []FunnelRow
	}{{"structure", r.Structures}, {"commune", r.Communes}, {"month of reception", r.ReceivedMonths}} {
		for i, f := range t.rows {
			if strings.TrimSpace(f.Label) == "" {
				return nil, fail("%s row %d has no label", t.what, i+1)
			}
			if f.Received != f.InStock+f.HandedOver+f.Voided+f.Untracked || f.Started+f.ExpiredUnused > f.HandedOver || f.Finished > f.Started ||
				min(f.InStock, f.HandedOver, f.Voided, f.Untracked, f.Finished, f.ExpiredUnused) < 0 {
				return nil, fail("%s %q: the funnel does not add up: received %d, in stock %d, handed over %d (started %d, finished %d, expired unused %d), voided %d, untracked %d",
					t.what, f.Label, f.Received, f.InStock, f.HandedOver, f.Started, f.Finished, f.ExpiredUnused, f.Voided, f.Untracked)
			}
		}
	}
	return labels, nil
}

// Report geometry: landscape A4, millimetres.
const (
	rpPageW  = a4H
	rpPageH  = a4W
	rpL      = 12.0
	rpW      = rpPageW - 2*rpL
	rpBottom = rpPageH - 14 // nothing goes below this but the footer
	rpFooter = rpPageH - 7
)

type reportDrawer struct {
	d      *pdfDoc
	r      *ProgrammeReport
	months []string // chart labels
	pages  int
	y      float64
}

func (rd *reportDrawer) newPage() float64 {
	d, r := rd.d, rd.r
	d.AddPageFormat("L", fpdf.SizeType{Wd: a4W, Ht: a4H})
	d.color = rgb{-1, -1, -1} // fpdf resets text colour per page
	d.ink(grey)
	d.font("", 7.5)
	d.left(rpL, rpFooter, "Chiffres au "+r.AsOf.French()+" · document produit par passnum le "+formatDateTime(r.GeneratedAt))
	d.right(rpL+rpW, rpFooter, fmt.Sprintf("Page %d / %d", d.PageNo(), rd.pages))
	if d.PageNo() == 1 {
		return 12
	}
	d.ink(blue)
	d.fit("B", 9, rpW-50, r.Title)
	d.left(rpL, 12, r.Title)
	d.ink(grey)
	d.font("", 8)
	d.right(rpL+rpW, 12, "Chiffres au "+r.AsOf.French())
	d.hairline(grey, 0.2)
	d.Line(rpL, 14.5, rpL+rpW, 14.5)
	return 20
}

// section starts a titled part of the report, on a new page when less
// than need mm would be left under its title.
func (rd *reportDrawer) section(title string, need float64) {
	if rd.y+12+need > rpBottom {
		rd.y = rd.newPage()
	}
	d := rd.d
	d.ink(blue)
	d.font("B", 12)
	d.left(rpL, rd.y+6, title)
	d.hairline(blue, 0.3)
	d.Line(rpL, rd.y+8, rpL+rpW, rd.y+8)
	rd.y += 12
}

// note writes a small paragraph under a table.
func (rd *reportDrawer) note(c rgb, text string) {
	d := rd.d
	d.font("", 7.5)
	if rd.y+4+float64(len(d.wrap(text, rpW)))*3.4 > rpBottom {
		rd.y = rd.newPage()
		d.font("", 7.5)
	}
	d.ink(c)
	rd.y = d.paragraph(rpL, rd.y+4, rpW, 3.4, text) - 1
}

func (rd *reportDrawer) draw() {
	d, r := rd.d, rd.r
	rd.y = rd.newPage()
	d.ink(blue)
	d.fit("B", 18, rpW, r.Title)
	d.left(rpL, rd.y+8, r.Title)
	d.ink(black)
	d.font("", 10)
	d.left(rpL, rd.y+15, "Rapport du programme · chiffres au "+r.AsOf.French()+" au soir · produit le "+formatDateTime(r.GeneratedAt))
	rd.y += 21
	rd.headline()
	rd.warnings()
	rd.figures("Par département", "Département", r.Departments, "Aucun département.")
	rd.figures("Par lot", "Lot", r.Batches, "Aucun lot.")
	rd.chart()
	rd.funnel("Remise par les structures de distribution", "Structure", rd.r.Structures)
	rd.funnel("Remise par commune", "Commune", rd.r.Communes)
	rd.funnel("Remise par mois de réception", "Reçus en", rd.r.ReceivedMonths)
	rd.venues()
	rd.signals()
	rd.settlements()
}

// signals draws the auditors' signals, when the caller gave them.
func (rd *reportDrawer) signals() {
	sec := rd.r.Signals
	if sec == nil {
		return
	}
	rd.section("Signaux à examiner, du "+sec.From.French()+" au "+sec.To.French(), 20)
	if len(sec.Rows) == 0 {
		rd.note(grey, "Aucun signal : rien dans ces encaissements ne demande un regard particulier.")
		rd.y += 6
		return
	}
	cells := make([][]cell, len(sec.Rows))
	for i, s := range sec.Rows {
		cells[i] = []cell{{text: s.Name, bold: true}, {text: s.Venue}, {text: s.Day.French()}, {text: s.Evidence}}
	}
	t := table{x: rpL, size: 8, leading: 3.5, bottom: rpBottom, newPage: rd.newPage, cols: []column{
		{title: "Signal", w: 38},
		{title: "Lieu", w: 40},
		{title: "Le", w: 22},
		{title: "Ce qui a été vu", w: 124},
	}}
	rd.y = t.draw(rd.d, rd.y, cells) + 8
}

// funnel draws one table of the distribution funnel; with no rows it
// draws nothing (an installation without structures).
func (rd *reportDrawer) funnel(title, label string, rows []FunnelRow) {
	if len(rows) == 0 {
		return
	}
	rd.section(title, 25)
	cells := make([][]cell, len(rows))
	for i, f := range rows {
		name := f.Label
		if t, err := time.Parse("2006-01", f.Label); err == nil && label == "Reçus en" {
			name = formatMonth(t.Year(), t.Month())
		}
		place := f.Place
		if f.Structures > 0 {
			place = formatCount(int64(f.Structures))
		}
		count := func(n int64) cell { return cell{text: formatCount(n)} }
		cells[i] = []cell{{text: name, bold: true}, {text: place}, count(f.Received), count(f.InStock), count(f.HandedOver),
			count(f.Started), count(f.Finished), count(f.ExpiredUnused), count(f.Voided), count(f.Untracked)}
	}
	second := "Commune"
	if label == "Commune" {
		second = "Structures"
	}
	if label == "Reçus en" {
		second = ""
	}
	t := table{x: rpL, size: 8, leading: 3.5, bottom: rpBottom, newPage: rd.newPage, cols: []column{
		{title: label, w: 70},
		{title: second, w: 40},
		{title: "reçus", w: 18, right: true},
		{title: "en stock", w: 18, right: true},
		{title: "remis", w: 18, right: true},
		{title: "commencés", w: 20, right: true},
		{title: "terminés", w: 18, right: true},
		{title: "expirés non utilisés", w: 24, right: true},
		{title: "annulés", w: 18, right: true},
		{title: "remise non suivie", w: 22, right: true},
	}}
	rd.y = t.draw(rd.d, rd.y, cells)
	rd.note(grey, "Reçus : chéquiers confiés à la structure (en stock, remis, annulés ou de lots sans activation). "+
		"Commencés : au moins un chèque utilisé. Terminés : tous les chèques utilisés. Expirés non utilisés : remis, aucun chèque utilisé avant la fin de validité.")
	rd.y += 6
}

// headline draws, before any table, the four figures a funder asks first:
// how many people used their chéquier, how many vouchers were used, what
// the venues were paid, and what value is due back.
func (rd *reportDrawer) headline() {
	var started, redeemed, unused, paid int64
	for _, f := range rd.r.Departments {
		started += f.ChequiersStarted
		redeemed += f.VouchersRedeemed
		unused += f.UnusedCents
	}
	for _, s := range rd.r.Settlements {
		if s.Closed {
			paid += s.NetCents
		}
	}
	d := rd.d
	figures := []struct{ value, label string }{
		{formatCount(started), passnum.Plural(int(min(started, 2)), "personne a utilisé son chéquier", "personnes ont utilisé leur chéquier")},
		{formatCount(redeemed), passnum.Plural(int(min(redeemed, 2)), "chèque utilisé", "chèques utilisés")},
		{formatEuros(paid), "payés aux lieux (mois clos)"},
		{formatEuros(unused), "de valeur non utilisée, à restituer"},
	}
	const h = 22.0
	w := rpW / float64(len(figures))
	for i, f := range figures {
		x := rpL + float64(i)*w
		d.SetFillColor(shade.r, shade.g, shade.b)
		d.Rect(x+1, rd.y, w-2, h, "F")
		d.ink(blue)
		d.fit("B", 20, w-6, f.value)
		d.left(x+4, rd.y+10, f.value)
		d.ink(black)
		d.fit("", 10, w-6, f.label)
		d.left(x+4, rd.y+17, f.label)
	}
	rd.y += h + 6
}

// warnings draws the timeline warnings in a box, continued on the next
// page if they do not fit.
func (rd *reportDrawer) warnings() {
	if len(rd.r.Warnings) == 0 {
		return
	}
	d := rd.d
	const leading, pad = 4.2, 3.0
	d.font("", 9)
	type line struct {
		text   string
		bullet bool
	}
	var lines []line
	for _, w := range rd.r.Warnings {
		for i, l := range d.wrap(strings.TrimSpace(w), rpW-2*pad-5) {
			lines = append(lines, line{l, i == 0})
		}
	}
	title := "Points d'attention"
	for len(lines) > 0 {
		if rd.y+pad+6+leading+pad > rpBottom {
			rd.y = rd.newPage()
		}
		top := rd.y
		d.ink(red)
		d.font("B", 10)
		d.left(rpL+pad, top+pad+3.5, title)
		y := top + pad + 5 + leading
		d.ink(black)
		d.font("", 9)
		for len(lines) > 0 && y+pad <= rpBottom {
			if lines[0].bullet {
				d.left(rpL+pad, y, "•")
			}
			d.left(rpL+pad+5, y, lines[0].text)
			lines = lines[1:]
			y += leading
		}
		d.hairline(red, 0.5)
		d.Rect(rpL, top, rpW, y-leading+pad+1-top, "D")
		rd.y = y - leading + pad + 7
		title = "Points d'attention (suite)"
	}
}

// The figures tables: one column per figure, a voucher figure as its count
// over its value.
var figureGroups = []group{{"", 1}, {"Chéquiers", 5}, {"Chèques : nombre et valeur", 5}, {"", 3}}

func figureColumns(label string) []column {
	return []column{
		{title: label, w: 36},
		{title: "imprimés", w: 16, right: true},
		{title: "remis", w: 16, right: true},
		{title: "non remis", w: 16, right: true},
		{title: "remise non suivie", w: 16, right: true},
		{title: "entamés", w: 16, right: true},
		{title: "émis", w: 19, right: true},
		{title: "utilisés", w: 19, right: true},
		{title: "annulés", w: 19, right: true},
		{title: "expirés", w: 19, right: true},
		{title: "en circulation", w: 19, right: true},
		{title: "Taux d'utilisation", w: 18, right: true},
		{title: "Valeur non utilisée\nà restituer", w: 27, right: true},
		{title: "Contrôle", w: 17, right: true},
	}
}

func figureCells(f *FigureRow) []cell {
	count := func(n int64) cell { return cell{text: formatCount(n)} }
	both := func(n, cents int64) cell { return cell{text: formatCount(n) + "\n" + formatEuros(cents)} }
	rate := cell{text: "—"}
	if f.IssuedCents > 0 {
		rate.text = formatPercent(f.RedeemedCents, f.IssuedCents, 1)
	}
	label := cell{text: f.Label, bold: true}
	// The Go fonts have no ✓ or ✗: words say it, and the colour.
	control := cell{text: "OK"}
	if !f.InvariantHolds {
		label.ink = red
		control = cell{text: "ÉCART", bold: true, ink: red}
	}
	// A batch without activation records no hand-over: its chéquiers are
	// neither handed out nor waiting, and the row says so.
	handed, waiting := count(f.ChequiersActivated), count(f.ChequiersNotHandedOut)
	if f.ChequiersUntracked > 0 && f.ChequiersUntracked == f.ChequiersPrinted {
		handed, waiting = cell{text: "remise\nnon suivie", ink: grey}, cell{text: "—", ink: grey}
	}
	return []cell{
		label,
		count(f.ChequiersPrinted), handed, waiting, count(f.ChequiersUntracked), count(f.ChequiersStarted),
		both(f.VouchersIssued, f.IssuedCents), both(f.VouchersRedeemed, f.RedeemedCents), both(f.VouchersVoided, f.VoidedCents),
		both(f.VouchersExpired, f.ExpiredCents), both(f.VouchersOutstanding, f.OutstandingCents),
		rate, {text: formatEuros(f.UnusedCents), bold: true}, control,
	}
}

func (rd *reportDrawer) figures(title, label string, rows []FigureRow, none string) {
	rd.section(title, 25)
	if len(rows) == 0 {
		rd.note(grey, none)
		rd.y += 6
		return
	}
	cells := make([][]cell, len(rows))
	gap := false
	for i := range rows {
		cells[i] = figureCells(&rows[i])
		gap = gap || !rows[i].InvariantHolds
	}
	t := table{x: rpL, cols: figureColumns(label), groups: figureGroups, size: 7.5, leading: 3.3, bottom: rpBottom, newPage: rd.newPage}
	rd.y = t.draw(rd.d, rd.y, cells)
	rd.note(grey, "Remise non suivie : chéquiers des lots sans activation, utilisables dès l'impression ; leur remise n'est pas enregistrée. "+
		"Taux d'utilisation : valeur des chèques utilisés rapportée à celle des chèques émis. "+
		"Contrôle : les chèques émis sont ceux en circulation, utilisés, annulés ou expirés, en nombre et en valeur.")
	if gap {
		rd.note(red, "ÉCART : sur les lignes marquées, les chèques émis ne sont pas la somme des chèques en circulation, "+
			"utilisés, annulés et expirés. Ces chiffres sont à vérifier avant toute restitution au financeur.")
	}
	rd.y += 6
}

// chart draws the redemptions per month as bars, in euros.
func (rd *reportDrawer) chart() {
	const plotH, axisW = 52.0, 24.0
	months := rd.r.Months
	d := rd.d
	rd.section("Encaissements par mois", plotH+28)
	if len(months) == 0 {
		rd.note(grey, "Aucun encaissement.")
		rd.y += 6
		return
	}
	var maxCents, vouchers, total int64
	for _, m := range months {
		maxCents = max(maxCents, m.Cents)
		vouchers += m.Vouchers
		total += m.Cents
	}
	d.ink(black)
	d.font("", 8.5)
	d.left(rpL, rd.y+1, fmt.Sprintf("En euros. Sur ces %s mois : %s chèques encaissés, %s.",
		formatCount(len(months)), formatCount(vouchers), formatEuros(total)))
	top := rd.y + 6
	base := top + plotH
	px, pw := rpL+axisW, rpW-axisW
	step := niceStep((maxCents + 3) / 4)
	ticks := max((maxCents+step-1)/step, 1)
	scale := plotH / float64(ticks*step)

	d.font("", 7)
	d.ink(grey)
	for k := int64(0); k <= ticks; k++ {
		y := base - float64(k*step)*scale
		d.hairline(grey, 0.1)
		if k == 0 {
			d.hairline(black, 0.3)
		}
		d.Line(px, y, px+pw, y)
		d.right(px-1.5, y+1, formatEuros(k*step))
	}

	slot := pw / float64(len(months))
	barW := min(slot*0.7, 14)
	labelW := 0.0
	for _, l := range rd.months {
		labelW = max(labelW, d.width(l))
	}
	// Labels stand upright under their bars when there are too many
	// months for them to fit side by side.
	upright := labelW > slot-1
	d.SetFillColor(blue.r, blue.g, blue.b)
	for i, m := range months {
		cx := px + slot*(float64(i)+0.5)
		if h := float64(m.Cents) * scale; h > 0 {
			d.Rect(cx-barW/2, base-h, barW, h, "F")
		}
		d.ink(black)
		d.font("", 7)
		if upright {
			d.TransformBegin()
			d.TransformRotate(90, cx+1, base+2)
			d.right(cx+1, base+2, rd.months[i])
			d.TransformEnd()
			continue
		}
		d.centre(cx, base+4, rd.months[i])
		if v := formatEuros(m.Cents); d.width(v) <= slot-1 {
			d.ink(grey)
			d.centre(cx, base-float64(m.Cents)*scale-1.2, v)
		}
	}
	if upright {
		rd.y = base + labelW + 6
	} else {
		rd.y = base + 10
	}
}

// niceStep returns the smallest step of 1, 2 or 5 times a power of ten
// euros that is at least target cents, so that the axis reads "0 €, 5 000 €,
// 10 000 €".
func niceStep(target int64) int64 {
	for magnitude := int64(100); ; magnitude *= 10 {
		for _, f := range []int64{1, 2, 5} {
			if f*magnitude >= target {
				return f * magnitude
			}
		}
	}
}

func (rd *reportDrawer) venues() {
	rd.section("Lieux qui ont le plus encaissé", 20)
	venues := rd.r.TopVenues[:min(len(rd.r.TopVenues), maxTopVenues)]
	if len(venues) == 0 {
		rd.note(grey, "Aucun lieu n'a encaissé de chèque.")
		rd.y += 6
		return
	}
	cells := make([][]cell, len(venues))
	for i, v := range venues {
		cells[i] = []cell{{text: strconv.Itoa(i + 1)}, {text: v.Name, bold: true}, {text: formatCount(v.Vouchers)}, {text: formatEuros(v.Cents)}}
	}
	t := table{x: rpL, size: 8, leading: 3.5, bottom: rpBottom, newPage: rd.newPage, cols: []column{
		{title: "Rang", w: 14, right: true},
		{title: "Lieu", w: 140},
		{title: "Chèques encaissés", w: 35, right: true},
		{title: "Montant", w: 35, right: true},
	}}
	rd.y = t.draw(rd.d, rd.y, cells) + 8
}

func (rd *reportDrawer) settlements() {
	rd.section("Remboursements aux lieux", 20)
	if len(rd.r.Settlements) == 0 {
		rd.note(grey, "Aucune période de remboursement.")
		return
	}
	cells := make([][]cell, len(rd.r.Settlements))
	for i, s := range rd.r.Settlements {
		period := s.Period
		if t, err := time.Parse("2006-01", s.Period); err == nil {
			period = formatMonth(t.Year(), t.Month())
		}
		state := cell{text: "en cours", ink: grey}
		if s.Closed {
			state = cell{text: "clôturée"}
		}
		cells[i] = []cell{{text: period}, {text: s.Department}, {text: formatCount(s.Venues)}, {text: formatSignedEuros(s.NetCents), bold: true}, state}
	}
	t := table{x: rpL, size: 8, leading: 3.5, bottom: rpBottom, newPage: rd.newPage, cols: []column{
		{title: "Période", w: 30},
		{title: "Département", w: 60},
		{title: "Lieux remboursés", w: 35, right: true},
		{title: "Net des relevés", w: 35, right: true},
		{title: "État", w: 24},
	}}
	rd.y = t.draw(rd.d, rd.y, cells)
}
