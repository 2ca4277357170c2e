package qrcode

import (
	"errors"
	"strings"
	"testing"
)

// FuzzEncode: any text, version and level gives either a symbol that reads
// back as asked, or the error that says why not; never a panic. The seeds
// run with every go test; go test -fuzz FuzzEncode ./qrcode/ explores.
func FuzzEncode(f *testing.F) {
	f.Add("HELLO WORLD", 1, uint8(Q))
	f.Add("", 1, uint8(L))
	f.Add("0", 1, uint8(H))
	f.Add("01234567", 2, uint8(M))
	f.Add("hello, world", 3, uint8(L))
	f.Add("\x00\xff\x80", 7, uint8(H))
	f.Add("é€", 10, uint8(Q))
	f.Add(strings.Repeat("A", 154), 6, uint8(M))
	f.Add(strings.Repeat("A", 155), 6, uint8(M))
	f.Add(strings.Repeat("Z", 122), 5, uint8(M))
	f.Add(strings.Repeat("7", 41), 1, uint8(L))
	f.Add(strings.Repeat("7", 42), 1, uint8(L))
	f.Add(strings.Repeat("a", 255), 9, uint8(L))
	f.Add(strings.Repeat("a", 256), 9, uint8(L))
	f.Add(strings.Repeat("9", 7089), 40, uint8(L))
	f.Add(strings.Repeat("b", 1273), 40, uint8(H))
	f.Add("A", 0, uint8(M))
	f.Add("A", 41, uint8(M))
	f.Add("A", -1<<62, uint8(M))
	f.Add("A", 6, uint8(4))
	f.Add("A", 6, uint8(255))
	f.Fuzz(func(t *testing.T, text string, version int, level uint8) {
		m, err := Encode(text, version, Level(level))
		switch {
		case version < 1 || version > 40:
			if !errors.Is(err, ErrVersion) {
				t.Fatalf("version %d: %v", version, err)
			}
			return
		case level > uint8(H):
			if !errors.Is(err, ErrLevel) {
				t.Fatalf("level %d: %v", level, err)
			}
			return
		}
		fits := len(text) <= capacity(version, Level(level), chooseMode(text))
		if !fits {
			if !errors.Is(err, ErrTooLong) {
				t.Fatalf("v%d-%v, %d characters: %v", version, Level(level), len(text), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("v%d-%v, %d characters: %v", version, Level(level), len(text), err)
		}
		checkSymbol(t, m, version, Level(level))
		// Scanning large symbols takes gozxing milliseconds, which stalls
		// the fuzzer; TestScanAllVersions scans them.
		if text != "" && version <= 10 {
			var sc scans
			sc.check(t, m, text, Level(level))
		}
	})
}
