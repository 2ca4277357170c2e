package qrcode

import "math/bits"

// Mask penalty weights N1 to N4 (ISO/IEC 18004:2015, 7.8.3.1, table 11).
const (
	penaltyN1 = 3
	penaltyN2 = 3
	penaltyN3 = 40
	penaltyN4 = 10
)

// The four rules, as this package reads them where table 11 leaves room:
//
//  1. Each run of 5+i modules of one colour in a row or column scores N1+i.
//  2. Each 2×2 square of one colour scores N2: an m×n block of one colour
//     contains (m-1)(n-1) of them, which is what table 11 charges for it,
//     and counting squares needs no choice of how to cut an irregular
//     region into blocks.
//  3. Each 1:1:3:1:1 (dark:light:dark:light:dark) pattern in a row or
//     column scores N3 once if 4 light modules precede or follow it;
//     modules beyond the symbol's edge count as light, since the quiet
//     zone is there.
//  4. With dark modules making p% of the symbol, k = ⌊|p-50|/5⌋ and the
//     score is N4·k (exact multiples of 5% fall into the higher k).
//
// These are the readings of ZXing's encoder (and of gozxing's port, which
// the tests compare with); see docs/BENCHMARKS.md for how skip2/go-qrcode
// departs from them.

// penaltyWords scores a symbol of size n held as rows and columns of bits
// (bit x of rows[y] and bit y of cols[x] are module (x, y), 1 dark), with
// nothing set past bit n-1. It needs n <= fastMaxSize. Each rule becomes a
// few shifts, ANDs and population counts per line instead of a loop over
// modules.
func penaltyWords(rows, cols []uint64, n int) int {
	full := uint64(1)<<n - 1
	runs, finders, dark := 0, 0, 0
	for i := range n {
		r, c := rows[i], cols[i]
		dark += bits.OnesCount64(r)
		runs += runScore(runStarts(r, full)) + runScore(runStarts(c, full))
		finders += finderCount(r) + finderCount(c)
	}
	squares := 0
	inner := full >> 1 // a square starts at most at column n-2
	for y := 0; y+1 < n; y++ {
		a, b := rows[y], rows[y+1]
		same := ^(a ^ b) & ^(a ^ a>>1) & ^(b ^ b>>1)
		squares += bits.OnesCount64(same & inner)
	}
	return runs + penaltyN2*squares + penaltyN3*finders + balanceScore(dark, n*n)
}

// runStarts marks the positions of a line w (1 dark, nothing past full)
// where 5 modules of one colour start.
func runStarts(w, full uint64) uint64 {
	l := ^w & full
	return w&(w>>1)&(w>>2)&(w>>3)&(w>>4) | l&(l>>1)&(l>>2)&(l>>3)&(l>>4)
}

// runScore is rule 1 from the marks t of runStarts: a run of length L≥5
// leaves L-4 contiguous marks and scores N1+(L-5) = (L-4) + 2, so the score
// is the number of marks plus twice the number of groups of marks (marks
// with no mark just below). Dark and light groups are never adjacent: a
// dark mark at p and a light one at p+1 would disagree on module p+1.
func runScore(t uint64) int {
	return bits.OnesCount64(t) + 2*bits.OnesCount64(t&^(t<<1))
}

// finderCount is rule 3 for one line w (1 dark): the number of patterns.
// Bits of ^w past the line read as light, as do the positions before bit
// 0 (the ORed constants).
func finderCount(w uint64) int {
	l := ^w
	core := w & (l >> 1) & (w >> 2) & (w >> 3) & (w >> 4) & (l >> 5) & (w >> 6)
	if core == 0 {
		return 0
	}
	after := (l >> 7) & (l >> 8) & (l >> 9) & (l >> 10)
	before := (l<<1 | 1) & (l<<2 | 3) & (l<<3 | 7) & (l<<4 | 15)
	return bits.OnesCount64(core & (before | after))
}

// balanceScore is rule 4. 20·dark - 10·total over total is |p-50|/5.
func balanceScore(dark, total int) int {
	return penaltyN4 * (abs(20*dark-10*total) / total)
}

// penaltyGrid scores a symbol held as one byte per module (1 dark), row
// by row: the plain reading of the rules, used above fastMaxSize and as the
// reference that the tests hold penaltyWords to.
func penaltyGrid(g []byte, n int) int {
	score, dark := 0, 0
	col := make([]byte, n)
	for i := 0; i < n; i++ {
		row := g[i*n : (i+1)*n]
		for y := range col {
			col[y] = g[y*n+i]
		}
		score += lineRuns(row) + lineRuns(col) + penaltyN3*(lineFinders(row)+lineFinders(col))
		for x, v := range row {
			dark += int(v)
			if x+1 < n && i+1 < n {
				below := g[(i+1)*n:]
				if row[x+1] == v && below[x] == v && below[x+1] == v {
					score += penaltyN2
				}
			}
		}
	}
	return score + balanceScore(dark, n*n)
}

// lineRuns is rule 1 on one line.
func lineRuns(line []byte) int {
	score, run := 0, 1
	for x := 1; x <= len(line); x++ {
		if x < len(line) && line[x] == line[x-1] {
			run++
			continue
		}
		if run >= 5 {
			score += penaltyN1 + run - 5
		}
		run = 1
	}
	return score
}

// lineFinders is rule 3 on one line: the number of patterns, not the score.
func lineFinders(line []byte) int {
	n := len(line)
	light := func(from, to int) bool {
		for x := max(from, 0); x < min(to, n); x++ {
			if line[x] != 0 {
				return false
			}
		}
		return true
	}
	count := 0
	for x := 0; x+6 < n; x++ {
		if line[x] == 1 && line[x+1] == 0 && line[x+2] == 1 && line[x+3] == 1 &&
			line[x+4] == 1 && line[x+5] == 0 && line[x+6] == 1 &&
			(light(x-4, x) || light(x+7, x+11)) {
			count++
		}
	}
	return count
}
