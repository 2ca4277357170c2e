package printing

import (
	"fmt"
	"passnum"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"
)

// Geometry of the A4Sheets voucher grid: 2 × 5 cells of 95 × 55 mm, abutting
// so that each cutting line is one guillotine cut, centred on the page with
// margins of 10 mm and 11 mm that hold the crop marks.
const (
	gridCols  = 2
	gridRows  = 5
	gridCells = gridCols * gridRows
	cellW     = 95.0
	cellH     = 55.0
	gridX     = (a4W - gridCols*cellW) / 2
	gridY     = (a4H - gridRows*cellH) / 2
)

// Module sizes, in dots of 1/300 inch (see qr.go). At 150 dpi, the
// resolution the tests decode at, a module is 4.5 to 9 pixels.
const (
	a4VoucherModule  = 9  // 0.762 mm: the symbol is 31.2 mm, 37.3 mm with its quiet zone
	a6VoucherModule  = 12 // 1.016 mm: 41.7 mm, 49.8 mm with its quiet zone
	activationModule = 9  // 0.762 mm on an A6 cover, twice that on an A4 cover
)

// Booklet A6 pages keep a stub on the left for the staples; vouchers are
// torn off along its dashed line.
const stubW = 13.0

// Where things are, for the tests that read the printed pages back.

// cellOrigin is the top left of grid cell i on an A4Sheets voucher page.
func cellOrigin(i int) (x, y float64) {
	return gridX + float64(i%gridCols)*cellW, gridY + float64(i/gridCols)*cellH
}

// slotOrigin is the top left of booklet slot q (0..3 for A..D).
func slotOrigin(q int) (x, y float64) {
	return float64(q%2) * a6W, float64(q/2) * a6H
}

func a4VoucherQR(x, y float64) (qx, qy float64) { return x + 2, y + 2 }

// a6VoucherQR is on the left, the venue's stamp box beside it.
func a6VoucherQR(x, y float64) (qx, qy float64) {
	return x + stubW + 3, y + 42
}

// coverContent returns the left edge of a cover's content column, in A6
// design units: booklet covers leave the stub for the staples.
func coverContent(stub bool) float64 {
	if stub {
		return stubW + 5
	}
	return (a6W - coverW) / 2
}

const coverW = 80.0

// coverQR is where the activation block sits in A6 design units.
func coverQR(stub bool) (x, y float64) { return coverContent(stub) + 1.5, coverBoxTop + 6.5 }

// The activation block at the bottom of the second cover page, in A6
// design units.
const (
	coverBoxTop = 103.0
	coverBoxH   = 41.0
)

type pageContext struct {
	b    Batch
	opt  Options
	fp   *filePlan
	next func() (qrMatrix, error)
}

func (pc *pageContext) qrFor(it item) (qrMatrix, error) {
	m, err := pc.next()
	if err != nil {
		c := &pc.fp.chequiers[it.ch]
		if it.kind == itemCover {
			return m, fmt.Errorf("printing: chéquier %s, activation code: %w", c.Number, err)
		}
		return m, fmt.Errorf("printing: chéquier %s, voucher %d (%s): %w", c.Number, c.Vouchers[it.v].Position, c.Vouchers[it.v].Number, err)
	}
	return m, nil
}

func (pc *pageContext) departmentLabel() string {
	if pc.b.DepartmentName == "" {
		return "Département " + pc.b.Department
	}
	return pc.b.DepartmentName + " (" + pc.b.Department + ")"
}

