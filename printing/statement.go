package printing

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"passnum/voucher"
)

// Statement is what a venue is paid for one settlement period by one
// département.
type Statement struct {
	Reference             string      // "REL-78-2026-10-0042": printed, and the SEPA remittance text
	DepartmentCode        string      // "78"
	DepartmentName        string      // "Yvelines"
	PayerName             string      // the paying office, "Paierie départementale des Yvelines"; empty if not given yet
	ContactPhone          string      // the département's number for the programme; empty if not given
	TransferDay           voucher.Day // the day the transfer is planned for (settlement.TransferDay)
	VenueID               int64
	VenueName             string
	VenueSIRET            string // 14 digits; empty for a venue that has not given it yet
	VenueAddress          string // may contain line feeds
	VenueIBAN             string // printed masked but for its first and last 4 characters; empty if not given yet
	PeriodStart           voucher.Day
	PeriodEnd             voucher.Day     // inclusive
	ClosedAt              time.Time       // when the period was closed; also the PDF's date
	Lines                 []StatementLine // printed in time order, whatever their order here
	GrossCents            int64           // sum of the redemption lines
	ReversedCents         int64           // minus the sum of the reversal lines: a positive number
	AdjustmentCents       int64           // sum of the adjustment lines, signed
	CommissionBasisPoints int64           // 0: no commission; 150: 1.50 %
	CommissionCents       int64
	NetCents              int64 // Gross - Reversed + Adjustment - Commission: what the venue is paid
}

// StatementLine is one redemption, reversal or adjustment of a statement.
type StatementLine struct {
	At            time.Time // scan time of a redemption, time of a reversal, creation time of an adjustment
	Kind          string    // LineRedemption, LineReversal or LineAdjustment
	RedemptionID  int64     // 0 for an adjustment that concerns no redemption
	VoucherNumber string    // printed number, "0000 0001 952"; empty for adjustments
	Label         string    // the reason of an adjustment; empty otherwise
	AmountCents   int64     // positive for redemptions, negative for reversals, signed for adjustments
}

// The kinds of statement lines.
const (
	LineRedemption = "redemption"
	LineReversal   = "reversal"
	LineAdjustment = "adjustment"
)

const (
	// maxCents bounds every amount the documents print: ten billion euros,
	// a hundred times a national programme. More is a bug upstream, and
	// the bound keeps every sum the checks make far from overflowing.
	maxCents = 1_000_000_000_000
	// maxStatementLines is fifty times a busy venue's month (about 2,000
	// lines, 36 pages).
	maxStatementLines = 100_000
)

// RenderStatement writes the statement as an A4 PDF in French: who pays
// whom, for which period, every line, then the totals. It refuses a
// statement whose totals are not those of its lines, so that no venue is
// ever sent figures that do not add up. Nothing is written to w on error.
func RenderStatement(w io.Writer, s Statement) error {
	if w == nil {
		return errors.New("printing: nil writer")
	}
	if err := checkStatement(&s); err != nil {
		return err
	}
	// The settlement lists a reversal under its redemption and the
	// adjustments last; the venue reads its month day by day. A copy is
	// sorted: the caller's lines stay as they were.
	s.Lines = slices.Clone(s.Lines)
	slices.SortStableFunc(s.Lines, func(a, b StatementLine) int { return a.At.Compare(b.At) })
	d, err := renderPaged("Relevé de remboursement "+s.Reference, s.ClosedAt, func(d *pdfDoc, pages int) {
		drawStatement(d, &s, pages)
	})
	if err != nil {
		return err
	}
	if err := d.Output(w); err != nil {
		return fmt.Errorf("printing: writing the PDF: %w", err)
	}
	return nil
}

