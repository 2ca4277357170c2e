package printing

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// words joins the words of a text with single spaces, so that a phrase
// is found whatever line it wraps on.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// Every chéquier's cover says what to do, that a voucher serves once and
// whom to call when the chéquier is lost; the activation rule is said to
// the person who hands it over, on the cover, and no voucher of an
// activated chéquier says "not valid"; each voucher has a box for the
// venue's stamp and date.
func TestCoverRules(t *testing.T) {
	needTool(t, "pdftotext")
	spec := batchSpec{id: 21, chequiers: 1, perChequier: 2, valueCents: 1000, activation: true}
	for _, phone := range []string{"01 39 07 78 78", ""} {
		b := testBatch(t, spec)
		b.ContactPhone = phone
		cs := chequiersOf(t, b, spec)
		lost := "Retournez voir la structure qui vous l’a remis."
		if phone != "" {
			lost = "Appelez le 01 39 07 78 78."
		}
		for _, layout := range []Layout{Booklet, A4Sheets} {
			path := writeTemp(t, renderBytes(t, defaultEngine, b, cs, testOptions(layout)))
			// The texts of the front cover, the second cover page and the
			// two vouchers.
			var front, inside string
			var vouchers []string
			switch layout {
			case Booklet: // one sheet: A the cover, B its second page, C and D the vouchers
				slot := func(q int) string {
					x, y := slotOrigin(q)
					return words(pdfText(t, path, 2, x+stubW, y, a6W-stubW, a6H))
				}
				front, inside, vouchers = slot(0), slot(1), []string{slot(2), slot(3)}
			case A4Sheets:
				front, inside = words(pdfText(t, path, 2)), words(pdfText(t, path, 3))
				for i := range 2 {
					x, y := cellOrigin(i)
					vouchers = append(vouchers, words(pdfText(t, path, 4, x, y, cellW, cellH)))
				}
			}
			for _, want := range []string{"Votre chéquier", "2 chèques de 10", "Valable jusqu’au 31/12/2027", "Comment faire ?",
				"Trouvez un lieu", "Inscrivez-vous à un atelier", "Donnez un chèque par atelier"} {
				if !strings.Contains(front, want) {
					t.Errorf("%s, phone %q: the cover lacks %q:\n%s", layout, phone, want, front)
				}
			}
			for _, want := range []string{"Où aller ?", "Chaque chèque sert une seule fois.", "Il ne peut être ni échangé ni remboursé.",
				"Chéquier perdu ?", lost, "Pour la structure qui remet le chéquier", "Non valable sans activation.",
				"Scannez ce code au moment de la remise.", "Remis le"} {
				if !strings.Contains(inside, want) {
					t.Errorf("%s, phone %q: the second cover page lacks %q:\n%s", layout, phone, want, inside)
				}
			}
			for i, v := range vouchers {
				if strings.Contains(v, "valable sans") || strings.Contains(v, "activation") {
					t.Errorf("%s: voucher %d of an activated chéquier speaks of activation:\n%s", layout, i+1, v)
				}
				for _, want := range []string{"Cachet du lieu et date", cs[0].Vouchers[i].VerificationCode} {
					if !strings.Contains(v, want) {
						t.Errorf("%s: voucher %d lacks %q:\n%s", layout, i+1, want, v)
					}
				}
			}
		}
	}
}

// The booklet's cover pages set their body text at 12 pt at least, as
// plain-language guides ask: every word but those of the block for the
// person who hands the chéquier over and of the staple margin.
func TestBookletCoverTextSize(t *testing.T) {
	needTool(t, "pdftotext")
	spec := batchSpec{id: 22, chequiers: 1, perChequier: 2, valueCents: 1000, activation: true}
	b := testBatch(t, spec)
	b.ContactPhone = "3939"
	path := writeTemp(t, renderBytes(t, defaultEngine, b, chequiersOf(t, b, spec), testOptions(Booklet)))
	out, err := exec.Command("pdftotext", "-f", "2", "-l", "2", "-bbox", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// pdftotext's word box is the font's ascent plus descent: 0.905 +
	// 0.212 em for Liberation Sans (fpdf rounds them in thousandths).
	const boxPerPoint = 1.116
	word := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>`)
	mm := func(s string) float64 {
		f, _ := strconv.ParseFloat(s, 64)
		return f / ptPerMM
	}
	checked := 0
	for _, m := range word.FindAllStringSubmatch(string(out), -1) {
		x, y0, y1 := mm(m[1]), mm(m[2]), mm(m[3])
		if x >= a4W/2+a6W || y0 >= a6H { // slots A and B hold the two cover pages
			continue
		}
		local := x
		if x >= a6W {
			local = x - a6W
		}
		if local < stubW || (x >= a6W && y0 >= coverBoxTop) {
			continue // the staple margin; the activation block of the second page
		}
		checked++
		if size := (y1 - y0) * ptPerMM / boxPerPoint; size < 11.95 {
			t.Errorf("%q is set at %.1f pt on the booklet cover", m[4], size)
		}
	}
	if checked < 60 {
		t.Fatalf("only %d words checked on the cover pages", checked)
	}
}
