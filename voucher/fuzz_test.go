package voucher

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzDecode from corpusSeeds")

const corpusDir = "testdata/fuzz/FuzzDecode"

// corpusSeeds is the seed corpus of FuzzDecode, by file name. The name
// starts with the class Verify must give ("valid" or an error name of the
// format document), so TestFuzzCorpus can check the committed files.
func corpusSeeds(tb testing.TB) map[string]string {
	tb.Helper()
	sign := func(id byte, key int, p Payload) string {
		code, err := testSigner(tb, id, key).Sign(p)
		if err != nil {
			tb.Fatal(err)
		}
		return code
	}
	v := testVoucher(tb)
	good := sign(1, 1, v)
	cp := sign(1, 1, testCheckpoint())
	k1 := testKey(1)
	from, until := uint16(v.ValidFrom), uint16(v.ValidUntil)
	undefined := voucherPayload(1, 42, "78 ", 1000, from, until)
	undefined[0] = 0x06
	tampered := rawOf(tb, good)
	tampered[20] ^= 1
	return map[string]string{
		"valid-voucher":                    good,
		"valid-voucher-2A":                 sign(1, 1, Voucher{Serial: MaxSerial, Department: "2A", ValueCents: 2000, ValidFrom: 20541, ValidUntil: 20751}),
		"valid-activation":                 sign(1, 1, Activation{Department: "78", Year: 2026, Seq: 42}),
		"valid-checkpoint":                 cp,
		"valid-receipt":                    sign(1, 1, testReceipt()),
		"valid-retired-key":                sign(2, 2, v),
		"too_short-empty":                  "",
		"too_short-truncated":              good[:128],
		"encoding-lowercase":               strings.ToLower(good),
		"encoding-newline":                 good[:64] + "\n" + good[64:],
		"encoding-padding":                 cp + "=====",
		"encoding-trailing-bits":           cp[:len(cp)-1] + "B",
		"encoding-length":                  good + "A",
		"unknown_type-06":                  rawCode(k1, undefined),
		"trailing_bytes-extra":             good + "AAAAAAAA",
		"unknown_key-id7":                  sign(7, 1, v),
		"unknown_key-id0":                  rawCode(k1, voucherPayload(0, 42, "78 ", 1000, from, until)),
		"revoked_key":                      sign(3, 3, v),
		"bad_signature-tampered":           encodeRaw(tampered),
		"invalid_payload-department-20":    rawCode(k1, voucherPayload(1, 42, "20 ", 1000, from, until)),
		"invalid_payload-serial-0":         rawCode(k1, voucherPayload(1, 0, "78 ", 1000, from, until)),
		"invalid_payload-activation-seq-0": rawCode(k1, activationPayload(1, "78 ", 2026, 0)),
	}
}

func corpusClass(name string) error {
	class, _, _ := strings.Cut(name, "-")
	if class == "valid" {
		return nil
	}
	return errorNames[class]
}