func checkStatement(s *Statement) error {
	if strings.TrimSpace(s.Reference) == "" {
		return fmt.Errorf("printing: statement of venue %d has no reference: give the one its settlement recorded", s.VenueID)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("printing: statement %s: %s", s.Reference, fmt.Sprintf(format, args...))
	}
	switch {
	case utf8.RuneCountInString(s.Reference) > 40:
		return fail("the reference is too long to print (at most 40 characters)")
	case !voucher.ValidDepartment(s.DepartmentCode):
		return fail("%q is not a département code", s.DepartmentCode)
	case utf8.RuneCountInString(s.DepartmentName) > 40:
		return fail("the département name is too long to print (at most 40 characters)")
	case utf8.RuneCountInString(s.PayerName) > 200 || utf8.RuneCountInString(s.ContactPhone) > 20:
		return fail("the payer's name or the contact phone is too long to print")
	case s.TransferDay != 0 && s.TransferDay < voucher.Today(s.ClosedAt):
		return fail("the transfer is planned on %s, before the period was closed", s.TransferDay)
	case strings.TrimSpace(s.VenueName) == "":
		return fail("venue %d has no name", s.VenueID)
	case utf8.RuneCountInString(s.VenueName) > 200:
		return fail("the venue name is too long to print (at most 200 characters)")
	case utf8.RuneCountInString(s.VenueAddress) > 300:
		return fail("the venue address is too long to print (at most 300 characters)")
	case s.VenueSIRET != "" && !isSIRET(s.VenueSIRET):
		return fail("SIRET %q is not 14 digits", s.VenueSIRET)
	case s.VenueIBAN != "" && !isIBAN(s.VenueIBAN):
		// The IBAN itself stays out of the message, which may be logged.
		return fail("the venue's IBAN is not an IBAN (15 to 34 letters and digits)")
	case s.PeriodEnd < s.PeriodStart:
		return fail("the period ends on %s, before it starts on %s", s.PeriodEnd, s.PeriodStart)
	case s.ClosedAt.IsZero():
		return fail("ClosedAt is not set: a statement is printed once its period is closed")
	case s.CommissionBasisPoints < 0 || s.CommissionBasisPoints > 10000:
		return fail("commission rate of %d basis points is not between 0 and 10000", s.CommissionBasisPoints)
	case s.CommissionBasisPoints == 0 && s.CommissionCents != 0:
		return fail("CommissionCents is %d without a commission rate", s.CommissionCents)
	case len(s.Lines) > maxStatementLines:
		return fail("%d lines; at most %d fit in one statement", len(s.Lines), maxStatementLines)
	}
	for _, f := range []struct {
		name  string
		cents int64
	}{{"GrossCents", s.GrossCents}, {"ReversedCents", s.ReversedCents}, {"CommissionCents", s.CommissionCents}} {
		if f.cents < 0 || f.cents > maxCents {
			return fail("%s is %d, not an amount between 0 and %d cents", f.name, f.cents, int64(maxCents))
		}
	}
	for _, f := range []struct {
		name  string
		cents int64
	}{{"AdjustmentCents", s.AdjustmentCents}, {"NetCents", s.NetCents}} {
		if f.cents < -maxCents || f.cents > maxCents {
			return fail("%s is %d, beyond ±%d cents", f.name, f.cents, int64(maxCents))
		}
	}
	var gross, reversed, adjustment int64
	for i := range s.Lines {
		l := &s.Lines[i]
		n := i + 1
		switch {
		case l.At.IsZero():
			return fail("line %d has no time", n)
		case l.AmountCents < -maxCents || l.AmountCents > maxCents:
			return fail("line %d: %d cents is beyond ±%d", n, l.AmountCents, int64(maxCents))
		case utf8.RuneCountInString(l.VoucherNumber) > 24:
			return fail("line %d: voucher number %q is too long to print", n, l.VoucherNumber)
		}
		switch l.Kind {
		case LineRedemption, LineReversal:
			if l.RedemptionID <= 0 || l.VoucherNumber == "" {
				return fail("line %d: a %s needs its redemption id and voucher number", n, l.Kind)
			}
			if l.Kind == LineRedemption {
				if l.AmountCents <= 0 {
					return fail("line %d: a redemption of %d cents; it must be positive", n, l.AmountCents)
				}
				gross += l.AmountCents
			} else {
				if l.AmountCents >= 0 {
					return fail("line %d: a reversal of %d cents; it must be negative", n, l.AmountCents)
				}
				reversed -= l.AmountCents
			}
		case LineAdjustment:
			if l.AmountCents == 0 || strings.TrimSpace(l.Label) == "" {
				return fail("line %d: an adjustment needs a non-zero amount and its reason in Label", n)
			}
			if utf8.RuneCountInString(l.Label) > 200 {
				return fail("line %d: the adjustment's reason is too long to print (at most 200 characters)", n)
			}
			adjustment += l.AmountCents
		default:
			return fail("line %d: kind %q is not %q, %q or %q", n, l.Kind, LineRedemption, LineReversal, LineAdjustment)
		}
	}
	for _, f := range []struct {
		name      string
		got, want int64
		what      string
	}{
		{"GrossCents", s.GrossCents, gross, "the redemption lines add up to"},
		{"ReversedCents", s.ReversedCents, reversed, "the reversal lines add up to minus"},
		{"AdjustmentCents", s.AdjustmentCents, adjustment, "the adjustment lines add up to"},
		{"NetCents", s.NetCents, gross - reversed + adjustment - s.CommissionCents, "gross - reversed + adjustment - commission is"},
	} {
		if f.got != f.want {
			return fail("%s is %d cents but %s %d: the figures do not add up, nothing was printed", f.name, f.got, f.what, f.want)
		}
	}
	return nil
}

