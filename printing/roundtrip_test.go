package printing

import (
	"image"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"

	"passnum/voucher"
)

const testDPI = 150

// qrAt is where the plan says a QR code's block (symbol and quiet zone)
// is, in mm from the page's top left.
type qrAt struct {
	page       int // 0-based
	x, y, size float64
	code       string
	what       string
	// text region (mm) that must show the voucher's number and verification code
	tx, ty, tw, th float64
	number, verif  string
}

// expectedQRs walks the plan the way the drawer does and lists every QR
// code with its position and the texts that must print around it.
func expectedQRs(fp *filePlan) []qrAt {
	var out []qrAt
	for pi, pg := range fp.pages {
		for pos, it := range pg.items {
			code, _ := fp.qrCode(it)
			if code == "" {
				continue
			}
			c := &fp.chequiers[it.ch]
			q := qrAt{page: pi, code: code}
			switch {
			case pg.kind == pageCover:
				x, y := coverQR(false)
				q.x, q.y, q.size = 2*x, 2*y, 2*qrBlock(activationQRVersion, activationModule)
				q.what = "activation of " + c.Number
				q.tx, q.ty, q.tw, q.th = 0, 2*coverBoxTop, a4W, 2*coverBoxH
				q.number = c.Number
			case pg.kind == pageSheet && it.kind == itemInside:
				ox, oy := slotOrigin(pos)
				x, y := coverQR(true)
				q.x, q.y, q.size = ox+x, oy+y, qrBlock(activationQRVersion, activationModule)
				q.what = "activation of " + c.Number
				q.tx, q.ty, q.tw, q.th = ox, oy+coverBoxTop, a6W, coverBoxH
				q.number = c.Number
			case pg.kind == pageSheet:
				ox, oy := slotOrigin(pos)
				q.x, q.y = a6VoucherQR(ox, oy)
				q.size = qrBlock(voucherQRVersion, a6VoucherModule)
				q.tx, q.ty, q.tw, q.th = ox, oy, a6W, a6H
			default:
				ox, oy := cellOrigin(pos)
				q.x, q.y = a4VoucherQR(ox, oy)
				q.size = qrBlock(voucherQRVersion, a4VoucherModule)
				q.tx, q.ty, q.tw, q.th = ox, oy, cellW, cellH
			}
			if it.kind == itemVoucher {
				v := &c.Vouchers[it.v]
				q.what = "voucher " + v.Number
				q.number, q.verif = v.Number, v.VerificationCode
			}
			out = append(out, q)
		}
	}
	return out
}

type subImager interface {
	SubImage(r image.Rectangle) image.Image
}

// decodeAt crops the page to the QR block (plus a millimetre) and decodes
// it, so that a code printed in the wrong place fails even if it is right.
func decodeAt(t *testing.T, page image.Image, q qrAt) *gozxing.Result {
	t.Helper()
	px := func(mm float64) int { return int(mm * testDPI / 25.4) }
	r := image.Rect(px(q.x-1), px(q.y-1), px(q.x+q.size+1), px(q.y+q.size+1)).Intersect(page.Bounds())
	crop := page.(subImager).SubImage(r)
	bmp, err := gozxing.NewBinaryBitmapFromImage(crop)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("page %d, %s: no QR code decoded at (%.1f, %.1f) mm: %v", q.page+1, q.what, q.x, q.y, err)
	}
	return res
}

