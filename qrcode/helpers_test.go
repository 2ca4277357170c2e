package qrcode

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

var thorough = flag.Bool("thorough", false, "scan and compare 10 times more symbols")

// count scales the number of random symbols a test makes: n by default,
// n/10 with -short, n/5 under the race detector, 10n with -thorough.
func count(n int) int {
	switch {
	case *thorough:
		return 10 * n
	case testing.Short():
		return max(1, n/10)
	case raceEnabled:
		return max(1, n/5)
	}
	return n
}

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

var levels = [4]Level{L, M, Q, H}

// zxLevel is our level in gozxing's terms.
var zxLevel = [4]decoder.ErrorCorrectionLevel{
	L: decoder.ErrorCorrectionLevel_L, M: decoder.ErrorCorrectionLevel_M,
	Q: decoder.ErrorCorrectionLevel_Q, H: decoder.ErrorCorrectionLevel_H,
}

func randomString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randomBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

// capacity is the longest text of mode md that fits version-level.
func capacity(version int, level Level, md mode) int {
	dataLen := layoutFor(version).codewords - int(blockCount[level][version])*int(eccPerBlock[level][version])
	room := dataLen*8 - 4 - countBits[md][(version+7)/17]
	n := 0
	for dataBits(md, n+1) <= room {
		n++
	}
	return n
}

// render draws m as a gray image of scale pixels per module, with the
// 4-module light margin that printing draws.
func render(m *Matrix, scale int) *image.Gray {
	side := (m.Size() + 8) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 0; y < m.Size(); y++ {
		for x := 0; x < m.Size(); x++ {
			if !m.Dark(x, y) {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[((y+4)*scale+dy)*img.Stride:]
				for dx := 0; dx < scale; dx++ {
					row[(x+4)*scale+dx] = 0
				}
			}
		}
	}
	return img
}

// scan decodes m from an image of 3 pixels per module, the way a reader
// would, locating the finder patterns, and returns the payload as bytes
// (byte segments raw, since gozxing guesses a character set for the text)
// and the level read. gozxing's detector fails on some clean symbols (how
// many: docs/BENCHMARKS.md, "Printing"), whatever their mask and whoever
// encoded them (its own encoder makes the same matrices:
// TestMatchesGozxingEncoder), on data that happens to look like finder
// patterns to it; scan then decodes the same image again with the
// PURE_BARCODE hint, which skips detection but decodes everything else, and
// reports detected false.
func scan(m *Matrix) (payload []byte, level decoder.ErrorCorrectionLevel, detected bool, err error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(render(m, 3))
	if err != nil {
		return nil, 0, false, err
	}
	detected = true
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		detected = false
		res, err = zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil {
			return nil, 0, false, err
		}
	}
	md := res.GetResultMetadata()
	lv, _ := md[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL].(string)
	switch lv {
	case "L":
		level = decoder.ErrorCorrectionLevel_L
	case "M":
		level = decoder.ErrorCorrectionLevel_M
	case "Q":
		level = decoder.ErrorCorrectionLevel_Q
	case "H":
		level = decoder.ErrorCorrectionLevel_H
	default:
		return nil, 0, detected, fmt.Errorf("level %q in result metadata", lv)
	}
	if segs, ok := md[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte); ok {
		return bytes.Join(segs, nil), level, detected, nil
	}
	return []byte(res.GetText()), level, detected, nil
}

// scans counts symbols scanned and detector misses, to bound the latter.
type scans struct{ total, missed int }

// check fails t unless m scans to text at the given level.
func (s *scans) check(t *testing.T, m *Matrix, text string, level Level) {
	t.Helper()
	got, lv, detected, err := scan(m)
	if err != nil {
		t.Fatalf("v%d-%v %q: not decoded: %v", m.Version(), level, text, err)
	}
	if string(got) != text {
		t.Fatalf("v%d-%v: decoded %q, want %q", m.Version(), level, got, text)
	}
	if lv != zxLevel[level] {
		t.Fatalf("v%d-%v: decoded level %v", m.Version(), level, lv)
	}
	s.total++
	if !detected {
		s.missed++
	}
}

// done logs the detector misses and fails t if they exceed 2%: more would
// mean a fault in the function patterns rather than gozxing's weakness.
func (s *scans) done(t *testing.T) {
	t.Helper()
	t.Logf("%d symbols scanned, gozxing's detector missed %d (%.2f%%), decoded without detection", s.total, s.missed, 100*float64(s.missed)/float64(max(s.total, 1)))
	if !t.Failed() && s.missed*50 > s.total {
		t.Errorf("detector missed %d of %d symbols", s.missed, s.total)
	}
}

