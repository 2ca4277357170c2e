// Package qrcode encodes QR codes (ISO/IEC 18004:2015, model 2) of a
// version and error correction level chosen by the caller, in one segment:
// numeric mode when the text is all digits, alphanumeric mode when every
// character is in its 45-character set, byte mode otherwise (the string's
// bytes as they are, with no ECI: readers mostly assume ISO-8859-1 or
// guess UTF-8).
//
// It exists because printing needs thousands of codes a second and
// github.com/skip2/go-qrcode spent most of printing's CPU on them
// (docs/BENCHMARKS.md, "Printing"). Fixing the version lets every encoding
// reuse what depends only on the version (function patterns, placement
// order, mask patterns: computed once), and for versions up to 10 each row
// and column of the symbol fits one machine word, so that scoring the eight
// masks takes a few word operations per line instead of a loop over
// modules. Larger versions (to 40) take a plain byte-per-module path, the
// tests' reference, which is much slower and unused by passnum.
package qrcode

import (
	"errors"
	"fmt"
	"math/bits"
)

// Level is an error correction level.
type Level uint8

// The four levels, recovering about 7%, 15%, 25% and 30% of the codewords.
const (
	L Level = iota
	M
	Q
	H
)

func (l Level) String() string {
	if l > H {
		return fmt.Sprintf("Level(%d)", uint8(l))
	}
	return "LMQH"[l : l+1]
}

// Errors, to test with errors.Is; the errors returned say more.
var (
	ErrVersion = errors.New("qrcode: version out of range 1-40")
	ErrLevel   = errors.New("qrcode: unknown error correction level")
	ErrTooLong = errors.New("qrcode: text too long for the version and level")
)

// Matrix is an encoded symbol, without quiet zone.
type Matrix struct {
	version int
	level   Level
	mask    int
	size    int
	stride  int
	bits    []byte
}

// Size is the number of modules per side, 17+4·version.
func (m *Matrix) Size() int { return m.size }

// Dark reports whether module (x, y) is dark, (0, 0) being the top left
// corner. Modules outside the symbol are light, as the quiet zone is.
func (m *Matrix) Dark(x, y int) bool {
	if uint(x) >= uint(m.size) || uint(y) >= uint(m.size) {
		return false
	}
	return m.bits[y*m.stride+x>>3]&(0x80>>(x&7)) != 0
}

// Bits returns the symbol as rows of Stride bytes, top row first, each
// row's modules packed from the most significant bit, 1 for dark, unused
// low bits of the last byte 0: the sample layout of a 1-bit image (a PDF
// image mask with /Decode [1 0], a PNG of bit depth 1 inverted), so that
// drawing can copy it. The slice is the Matrix's own: do not modify it.
func (m *Matrix) Bits() []byte { return m.bits }

// Stride is the number of bytes per row in Bits, (Size+7)/8.
func (m *Matrix) Stride() int { return m.stride }

// Version, Level and Mask are what the symbol was encoded with; Mask is
// the data mask pattern (0-7) chosen by the penalty rules.
func (m *Matrix) Version() int { return m.version }
func (m *Matrix) Level() Level { return m.level }
func (m *Matrix) Mask() int    { return m.mask }

// Encode encodes text in a symbol of the given version (1-40) and level,
// in the most compact of the numeric, alphanumeric and byte modes that
// holds all of text. It fails if text does not fit.
func Encode(text string, version int, level Level) (*Matrix, error) {
	return encode(text, version, level, -1)
}

type mode uint8

const (
	modeNumeric mode = iota
	modeAlphanumeric
	modeByte
)

var modeNames = [3]string{"numeric", "alphanumeric", "byte"}

// modeIndicator and countBits follow tables 2 and 3; countBits is indexed
// by mode and by version range 1-9, 10-26, 27-40.
var modeIndicator = [3]uint32{1, 2, 4}
var countBits = [3][3]int{{10, 12, 14}, {9, 11, 13}, {8, 16, 16}}

func chooseMode(text string) mode {
	m := modeNumeric
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= '0' && c <= '9' {
			continue
		}
		if alphanumericValue[c] < 0 {
			return modeByte
		}
		m = modeAlphanumeric
	}
	return m
}

