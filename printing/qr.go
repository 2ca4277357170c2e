package printing

import (
	"errors"
	"fmt"
	"strconv"

	"passnum/qrcode"
)

// QR versions are fixed per kind of code, so that every voucher's symbol has
// the same size and the layout never depends on the data. At error
// correction level M a version 6 symbol (41×41 modules) holds 154
// alphanumeric characters, a version 5 (37×37) 122: enough for a voucher
// code (136) and an activation code (120). In byte mode the same versions
// hold only 106 and 84 characters; passnum/qrcode takes the alphanumeric
// mode whenever every character is in its set, which encodeQR checks
// first.
const (
	voucherQRVersion    = 6
	activationQRVersion = 5
	quietModules        = 4 // ISO/IEC 18004 quiet zone, on every side
)

// qrMatrix is a QR symbol without its quiet zone, one bit per module, rows
// packed most significant bit first, 1 for a dark module: exactly the
// sample layout of a PDF 1-bit image, so drawing copies bytes.
type qrMatrix struct {
	size   int // modules per side
	stride int // bytes per row
	bits   []byte
}

func (m qrMatrix) dark(x, y int) bool {
	return m.bits[y*m.stride+x/8]&(0x80>>(x%8)) != 0
}

// encodeQR computes the symbol of code at a fixed version and level M.
func encodeQR(code string, version int) (m qrMatrix, err error) {
	if code == "" {
		return m, fmt.Errorf("empty code")
	}
	for i := 0; i < len(code); i++ {
		// The QR alphanumeric set, in which every passnum code is written.
		c := code[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '$' || c == '%' || c == '*' || c == '+' || c == '-' || c == '.' || c == '/' || c == ':') {
			return m, fmt.Errorf("code has %q at offset %d, outside the QR alphanumeric set", c, i)
		}
	}
	q, err := qrcode.Encode(code, version, qrcode.M)
	if errors.Is(err, qrcode.ErrTooLong) {
		return m, fmt.Errorf("code of %d characters does not fit a version %d-M QR code: %v", len(code), version, err)
	}
	if err != nil {
		return m, fmt.Errorf("QR encoder failed: %v", err)
	}
	// qrcode.Matrix.Bits has qrMatrix's layout: shared, never modified.
	return qrMatrix{size: q.Size(), stride: q.Stride(), bits: q.Bits()}, nil
}

// The QR symbol is drawn as an inline 1-bit image mask, one image sample per
// module, scaled by the content stream matrix to an exact module size and
// painted without interpolation (/I false). Of the methods measured
// (BenchmarkRenderDrawing; docs/BENCHMARKS.md, "QR codes in the PDF"), it
// draws faster and makes smaller files than one vector path of rectangles,
// and far faster than an image per voucher through fpdf's PNG parser, which
// parses and re-compresses each PNG. It is square at any resolution when a
// module is a whole number of device pixels, which the module sizes below
// guarantee at 300, 600, 1200 and 2400 dpi, and prepress software treats it
// like the PostScript imagemask it is. Its samples are written in ASCII hex:
// raw binary could contain "EI", which naive parsers take for the end of the
// image; the page stream is Flate-compressed anyway. The vector method stays
// for the benchmarks (and is tested to decode too).
//
// dot is 1/300 inch in points: module sizes are whole multiples of it,
// which also makes every coordinate exact with the two decimals fpdf
// writes (a dot is 0.24 pt).
const dotPt = 72.0 / 300

// qrBlock is the side of a symbol with its quiet zone, in mm.
func qrBlock(version, moduleDots int) float64 {
	return float64(17+4*version+2*quietModules) * float64(moduleDots) * dotPt / ptPerMM
}

const hexDigits = "0123456789ABCDEF"

// appendQR appends the content-stream operators that paint m with its top
// left quiet-zone corner at (x, y) mm from the top left of a page of
// height pageH mm. The quiet zone is left unpainted: callers keep it clear.
func appendQR(dst []byte, m qrMatrix, x, y, pageH float64, moduleDots int) []byte {
	side := float64(m.size*moduleDots) * dotPt
	// Snap the origin to the dot grid, so that module edges fall on dots.
	q := float64(quietModules*moduleDots) * dotPt
	left := snapDot(x*ptPerMM + q)
	bottom := snapDot((pageH-y)*ptPerMM-q) - side
	dst = append(dst, "q 0 g "...)
	dst = appendPt(dst, side)
	dst = append(dst, " 0 0 "...)
	dst = appendPt(dst, side)
	dst = append(dst, ' ')
	dst = appendPt(dst, left)
	dst = append(dst, ' ')
	dst = appendPt(dst, bottom)
	dst = append(dst, " cm\nBI /W "...)
	dst = strconv.AppendInt(dst, int64(m.size), 10)
	dst = append(dst, " /H "...)
	dst = strconv.AppendInt(dst, int64(m.size), 10)
	dst = append(dst, " /IM true /D [1 0] /I false /F /AHx ID\n"...)
	for y := 0; y < m.size; y++ {
		for _, b := range m.bits[y*m.stride : (y+1)*m.stride] {
			dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
		}
		dst = append(dst, '\n')
	}
	return append(dst, ">\nEI Q"...)
}

// appendQRVectors is the other method, kept for the benchmarks that
// justify the choice above: one filled path of rectangles in module units
// (one per horizontal run of dark modules, runs of equal extent in
// consecutive rows merged vertically), under the same matrix as the image.
func appendQRVectors(dst []byte, m qrMatrix, x, y, pageH float64, moduleDots int) []byte {
	mod := float64(moduleDots) * dotPt
	q := float64(quietModules) * mod
	left := snapDot(x*ptPerMM + q)
	top := snapDot((pageH-y)*ptPerMM - q)
	dst = append(dst, "q 0 g "...)
	dst = appendPt(dst, mod)
	dst = append(dst, " 0 0 "...)
	dst = appendPt(dst, -mod)
	dst = append(dst, ' ')
	dst = appendPt(dst, left)
	dst = append(dst, ' ')
	dst = appendPt(dst, top)
	dst = append(dst, " cm\n"...)
	type run struct{ x, w, y, h int }
	var open, next []run // runs ending on the previous row, and on this row
	emit := func(r run) {
		for _, v := range [4]int{r.x, r.y, r.w, r.h} {
			dst = strconv.AppendInt(dst, int64(v), 10)
			dst = append(dst, ' ')
		}
		dst = append(dst, "re\n"...)
	}
	for row := 0; row < m.size; row++ {
		next = next[:0]
		k := 0
		for col := 0; col < m.size; {
			if !m.dark(col, row) {
				col++
				continue
			}
			start := col
			for col < m.size && m.dark(col, row) {
				col++
			}
			r := run{start, col - start, row, 1}
			for k < len(open) && open[k].x < start {
				emit(open[k])
				k++
			}
			if k < len(open) && open[k].x == start && open[k].w == r.w {
				r = open[k]
				r.h++
				k++
			}
			next = append(next, r)
		}
		for ; k < len(open); k++ {
			emit(open[k])
		}
		open, next = next, open
	}
	for _, r := range open {
		emit(r)
	}
	return append(dst, "f Q"...)
}

func snapDot(pt float64) float64 {
	d := pt / dotPt
	if d < 0 {
		return float64(int64(d-0.5)) * dotPt
	}
	return float64(int64(d+0.5)) * dotPt
}

func appendPt(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'f', 2, 64)
}
