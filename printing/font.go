package printing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/go-fonts/liberation/liberationsansbold"
	"github.com/go-fonts/liberation/liberationsansregular"
	"golang.org/x/image/font/sfnt"
)

// Fonts are embedded (as subsets, by fpdf) so that print shops accept the
// PDF and it prints the same everywhere. They ship inside a Go module
// (github.com/go-fonts/liberation), so no binary font file is committed
// here. Liberation Sans (SIL Open Font License) is drawn on the metrics of
// Arial, the face plain-language ("facile à lire") guides name: its digits
// are of the same design as its letters, where the Go fonts' digits, with
// their slab-footed 1 and their zero, read as a typewriter's inside
// proportional text and on the statements. It covers é è à ç € « » ’.
//
// fontBytes patches a copy of each font once, as it did for the Go fonts,
// which lacked U+202F: U+202F, the narrow no-break space that French
// typography puts between groups of thousands ("50 000 €"), gets the
// glyph that U+00A0 had, narrowed to a fifth of an em, and U+00A0 takes
// the ordinary space glyph; the character map becomes one format 4
// subtable, the one fpdf reads. fpdf writes a ToUnicode map from the
// runes, so text extraction still yields U+202F.

const (
	fontFamily = "sans"
	// narrowSpaceEm is the advance of U+202F, in em: a thin space.
	narrowSpaceEm = 0.2
)

var (
	fontOnce  sync.Once
	fontFiles [2][]byte // regular, bold
	fontErr   error
)

// fontBytes returns the patched regular and bold fonts. They are built once
// and only read afterwards, so documents rendered concurrently share them.
func fontBytes() (regular, bold []byte, err error) {
	fontOnce.Do(func() {
		for i, src := range [][]byte{liberationsansregular.TTF, liberationsansbold.TTF} {
			if fontFiles[i], fontErr = withNarrowNoBreakSpace(src); fontErr != nil {
				return
			}
		}
	})
	return fontFiles[0], fontFiles[1], fontErr
}

// withNarrowNoBreakSpace returns a copy of a TrueType font with a new cmap
// (one format 4 subtable, the one fpdf reads) and one hmtx entry changed,
// as described above. Every other table is copied unchanged.
func withNarrowNoBreakSpace(ttf []byte) ([]byte, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, err
	}
	tables, err := readTables(ttf)
	if err != nil {
		return nil, err
	}
	var buf sfnt.Buffer
	glyphOf := func(r rune) uint16 {
		g, err := f.GlyphIndex(&buf, r)
		if err != nil {
			return 0
		}
		return uint16(g)
	}
	space, nbspGlyph := glyphOf(' '), glyphOf('\u00a0')
	if space == 0 || nbspGlyph == 0 {
		return nil, errors.New("printing: font has no space or no-break space glyph")
	}
	cmap := make(map[rune]uint16, 1024)
	for r := rune(0); r <= 0xffff; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		if g := glyphOf(r); g != 0 {
			cmap[r] = g
		}
	}
	cmap['\u00a0'] = space
	cmap['\u202f'] = nbspGlyph

	hhea, hmtx, head := tables["hhea"], tables["hmtx"], tables["head"]
	if len(hhea) < 36 || len(head) < 54 {
		return nil, errors.New("printing: font has no usable hhea or head table")
	}
	numHMetrics := int(binary.BigEndian.Uint16(hhea[34:]))
	if int(nbspGlyph) >= numHMetrics || len(hmtx) < 4*numHMetrics {
		return nil, errors.New("printing: cannot set the width of the narrow no-break space")
	}
	hmtx = append([]byte(nil), hmtx...)
	unitsPerEm := float64(binary.BigEndian.Uint16(head[18:]))
	binary.BigEndian.PutUint16(hmtx[4*int(nbspGlyph):], uint16(unitsPerEm*narrowSpaceEm+0.5))
	tables["hmtx"] = hmtx
	if tables["cmap"], err = cmapFormat4(cmap); err != nil {
		return nil, err
	}
	return writeTables(tables), nil
}

func readTables(ttf []byte) (map[string][]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("printing: font too short")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, errors.New("printing: font table directory truncated")
	}
	tables := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		rec := ttf[12+16*i:]
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(length) > uint64(len(ttf)) {
			return nil, fmt.Errorf("printing: font table %q out of bounds", rec[:4])
		}
		tables[string(rec[:4])] = ttf[off : off+length]
	}
	return tables, nil
}

// writeTables lays tables out in tag order with fresh checksums and head's
// checkSumAdjustment, as the TrueType spec asks, so that strict font
// validators in prepress software accept the result.
func writeTables(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	searchRange := 16 << entrySelector
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out[0:], 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(searchRange))
	binary.BigEndian.PutUint16(out[8:], uint16(entrySelector))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-searchRange))
	headOff := 0
	for i, tag := range tags {
		data := tables[tag]
		if tag == "head" {
			data = append([]byte(nil), data...)
			binary.BigEndian.PutUint32(data[8:], 0) // checkSumAdjustment, set below
			headOff = len(out)
		}
		rec := out[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], tableChecksum(data))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(data)))
		out = append(out, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	if headOff > 0 {
		binary.BigEndian.PutUint32(out[headOff+8:], 0xb1b0afba-tableChecksum(out))
	}
	return out
}

func tableChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// cmapFormat4 encodes a BMP character map as a cmap table holding a single
// (3, 1) format 4 subtable, one segment per run of consecutive characters
// with consecutive glyphs (idDelta only, no glyph array).
func cmapFormat4(m map[rune]uint16) ([]byte, error) {
	runes := make([]rune, 0, len(m))
	for r := range m {
		if r < 0xffff {
			runes = append(runes, r)
		}
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	type segment struct{ start, end, delta uint16 }
	var segs []segment
	for _, r := range runes {
		delta := uint16(int(m[r]) - int(r))
		if k := len(segs) - 1; k >= 0 && int(segs[k].end)+1 == int(r) && segs[k].delta == delta {
			segs[k].end = uint16(r)
			continue
		}
		segs = append(segs, segment{uint16(r), uint16(r), delta})
	}
	segs = append(segs, segment{0xffff, 0xffff, 1}) // required last segment, maps to glyph 0
	n := len(segs)
	length := 16 + 8*n
	if length > 0xffff {
		return nil, errors.New("printing: character map too large for format 4")
	}
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	searchRange := 2 << entrySelector
	t := make([]byte, 12+length)
	be := binary.BigEndian
	be.PutUint16(t[0:], 0) // cmap version
	be.PutUint16(t[2:], 1) // one subtable
	be.PutUint16(t[4:], 3) // platform: Windows
	be.PutUint16(t[6:], 1) // encoding: Unicode BMP
	be.PutUint32(t[8:], 12)
	s := t[12:]
	be.PutUint16(s[0:], 4)
	be.PutUint16(s[2:], uint16(length))
	be.PutUint16(s[6:], uint16(2*n))
	be.PutUint16(s[8:], uint16(searchRange))
	be.PutUint16(s[10:], uint16(entrySelector))
	be.PutUint16(s[12:], uint16(2*n-searchRange))
	ends, starts, deltas := s[14:], s[16+2*n:], s[16+4*n:] // idRangeOffsets stay zero
	for i, g := range segs {
		be.PutUint16(ends[2*i:], g.end)
		be.PutUint16(starts[2*i:], g.start)
		be.PutUint16(deltas[2*i:], g.delta)
	}
	return t, nil
}
