package printing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

func TestFormatEuros(t *testing.T) {
	for cents, want := range map[int64]string{
		0:         "0 €",
		5:         "0,05 €",
		1000:      "10 €",
		1250:      "12,50 €",
		1205:      "12,05 €",
		99999:     "999,99 €",
		100000:    "1 000 €",
		5_000_000: "50 000 €",
		123456789: "1 234 567,89 €",
		-1250:     "-12,50 €",
	} {
		want = strings.ReplaceAll(want, " €", nbsp+"€")
		want = strings.ReplaceAll(want, " ", nnbsp)
		if got := formatEuros(cents); got != want {
			t.Errorf("formatEuros(%d) = %q, want %q", cents, got, want)
		}
	}
	if got := formatCount(10000); got != "10"+nnbsp+"000" {
		t.Errorf("formatCount(10000) = %q", got)
	}
	if got := mustDay(t, "2027-12-31").French(); got != "31/12/2027" {
		t.Errorf("formatDay = %q", got)
	}
}

// The patched fonts map U+202F to a narrow blank
// glyph, keep every other character, and stay valid TrueType.
func TestFontNarrowNoBreakSpace(t *testing.T) {
	regular, bold, err := fontBytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{regular, bold} {
		f, err := sfnt.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		var buf sfnt.Buffer
		adv := func(r rune) (sfnt.GlyphIndex, fixed.Int26_6) {
			g, err := f.GlyphIndex(&buf, r)
			if err != nil || g == 0 {
				t.Fatalf("no glyph for %U", r)
			}
			a, err := f.GlyphAdvance(&buf, g, fixed.I(int(f.UnitsPerEm())), font.HintingNone)
			if err != nil {
				t.Fatal(err)
			}
			return g, a
		}
		_, space := adv(' ')
		_, nb := adv('\u00a0')
		_, narrow := adv('\u202f')
		if nb != space || narrow >= space || narrow <= 0 {
			t.Errorf("advances: space %v, U+00A0 %v, U+202F %v", space, nb, narrow)
		}
		for _, r := range "éèàçÉ€«»’Aa0" {
			adv(r)
		}
		// Digits of the letters' design, not the Go fonts' typewriter
		// digits (docs/printing.md, Typography).
		if name, err := f.Name(&buf, sfnt.NameIDFamily); err != nil || name != "Liberation Sans" {
			t.Errorf("the text font is %q (%v), want Liberation Sans", name, err)
		}
		if f.NumGlyphs() < 600 {
			t.Errorf("only %d glyphs", f.NumGlyphs())
		}
	}
}

