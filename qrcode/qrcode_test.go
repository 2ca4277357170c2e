package qrcode

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// TestTablesAgainstGozxing holds the block tables, the codeword counts
// (derived here from the function patterns) and the alignment positions of
// every version to gozxing's decoder tables, typed independently from the
// standard.
func TestTablesAgainstGozxing(t *testing.T) {
	for v := 1; v <= 40; v++ {
		zv, err := decoder.Version_GetVersionForNumber(v)
		if err != nil {
			t.Fatal(err)
		}
		lay := layoutFor(v)
		if lay.codewords != zv.GetTotalCodewords() {
			t.Errorf("v%d: %d codewords, gozxing %d", v, lay.codewords, zv.GetTotalCodewords())
		}
		// Remainder bits: 0, 7, 0, 3, 4 or 0 depending on the version
		// range (table 1).
		if rem := len(lay.order) - 8*lay.codewords; rem != [...]int{0, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0}[v-1] {
			t.Errorf("v%d: %d remainder bits", v, rem)
		}
		if got, want := alignmentPositions(v), zv.GetAlignmentPatternCenters(); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("v%d: alignment %v, gozxing %v", v, got, want)
		}
		for _, lv := range levels {
			eb := zv.GetECBlocksForLevel(zxLevel[lv])
			if int(eccPerBlock[lv][v]) != eb.GetECCodewordsPerBlock() || int(blockCount[lv][v]) != eb.GetNumBlocks() {
				t.Errorf("v%d-%v: %d blocks of %d EC codewords, gozxing %d of %d", v, lv,
					blockCount[lv][v], eccPerBlock[lv][v], eb.GetNumBlocks(), eb.GetECCodewordsPerBlock())
			}
		}
	}
}

// TestCapacities checks a sample of the standard's table 7 (data capacity
// in characters), which depends on every table above and on the character
// count indicator lengths.
func TestCapacities(t *testing.T) {
	for _, c := range []struct {
		version             int
		level               Level
		numeric, alnum, byt int
	}{
		{1, L, 41, 25, 17}, {1, H, 17, 10, 7}, {5, M, 202, 122, 84}, {6, M, 255, 154, 106},
		{9, L, 552, 335, 230}, {10, M, 513, 311, 213},
		{27, L, 3517, 2132, 1465}, {40, L, 7089, 4296, 2953}, {40, H, 3057, 1852, 1273},
	} {
		for md, want := range []int{c.numeric, c.alnum, c.byt} {
			if got := capacity(c.version, c.level, mode(md)); got != want {
				t.Errorf("v%d-%v %s: capacity %d, want %d", c.version, c.level, modeNames[md], got, want)
			}
		}
	}
}

func TestGeneratorCoefficients(t *testing.T) {
	for d, g := range genLog {
		if g == nil {
			continue
		}
		for i, c := range generatorPoly(d) {
			if c == 0 {
				t.Errorf("degree %d: coefficient %d is zero", d, i)
			}
		}
	}
	// A generator of degree 7 from ISO/IEC 18004:2015 annex A, as
	// exponents of α: x^7 + α^87x^6 + α^229x^5 + α^146x^4 + α^149x^3 +
	// α^238x^2 + α^102x + α^21.
	if got, want := genLog[7], []byte{87, 229, 146, 149, 238, 102, 21}; !slices.Equal(got, want) {
		t.Errorf("degree 7 generator %v, want %v", got, want)
	}
}

// TestReedSolomon checks that each data block followed by its error
// correction is a code word: the polynomial vanishes at α^0…α^(d-1).
func TestReedSolomon(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for d, g := range genLog {
		if g == nil {
			continue
		}
		for range 20 {
			msg := []byte(randomBytes(r, 1+r.IntN(120)))
			ecc := make([]byte, d)
			rsRemainder(msg, ecc)
			word := append(msg, ecc...)
			for i := 0; i < d; i++ {
				var s byte
				for _, c := range word {
					s = gfMul(s, gfExp[i]) ^ c
				}
				if s != 0 {
					t.Fatalf("degree %d: syndrome %d is %d", d, i, s)
				}
			}
		}
	}
}

// TestFormatAndVersionBits compares the BCH code words with the standard's
// tables (C.1 here, D.1 through gozxing).
func TestFormatAndVersionBits(t *testing.T) {
	for _, lv := range levels {
		for m := range 8 {
			if got, want := formatBits(lv, m), formatTable[formatLevelBits[lv]<<3|uint32(m)]; got != want {
				t.Errorf("%v mask %d: format %015b, want %015b", lv, m, got, want)
			}
		}
	}
	for v := 7; v <= 40; v++ {
		if got, want := versionBits(v), decoder.VERSION_DECODE_INFO[v-7]; int(got) != want {
			t.Errorf("v%d: version bits %018b, want %018b", v, got, want)
		}
	}
}