func dataBits(md mode, n int) int {
	switch md {
	case modeNumeric:
		return n/3*10 + [3]int{0, 4, 7}[n%3]
	case modeAlphanumeric:
		return n/2*11 + n%2*6
	default:
		return n * 8
	}
}

// encode is Encode with the mask forced when mask is 0-7 (tests compare
// module for module with encoders that chose another mask).
func encode(text string, version int, level Level, mask int) (*Matrix, error) {
	if version < 1 || version > 40 {
		return nil, fmt.Errorf("%w: %d", ErrVersion, version)
	}
	if level > H {
		return nil, fmt.Errorf("%w: %d", ErrLevel, uint8(level))
	}
	lay := layoutFor(version)
	blocks := int(blockCount[level][version])
	ecc := int(eccPerBlock[level][version])
	total := lay.codewords
	dataLen := total - blocks*ecc

	md := chooseMode(text)
	cb := countBits[md][(version+7)/17]
	need := 4 + cb + dataBits(md, len(text))
	if need > dataLen*8 || len(text) >= 1<<cb {
		return nil, fmt.Errorf("%w: %d characters in %s mode take %d bits, a version %d-%v symbol holds %d",
			ErrTooLong, len(text), modeNames[md], need, version, level, dataLen*8)
	}

	// Up to version 10 (346 codewords) the buffers live on the stack.
	var small [2][346]byte
	var data, seq []byte
	if total <= len(small[0]) {
		data, seq = small[0][:total], small[1][:total]
	} else {
		data, seq = make([]byte, total), make([]byte, total)
	}

	w := bitWriter{buf: data[:dataLen]}
	w.put(modeIndicator[md], 4)
	w.put(uint32(len(text)), cb)
	switch md {
	case modeNumeric:
		for i := 0; i < len(text); i += 3 {
			k := min(3, len(text)-i)
			v := uint32(0)
			for _, c := range []byte(text[i : i+k]) {
				v = v*10 + uint32(c-'0')
			}
			w.put(v, [4]int{0, 4, 7, 10}[k])
		}
	case modeAlphanumeric:
		i := 0
		for ; i+1 < len(text); i += 2 {
			w.put(uint32(alphanumericValue[text[i]])*45+uint32(alphanumericValue[text[i+1]]), 11)
		}
		if i < len(text) {
			w.put(uint32(alphanumericValue[text[i]]), 6)
		}
	default:
		for i := 0; i < len(text); i++ {
			w.put(uint32(text[i]), 8)
		}
	}
	// Terminator (up to 4 zero bits), zero bits to the byte boundary, then
	// the pad codewords 0xEC and 0x11 in turn (7.4.10).
	w.put(0, min(4, dataLen*8-w.n))
	w.put(0, -w.n&7)
	for i, pad := w.n/8, byte(0xEC); i < dataLen; i, pad = i+1, pad^0xEC^0x11 {
		data[i] = pad
	}

	// Blocks: the first `short` have shortData data codewords, the others
	// one more. The error correction of all blocks goes after the data,
	// block after block, then both are interleaved into seq (7.6).
	short := blocks - total%blocks
	shortData := total/blocks - ecc
	for b, off := 0, 0; b < blocks; b++ {
		k := shortData
		if b >= short {
			k++
		}
		rsRemainder(data[off:off+k], data[dataLen+b*ecc:dataLen+(b+1)*ecc])
		off += k
	}
	i := 0
	for j := 0; j <= shortData; j++ {
		for b, off := 0, 0; b < blocks; b++ {
			k := shortData
			if b >= short {
				k++
			}
			if j < k {
				seq[i] = data[off+j]
				i++
			}
			off += k
		}
	}
	for j := 0; j < ecc; j++ {
		for b := 0; b < blocks; b++ {
			seq[i] = data[dataLen+b*ecc+j]
			i++
		}
	}

	if lay.rows != nil {
		return placeWords(lay, seq, level, mask), nil
	}
	return placeGrid(lay, seq, level, mask), nil
}

type bitWriter struct {
	buf  []byte
	n    int    // bits written, those still in acc included
	acc  uint64 // the last n%8 bits (and up to 32 more, briefly)
	nacc int
}

