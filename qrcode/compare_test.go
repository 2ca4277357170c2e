package qrcode

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
	skip2 "github.com/skip2/go-qrcode"
)

// Texts for the comparisons: base32 codes as printing makes them, and
// strings of each mode at random lengths. Byte-mode texts are printable
// ASCII without the alphanumeric characters (but for a few), so that
// skip2's segment optimiser, which would split off long alphanumeric runs,
// keeps one byte segment as we do, and gozxing reads the string as
// ISO-8859-1 bytes as we do.
func comparisonTexts(r *rand.Rand, version int, level Level, n int) []string {
	var lower []byte
	for c := byte(' '); c < 0x7F; c++ {
		if alphanumericValue[c] < 0 {
			lower = append(lower, c)
		}
	}
	texts := make([]string, 0, n)
	for i := 0; i < n; i++ {
		switch i % 3 {
		case 0:
			texts = append(texts, randomString(r, "0123456789", 1+r.IntN(capacity(version, level, modeNumeric))))
		case 1:
			// Base32 starting with a letter: skip2 would put a leading run of
			// 7 or more digits in a numeric segment of its own.
			t := randomString(r, base32Alphabet, 1+r.IntN(capacity(version, level, modeAlphanumeric)))
			texts = append(texts, "A"+t[1:])
		default:
			t := []byte(randomString(r, string(lower)+"AB12", 1+r.IntN(capacity(version, level, modeByte))))
			t[0] = 'a'
			texts = append(texts, string(t))
		}
	}
	return texts
}

// TestMatchesGozxingEncoder: gozxing's encoder (a port of ZXing's) makes,
// for the same text, version and level, the same matrix as ours, module
// for module, mask included: its penalty rules read the standard as we do.
func TestMatchesGozxingEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n := 0
	for v := 1; v <= 40; v++ {
		for _, lv := range levels {
			k := count(3) // large symbols take milliseconds in gozxing
			switch {
			case v == 5 || v == 6:
				k = count(300)
			case v <= 10:
				k = count(30)
			}
			for _, text := range comparisonTexts(r, v, lv, k) {
				m, err := Encode(text, v, lv)
				if err != nil {
					t.Fatal(err)
				}
				q, err := encoder.Encoder_encode(text, zxLevel[lv], map[gozxing.EncodeHintType]interface{}{gozxing.EncodeHintType_QR_VERSION: v})
				if err != nil {
					t.Fatalf("v%d-%v %q: gozxing: %v", v, lv, text, err)
				}
				zm := q.GetMatrix()
				if d := differences(m, func(x, y int) bool { return zm.Get(x, y) == 1 }); d != 0 || q.GetMaskPattern() != m.Mask() {
					t.Fatalf("v%d-%v %q: mask %d, gozxing mask %d, %d modules differ", v, lv, text, m.Mask(), q.GetMaskPattern(), d)
				}
				n++
			}
		}
	}
	t.Logf("%d symbols identical to gozxing's, masks included", n)
}

func differences(m *Matrix, dark func(x, y int) bool) int {
	d := 0
	for y := 0; y < m.Size(); y++ {
		for x := 0; x < m.Size(); x++ {
			if m.Dark(x, y) != dark(x, y) {
				d++
			}
		}
	}
	return d
}

var skip2Level = [4]skip2.RecoveryLevel{L: skip2.Low, M: skip2.Medium, Q: skip2.High, H: skip2.Highest}

func skip2Encode(t testing.TB, text string, version int, level Level) [][]bool {
	q, err := skip2.NewWithForcedVersion(text, version, skip2Level[level])
	if err != nil {
		t.Fatalf("v%d-%v %q: skip2: %v", version, level, text, err)
	}
	q.DisableBorder = true
	return q.Bitmap()
}