func isSIRET(s string) bool {
	if len(s) != 14 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// compactIBAN is an IBAN as written in a file: no spaces, upper case.
func compactIBAN(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, " ", ""))
}

// isIBAN checks the shape of an IBAN (country, check digits, account), not
// its checksum: the settlement checked it when the venue gave it, and a
// statement must still print the account that was paid.
func isIBAN(s string) bool {
	s = compactIBAN(s)
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	for i, r := range s {
		letter, digit := r >= 'A' && r <= 'Z', r >= '0' && r <= '9'
		if (i < 2 && !letter) || (i >= 2 && i < 4 && !digit) || (!letter && !digit) {
			return false
		}
	}
	return true
}

// maskIBAN shows the country, the check digits and the last 4 characters
// of an IBAN, enough for a venue to recognise its account: a statement is
// passed around and filed, and must not hand out the full account.
// "FR76 **** **** **** **** ***0 189".
func maskIBAN(s string) string {
	if s == "" {
		return "non renseigné"
	}
	s = compactIBAN(s)
	s = s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// formatSIRET groups a SIRET as the INSEE prints it: SIREN in threes, then
// the establishment number, "123 456 789 00012".
func formatSIRET(s string) string {
	return s[0:3] + " " + s[3:6] + " " + s[6:9] + " " + s[9:]
}

// Statement geometry: portrait A4, millimetres.
const (
	stL      = 15.0  // left margin
	stW      = 180.0 // width of the text
	stBottom = 280.0 // no table row goes below this
	stFooter = 289.0 // baseline of the page footer
)

var statementColumns = []column{
	{title: "Date et heure", w: 28},
	{title: "Encaissement", w: 24},
	{title: "Chèque", w: 30},
	{title: "Libellé", w: 68},
	{title: "Montant", w: 30, right: true},
}

func drawStatement(d *pdfDoc, s *Statement, pages int) {
	newPage := func() float64 {
		d.AddPage()
		d.color = rgb{-1, -1, -1} // fpdf resets text colour per page
		statementFooter(d, s, pages)
		if d.PageNo() == 1 {
			return statementHeader(d, s)
		}
		return statementRunningHeader(d, s)
	}
	y := newPage()
	if len(s.Lines) == 0 {
		d.ink(black)
		d.font("", 10)
		d.left(stL, y+5, "Aucun encaissement sur la période.")
		y += 14
	} else {
		rows := make([][]cell, len(s.Lines))
		for i := range s.Lines {
			rows[i] = statementRow(&s.Lines[i])
		}
		t := table{x: stL, cols: statementColumns, size: 8, leading: 3.4, bottom: stBottom, newPage: newPage}
		y = t.draw(d, y, rows) + 8
	}
	statementTotals(d, s, y, newPage)
}

func statementRow(l *StatementLine) []cell {
	id := ""
	if l.RedemptionID > 0 {
		id = strconv.FormatInt(l.RedemptionID, 10)
	}
	var label string
	switch l.Kind {
	case LineRedemption:
		label = "Chèque encaissé"
	case LineReversal:
		label = "Annulation de l'encaissement"
	case LineAdjustment:
		label = "Régularisation : " + l.Label
	}
	return []cell{
		{text: formatDateTime(l.At)},
		{text: id},
		{text: l.VoucherNumber},
		{text: label},
		{text: formatSignedEuros(l.AmountCents)},
	}
}

// statementHeader draws the first page's header: who pays whom, for what,
// and returns the y where the table starts.
func statementHeader(d *pdfDoc, s *Statement) float64 {
	const r = stL + stW
	d.ink(blue)
	d.font("B", 10)
	d.left(stL, 18, defaultProgramme+" · "+departmentLabel(s.DepartmentCode, s.DepartmentName))
	d.ink(black)
	d.font("B", 18)
	d.left(stL, 27, "Relevé de remboursement")
	d.ink(grey)
	d.font("", 8)
	d.right(r, 17, "Référence (libellé du virement)")
	d.ink(black)
	d.fit("B", 11, 80, s.Reference)
	d.right(r, 23, s.Reference)

	// Two boxes: the payer, and the venue paid.
	const top, gap = 35.0, 6.0
	lw := 70.0
	rx, rw := stL+lw+gap, stW-lw-gap
	d.ink(grey)
	d.font("", 8)
	d.left(stL+3, top+5, "Payeur")
	d.left(rx+3, top+5, "Structure remboursée")
	d.ink(black)
	d.font("B", 11)
	payer := s.PayerName
	if payer == "" {
		payer = departmentLabel(s.DepartmentCode, s.DepartmentName)
	}
	ly := d.paragraph(stL+3, top+10.5, lw-6, 4.6, payer)
	d.font("", 9)
	ly = d.paragraph(stL+3, ly, lw-6, 4, "pour le département "+departmentLabel(s.DepartmentCode, s.DepartmentName)+", financeur du "+defaultProgramme)
	if s.ContactPhone != "" {
		ly = d.paragraph(stL+3, ly, lw-6, 4, "Contact : "+strings.ReplaceAll(s.ContactPhone, " ", nbsp))
	}

	d.font("B", 11)
	vy := d.paragraph(rx+3, top+10.5, rw-6, 4.6, s.VenueName)
	d.font("", 9)
	info := "Structure n°" + nbsp + strconv.FormatInt(s.VenueID, 10)
	if s.VenueSIRET != "" {
		info += " · SIRET " + formatSIRET(s.VenueSIRET)
	} else {
		info += " · SIRET non renseigné"
	}
	vy = d.paragraph(rx+3, vy, rw-6, 4, info)
	if strings.TrimSpace(s.VenueAddress) != "" {
		vy = d.paragraph(rx+3, vy, rw-6, 4, strings.TrimSpace(s.VenueAddress))
	}
	d.left(rx+3, vy, "IBAN "+maskIBAN(s.VenueIBAN))

	// paragraph returns the baseline after its last line: the boxes end
	// under the lower of the two last lines.
	h := max(ly-4, vy) + 3 - top
	d.hairline(grey, 0.25)
	d.Rect(stL, top, lw, h, "D")
	d.hairline(blue, 0.35)
	d.Rect(rx, top, rw, h, "D")

	y := top + h + 8
	row := func(label, value string, bold bool) {
		d.ink(grey)
		d.font("", 9.5)
		d.left(stL, y, label)
		d.ink(black)
		style := ""
		if bold {
			style = "B"
		}
		d.fit(style, 9.5, stW-42, value)
		d.left(stL+42, y, value)
		y += 5.5
	}
	row("Période", "du "+formatLongDay(s.PeriodStart)+" au "+formatLongDay(s.PeriodEnd), true)
	row("Période clôturée le", formatDateTime(s.ClosedAt), false)
	row("Net à payer", formatSignedEuros(s.NetCents), true)
	if s.TransferDay != 0 && s.NetCents > 0 && s.VenueIBAN != "" {
		row("Virement prévu le", formatLongDay(s.TransferDay), true)
	}
	return y + 2
}

// statementRunningHeader reminds, on every page after the first, whose
// statement the page belongs to: pages get separated.
func statementRunningHeader(d *pdfDoc, s *Statement) float64 {
	d.ink(blue)
	d.font("B", 9)
	head := "Relevé de remboursement " + s.Reference
	d.left(stL, 14, head)
	d.ink(grey)
	d.fit("", 9, stW-d.width(head)-8, s.VenueName)
	d.right(stL+stW, 14, s.VenueName)
	d.font("", 8)
	d.left(stL, 18.5, "Période du "+formatLongDay(s.PeriodStart)+" au "+formatLongDay(s.PeriodEnd))
	d.right(stL+stW, 18.5, departmentLabel(s.DepartmentCode, s.DepartmentName))
	d.hairline(grey, 0.2)
	d.Line(stL, 20.5, stL+stW, 20.5)
	return 24
}

func statementFooter(d *pdfDoc, s *Statement, pages int) {
	d.ink(grey)
	d.font("", 7.5)
	d.left(stL, stFooter, "Relevé "+s.Reference+" · "+defaultProgramme+" · document produit par passnum")
	d.right(stL+stW, stFooter, fmt.Sprintf("Page %d / %d", d.PageNo(), pages))
}

// statementTotals draws the totals block from y, on a new page if it does
// not fit under the table.
func statementTotals(d *pdfDoc, s *Statement, y float64, newPage func() float64) {
	const h = 58.0
	if y+h > stBottom {
		y = newPage()
	}
	var redemptions, reversals, adjustments int
	for _, l := range s.Lines {
		switch l.Kind {
		case LineRedemption:
			redemptions++
		case LineReversal:
			reversals++
		case LineAdjustment:
			adjustments++
		}
	}
	const w = 105.0
	x, r := stL+stW-w, stL+stW
	d.ink(blue)
	d.font("B", 11)
	d.left(x, y+5, "Récapitulatif")
	d.hairline(blue, 0.3)
	d.Line(x, y+7, r, y+7)
	y += 13
	line := func(label string, cents int64) {
		d.ink(black)
		d.font("", 9.5)
		d.left(x, y, label)
		d.right(r, y, formatSignedEuros(cents))
		y += 5.5
	}
	line("Chèques encaissés ("+formatCount(redemptions)+")", s.GrossCents)
	line("Annulations ("+formatCount(reversals)+")", -s.ReversedCents)
	line("Régularisations ("+formatCount(adjustments)+")", s.AdjustmentCents)
	if s.CommissionBasisPoints > 0 {
		line("Commission ("+formatPercent(s.CommissionBasisPoints, 10000, 2)+")", -s.CommissionCents)
	}
	d.hairline(black, 0.4)
	d.Line(x, y-2.5, r, y-2.5)
	y += 3
	d.font("B", 12)
	d.left(x, y, "Net à payer")
	d.right(r, y, formatSignedEuros(s.NetCents))
	y += 8
	d.ink(grey)
	d.font("", 8.5)
	if s.VenueIBAN == "" {
		d.ink(red)
		d.paragraph(x, y, w, 4, "Aucun IBAN n'est enregistré pour cette structure : le virement ne peut pas être fait. "+
			"Communiquez votre IBAN au département pour être payé.")
		return
	}
	d.paragraph(x, y, w, 4, "Virement sur le compte "+maskIBAN(s.VenueIBAN)+", avec le libellé « "+s.Reference+" ».")
}

// A table's column: its title, its width in mm, and whether its cells are
// aligned on the right, as numbers are so that their digits line up.
type column struct {
	title string
	w     float64
	right bool
}

// group titles adjacent columns, in a row above their own titles.
type group struct {
	title string
	span  int
}

// cell is what a row shows in one column; the zero ink is black.
type cell struct {
	text string // may hold line feeds
	bold bool
	ink  rgb
}

// table draws rows under a header, over as many pages as it takes, with
// the header again at the top of each page. The statement and the
// programme report use it.
type table struct {
	x       float64
	cols    []column
	groups  []group // optional; their spans add up to len(cols)
	size    float64 // font size, points
	leading float64 // line height, mm
	bottom  float64 // no row goes below this
	newPage func() float64
}

// cellPad is the space between a cell's text and its column's edges.
const cellPad = 1.2

func (t *table) width() float64 {
	w := 0.0
	for _, c := range t.cols {
		w += c.w
	}
	return w
}

func (t *table) titleLines(d *pdfDoc) (lines [][]string, n int) {
	d.font("B", t.size)
	lines = make([][]string, len(t.cols))
	for i, c := range t.cols {
		lines[i] = d.wrap(c.title, c.w-2*cellPad)
		n = max(n, len(lines[i]))
	}
	return lines, n
}

func (t *table) headerHeight(d *pdfDoc) float64 {
	_, n := t.titleLines(d)
	h := float64(n)*t.leading + 1.4
	if len(t.groups) > 0 {
		h += t.leading + 1
	}
	return h
}

// header draws the column titles from y and returns the y below them.
func (t *table) header(d *pdfDoc, y float64) float64 {
	d.ink(grey)
	d.font("B", t.size)
	d.hairline(grey, 0.2)
	if len(t.groups) > 0 {
		x, i := t.x, 0
		for _, g := range t.groups {
			w := 0.0
			for _, c := range t.cols[i : i+g.span] {
				w += c.w
			}
			if g.title != "" {
				d.centre(x+w/2, y+t.leading*0.78, g.title)
				d.Line(x+cellPad, y+t.leading+0.3, x+w-cellPad, y+t.leading+0.3)
			}
			x += w
			i += g.span
		}
		y += t.leading + 1
	}
	lines, n := t.titleLines(d)
	x := t.x
	for i, c := range t.cols {
		// Titles sit on the rule, over the first line of their column.
		for k, l := range lines[i] {
			by := y + float64(n-len(lines[i])+k)*t.leading + t.leading*0.78
			if c.right {
				d.right(x+c.w-cellPad, by, l)
			} else {
				d.left(x+cellPad, by, l)
			}
		}
		x += c.w
	}
	y += float64(n)*t.leading + 0.8
	d.hairline(black, 0.3)
	d.Line(t.x, y, t.x+t.width(), y)
	return y + 0.6
}

// layout breaks a row's cells into lines: text on the left wraps, numbers
// on the right only break at line feeds (they shrink instead).
func (t *table) layout(d *pdfDoc, row []cell) (lines [][]string, h float64) {
	lines = make([][]string, len(row))
	n := 1
	for i, c := range row {
		if t.cols[i].right {
			lines[i] = strings.Split(c.text, "\n")
		} else {
			d.font(styleOf(c.bold), t.size)
			lines[i] = d.wrap(c.text, t.cols[i].w-2*cellPad)
		}
		n = max(n, len(lines[i]))
	}
	return lines, float64(n)*t.leading + 1
}

func styleOf(bold bool) string {
	if bold {
		return "B"
	}
	return ""
}

// draw draws the header and the rows from y, starting a new page (and
// repeating the header) when a row does not fit, and returns the y below
// the last row. A header is never left alone at the bottom of a page.
func (t *table) draw(d *pdfDoc, y float64, rows [][]cell) float64 {
	if len(rows) > 0 {
		if _, h := t.layout(d, rows[0]); y+t.headerHeight(d)+h > t.bottom {
			y = t.newPage()
		}
	}
	y = t.header(d, y)
	for i, row := range rows {
		lines, h := t.layout(d, row)
		if y+h > t.bottom {
			y = t.header(d, t.newPage())
		}
		if i%2 == 1 {
			d.SetFillColor(shade.r, shade.g, shade.b)
			d.Rect(t.x, y, t.width(), h, "F")
		}
		x := t.x
		for j, c := range row {
			col := t.cols[j]
			d.ink(c.ink)
			for k, l := range lines[j] {
				by := y + 0.5 + float64(k)*t.leading + t.leading*0.78
				if col.right {
					d.fit(styleOf(c.bold), t.size, col.w-2*cellPad, l)
					d.right(x+col.w-cellPad, by, l)
				} else {
					d.font(styleOf(c.bold), t.size)
					d.left(x+cellPad, by, l)
				}
			}
			x += col.w
		}
		y += h
	}
	return y
}
