package qrcode

import "sync"

// layout is everything about a version that does not depend on the data:
// computed once per version, on first use, and shared read-only by every
// encoding afterwards.
type layout struct {
	version int
	size    int

	// codewords is the number of 8-bit codewords the symbol holds, error
	// correction included; any modules left over are remainder bits.
	codewords int

	// template has the function patterns: 1 for a dark module. The format
	// information areas are 0 (written per mask); the version information
	// is in place for versions 7 and up, as it depends on nothing else.
	template []byte
	// function marks the modules that never carry data.
	function []bool
	// order lists the data modules, as y*size+x, in the order the bits of
	// the codeword sequence go into them (7.7.3), remainder bits included.
	order []uint16
	// format holds the module indices of format bits 0 to 14, the first
	// copy then the second (7.9.1, figure 25).
	format [2][15]uint16

	// Word form, for symbols narrow enough that a row fits a uint64 with
	// room to spare (see fastMaxSize); nil otherwise. Bit x of rows[y] is
	// module (x, y), bit y of cols[x] the same module.
	rows, cols         []uint64
	maskRows, maskCols [8][]uint64 // data modules that mask m inverts
	orderXY            []uint8     // order as x, y pairs: no division per bit
	formatXY           [2][15][2]uint8
}

// fastMaxSize is the widest symbol the word form handles: rule 3 of the
// mask penalty looks 10 modules past a pattern that may start 7 modules
// before the end of a line, and modules past the end must read as light
// (1) bits of the inverted word, so a line needs size+3 < 64 bits; 57 is
// version 10.
const fastMaxSize = 57

var layouts [41]struct {
	once sync.Once
	l    *layout
}

func layoutFor(version int) *layout {
	e := &layouts[version]
	e.once.Do(func() { e.l = newLayout(version) })
	return e.l
}

func newLayout(version int) *layout {
	n := 17 + 4*version
	l := &layout{version: version, size: n, template: make([]byte, n*n), function: make([]bool, n*n)}
	set := func(x, y int, dark bool) {
		l.function[y*n+x] = true
		if dark {
			l.template[y*n+x] = 1
		} else {
			l.template[y*n+x] = 0
		}
	}
	// Timing patterns first: the finders and alignment patterns drawn next
	// overwrite the modules they share.
	for i := 0; i < n; i++ {
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	// Finder patterns and their separators: rings at Chebyshev distance
	// 0-1 and 3 from the centre dark, 2 and 4 light.
	for _, c := range [3][2]int{{3, 3}, {n - 4, 3}, {3, n - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || x >= n || y < 0 || y >= n {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	pos := alignmentPositions(version)
	for i, cy := range pos {
		for j, cx := range pos {
			// The three corners that would overlap a finder pattern.
			if i == 0 && j == 0 || i == 0 && j == len(pos)-1 || i == len(pos)-1 && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	// Format information: reserved here, written per mask.
	for i := 0; i < 15; i++ {
		var x, y int
		switch {
		case i < 6:
			x, y = 8, i
		case i == 6:
			x, y = 8, 7
		case i == 7:
			x, y = 8, 8
		case i == 8:
			x, y = 7, 8
		default:
			x, y = 14-i, 8
		}
		l.format[0][i] = uint16(y*n + x)
		set(x, y, false)
		if i < 8 {
			x, y = n-1-i, 8
		} else {
			x, y = 8, n-15+i
		}
		l.format[1][i] = uint16(y*n + x)
		set(x, y, false)
	}
	// The dark module next to the lower left format copy (7.9.1).
	set(8, n-8, true)
	if version >= 7 {
		bits := versionBits(version)
		for i := 0; i < 18; i++ {
			dark := bits>>i&1 != 0
			a, b := n-11+i%3, i/3
			set(a, b, dark)
			set(b, a, dark)
		}
	}

	// Data modules in placement order: two-module-wide columns from the
	// right, alternately upwards and downwards, skipping the vertical
	// timing pattern's column.
	l.order = make([]uint16, 0, n*n)
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (right+1)&2 == 0
		for v := 0; v < n; v++ {
			y := v
			if upward {
				y = n - 1 - v
			}
			for x := right; x > right-2; x-- {
				if !l.function[y*n+x] {
					l.order = append(l.order, uint16(y*n+x))
				}
			}
		}
	}
	l.codewords = len(l.order) / 8

	if n <= fastMaxSize {
		l.rows, l.cols = make([]uint64, n), make([]uint64, n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if l.template[y*n+x] != 0 {
					l.rows[y] |= 1 << x
					l.cols[x] |= 1 << y
				}
			}
		}
		for m := range 8 {
			l.maskRows[m], l.maskCols[m] = make([]uint64, n), make([]uint64, n)
			for _, i := range l.order {
				x, y := int(i)%n, int(i)/n
				if maskBit(m, x, y) {
					l.maskRows[m][y] |= 1 << x
					l.maskCols[m][x] |= 1 << y
				}
			}
		}
		l.orderXY = make([]uint8, 0, 2*len(l.order))
		for _, i := range l.order {
			l.orderXY = append(l.orderXY, uint8(int(i)%n), uint8(int(i)/n))
		}
		for c := range l.format {
			for i, p := range l.format[c] {
				l.formatXY[c][i] = [2]uint8{uint8(int(p) % n), uint8(int(p) / n)}
			}
		}
	}
	return l
}

// maskBit says whether data mask m inverts module (x, y) (table 10, with
// i the row and j the column).
func maskBit(m, x, y int) bool {
	i, j := y, x
	switch m {
	case 0:
		return (i+j)%2 == 0
	case 1:
		return i%2 == 0
	case 2:
		return j%3 == 0
	case 3:
		return (i+j)%3 == 0
	case 4:
		return (i/2+j/3)%2 == 0
	case 5:
		return i*j%2+i*j%3 == 0
	case 6:
		return (i*j%2+i*j%3)%2 == 0
	default:
		return ((i+j)%2+i*j%3)%2 == 0
	}
}

// formatBits is the 15-bit format information of a level and mask: 5 data
// bits, 10 bits of BCH(15,5) with generator 0x537, then XOR 0x5412 so that
// it is never all light (7.9.1, annex C).
func formatBits(level Level, mask int) uint32 {
	d := formatLevelBits[level]<<3 | uint32(mask)
	r := d
	for range 10 {
		r = r<<1 ^ (r>>9)*0x537
	}
	return (d<<10 | r&0x3FF) ^ 0x5412
}

// versionBits is the 18-bit version information: 6 data bits and 12 bits of
// BCH(18,6) with generator 0x1F25 (7.10, annex D).
func versionBits(version int) uint32 {
	r := uint32(version)
	for range 12 {
		r = r<<1 ^ (r>>11)*0x1F25
	}
	return uint32(version)<<12 | r&0xFFF
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