// drawPage draws one page of the plan.
func (pc *pageContext) drawPage(d *pdfDoc, pg pagePlan, index int) error {
	d.AddPage()
	d.color = rgb{-1, -1, -1} // fpdf resets text colour per page
	switch pg.kind {
	case pageSummary:
		pc.drawSummary(d)
	case pageCover:
		it := pg.items[0]
		// An A4 cover page is the A6 design at twice the size: the same
		// texts, larger for readers with poor sight.
		d.TransformBegin()
		d.TransformScale(200, 200, 0, 0)
		err := pc.drawCoverPage(d, it, 0, 0, false)
		d.TransformEnd()
		if err != nil {
			return err
		}
	case pageVouchers:
		pc.cropMarksA4(d)
		c := &pc.fp.chequiers[pg.items[0].ch]
		first, last := c.Vouchers[pg.items[0].v].Position, c.Vouchers[pg.items[len(pg.items)-1].v].Position
		d.font("", 6)
		d.ink(grey)
		d.left(gridX+12, 6.5, fmt.Sprintf("Lot %d · chéquier %s · chèques %d à %d sur %d · page %d",
			pc.b.ID, c.Number, first, last, c.size(), index+1))
		for i, it := range pg.items {
			m, err := pc.qrFor(it)
			if err != nil {
				return err
			}
			x, y := cellOrigin(i)
			pc.drawVoucherA4(d, it, m, x, y)
		}
	case pageSheet:
		pc.cutMarksSheet(d)
		for q, it := range pg.items {
			x, y := slotOrigin(q)
			switch it.kind {
			case itemCover, itemInside:
				if err := pc.drawCoverPage(d, it, x, y, true); err != nil {
					return err
				}
				pc.stub(d, x, y, it, pg.sheet, q, false)
			case itemVoucher:
				m, err := pc.qrFor(it)
				if err != nil {
					return err
				}
				pc.drawVoucherA6(d, it, m, x, y)
				pc.stub(d, x, y, it, pg.sheet, q, true)
			case itemBlank:
				d.font("", 7)
				d.ink(grey)
				d.centre(x+a6W/2, y+a6H/2, fmt.Sprintf("Page blanche (fin du fichier) · %c · feuille %d", 'A'+q, pg.sheet))
			}
		}
	}
	return nil
}

// cropMarksA4 marks every cutting line of the grid in the margins, 3 mm
// clear of the cells so that no mark shows on a voucher cut slightly off.
func (pc *pageContext) cropMarksA4(d *pdfDoc) {
	d.hairline(black, 0.2)
	const gap, length = 3.0, 6.0
	for c := 0; c <= gridCols; c++ {
		x := gridX + float64(c)*cellW
		d.Line(x, gridY-gap-length, x, gridY-gap)
		d.Line(x, gridY+gridRows*cellH+gap, x, gridY+gridRows*cellH+gap+length)
	}
	for r := 0; r <= gridRows; r++ {
		y := gridY + float64(r)*cellH
		d.Line(gridX-gap-length, y, gridX-gap, y)
		d.Line(gridX+gridCols*cellW+gap, y, gridX+gridCols*cellW+gap+length, y)
	}
}

// cutMarksSheet marks the two cuts of a booklet sheet at the sheet's edges
// (the A6 pages fill the sheet, so there is no margin outside them).
func (pc *pageContext) cutMarksSheet(d *pdfDoc) {
	d.hairline(black, 0.2)
	const length = 5.0
	d.Line(a6W, 0, a6W, length)
	d.Line(a6W, a4H-length, a6W, a4H)
	d.Line(0, a6H, length, a6H)
	d.Line(a4W-length, a6H, a4W, a6H)
}

func (pc *pageContext) drawVoucherA4(d *pdfDoc, it item, m qrMatrix, x, y float64) {
	c := &pc.fp.chequiers[it.ch]
	v := &c.Vouchers[it.v]
	qx, qy := a4VoucherQR(x, y)
	d.qr(m, qx, qy, a4VoucherModule)
	block := qrBlock(voucherQRVersion, a4VoucherModule)
	qc := qx + block/2
	d.ink(black)
	pos := "Chèque " + strconv.Itoa(v.Position) + " sur " + strconv.Itoa(c.size())
	d.fit("B", 8.5, block, pos)
	d.centre(qc, y+44, pos)
	d.ink(grey)
	num := "Chéquier n°" + nbsp + c.Number
	d.fit("", 7, block, num)
	d.centre(qc, y+48.5, num)

	tx := x + 41.0
	tw := x + cellW - 3 - tx
	head := pc.opt.ProgrammeName + " · " + pc.departmentLabel()
	d.ink(blue)
	d.fit("B", 8, tw, head)
	d.left(tx, y+6.5, head)
	d.ink(black)
	value := formatEuros(c.ValueCents)
	d.fit("B", 30, tw, value)
	d.left(tx, y+17.5, value)
	d.font("", 8.5)
	d.left(tx, y+23, "Valable jusqu’au "+c.ValidUntil.French())
	d.ink(grey)
	d.font("", 7)
	d.left(tx, y+28, "N° du chèque")
	d.left(tx, y+38, "Code de vérification")
	d.ink(black)
	d.fit("B", 13, tw, v.Number)
	d.left(tx, y+33.5, v.Number)
	d.fit("B", 13, tw, v.VerificationCode)
	d.left(tx, y+43.5, v.VerificationCode)
	stampBox(d, tx, y+45.5, tw, 8)
}