// Format information words of ISO/IEC 18004:2015 table C.1, after the
// 0x5412 mask, indexed by the 5 data bits (level bits, then mask): typed
// from the standard rather than computed, to check formatBits.
var formatTable = [32]uint32{
	0x5412, 0x5125, 0x5E7C, 0x5B4B, 0x45F9, 0x40CE, 0x4F97, 0x4AA0,
	0x77C4, 0x72F3, 0x7DAA, 0x789D, 0x662F, 0x6318, 0x6C41, 0x6976,
	0x1689, 0x13BE, 0x1CE7, 0x19D0, 0x0762, 0x0255, 0x0D0C, 0x083B,
	0x355F, 0x3068, 0x3F31, 0x3A06, 0x24B4, 0x2183, 0x2EDA, 0x2BED,
}

// readFormat reads both format information copies of a symbol, in the
// order of ZXing's BitMatrixParser (written independently of layout.go),
// most significant bit first.
func readFormat(dark func(x, y int) bool, n int) (a, b uint32) {
	bit := func(w *uint32, x, y int) {
		*w <<= 1
		if dark(x, y) {
			*w |= 1
		}
	}
	for i := 0; i < 6; i++ {
		bit(&a, i, 8)
	}
	bit(&a, 7, 8)
	bit(&a, 8, 8)
	bit(&a, 8, 7)
	for j := 5; j >= 0; j-- {
		bit(&a, 8, j)
	}
	for j := n - 1; j >= n-7; j-- {
		bit(&b, 8, j)
	}
	for i := n - 8; i < n; i++ {
		bit(&b, i, 8)
	}
	return a, b
}

// formatOf returns the level and mask of a symbol's format information,
// requiring both copies to be the same exact code word of table C.1.
func formatOf(dark func(x, y int) bool, n int) (Level, int, error) {
	a, b := readFormat(dark, n)
	if a != b {
		return 0, 0, fmt.Errorf("format copies differ: %015b %015b", a, b)
	}
	i := slices.Index(formatTable[:], a)
	if i < 0 {
		return 0, 0, fmt.Errorf("format %015b is not a code word", a)
	}
	lv := slices.Index(formatLevelBits[:], uint32(i>>3))
	return Level(lv), i & 7, nil
}

// checkSymbol checks what can be read back from the matrix without
// decoding: the size, the format information (exact, both copies, against
// the standard's table), the version information of versions 7 and up
// (both copies, against gozxing's table), and gozxing's own reading of
// format and version through its BitMatrixParser.
func checkSymbol(t *testing.T, m *Matrix, version int, level Level) {
	t.Helper()
	n := 17 + 4*version
	if m.Size() != n || m.Version() != version || m.Level() != level {
		t.Fatalf("v%d-%v: got size %d, v%d-%v", version, level, m.Size(), m.Version(), m.Level())
	}
	lv, mask, err := formatOf(m.Dark, n)
	if err != nil || lv != level || mask != m.Mask() {
		t.Fatalf("v%d-%v: format information %v, mask %d (want %d): %v", version, level, lv, mask, m.Mask(), err)
	}
	if version >= 7 {
		var a, b int
		for j := 5; j >= 0; j-- {
			for i := n - 9; i >= n-11; i-- {
				a = a<<1 | b2i(m.Dark(i, j))
				b = b<<1 | b2i(m.Dark(j, i))
			}
		}
		if want := decoder.VERSION_DECODE_INFO[version-7]; a != want || b != want {
			t.Fatalf("v%d: version information %018b and %018b, want %018b", version, a, b, want)
		}
	}
	bm, _ := gozxing.NewBitMatrix(n, n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if m.Dark(x, y) {
				bm.Set(x, y)
			}
		}
	}
	p, err := decoder.NewBitMatrixParser(bm)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := p.ReadFormatInformation()
	if err != nil || fi.GetErrorCorrectionLevel() != zxLevel[level] || int(fi.GetDataMask()) != m.Mask() {
		t.Fatalf("v%d-%v: gozxing reads format %v: %v", version, level, fi, err)
	}
	v, err := p.ReadVersion()
	if err != nil || v.GetVersionNumber() != version {
		t.Fatalf("v%d-%v: gozxing reads version %v: %v", version, level, v, err)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// grid is m as one byte per module.
func grid(m *Matrix) []byte {
	n := m.Size()
	g := make([]byte, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			g[y*n+x] = byte(b2i(m.Dark(x, y)))
		}
	}
	return g
}

// maskVariants returns the symbol of text under each of the 8 masks.
func maskVariants(t testing.TB, text string, version int, level Level) [8]*Matrix {
	var ms [8]*Matrix
	for k := range ms {
		var err error
		if ms[k], err = encode(text, version, level, k); err != nil {
			t.Fatal(err)
		}
	}
	return ms
}