// TestScanVoucherCodes is the use in printing: random base32 codes of
// voucher length at 6-M and of activation length at 5-M, each scanned from
// an image by gozxing and its format information read back.
func TestScanVoucherCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := count(1500)
	var sc scans
	defer sc.done(t)
	for _, c := range []struct{ length, version int }{{136, 6}, {120, 5}} {
		masks := [8]int{}
		for range n {
			text := randomString(r, base32Alphabet, c.length)
			m, err := Encode(text, c.version, M)
			if err != nil {
				t.Fatal(err)
			}
			checkSymbol(t, m, c.version, M)
			sc.check(t, m, text, M)
			masks[m.Mask()]++
		}
		t.Logf("%d characters at %d-M: masks chosen %v", c.length, c.version, masks)
	}
}

// TestScanAllVersions scans texts of every mode at every version and level,
// at random lengths and at full capacity (where the terminator is cut
// short or left out).
func TestScanAllVersions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabets := [3]string{"0123456789", alphanumericSet, ""}
	var sc scans
	defer sc.done(t)
	for v := 1; v <= 40; v++ {
		for _, lv := range levels {
			for md := range modeNames {
				c := capacity(v, lv, mode(md))
				for _, k := range []int{r.IntN(c + 1), c} {
					var text string
					if md == int(modeByte) {
						text = randomBytes(r, k)
						if k > 0 && chooseMode(text) != modeByte {
							text = "a" + text[1:]
						}
					} else {
						text = randomString(r, alphabets[md], k)
						if md == int(modeAlphanumeric) && k > 0 && chooseMode(text) != modeAlphanumeric {
							text = "A" + text[1:]
						}
					}
					if k > 0 && chooseMode(text) != mode(md) {
						t.Fatalf("%q is not in %s mode", text, modeNames[md])
					}
					m, err := Encode(text, v, lv)
					if err != nil {
						t.Fatalf("v%d-%v %s, %d characters: %v", v, lv, modeNames[md], k, err)
					}
					checkSymbol(t, m, v, lv)
					if k == 0 {
						continue // gozxing reports an empty symbol as not found
					}
					sc.check(t, m, text, lv)
				}
			}
		}
	}
}

// TestScanRandomBytes: arbitrary bytes (byte mode) at the small versions,
// every level.
func TestScanRandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n := count(50)
	var sc scans
	defer sc.done(t)
	for v := 1; v <= 10; v++ {
		for _, lv := range levels {
			c := capacity(v, lv, modeByte)
			for range n {
				text := randomBytes(r, 1+r.IntN(c))
				m, err := Encode(text, v, lv)
				if err != nil {
					t.Fatal(err)
				}
				checkSymbol(t, m, v, lv)
				sc.check(t, m, text, lv)
			}
		}
	}
}

func TestModes(t *testing.T) {
	for text, want := range map[string]mode{
		"": modeNumeric, "0123": modeNumeric, "0A": modeAlphanumeric, "AZ09 $%*+-./:": modeAlphanumeric,
		"a": modeByte, "A\x00": modeByte, "É": modeByte, "A=": modeByte,
	} {
		if got := chooseMode(text); got != want {
			t.Errorf("%q: %s mode, want %s", text, modeNames[got], modeNames[want])
		}
	}
}

func TestErrors(t *testing.T) {
	for _, v := range []int{-1, 0, 41, 1 << 40} {
		if _, err := Encode("A", v, M); !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: %v", v, err)
		}
	}
	for _, lv := range []Level{4, 255} {
		if _, err := Encode("A", 6, lv); !errors.Is(err, ErrLevel) {
			t.Errorf("level %d: %v", lv, err)
		}
	}
	for v := 1; v <= 40; v++ {
		for _, lv := range levels {
			for md, ch := range []string{"7", "Z", "z"} {
				c := capacity(v, lv, mode(md))
				if _, err := Encode(strings.Repeat(ch, c), v, lv); err != nil {
					t.Errorf("v%d-%v: %d %s characters: %v", v, lv, c, modeNames[md], err)
				}
				_, err := Encode(strings.Repeat(ch, c+1), v, lv)
				if !errors.Is(err, ErrTooLong) {
					t.Errorf("v%d-%v: %d %s characters: %v", v, lv, c+1, modeNames[md], err)
				}
			}
		}
	}
	_, err := Encode(strings.Repeat("A", 155), 6, M)
	if want := "155 characters in alphanumeric mode take 866 bits, a version 6-M symbol holds 864"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to say %q", err, want)
	}
	// A count that would overflow its indicator is refused even where the
	// bits would fit: 256 bytes need a 16-bit count below version 10.
	if _, err := Encode(strings.Repeat("a", 256), 9, L); !errors.Is(err, ErrTooLong) {
		t.Errorf("256 bytes at 9-L: %v", err)
	}
}