// stampBox is where the venue stamps and dates a voucher it took: the
// beneficiary keeps a trace, the venue a proof in its own hand.
func stampBox(d *pdfDoc, x, y, w, h float64) {
	d.hairline(grey, 0.25)
	d.SetDashPattern([]float64{1, 0.8}, 0)
	d.Rect(x, y, w, h, "D")
	d.SetDashPattern(nil, 0)
	d.ink(grey)
	d.font("", 6.5)
	d.left(x+1.2, y+2.8, "Cachet du lieu et date")
}

func (pc *pageContext) drawVoucherA6(d *pdfDoc, it item, m qrMatrix, x, y float64) {
	c := &pc.fp.chequiers[it.ch]
	v := &c.Vouchers[it.v]
	l := x + stubW + 4
	w := a6W - stubW - 8
	cx := l + w/2
	d.ink(blue)
	d.fit("B", 11, w, pc.opt.ProgrammeName)
	d.centre(cx, y+12, pc.opt.ProgrammeName)
	d.ink(black)
	dep := pc.departmentLabel()
	d.fit("", 9.5, w, dep)
	d.centre(cx, y+17, dep)
	value := formatEuros(c.ValueCents)
	d.fit("B", 42, w, value)
	d.centre(cx, y+32, value)
	d.font("", 11)
	d.centre(cx, y+38.5, "Valable jusqu’au "+c.ValidUntil.French())
	qx, qy := a6VoucherQR(x, y)
	d.qr(m, qx, qy, a6VoucherModule)
	block := qrBlock(voucherQRVersion, a6VoucherModule)
	// The venue's stamp goes beside the QR code, where it hides nothing
	// that is scanned or typed.
	sx := qx + block + 2
	stampBox(d, sx, qy+1, l+w-sx, block-2)
	by := qy + block
	d.ink(grey)
	d.font("", 8)
	d.centre(cx, by+4.5, "N° du chèque")
	d.centre(cx, by+18.5, "Code de vérification")
	d.ink(black)
	d.fit("B", 18, w, v.Number)
	d.centre(cx, by+12, v.Number)
	d.fit("B", 18, w, v.VerificationCode)
	d.centre(cx, by+26, v.VerificationCode)
	line := fmt.Sprintf("Chéquier n°%s%s · chèque %d sur %d", nbsp, c.Number, v.Position, c.size())
	d.fit("", 9, w, line)
	d.centre(cx, by+34, line)
	d.font("", 9)
	d.centre(cx, by+40, "Ne peut être ni échangé ni remboursé.")
}

// stub draws a booklet page's staple margin: the tear line on vouchers,
// and, written along it, what the page is and where it sits in the stack,
// so that a dropped pile can be put back in order.
func (pc *pageContext) stub(d *pdfDoc, x, y float64, it item, sheet, slot int, tear bool) {
	c := &pc.fp.chequiers[it.ch]
	if tear {
		d.hairline(grey, 0.25)
		d.SetDashPattern([]float64{1.5, 1.5}, 0)
		d.Line(x+stubW, y+6, x+stubW, y+a6H-6)
		d.SetDashPattern(nil, 0)
	}
	label := "Couverture · chéquier n°" + nbsp + c.Number
	switch it.kind {
	case itemInside:
		label = "Couverture (suite) · chéquier n°" + nbsp + c.Number
	case itemVoucher:
		label = fmt.Sprintf("Chèque %d/%d · chéquier n°%s%s", c.Vouchers[it.v].Position, c.size(), nbsp, c.Number)
	}
	pos := fmt.Sprintf("%c · feuille %d · page %d", 'A'+slot, sheet, it.page)
	d.TransformBegin()
	d.TransformRotate(90, x+8, y+a6H-8)
	d.ink(grey)
	d.font("", 6.5)
	d.left(x+8, y+a6H-8, label)
	d.font("", 5.5)
	d.right(x+8+a6H-16, y+a6H-8, pos)
	d.TransformEnd()
}