// TestFuzzCorpus checks that the committed seed corpus is what corpusSeeds
// makes, and that each seed is rejected (or not) as its name says. With
// -update-corpus it rewrites the files instead.
func TestFuzzCorpus(t *testing.T) {
	seeds := corpusSeeds(t)
	if *updateCorpus {
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, s := range seeds {
			data := "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
			if err := os.WriteFile(filepath.Join(corpusDir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	ks := testKeySet(t)
	classes := map[error]bool{}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		b, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head, lit, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
		if !ok || head != "go test fuzz v1" || !strings.HasPrefix(lit, "string(") || !strings.HasSuffix(lit, ")") {
			t.Fatalf("%s: not a one-string corpus file", e.Name())
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		want, ok := seeds[e.Name()]
		if !ok {
			// A failing input the fuzzer saved: FuzzDecode replays it.
			t.Logf("%s is not a named seed", e.Name())
			continue
		}
		if s != want {
			t.Errorf("%s differs from corpusSeeds: run go test ./voucher -run TestFuzzCorpus -args -update-corpus", e.Name())
		}
		class := corpusClass(e.Name())
		_, err = ks.Verify(s)
		switch {
		case class == nil && err != nil:
			t.Errorf("%s: %v; want valid", e.Name(), err)
		case class != nil && (err == nil || errorClass(t, err) != class):
			t.Errorf("%s: %v; want %v", e.Name(), err, class)
		}
		classes[class] = true
	}
	for name := range seeds {
		if _, err := os.Stat(filepath.Join(corpusDir, name)); err != nil {
			t.Errorf("seed %s is not committed: run go test ./voucher -run TestFuzzCorpus -args -update-corpus", name)
		}
	}
	for _, e := range append([]error{nil}, sentinels...) {
		if !classes[e] {
			t.Errorf("the corpus has no seed of class %v", e)
		}
	}
	sort.Strings(names)
	t.Logf("%d seeds: %s", len(names), strings.Join(names, " "))
}

func FuzzDecode(f *testing.F) {
	for _, s := range corpusSeeds(f) {
		f.Add(s)
	}
	ks := testKeySet(f)
	signers := map[byte]*Signer{1: testSigner(f, 1, 1), 2: testSigner(f, 2, 2)}
	structural := map[error]bool{ErrTooShort: true, ErrEncoding: true, ErrUnknownType: true, ErrTrailingBytes: true}

	f.Fuzz(func(t *testing.T, code string) {
		pd, perr := Parse(code)
		vd, verr := ks.Verify(code)

		if verr == nil {
			// Accepted: the key's owner signs exactly this text again
			// (Ed25519 is deterministic), so there is no second form.
			again, err := signers[vd.KeyID].Sign(vd.Payload)
			if err != nil || again != code {
				t.Fatalf("accepted %q, which re-signs as %q, %v", code, again, err)
			}
			if perr != nil || pd != vd {
				t.Fatalf("Verify accepts what Parse reads as %+v, %v", pd, perr)
			}
		} else if vd != (Decoded{}) {
			t.Fatalf("Verify returned %+v with %v", vd, verr)
		}

		if perr == nil {
			// Canonical: the bytes re-encode to the text, and the fields
			// re-encode to the payload.
			raw, err := b32.DecodeString(code)
			if err != nil || b32.EncodeToString(raw) != code {
				t.Fatalf("Parse accepted non-canonical %q", code)
			}
			var buf [maxRawLen]byte
			n, err := putPayload(&buf, pd.KeyID, pd.Payload)
			if err != nil || string(buf[:n]) != string(raw[:len(raw)-sigLen]) {
				t.Fatalf("Parse read %+v from %q, which encodes differently (%v)", pd, code, err)
			}
			if verr != nil {
				if c := errorClass(t, verr); structural[c] || c == ErrInvalidPayload {
					t.Fatalf("Parse accepts what Verify rejects as %v", verr)
				}
			}
			return
		}
		pc := errorClass(t, perr)
		vc := errorClass(t, verr)
		switch {
		case structural[pc] && vc != pc:
			t.Fatalf("Parse: %v but Verify: %v", perr, verr)
		case pc == ErrInvalidPayload && structural[vc]:
			t.Fatalf("Parse: %v but Verify: %v", perr, verr)
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0000 0000 427", "00000000427", "0000-0000-428", "1234.5678.906", "", "0000 0000 000",
		"9999 9999 992", "x", "0000 0000 4270", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		serial, err := ParseNumber(s)
		if err != nil {
			if errors.Is(err, ErrNumberFormat) == errors.Is(err, ErrCheckDigit) {
				t.Fatalf("ParseNumber(%q): %v is not exactly one of the two errors", s, err)
			}
			return
		}
		if serial == 0 || serial > MaxSerial {
			t.Fatalf("ParseNumber(%q) = %d", s, serial)
		}
		digits := strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '.' {
				return -1
			}
			return r
		}, s)
		if want := strings.ReplaceAll(FormatNumber(serial), " ", ""); digits != want {
			t.Fatalf("ParseNumber(%q) = %d, printed %s", s, serial, want)
		}
	})
}
