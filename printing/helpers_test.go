package printing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"passnum/voucher"
)

// The reference test key of docs/voucher-format.md: id 1, seed 00..1f.
func testKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func testSigner(tb testing.TB) *voucher.Signer {
	tb.Helper()
	s, err := voucher.NewSigner(1, testKey())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func testKeySet(tb testing.TB) *voucher.KeySet {
	tb.Helper()
	ks := voucher.NewKeySet()
	if err := ks.Add(1, testKey().Public().(ed25519.PublicKey), voucher.KeyActive); err != nil {
		tb.Fatal(err)
	}
	return ks
}

var testSecret = []byte("test-secret")

type batchSpec struct {
	id          int64
	chequiers   int
	perChequier int
	valueCents  int64
	activation  bool
	firstSeq    uint32
	firstSerial uint64
}

func mustDay(tb testing.TB, s string) voucher.Day {
	tb.Helper()
	d, err := voucher.ParseDay(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// testBatch describes a batch of the Yvelines; its chéquiers come from
// chequiersOf, signed on the fly so that huge batches cost no memory.
func testBatch(tb testing.TB, s batchSpec) Batch {
	tb.Helper()
	if s.firstSeq == 0 {
		s.firstSeq = 1
	}
	if s.firstSerial == 0 {
		s.firstSerial = 1
	}
	n := s.chequiers * s.perChequier
	return Batch{
		ID: s.id, Department: "78", DepartmentName: "Yvelines",
		Chequiers: s.chequiers, VouchersPerChequier: s.perChequier,
		ValueCents: s.valueCents, TotalCents: s.valueCents * int64(n),
		ValidFrom: mustDay(tb, "2026-01-01"), ValidUntil: mustDay(tb, "2027-12-31"),
		FirstChequier:      voucher.FormatChequierNumber("78", 2026, s.firstSeq),
		LastChequier:       voucher.FormatChequierNumber("78", 2026, s.firstSeq+uint32(s.chequiers)-1),
		FirstVoucher:       voucher.FormatNumber(s.firstSerial),
		LastVoucher:        voucher.FormatNumber(s.firstSerial + uint64(n) - 1),
		KeyID:              1,
		CodesSHA256:        sha256Hex([]byte("batch " + strconv.FormatInt(s.id, 10))),
		RequiresActivation: s.activation,
	}
}

func makeChequier(tb testing.TB, signer *voucher.Signer, b Batch, s batchSpec, i int) Chequier {
	if s.firstSeq == 0 {
		s.firstSeq = 1
	}
	if s.firstSerial == 0 {
		s.firstSerial = 1
	}
	seq := s.firstSeq + uint32(i)
	c := Chequier{
		Number:             voucher.FormatChequierNumber("78", 2026, seq),
		ValueCents:         s.valueCents,
		ValidUntil:         b.ValidUntil,
		RequiresActivation: s.activation,
	}
	if s.activation {
		code, err := signer.Sign(voucher.Activation{Department: "78", Year: 2026, Seq: seq})
		if err != nil {
			tb.Fatal(err)
		}
		c.ActivationCode = code
	}
	for v := 0; v < s.perChequier; v++ {
		serial := s.firstSerial + uint64(i*s.perChequier+v)
		code, err := signer.Sign(voucher.Voucher{Serial: serial, Department: "78", ValueCents: uint32(s.valueCents),
			ValidFrom: b.ValidFrom, ValidUntil: b.ValidUntil})
		if err != nil {
			tb.Fatal(err)
		}
		c.Vouchers = append(c.Vouchers, Voucher{Position: v + 1, Number: voucher.FormatNumber(serial),
			VerificationCode: voucher.VerificationCode(testSecret, serial), Code: code})
	}
	return c
}

func chequiersOf(tb testing.TB, b Batch, s batchSpec) []Chequier {
	signer := testSigner(tb)
	out := make([]Chequier, s.chequiers)
	for i := range out {
		out[i] = makeChequier(tb, signer, b, s, i)
	}
	return out
}

func seqOf(tb testing.TB, b Batch, s batchSpec) iter.Seq2[Chequier, error] {
	signer := testSigner(tb)
	return func(yield func(Chequier, error) bool) {
		for i := 0; i < s.chequiers; i++ {
			if !yield(makeChequier(tb, signer, b, s, i), nil) {
				return
			}
		}
	}
}

func sliceSeq(cs []Chequier) iter.Seq2[Chequier, error] {
	return func(yield func(Chequier, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

func testOptions(l Layout) Options {
	return Options{Layout: l, VenuesInfo: "www.yvelines.fr/pass-numerique ou au 01 39 07 78 78"}
}

// needTool fails the test with a clear message when poppler is missing.
func needTool(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		tb.Fatalf("%s not found: install poppler-utils (apt-get install -y poppler-utils)", name)
	}
}

// rasterize renders every page of a PDF at dpi and returns the pages.
func rasterize(tb testing.TB, pdf []byte, dpi int) []image.Image {
	tb.Helper()
	needTool(tb, "pdftoppm")
	dir := tb.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-png", in, filepath.Join(dir, "p")).CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
	// pdftoppm pads page numbers to the width of the last one.
	pages := make([]image.Image, len(names))
	for _, name := range names {
		base := strings.TrimSuffix(filepath.Base(name), ".png")
		n, err := strconv.Atoi(strings.TrimLeft(strings.TrimPrefix(base, "p-"), "0"))
		if err != nil || n < 1 || n > len(names) {
			tb.Fatalf("unexpected pdftoppm output %s", name)
		}
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		pages[n-1] = img
	}
	return pages
}

// pdfText extracts the text of one page (0: all), or of a region of it in mm.
func pdfText(tb testing.TB, pdfPath string, page int, region ...float64) string {
	tb.Helper()
	needTool(tb, "pdftotext")
	var args []string
	if page > 0 {
		args = append(args, "-f", strconv.Itoa(page), "-l", strconv.Itoa(page))
	}
	if len(region) == 4 {
		// At -r 72 the region is in points.
		pt := func(mm float64) string { return strconv.Itoa(int(mm * ptPerMM)) }
		args = append(args, "-r", "72", "-x", pt(region[0]), "-y", pt(region[1]), "-W", pt(region[2]), "-H", pt(region[3]))
	} else {
		args = append(args, "-layout")
	}
	args = append(args, pdfPath, "-")
	out, err := exec.Command("pdftotext", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func renderBytes(tb testing.TB, e engine, b Batch, cs []Chequier, opt Options) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := e.render(&buf, b, cs, opt); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func writeTemp(tb testing.TB, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "out.pdf")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func itoa(n int) string { return strconv.Itoa(n) }