// Cover text sizes, in points on the A6 design (twice that on A4): body
// text of 12 pt at least, as plain-language guides ask.
const (
	coverBody    = 12.0
	coverHeading = 13.0
	coverLeading = 5.0 // mm between lines of body text
)

// drawCoverPage draws one of a chéquier's two cover pages on an A6 page
// at (x, y); the A4 cover pages are the same drawings scaled by two.
func (pc *pageContext) drawCoverPage(d *pdfDoc, it item, x, y float64, stub bool) error {
	l := x + coverContent(stub)
	w := coverW
	cx := l + w/2
	c := &pc.fp.chequiers[it.ch]

	d.SetFillColor(blue.r, blue.g, blue.b)
	d.Rect(l, y+7, w, 14, "F")
	d.ink(white)
	d.fit("B", 14, w-4, pc.opt.ProgrammeName)
	d.centre(cx, y+13.2, pc.opt.ProgrammeName)
	dep := pc.departmentLabel()
	d.fit("", coverBody, w-4, dep)
	d.centre(cx, y+18.8, dep)
	d.ink(black)
	if it.kind == itemCover {
		pc.drawFront(d, c, l, y, w)
		return nil
	}
	return pc.drawInside(d, it, c, l, x, y, w, stub)
}

// drawFront is the first cover page: what the chéquier is worth, until
// when, and how to use it.
func (pc *pageContext) drawFront(d *pdfDoc, c *Chequier, l, y, w float64) {
	d.font("B", 16)
	d.left(l, y+29, "Votre chéquier")
	n := len(c.Vouchers)
	count := fmt.Sprintf("%s %s de %s", formatCount(n), passnum.Plural(n, "chèque", "chèques"), formatEuros(c.ValueCents))
	d.fit("B", 14, w, count)
	d.left(l, y+35.5, count)
	d.font("", coverBody)
	ty := d.paragraph(l, y+41, w, coverLeading, "soit "+formatEuros(c.ValueCents*int64(n))+" pour apprendre le numérique.")
	d.font("B", coverBody)
	d.left(l, ty, "Valable jusqu’au "+c.ValidUntil.French())

	ty += 9
	d.ink(blue)
	d.font("B", coverHeading)
	d.left(l, ty, "Comment faire ?")
	d.ink(black)
	steps := []struct {
		picto func(d *pdfDoc, x, y float64)
		text  string
	}{
		{pictoPlace, "Trouvez un lieu «" + nbsp + pc.opt.ProgrammeName + nbsp + "» près de chez vous."},
		{pictoScreen, "Inscrivez-vous à un atelier sur le numérique."},
		{pictoVoucher, "Donnez un chèque par atelier. Le lieu le scanne."},
	}
	ty += 4
	for _, s := range steps {
		s.picto(d, l, ty)
		d.font("", coverBody)
		end := d.paragraph(l+pictoSize+3, ty+4.6, w-pictoSize-3, coverLeading, s.text)
		ty = max(end-coverLeading+3, ty+pictoSize) + 3
	}
	d.ink(grey)
	d.font("", coverBody)
	d.left(l, y+141, "Chéquier n°"+nbsp+c.Number)
}