// TestFastPathMatchesGrid: the word path (versions 1-10) and the byte grid
// path give the same symbol, mask choice included.
func TestFastPathMatchesGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for v := 1; v <= 10; v++ {
		for _, lv := range levels {
			for range count(30) {
				text := randomBytes(r, r.IntN(capacity(v, lv, modeByte)+1))
				fast, err := Encode(text, v, lv)
				if err != nil {
					t.Fatal(err)
				}
				slow := gridEncode(t, text, v, lv)
				if fast.Mask() != slow.Mask() || !slices.Equal(fast.Bits(), slow.Bits()) {
					t.Fatalf("v%d-%v %q: word path mask %d, grid path mask %d", v, lv, text, fast.Mask(), slow.Mask())
				}
			}
		}
	}
}

// gridEncode encodes through placeGrid whatever the version.
func gridEncode(t testing.TB, text string, version int, level Level) *Matrix {
	lay := layoutFor(version)
	rows := lay.rows
	lay.rows = nil
	defer func() { lay.rows = rows }()
	m, err := Encode(text, version, level)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPenaltyWordsMatchGrid compares the two implementations of the rules
// on every mask of real symbols and on random module patterns (which reach
// cases real symbols rarely do: long runs, patterns against the edges).
func TestPenaltyWordsMatchGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	check := func(g []byte, n int) {
		t.Helper()
		var rows, cols [fastMaxSize]uint64
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if g[y*n+x] != 0 {
					rows[y] |= 1 << x
					cols[x] |= 1 << y
				}
			}
		}
		if w, b := penaltyWords(rows[:], cols[:], n), penaltyGrid(g, n); w != b {
			t.Fatalf("size %d: words %d, grid %d", n, w, b)
		}
	}
	for v := 1; v <= 10; v++ {
		for range count(10) {
			text := randomString(r, base32Alphabet, r.IntN(capacity(v, L, modeAlphanumeric)+1))
			for _, m := range maskVariants(t, text, v, L) {
				check(grid(m), m.Size())
			}
		}
	}
	for range count(3000) {
		n := 1 + r.IntN(fastMaxSize)
		g := make([]byte, n*n)
		// Biased densities give long runs and large blocks.
		p := r.Float64()
		for i := range g {
			if r.Float64() < p {
				g[i] = 1
			}
		}
		check(g, n)
	}
}

// TestPenaltyRules checks rules 1, 3 and 4 on hand-made lines, in both
// implementations.
func TestPenaltyRules(t *testing.T) {
	for _, c := range []struct {
		line string
		want int
	}{
		{"1111", 0}, {"11111", 3}, {"111111", 4}, {"1111111111", 8},
		{"111110111110", 6}, {"0111110", 3}, {"000001", 3}, {"1000000011111", 8},
	} {
		w, full := parseLine(c.line)
		if got := runScore(runStarts(w, full)); got != c.want {
			t.Errorf("rule 1 on %s: %d, want %d", c.line, got, c.want)
		}
		if got := lineRuns(lineBytes(c.line)); got != c.want {
			t.Errorf("rule 1 (grid) on %s: %d, want %d", c.line, got, c.want)
		}
	}
	for _, c := range []struct {
		line string
		want int
	}{
		{"1011101", 1},                 // light beyond the edges on both sides
		{"11011101", 1},                // light beyond the right edge
		{"110111011", 0},               // dark on both sides
		{"00001011101", 1},             // light before
		{"10111010000", 1},             // light after
		{"000010111010000", 1},         // both: counted once
		{"1000010111010001", 1},        // light area exactly 4 on each side
		{"1000101110100011", 0},        // only 3 light modules on each side
		{"10111010000101110100001", 2}, // two patterns sharing a light area
		{"1110101110101111", 0},        // no light area
		{"00000101111010000", 0},       // 1:1:4:1:1, not 1:1:3:1:1
	} {
		w, _ := parseLine(c.line)
		if got := finderCount(w); got != c.want {
			t.Errorf("rule 3 on %s: %d, want %d", c.line, got, c.want)
		}
		if got := lineFinders(lineBytes(c.line)); got != c.want {
			t.Errorf("rule 3 (grid) on %s: %d, want %d", c.line, got, c.want)
		}
	}
	for _, c := range []struct{ dark, total, want int }{
		{50, 100, 0}, {54, 100, 0}, {55, 100, 10}, {59, 100, 10}, {60, 100, 20}, {45, 100, 10}, {46, 100, 0}, {40, 100, 20},
		{0, 1681, 100}, {1681, 1681, 100}, {924, 1681, 0}, {925, 1681, 10},
	} {
		if got := balanceScore(c.dark, c.total); got != c.want {
			t.Errorf("rule 4, %d dark of %d: %d, want %d", c.dark, c.total, got, c.want)
		}
	}
}