// put appends the low nbits (at most 32) of v, most significant first.
func (w *bitWriter) put(v uint32, nbits int) {
	w.acc = w.acc<<nbits | uint64(v)
	w.nacc += nbits
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf[(w.n+nbits-w.nacc)>>3-1] = byte(w.acc >> w.nacc)
	}
	w.n += nbits
}

// placeWords lays seq out in word form, scores each mask on the words and
// returns the matrix of the lowest score (the lowest mask on ties), or of
// mask if forced.
func placeWords(lay *layout, seq []byte, level Level, mask int) *Matrix {
	n := lay.size
	var base, baseCols, rows, cols [64]uint64
	copy(base[:], lay.rows)
	xy := lay.orderXY[:16*len(seq)]
	for i, c := range seq {
		p := xy[16*i : 16*i+16]
		for k := 0; k < 8; k++ {
			base[p[2*k+1]] |= uint64(c>>(7-k)&1) << p[2*k]
		}
	}
	// Placing bits in rows only and transposing once costs less than
	// setting each bit in both.
	baseCols = base
	transpose(&baseCols)
	build := func(m int) {
		mr, mc := lay.maskRows[m][:n], lay.maskCols[m][:n]
		for i := range n {
			rows[i] = base[i] ^ mr[i]
			cols[i] = baseCols[i] ^ mc[i]
		}
		f := formatBits(level, m)
		for c := range lay.formatXY {
			for i, p := range lay.formatXY[c] {
				b := uint64(f>>i) & 1
				rows[p[1]] |= b << p[0]
				cols[p[0]] |= b << p[1]
			}
		}
	}
	if mask < 0 {
		best := 0
		for m := 0; m < 8; m++ {
			build(m)
			if p := penaltyWords(rows[:n], cols[:n], n); m == 0 || p < best {
				best, mask = p, m
			}
		}
	}
	build(mask)
	out := newMatrix(lay.version, level, mask)
	for y := 0; y < n; y++ {
		r := bits.Reverse64(rows[y]) // module 0 to the most significant bit
		row := out.bits[y*out.stride : (y+1)*out.stride]
		for i := range row {
			row[i] = byte(r >> (56 - 8*i))
		}
	}
	return out
}

// transpose turns bit x of a[y] into bit y of a[x], swapping ever smaller
// off-diagonal blocks: 6 rounds of 32 word operations.
func transpose(a *[64]uint64) {
	m := uint64(0x00000000FFFFFFFF)
	for j := 32; j != 0; j, m = j>>1, m^m<<(j>>1) {
		for k := 0; k < 64; k = (k + j + 1) &^ j {
			t := (a[k]>>j ^ a[k+j]) & m
			a[k] ^= t << j
			a[k+j] ^= t
		}
	}
}

// placeGrid is placeWords for any version, on one byte per module.
func placeGrid(lay *layout, seq []byte, level Level, mask int) *Matrix {
	n := lay.size
	base := make([]byte, n*n)
	copy(base, lay.template)
	for i, p := range lay.order[:8*len(seq)] {
		base[p] = seq[i>>3] >> (7 - i&7) & 1
	}
	g := make([]byte, n*n)
	build := func(m int) {
		copy(g, base)
		for _, p := range lay.order {
			if maskBit(m, int(p)%n, int(p)/n) {
				g[p] ^= 1
			}
		}
		f := formatBits(level, m)
		for c := range lay.format {
			for i, p := range lay.format[c] {
				g[p] = byte(f>>i) & 1
			}
		}
	}
	if mask < 0 {
		best := 0
		for m := 0; m < 8; m++ {
			build(m)
			if p := penaltyGrid(g, n); m == 0 || p < best {
				best, mask = p, m
			}
		}
	}
	build(mask)
	out := newMatrix(lay.version, level, mask)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if g[y*n+x] != 0 {
				out.bits[y*out.stride+x>>3] |= 0x80 >> (x & 7)
			}
		}
	}
	return out
}

func newMatrix(version int, level Level, mask int) *Matrix {
	n := 17 + 4*version
	m := &Matrix{version: version, level: level, mask: mask, size: n, stride: (n + 7) / 8}
	m.bits = make([]byte, m.stride*n)
	return m
}