// drawInside is the second cover page: where to go, what to know, whom to
// call when the chéquier is lost and, for a chéquier activated when it is
// handed over, the block of the person who hands it over.
func (pc *pageContext) drawInside(d *pdfDoc, it item, c *Chequier, l, x, y, w float64, stub bool) error {
	heading := func(ty float64, s string) float64 {
		d.ink(blue)
		d.font("B", coverHeading)
		d.left(l, ty, s)
		d.ink(black)
		d.font("", coverBody)
		return ty + 5.5
	}
	ty := heading(y+29, "Où aller ?")
	venues := pc.opt.VenuesInfo
	if venues == "" {
		venues = "Demandez la liste des lieux à la personne qui vous a remis ce chéquier."
	} else {
		venues = "Liste des lieux : " + venues
	}
	// The venues text is configurable: at most 160 characters, four lines.
	ty = d.paragraph(l, ty, w, coverLeading, venues) + 2
	ty = heading(ty, "À savoir")
	d.font("B", coverBody)
	ty = d.paragraph(l, ty, w, coverLeading, "Chaque chèque sert une seule fois.")
	d.font("", coverBody)
	ty = d.paragraph(l, ty, w, coverLeading, "Il ne peut être ni échangé ni remboursé.") + 2
	ty = heading(ty, "Chéquier perdu ?")
	if phone := pc.b.ContactPhone; phone != "" {
		ty = d.paragraph(l, ty, w, coverLeading, "Appelez le "+strings.ReplaceAll(phone, " ", nbsp)+".")
	} else {
		ty = d.paragraph(l, ty, w, coverLeading, "Retournez voir la structure qui vous l’a remis.")
	}
	if !c.RequiresActivation {
		return nil
	}
	m, err := pc.qrFor(it)
	if err != nil {
		return err
	}
	// The block of the person who hands the chéquier over: it is
	// activated then, by scanning this code; until then its vouchers are
	// refused. The rule is said here, to that person, rather than on each
	// voucher, where the beneficiary would read "not valid".
	by := y + coverBoxTop
	d.hairline(blue, 0.35)
	d.Rect(l, by, w, coverBoxH, "D")
	d.ink(blue)
	d.font("B", 10)
	d.left(l+2, by+4.5, "Pour la structure qui remet le chéquier")
	qx, qy := coverQR(stub)
	qx += x
	qy += y
	d.qr(m, qx, qy, activationModule)
	rx := qx + qrBlock(activationQRVersion, activationModule) + 0.5
	rw := l + w - 2 - rx
	d.ink(black)
	d.fit("B", 9, rw, "N°"+nbsp+c.Number)
	d.left(rx, by+10.5, "N°"+nbsp+c.Number)
	d.font("B", 9)
	ry := d.paragraph(rx, by+15, rw, 3.8, "Non valable sans activation.")
	d.font("", 9)
	ry = d.paragraph(rx, ry, rw, 3.8, "Scannez ce code au moment de la remise.")
	d.left(rx, ry+1.5, "Remis le : __ / __ / ____")
	d.left(rx, ry+7, "Par :")
	d.hairline(grey, 0.2)
	d.Line(rx, ry+12, l+w-2, ry+12)
	return nil
}

// Pictograms beside the steps of a cover: simple shapes in the programme's
// blue, square, pictoSize mm wide, drawn from their top left.
const pictoSize = 10.0

// pictoPlace is a map pin: "a place near you".
func pictoPlace(d *pdfDoc, x, y float64) {
	d.SetFillColor(blue.r, blue.g, blue.b)
	cx := x + pictoSize/2
	d.Circle(cx, y+3.8, 3.3, "F")
	d.Polygon([]fpdf.PointType{{X: cx - 2.9, Y: y + 5.4}, {X: cx + 2.9, Y: y + 5.4}, {X: cx, Y: y + pictoSize}}, "F")
	d.SetFillColor(white.r, white.g, white.b)
	d.Circle(cx, y+3.8, 1.3, "F")
}

// pictoScreen is a computer screen: "a workshop on digital skills".
func pictoScreen(d *pdfDoc, x, y float64) {
	d.SetFillColor(blue.r, blue.g, blue.b)
	d.Rect(x+0.5, y+1, pictoSize-1, 6.2, "F")
	d.SetFillColor(white.r, white.g, white.b)
	d.Rect(x+1.4, y+1.9, pictoSize-2.8, 4.4, "F")
	d.SetFillColor(blue.r, blue.g, blue.b)
	d.Rect(x+pictoSize/2-0.8, y+7.2, 1.6, 1.6, "F")
	d.Rect(x+2.2, y+8.8, pictoSize-4.4, 1, "F")
}