// parseLine reads a line written module 0 first.
func parseLine(s string) (w, full uint64) {
	for i := range s {
		if s[i] == '1' {
			w |= 1 << i
		}
	}
	return w, 1<<len(s) - 1
}

func lineBytes(s string) []byte {
	b := []byte(s)
	for i := range b {
		b[i] -= '0'
	}
	return b
}

func TestMatrixAccess(t *testing.T) {
	m, err := Encode("HELLO WORLD", 1, Q)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() != 21 || m.Stride() != 3 || len(m.Bits()) != 63 {
		t.Fatalf("size %d stride %d bits %d", m.Size(), m.Stride(), len(m.Bits()))
	}
	for _, p := range [][2]int{{-1, 0}, {0, -1}, {21, 0}, {0, 21}, {-1 << 40, 3}} {
		if m.Dark(p[0], p[1]) {
			t.Errorf("module %v outside the symbol is dark", p)
		}
	}
	// Finder corners are dark, separators light, the dark module dark.
	for _, p := range [][3]int{{0, 0, 1}, {6, 6, 1}, {7, 7, 0}, {14, 0, 1}, {13, 0, 0}, {0, 14, 1}, {8, 13, 1}} {
		if m.Dark(p[0], p[1]) != (p[2] == 1) {
			t.Errorf("module (%d, %d) dark is %v", p[0], p[1], m.Dark(p[0], p[1]))
		}
	}
	// The last byte of each row has its 3 unused bits clear.
	for y := 0; y < 21; y++ {
		if m.Bits()[y*3+2]&0x07 != 0 {
			t.Errorf("row %d has bits past the symbol", y)
		}
	}
	if L.String() != "L" || H.String() != "H" || Level(9).String() != "Level(9)" {
		t.Error("Level.String")
	}
}

func TestAllocations(t *testing.T) {
	text := randomString(rand.New(rand.NewPCG(1, 1)), base32Alphabet, 136)
	Encode(text, 6, M) // build the layout first
	if n := testing.AllocsPerRun(100, func() { Encode(text, 6, M) }); n > 2 {
		t.Errorf("%v allocations per code, want the matrix and its bits only", n)
	}
}

// TestConcurrentEncode encodes from several goroutines at once, each
// version's layout being built on first use by whichever comes first: run
// with -race, and every symbol must equal the one encoded alone.
func TestConcurrentEncode(t *testing.T) {
	type job struct {
		text    string
		version int
		level   Level
	}
	r := rand.New(rand.NewPCG(19, 20))
	var jobs []job
	for v := 1; v <= 40; v++ {
		for _, lv := range levels {
			jobs = append(jobs, job{randomString(r, base32Alphabet, r.IntN(capacity(v, lv, modeAlphanumeric)+1)), v, lv})
		}
	}
	got := make([]*Matrix, len(jobs))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			// Each worker takes every job, from its own starting point, so
			// that first uses of a version race.
			for i := range jobs {
				j := jobs[(i+w*len(jobs)/4)%len(jobs)]
				m, err := Encode(j.text, j.version, j.level)
				if err != nil {
					t.Error(err)
					return
				}
				if w == 0 {
					got[i] = m
				}
			}
		})
	}
	wg.Wait()
	for i, j := range jobs {
		m, err := Encode(j.text, j.version, j.level)
		if err != nil {
			t.Fatal(err)
		}
		if got[i] == nil || !slices.Equal(got[i].Bits(), m.Bits()) {
			t.Fatalf("v%d-%v: concurrent and sequential symbols differ", j.version, j.level)
		}
	}
}