func TestRoundTrip(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	ks := testKeySet(t)
	for _, tc := range []struct {
		layout  Layout
		vectors bool
	}{{A4Sheets, false}, {Booklet, false}, {A4Sheets, true}} {
		layout := tc.layout
		name := string(layout)
		e := defaultEngine
		if tc.vectors {
			// The drawing method not kept (see qr.go) must be right too,
			// or its benchmark figures would mean nothing.
			name += "-vectors"
			e.vectors = true
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// 12 vouchers: an A4 chéquier overflows onto a second page; 3
			// booklets make 42 A6 pages, so the imposition pads two blanks.
			spec := batchSpec{id: 7, chequiers: 3, perChequier: 12, valueCents: 1250, activation: true, firstSeq: 41, firstSerial: 99}
			b := testBatch(t, spec)
			cs := chequiersOf(t, b, spec)
			opt := testOptions(layout)
			pdf := renderBytes(t, e, b, cs, opt)
			path := writeTemp(t, pdf)
			pages := rasterize(t, pdf, testDPI)
			fp := buildPlan(opt.withDefaults(b), cs)
			if len(pages) != len(fp.pages) {
				t.Fatalf("%d pages rendered, plan has %d", len(pages), len(fp.pages))
			}
			want := expectedQRs(fp)
			if n := 3*12 + 3; len(want) != n {
				t.Fatalf("plan has %d QR codes, want %d", len(want), n)
			}
			seen := map[string]bool{}
			for _, q := range want {
				res := decodeAt(t, pages[q.page], q)
				got := res.GetText()
				if got != q.code {
					t.Fatalf("page %d, %s: decoded %q, want %q", q.page+1, q.what, got, q.code)
				}
				if _, ok := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS]; ok {
					t.Errorf("%s: QR code uses byte mode, want alphanumeric", q.what)
				}
				if lvl := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; lvl != "M" {
					t.Errorf("%s: error correction %v, want M", q.what, lvl)
				}
				d, err := ks.Verify(got)
				if err != nil {
					t.Fatalf("%s: decoded code does not verify: %v", q.what, err)
				}
				if a, ok := d.Payload.(voucher.Activation); ok {
					if n := voucher.FormatChequierNumber(a.Department, a.Year, a.Seq); "activation of "+n != q.what {
						t.Errorf("%s: activation code is for %s", q.what, n)
					}
				} else if v, ok := d.Payload.(voucher.Voucher); !ok || "voucher "+voucher.FormatNumber(v.Serial) != q.what {
					t.Errorf("%s: decoded payload %+v", q.what, d.Payload)
				}
				seen[got] = true

				text := pdfText(t, path, q.page+1, q.tx, q.ty, q.tw, q.th)
				if !strings.Contains(text, q.number) {
					t.Errorf("page %d, %s: %q not printed beside its QR code; region text:\n%s", q.page+1, q.what, q.number, text)
				}
				if q.verif != "" && !strings.Contains(text, q.verif) {
					t.Errorf("page %d, %s: verification code %q not printed beside its QR code; region text:\n%s", q.page+1, q.what, q.verif, text)
				}
				// The region shows that voucher and no other.
				for _, other := range cs {
					for _, v := range other.Vouchers {
						if v.Number != q.number && q.verif != "" && (strings.Contains(text, v.Number) || strings.Contains(text, v.VerificationCode)) {
							t.Errorf("page %d, %s: region also shows voucher %s", q.page+1, q.what, v.Number)
						}
					}
				}
			}
			for _, c := range cs {
				if !seen[c.ActivationCode] {
					t.Errorf("activation code of %s not found", c.Number)
				}
				for _, v := range c.Vouchers {
					if !seen[v.Code] {
						t.Errorf("voucher %s not found", v.Number)
					}
				}
			}
		})
	}
}

// Without activation there is no activation QR code and no mention of it.
func TestRoundTripWithoutActivation(t *testing.T) {
	needTool(t, "pdftoppm")
	for _, layout := range []Layout{A4Sheets, Booklet} {
		spec := batchSpec{id: 8, chequiers: 1, perChequier: 3, valueCents: 1000}
		b := testBatch(t, spec)
		cs := chequiersOf(t, b, spec)
		opt := testOptions(layout)
		pdf := renderBytes(t, defaultEngine, b, cs, opt)
		pages := rasterize(t, pdf, testDPI)
		fp := buildPlan(opt.withDefaults(b), cs)
		want := expectedQRs(fp)
		if len(want) != 3 {
			t.Fatalf("%s: %d QR codes planned, want 3", layout, len(want))
		}
		for _, q := range want {
			if got := decodeAt(t, pages[q.page], q).GetText(); got != q.code {
				t.Fatalf("%s: %s decoded %q", layout, q.what, got)
			}
		}
		text := pdfText(t, writeTemp(t, pdf), 0)
		if strings.Contains(text, "sans activation") || strings.Contains(text, "travailleur social") {
			t.Errorf("%s: a chéquier without activation mentions it:\n%s", layout, text)
		}
	}
}