// pictoVoucher is a voucher with its QR code: "hand over a voucher".
func pictoVoucher(d *pdfDoc, x, y float64) {
	d.hairline(blue, 0.6)
	d.Rect(x+0.5, y+1.5, pictoSize-1, 7, "D")
	d.SetFillColor(blue.r, blue.g, blue.b)
	for _, o := range [][2]float64{{1.6, 2.6}, {4.4, 2.6}, {1.6, 5.4}} {
		d.Rect(x+o[0], y+o[1], 2, 2, "F")
	}
	d.Rect(x+6.8, y+3, 1.8, 0.6, "F")
	d.Rect(x+6.8, y+4.6, 1.8, 0.6, "F")
	d.Rect(x+6.8, y+6.2, 1.8, 0.6, "F")
}

func (pc *pageContext) drawSummary(d *pdfDoc) {
	b, fp, opt := pc.b, pc.fp, pc.opt
	const l, w = 20.0, 170.0
	d.ink(blue)
	d.font("B", 16)
	d.left(l, 25, fmt.Sprintf("Lot n°%s%d · fiche récapitulative", nbsp, b.ID))
	d.ink(black)
	d.font("", 10)
	d.left(l, 32, opt.ProgrammeName+" · "+pc.departmentLabel())
	d.ink(grey)
	d.font("", 9)
	d.left(l, 38, "Page pour l'imprimeur : elle n'est pas à distribuer.")

	y := 50.0
	row := func(label, value string) {
		d.ink(grey)
		d.font("", 9.5)
		d.left(l, y, label)
		d.ink(black)
		d.font("B", 9.5)
		y = d.paragraph(l+58, y, w-58, 5, value) + 1.2
	}
	section := func(title string) {
		y += 3
		d.ink(blue)
		d.font("B", 11)
		d.left(l, y, title)
		d.hairline(blue, 0.3)
		d.Line(l, y+1.8, l+w, y+1.8)
		y += 8
	}

	section("Le lot")
	row("Département", pc.departmentLabel())
	row("Lot", strconv.FormatInt(b.ID, 10))
	row("Chéquiers", fmt.Sprintf("%s, du n°%s%s au n°%s%s", formatCount(b.Chequiers), nbsp, b.FirstChequier, nbsp, b.LastChequier))
	row("Chèques par chéquier", formatCount(b.VouchersPerChequier))
	row("Chèques", fmt.Sprintf("%s, du n°%s%s au n°%s%s", formatCount(b.Chequiers*b.VouchersPerChequier), nbsp, b.FirstVoucher, nbsp, b.LastVoucher))
	row("Valeur d'un chèque", formatEuros(b.ValueCents))
	row("Valeur totale", formatEuros(b.TotalCents))
	row("Validité", "du "+b.ValidFrom.French()+" au "+b.ValidUntil.French())
	row("Activation à la remise", map[bool]string{true: "oui : chèques non valables avant activation", false: "non"}[b.RequiresActivation])
	row("Clé de signature", "n°"+nbsp+strconv.Itoa(b.KeyID))
	row("Empreinte des codes", groupHex(b.CodesSHA256)+"\n(SHA-256 de tous les codes du lot)")

	section("Ce fichier")
	first, last := fp.chequiers[0], fp.chequiers[len(fp.chequiers)-1]
	part := "le lot entier"
	if opt.Parts > 0 {
		part = fmt.Sprintf("partie %d sur %d", opt.Part, opt.Parts)
	}
	row("Partie", part)
	row("Mise en page", map[Layout]string{A4Sheets: "« a4 » : feuilles A4, 10 chèques par page", Booklet: "« booklet » : carnets A6, imposés par 4 sur A4"}[opt.Layout])
	row("Chéquiers", fmt.Sprintf("%s, du n°%s%s au n°%s%s", formatCount(len(fp.chequiers)), nbsp, first.Number, nbsp, last.Number))
	row("Chèques", fmt.Sprintf("%s, du n°%s%s au n°%s%s", formatCount(fp.vouchers), nbsp, first.Vouchers[0].Number, nbsp, last.Vouchers[len(last.Vouchers)-1].Number))
	row("Pages", fmt.Sprintf("%s : cette fiche, puis %s", formatCount(len(fp.pages)), formatCount(len(fp.pages)-1)+" "+passnum.Plural(len(fp.pages)-1, "page", "pages")+" à façonner"))

	section("Mise en page et façonnage")
	d.font("", 9.5)
	d.ink(black)
	var text string
	switch opt.Layout {
	case A4Sheets:
		text = "Feuilles A4 (mise en page « a4 »). Imprimer en recto seul, à 100" + nbsp + "% (sans ajuster à la page).\n" +
			"Chaque chéquier : deux pages de couverture A4, puis ses chèques, 10 par page (2 colonnes × 5 lignes de 95 × 55" + nbsp + "mm), bord à bord.\n" +
			"Couper le long des repères de coupe des marges : un seul trait de coupe entre deux chèques. Garder les chèques d'un chéquier ensemble, avec sa couverture."
	case Booklet:
		blanks := fp.a6Pages - 2*fp.covers - fp.vouchers
		text = fmt.Sprintf("Carnets A6 (mise en page « booklet ») : une page A6 (105 × 148,5"+nbsp+"mm) par couverture ou par chèque, "+
			"imposées par 4 sur A4 pour la découpe en pile (« cut and stack »). Imprimer en recto seul, à 100"+nbsp+"%%, sans changer l'ordre des %s feuilles qui suivent cette fiche.\n"+
			"1. Couper la pile en quatre le long des repères : A en haut à gauche, B en haut à droite, C en bas à gauche, D en bas à droite.\n"+
			"2. Poser la pile A sur la pile B, puis le tout sur la pile C, puis sur la pile D. Les pages sont alors dans l'ordre, de haut en bas.\n"+
			"3. Chaque carnet commence par ses deux pages de couverture : le séparer et l'agrafer dans la marge de gauche (2 agrafes). Les chèques se détachent le long des pointillés.\n"+
			"La feuille n contient les pages n (A), %d + n (B), %d + n (C) et %d + n (D). %s",
			formatCount(fp.sheets), fp.sheets, 2*fp.sheets, 3*fp.sheets,
			map[bool]string{true: fmt.Sprintf("Les %d dernières pages de la pile D sont blanches.", blanks), false: ""}[blanks > 0])
		if blanks == 1 {
			text = strings.Replace(text, fmt.Sprintf("Les %d dernières pages de la pile D sont blanches.", blanks), "La dernière page de la pile D est blanche.", 1)
		}
	}
	tw := w
	if opt.Layout == Booklet {
		// The text runs beside a small drawing of the sheet.
		tw = w - 38
		pc.impositionDiagram(d, l+w-30, y-3)
	}
	d.font("", 9.5)
	d.ink(black)
	d.paragraph(l, y, tw, 5, text)

	d.ink(grey)
	d.font("", 8)
	d.left(l, a4H-15, "Document produit par passnum le "+opt.Date.Format("02/01/2006")+". Il ne contient aucune donnée personnelle.")
}

// impositionDiagram draws a small sheet with its four slots lettered.
func (pc *pageContext) impositionDiagram(d *pdfDoc, x, y float64) {
	const w, h = 30.0, 42.0
	d.hairline(black, 0.3)
	d.Rect(x, y, w, h, "D")
	d.SetDashPattern([]float64{1, 1}, 0)
	d.Line(x+w/2, y, x+w/2, y+h)
	d.Line(x, y+h/2, x+w, y+h/2)
	d.SetDashPattern(nil, 0)
	d.ink(black)
	d.font("B", 12)
	for q := 0; q < 4; q++ {
		d.centre(x+w/4+float64(q%2)*w/2, y+h/4+float64(q/2)*h/2+1.5, string(rune('A'+q)))
	}
}

// groupHex splits a hex checksum in groups of 8 so it can be read aloud and
// compared by eye.
func groupHex(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 8 {
		if i > 0 {
			if i == 32 {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(h[i:min(i+8, len(h))])
	}
	return b.String()
}