// TestMatchesSkip2 compares with skip2/go-qrcode, which printing used
// before. Whenever skip2 chooses another mask, our symbol under skip2's
// mask must still be identical to skip2's. The choices differ because
// skip2 departs from the standard's penalty rules (see skip2Penalty);
// scoring our 8 variants with a port of skip2's rules must give back
// skip2's choice every time, and scoring them with ours gives ours, which
// gozxing agrees with (TestMatchesGozxingEncoder).
func TestMatchesSkip2(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	type key struct {
		version int
		level   Level
	}
	var cases []key
	for v := 1; v <= 40; v++ {
		for _, lv := range levels {
			cases = append(cases, key{v, lv})
		}
	}
	total, agree := 0, 0
	why := map[string]int{}
	run := func(text string, v int, lv Level) {
		bm := skip2Encode(t, text, v, lv)
		n := 17 + 4*v
		dark := func(x, y int) bool { return bm[y][x] }
		_, mask, err := formatOf(dark, n)
		if err != nil {
			t.Fatalf("v%d-%v %q: skip2's format information: %v", v, lv, text, err)
		}
		variants := maskVariants(t, text, v, lv)
		if d := differences(variants[mask], dark); d != 0 {
			t.Fatalf("v%d-%v %q: under skip2's mask %d, %d modules differ", v, lv, text, mask, d)
		}
		ours, err := Encode(text, v, lv)
		if err != nil {
			t.Fatal(err)
		}
		total++
		if ours.Mask() == mask {
			agree++
			return
		}
		best, bestScore := -1, 0
		for k, m := range variants {
			if s := skip2Penalty(grid(m), n).total(); best < 0 || s < bestScore {
				best, bestScore = k, s
			}
		}
		if best != mask {
			t.Fatalf("v%d-%v %q: skip2 chose mask %d, its rules as ported choose %d", v, lv, text, mask, best)
		}
		why[skip2Reason(variants, ours.Mask(), mask)]++
	}
	voucher := rand.New(rand.NewPCG(17, 18))
	vouchers := count(1000)
	vt, va := 0, 0
	for _, c := range []struct{ length, version int }{{136, 6}, {120, 5}} {
		for range vouchers {
			text := "A" + randomString(voucher, base32Alphabet, c.length-1)
			t0, a0 := total, agree
			run(text, c.version, M)
			vt, va = vt+total-t0, va+agree-a0
		}
	}
	for _, c := range cases {
		k := count(3)
		if c.version <= 10 {
			k = count(30)
		}
		for _, text := range comparisonTexts(r, c.version, c.level, k) {
			run(text, c.version, c.level)
		}
	}
	t.Logf("voucher and activation codes: skip2 chose our mask for %d of %d (%.1f%%)", va, vt, 100*float64(va)/float64(vt))
	t.Logf("all: same mask %d of %d (%.1f%%); every symbol identical under skip2's mask", agree, total, 100*float64(agree)/float64(total))
	t.Logf("where skip2 chose another mask, the rules its scores depart from (in its favour): %v", why)
}

// skip2Scores are skip2's four penalty scores for a symbol.
type skip2Scores [4]int

func (s skip2Scores) total() int { return s[0] + s[1] + s[2] + s[3] }

// skip2Penalty ports skip2/go-qrcode's penalty1-4 (symbol.go, version
// da1b6568686e), to explain its choices. Its departures from the standard:
//
//   - rule 1 scores a run of exactly 5 modules 0 instead of 3 (it adds
//     N1+1 when a run reaches 6);
//   - rule 3 clears its window after each pattern found, so a pattern that
//     shares its light area with the previous one is not counted;
//   - rule 4 uses integer halves and twentieths of the module count,
//     ⌊|⌊t/2⌋-d| / ⌊t/20⌋⌋, which moves the 5% boundaries.
func skip2Penalty(g []byte, n int) skip2Scores {
	get := func(x, y int) bool { return g[y*n+x] != 0 }
	var s skip2Scores
	for _, vertical := range []bool{true, false} {
		at := get
		if vertical {
			at = func(x, y int) bool { return get(y, x) }
		}
		for a := 0; a < n; a++ {
			last, count := at(0, a), 1
			for b := 1; b < n; b++ {
				v := at(b, a)
				if v != last {
					count, last = 1, v
					continue
				}
				count++
				if count == 6 {
					s[0] += penaltyN1 + 1
				} else if count > 6 {
					s[0]++
				}
			}
		}
		for a := 0; a < n; a++ {
			var buf int16
			for b := 0; b < n; b++ {
				buf <<= 1
				if at(b, a) {
					buf |= 1
				}
				switch buf & 0x7ff {
				case 0x05d, 0x5d0:
					s[2] += penaltyN3
					buf = 0xFF
				default:
					if b == n-1 && buf&0x7f == 0x5d {
						s[2] += penaltyN3
						buf = 0xFF
					}
				}
			}
		}
	}
	for y := 1; y < n; y++ {
		for x := 1; x < n; x++ {
			v := get(x, y)
			if v == get(x-1, y) && v == get(x, y-1) && v == get(x-1, y-1) {
				s[1] += penaltyN2
			}
		}
	}
	dark := 0
	for _, v := range g {
		dark += int(v)
	}
	dev := abs(n*n/2 - dark)
	s[3] = penaltyN4 * (dev / (n * n / 20))
	return s
}

// skip2Reason names the rules on which skip2's scores of its mask and of
// ours differ from the standard's by enough to reverse the order.
func skip2Reason(variants [8]*Matrix, ours, theirs int) string {
	n := variants[0].Size()
	std := func(k int) [4]int {
		g := grid(variants[k])
		var r [4]int
		total := penaltyGrid(g, n)
		for i := 0; i < n; i++ {
			row := g[i*n : (i+1)*n]
			col := make([]byte, n)
			for y := range col {
				col[y] = g[y*n+i]
			}
			r[0] += lineRuns(row) + lineRuns(col)
			r[2] += penaltyN3 * (lineFinders(row) + lineFinders(col))
		}
		dark := 0
		for _, v := range g {
			dark += int(v)
		}
		r[3] = balanceScore(dark, n*n)
		r[1] = total - r[0] - r[2] - r[3]
		return r
	}
	so, st := std(ours), std(theirs)
	ko, kt := skip2Penalty(grid(variants[ours]), n), skip2Penalty(grid(variants[theirs]), n)
	reason := ""
	for i := range 4 {
		// How much skip2's view of rule i moves "theirs" ahead of "ours"
		// compared to the standard's view.
		if (kt[i]-ko[i])-(st[i]-so[i]) < 0 {
			reason += fmt.Sprintf("+rule%d", i+1)
		}
	}
	return reason
}