func TestTextAndAccents(t *testing.T) {
	needTool(t, "pdftotext")
	spec := batchSpec{id: 3, chequiers: 2, perChequier: 4, valueCents: 1250, activation: true}
	b := testBatch(t, spec)
	b.Chequiers, b.TotalCents = 1000, 5_000_000 // as if this file were a part of a larger batch
	cs := chequiersOf(t, b, spec)
	for _, layout := range []Layout{A4Sheets, Booklet} {
		opt := testOptions(layout)
		opt.Part, opt.Parts = 2, 9
		pdf := renderBytes(t, defaultEngine, b, cs, opt)
		path := writeTemp(t, pdf)
		// pdftotext turns every kind of space into U+0020, so the narrow
		// no-break space is checked in the font's widths instead: CIDs are
		// Unicode code points, widths in thousandths of an em.
		text := pdfText(t, path, 0)
		if !bytes.Contains(pdf, []byte(" 8239 8239 200 ")) {
			t.Errorf("%s: U+202F is not embedded as a narrow glyph", layout)
		}
		for _, want := range []string{
			"Valable jusqu’au 31/12/2027", "é", "è", "à", "ç", "€", "«" + nbsp + "Pass",
			"12,50" + nbsp + "€", "50" + nnbsp + "000" + nbsp + "€", "1" + nnbsp + "000",
			"ni échangé ni remboursé", "Non valable sans",
			"Pour la structure qui remet le chéquier", "Scannez ce code au moment",
			"Chaque chèque sert une seule fois", "Chéquier perdu ?", "Retournez voir la structure",
			"Chéquier n°" + nbsp + "78-2026-000001", "N° du chèque", "Code de vérification",
			"Votre chéquier", "4 chèques de 12,50" + nbsp + "€", "Comment faire ?", "Où aller ?",
			"www.yvelines.fr/pass-numerique", "Yvelines (78)",
			"partie 2 sur 9", "Lot n°" + nbsp + "3", b.CodesSHA256[:8], "n°" + nbsp + "1",
			"du 01/01/2026 au 31/12/2027",
		} {
			want = strings.NewReplacer(nbsp, " ", nnbsp, " ").Replace(want)
			if !strings.Contains(text, want) {
				t.Errorf("%s: %q not in the extracted text", layout, want)
			}
		}
		if strings.ContainsRune(text, '\ufffd') {
			t.Errorf("%s: replacement character in the text", layout)
		}
		// French typography: the apostrophe ’, even where the caller's
		// text had the typewriter's.
		if strings.ContainsRune(text, '\'') {
			t.Errorf("%s: a straight apostrophe is printed:\n%s", layout, lineWith(text, "'"))
		}
		switch layout {
		case A4Sheets:
			if !strings.Contains(text, "repères de coupe") {
				t.Errorf("a4: summary does not explain the cutting")
			}
		case Booklet:
			for _, want := range []string{"cut and stack", "Poser la pile A sur la pile B", "recto seul", "agrafer"} {
				if !strings.Contains(text, want) {
					t.Errorf("booklet: summary lacks %q", want)
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	spec := batchSpec{id: 5, chequiers: 3, perChequier: 5, valueCents: 1000, activation: true}
	b := testBatch(t, spec)
	cs := chequiersOf(t, b, spec)
	for _, layout := range []Layout{A4Sheets, Booklet} {
		opt := testOptions(layout)
		opt.Date = time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
		first := renderBytes(t, defaultEngine, b, cs, opt)
		for _, workers := range []int{1, 3, 8} {
			e := defaultEngine
			e.workers = workers
			if again := renderBytes(t, e, b, cs, opt); !bytes.Equal(first, again) {
				t.Fatalf("%s: rendering again with %d workers gave other bytes", layout, workers)
			}
		}
		if !bytes.Contains(first, []byte("/CreationDate (D:20260304040607)")) {
			t.Errorf("%s: creation date is not the fixed one (in UTC)", layout)
		}
		if bytes.Contains(first, []byte("/ID")) {
			t.Errorf("%s: the PDF has a file identifier", layout)
		}
	}
}

// TestEmbeddedFonts checks that the fonts are embedded (print shops reject
// PDFs that rely on the printer's fonts).
func TestEmbeddedFonts(t *testing.T) {
	spec := batchSpec{id: 5, chequiers: 1, perChequier: 1, valueCents: 1000}
	b := testBatch(t, spec)
	pdf := renderBytes(t, defaultEngine, b, chequiersOf(t, b, spec), testOptions(A4Sheets))
	if n := bytes.Count(pdf, []byte("/FontFile2")); n != 2 {
		t.Errorf("%d embedded TrueType fonts, want 2", n)
	}
	if bytes.Contains(pdf, []byte("/BaseFont /Helvetica")) {
		t.Error("a standard, non-embedded font is used")
	}
}

func TestBadInput(t *testing.T) {
	spec := batchSpec{id: 9, chequiers: 2, perChequier: 3, valueCents: 1000, activation: true}
	b := testBatch(t, spec)
	good := chequiersOf(t, b, spec)
	clone := func() []Chequier {
		cs := make([]Chequier, len(good))
		for i, c := range good {
			c.Vouchers = append([]Voucher(nil), c.Vouchers...)
			cs[i] = c
		}
		return cs
	}
	other := chequiersOf(t, b, batchSpec{id: 9, chequiers: 1, perChequier: 3, valueCents: 2000, activation: true, firstSerial: 500})
	cases := []struct {
		name   string
		edit   func(cs []Chequier, o *Options, b *Batch)
		expect []string // substrings of the error
	}{
		{"empty code", func(cs []Chequier, o *Options, b *Batch) { cs[1].Vouchers[2].Code = "" },
			[]string{"78-2026-000002", "voucher 3", "empty code"}},
		{"unknown layout", func(cs []Chequier, o *Options, b *Batch) { o.Layout = "a5" }, []string{"layout", "a5"}},
		{"empty layout", func(cs []Chequier, o *Options, b *Batch) { o.Layout = "" }, []string{"layout"}},
		{"code too long", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[0].Code += strings.Repeat("A", 40) },
			[]string{"78-2026-000001", "voucher 1"}},
		{"activation code as voucher code", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[1].Code = cs[0].ActivationCode },
			[]string{"voucher 2", "not a voucher code"}},
		{"code of another voucher", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[1].Code = cs[0].Vouchers[0].Code },
			[]string{"voucher 2", "is for voucher"}},
		{"value differs from code", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[1].Code = other[0].Vouchers[1].Code },
			[]string{"voucher 2"}},
		{"lower case code", func(cs []Chequier, o *Options, b *Batch) {
			cs[0].Vouchers[0].Code = strings.ToLower(cs[0].Vouchers[0].Code)
		}, []string{"voucher 1", "parse"}},
		{"missing activation code", func(cs []Chequier, o *Options, b *Batch) { cs[1].ActivationCode = "" },
			[]string{"78-2026-000002", "activation"}},
		{"activation of another chéquier", func(cs []Chequier, o *Options, b *Batch) { cs[1].ActivationCode = cs[0].ActivationCode },
			[]string{"78-2026-000002", "activates chéquier 78-2026-000001"}},
		{"no voucher", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers = nil }, []string{"78-2026-000001", "no voucher"}},
		{"wrong position", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[1].Position = 7 }, []string{"position 7"}},
		{"replacements out of order", func(cs []Chequier, o *Options, b *Batch) {
			b.VouchersPerChequier, cs[0].Size = 0, 10
			cs[0].Vouchers = []Voucher{cs[0].Vouchers[2], cs[0].Vouchers[1]}
		}, []string{"voucher 2 of 2 has position 2"}},
		{"replacement beyond its chéquier", func(cs []Chequier, o *Options, b *Batch) {
			b.VouchersPerChequier, cs[0].Size = 0, 2
			cs[0].Vouchers = cs[0].Vouchers[2:3]
		}, []string{"voucher 1 of 1 has position 3"}},
		{"replacement of another key", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[1].KeyID = 2 }, []string{"the voucher by key 2"}},
		{"empty verification code", func(cs []Chequier, o *Options, b *Batch) { cs[0].Vouchers[1].VerificationCode = "" },
			[]string{"voucher 2", "verification code"}},
		{"no chéquier number", func(cs []Chequier, o *Options, b *Batch) { cs[0].Number = "" }, []string{"without a number"}},
		{"bad département", func(cs []Chequier, o *Options, b *Batch) { b.Department = "20" }, []string{"département"}},
		{"venues too long", func(cs []Chequier, o *Options, b *Batch) { o.VenuesInfo = strings.Repeat("x", 500) }, []string{"venues"}},
		{"wrong key", func(cs []Chequier, o *Options, b *Batch) { b.KeyID = 2 }, []string{"signed by key 1"}},
		{"activation differs from the batch", func(cs []Chequier, o *Options, b *Batch) { cs[1].RequiresActivation = false },
			[]string{"78-2026-000002", "requires activation"}},
		{"validity differs from the batch", func(cs []Chequier, o *Options, b *Batch) { b.ValidUntil-- }, []string{"valid until"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := clone()
			opt, bb := testOptions(A4Sheets), b
			tc.edit(cs, &opt, &bb)
			var buf bytes.Buffer
			err := Render(&buf, bb, cs, opt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.expect {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
	if err := Render(new(bytes.Buffer), b, nil, testOptions(A4Sheets)); err == nil {
		t.Error("no error for no chéquier")
	}
	for _, perFile := range []int{0, -1} {
		dir := t.TempDir()
		if _, err := RenderFiles(dir, b, sliceSeq(good), perFile, testOptions(A4Sheets), nil); err == nil || !strings.Contains(err.Error(), "per file") {
			t.Errorf("perFile %d: error %v", perFile, err)
		}
		assertFiles(t, dir)
	}
}

func TestEncodeQRErrors(t *testing.T) {
	if _, err := encodeQR("", voucherQRVersion); err == nil {
		t.Error("empty code encoded")
	}
	if _, err := encodeQR(strings.Repeat("A", 155), voucherQRVersion); err == nil || !strings.Contains(err.Error(), "version 6") {
		t.Errorf("155 characters in a version 6-M symbol: %v", err)
	}
	if _, err := encodeQR(strings.Repeat("A", 154), voucherQRVersion); err != nil {
		t.Errorf("154 characters, the capacity of 6-M: %v", err)
	}
	if _, err := encodeQR("abc", voucherQRVersion); err == nil {
		t.Error("lower case encoded (it would need byte mode)")
	}
	m, err := encodeQR(strings.Repeat("A", 120), activationQRVersion)
	if err != nil || m.size != 37 {
		t.Errorf("activation-sized code: %v, %d modules", err, m.size)
	}
}

// assertFiles checks that dir holds exactly the named files.
func assertFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("files in dir: %v, want %v", got, names)
	}
}

func TestRenderFiles(t *testing.T) {
	spec := batchSpec{id: 12, chequiers: 7, perChequier: 4, valueCents: 1000, activation: true, firstSeq: 100, firstSerial: 1000}
	b := testBatch(t, spec)
	cs := chequiersOf(t, b, spec)
	for _, layout := range []Layout{A4Sheets, Booklet} {
		dir := t.TempDir()
		// A stale manifest from an earlier run must not survive.
		os.WriteFile(filepath.Join(dir, ManifestName), []byte("{}"), 0o644)
		var progress []int
		man, err := RenderFiles(dir, b, sliceSeq(cs), 3, testOptions(layout), func(n int) { progress = append(progress, n) })
		if err != nil {
			t.Fatal(err)
		}
		assertFiles(t, dir, "batch-12-0001.pdf", "batch-12-0002.pdf", "batch-12-0003.pdf", ManifestName)
		if len(man.Files) != 3 || man.Chequiers != 7 || man.Vouchers != 28 || man.TotalCents != 28000 || man.Layout != layout {
			t.Fatalf("manifest %+v", man)
		}
		for i, f := range man.Files {
			want := cs[3*i : min(3*i+3, 7)]
			data, err := os.ReadFile(filepath.Join(dir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			if f.SHA256 != sha256Hex(data) || f.Bytes != int64(len(data)) {
				t.Errorf("%s: manifest says %s, %d bytes; file is %s, %d bytes", f.Name, f.SHA256, f.Bytes, sha256Hex(data), len(data))
			}
			last := want[len(want)-1]
			if f.Part != i+1 || f.Chequiers != len(want) || f.Vouchers != 4*len(want) ||
				f.FirstChequier != want[0].Number || f.LastChequier != last.Number ||
				f.FirstVoucher != want[0].Vouchers[0].Number || f.LastVoucher != last.Vouchers[3].Number {
				t.Errorf("file %d: %+v", i+1, f)
			}
			// Each file is what Render makes of its chéquiers.
			opt := testOptions(layout)
			opt.Part, opt.Parts = i+1, 3
			if !bytes.Equal(data, renderBytes(t, defaultEngine, b, want, opt)) {
				t.Errorf("%s differs from Render of the same chéquiers", f.Name)
			}
			if pages := bytes.Count(data, []byte("/Type /Page\n")); pages != f.Pages {
				t.Errorf("%s: %d pages, manifest says %d", f.Name, pages, f.Pages)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		var onDisk Manifest
		if err := json.Unmarshal(data, &onDisk); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(onDisk) != fmt.Sprint(man) {
			t.Errorf("manifest.json differs from the returned manifest:\n%+v\n%+v", onDisk, man)
		}
		for i := 1; i < len(progress); i++ {
			if progress[i] <= progress[i-1] {
				t.Errorf("progress not increasing: %v", progress)
			}
		}
		if len(progress) == 0 || progress[len(progress)-1] != 7 {
			t.Errorf("progress %v does not end at 7", progress)
		}
	}
}

// A failure in the middle of a batch leaves the files before it, removes
// the one being written, and writes no manifest.
func TestRenderFilesFailure(t *testing.T) {
	spec := batchSpec{id: 4, chequiers: 5, perChequier: 2, valueCents: 1000}
	b := testBatch(t, spec)
	cs := chequiersOf(t, b, spec)
	bad := append([]Chequier(nil), cs...)
	bad[3].Vouchers = append([]Voucher(nil), bad[3].Vouchers...)
	bad[3].Vouchers[1].Code = ""
	boom := errors.New("database gone")
	cases := []struct {
		name string
		seq  iter.Seq2[Chequier, error]
		want string
	}{
		{"bad chéquier", sliceSeq(bad), "78-2026-000004, voucher 2"},
		{"iterator error", func(yield func(Chequier, error) bool) {
			for i, c := range cs {
				if i == 3 {
					yield(Chequier{}, boom)
					return
				}
				if !yield(c, nil) {
					return
				}
			}
		}, "database gone"},
		{"iterator panic", func(yield func(Chequier, error) bool) {
			for i, c := range cs {
				if i == 3 {
					panic("driver bug")
				}
				if !yield(c, nil) {
					return
				}
			}
		}, "driver bug"},
		{"too few", sliceSeq(cs[:4]), "4 were given"},
		{"too many", sliceSeq(append(append([]Chequier(nil), cs...), cs[0])), "more were given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			man, err := RenderFiles(dir, b, tc.seq, 2, testOptions(A4Sheets), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if tc.name == "too many" || tc.name == "too few" {
				// Detected after the first two files: once the sixth
				// chéquier arrives, or once the fourth was the last.
				assertFiles(t, dir, "batch-4-0001.pdf", "batch-4-0002.pdf")
				return
			}
			assertFiles(t, dir, "batch-4-0001.pdf")
			if len(man.Files) != 1 || man.Files[0].Name != "batch-4-0001.pdf" {
				t.Errorf("manifest lists %+v", man.Files)
			}
		})
	}
	// A QR encoder failure in the middle of a file removes the temporary
	// file.
	e := defaultEngine
	e.encode = func(code string, version int) (qrMatrix, error) {
		if code == cs[3].Vouchers[0].Code {
			return qrMatrix{}, errors.New("encoder broke")
		}
		return encodeQR(code, version)
	}
	dir := t.TempDir()
	_, err := e.renderFiles(dir, b, sliceSeq(cs), 2, testOptions(Booklet), nil)
	if err == nil || !strings.Contains(err.Error(), "encoder broke") || !strings.Contains(err.Error(), "78-2026-000004") {
		t.Fatalf("error %v", err)
	}
	assertFiles(t, dir, "batch-4-0001.pdf")
}

// TestMemoryFlat renders many files and checks that the live heap after
// each file does not grow with the number of files written.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 30 files")
	}
	const files, perFile = 30, 2
	spec := batchSpec{id: 30, chequiers: files * perFile, perChequier: 10, valueCents: 1000}
	b := testBatch(t, spec)
	var heap []uint64
	progress := func(n int) {
		if n%perFile == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = append(heap, ms.HeapAlloc)
		}
	}
	dir := t.TempDir()
	if _, err := RenderFiles(dir, b, seqOf(t, b, spec), perFile, testOptions(Booklet), progress); err != nil {
		t.Fatal(err)
	}
	if len(heap) < files {
		t.Fatalf("%d heap samples", len(heap))
	}
	// Medians: a sample may catch the next file's chéquiers and QR
	// matrices already queued; growth would move the median.
	early, late := median(heap[2:10]), median(heap[len(heap)-8:])
	t.Logf("live heap after files 3-10: %d KiB (median); after the last 8: %d KiB", early>>10, late>>10)
	if late > early+early/4+(256<<10) {
		t.Errorf("live heap grows with files: %d KiB early, %d KiB late (%v)", early>>10, late>>10, heap)
	}
}

func median(xs []uint64) uint64 {
	s := append([]uint64(nil), xs...)
	slices.Sort(s)
	return s[len(s)/2]
}
