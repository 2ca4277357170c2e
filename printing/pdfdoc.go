package printing

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// Units are millimetres, origin at the top left, as in fpdf.
const (
	ptPerMM = 72 / 25.4
	a4W     = 210.0
	a4H     = 297.0
	a6W     = a4W / 2
	a6H     = a4H / 2
)

type rgb struct{ r, g, b int }

var (
	black = rgb{0, 0, 0}
	blue  = rgb{0, 0, 145} // "bleu France"; prints as a dark grey in black and white
	grey  = rgb{80, 80, 80}
	white = rgb{255, 255, 255}
	red   = rgb{180, 0, 0}     // what an auditor must not miss; still dark in black and white
	shade = rgb{238, 238, 238} // every other row of a long table, for the eye to follow a line
)

// pdfDoc wraps an fpdf document with the few text helpers the pages need
// and a scratch buffer for raw operators.
type pdfDoc struct {
	*fpdf.Fpdf
	raw     []byte
	vectors bool // draw QR codes as rectangles instead of image masks
	color   rgb
}

func newPDFDoc(title string, opt Options) (*pdfDoc, error) {
	regular, bold, err := fontBytes()
	if err != nil {
		return nil, err
	}
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	f.SetCompression(true)
	// Determinism: fixed dates, sorted resource catalogs; fpdf writes no
	// /ID unless encrypting, and nothing else random.
	f.SetCatalogSort(true)
	f.SetCreationDate(opt.Date)
	f.SetModificationDate(opt.Date)
	f.SetProducer("passnum", false)
	f.SetCreator("passnum", false)
	f.SetTitle(title, true)
	f.SetLang("fr-FR")
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(0, 0, 0)
	f.SetCellMargin(0)
	f.AddUTF8FontFromBytes(fontFamily, "", regular)
	f.AddUTF8FontFromBytes(fontFamily, "B", bold)
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("printing: fonts: %w", err)
	}
	return &pdfDoc{Fpdf: f}, nil
}

// renderPaged makes a document whose pages say "Page 2 / 14". draw runs
// twice: once to count the pages, then knowing their count, which it must
// only print (so that both runs lay out the same pages). Drawing twice
// costs less code than planning every page of a flowing document ahead.
func renderPaged(title string, date time.Time, draw func(d *pdfDoc, pages int)) (*pdfDoc, error) {
	opt := Options{Date: date.UTC()}
	count, err := newPDFDoc(title, opt)
	if err != nil {
		return nil, err
	}
	draw(count, 0)
	if err := count.Error(); err != nil {
		return nil, fmt.Errorf("printing: %w", err)
	}
	d, err := newPDFDoc(title, opt)
	if err != nil {
		return nil, err
	}
	draw(d, count.PageCount())
	if err := d.Error(); err != nil {
		return nil, fmt.Errorf("printing: %w", err)
	}
	return d, nil
}

func (d *pdfDoc) font(style string, size float64) {
	d.SetFont(fontFamily, style, size)
}

func (d *pdfDoc) ink(c rgb) {
	if c != d.color {
		d.color = c
		d.SetTextColor(c.r, c.g, c.b)
	}
}

// typographic sets French text as it is printed: the apostrophe ’, never
// the typewriter's ', whoever wrote the text (a warning, a venue's name).
// Every text drawn or measured goes through it, so widths stay true.
var typographic = strings.NewReplacer("'", "’")

func (d *pdfDoc) width(s string) float64 { return d.GetStringWidth(typographic.Replace(s)) }

// left, centre and right draw one line with its baseline at y.
func (d *pdfDoc) left(x, y float64, s string) { d.Text(x, y, typographic.Replace(s)) }

func (d *pdfDoc) centre(cx, y float64, s string) {
	d.left(cx-d.width(s)/2, y, s)
}

func (d *pdfDoc) right(rx, y float64, s string) {
	d.left(rx-d.width(s), y, s)
}

// fit sets the largest font size up to size (and down to a third of it)
// at which s fits in w. Data such as a long département name must shrink
// rather than run over the next voucher.
func (d *pdfDoc) fit(style string, size, w float64, s string) {
	d.font(style, size)
	if tw := d.width(s); tw > w {
		size = math.Max(size*w/tw, size/3)
		d.font(style, math.Floor(size*10)/10)
	}
}

// wrap breaks s into lines no wider than w at ordinary spaces, so that
// no-break spaces ("10 €", "n° 42") hold, and at line feeds.
func (d *pdfDoc) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Split(para, " ")
		line := ""
		for _, word := range words {
			if word == "" {
				continue
			}
			try := word
			if line != "" {
				try = line + " " + word
			}
			if d.width(try) <= w {
				line = try
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			// A word wider than the column (a long URL) is cut where it
			// must be, rather than run off the page.
			for d.width(word) > w {
				cut := d.fitPrefix(word, w)
				lines = append(lines, word[:cut])
				word = word[cut:]
			}
			line = word
		}
		lines = append(lines, line)
	}
	return lines
}

// fitPrefix returns the length in bytes of the longest prefix of s, at
// least one rune, that fits in w.
func (d *pdfDoc) fitPrefix(s string, w float64) int {
	n := 0
	for i, r := range s {
		end := i + utf8.RuneLen(r)
		if n > 0 && d.width(s[:end]) > w {
			break
		}
		n = end
	}
	return n
}

// paragraph draws wrapped text from baseline y with the given leading and
// returns the baseline after the last line.
func (d *pdfDoc) paragraph(x, y, w, leading float64, s string) float64 {
	for _, l := range d.wrap(s, w) {
		d.left(x, y, l)
		y += leading
	}
	return y
}

// qr paints a symbol whose quiet-zone block has its top left at (x, y).
func (d *pdfDoc) qr(m qrMatrix, x, y float64, moduleDots int) {
	d.raw = d.raw[:0]
	if d.vectors {
		d.raw = appendQRVectors(d.raw, m, x, y, a4H, moduleDots)
	} else {
		d.raw = appendQR(d.raw, m, x, y, a4H, moduleDots)
	}
	d.RawWriteStr(string(d.raw))
}

func (d *pdfDoc) hairline(c rgb, width float64) {
	d.SetDrawColor(c.r, c.g, c.b)
	d.SetLineWidth(width)
}
