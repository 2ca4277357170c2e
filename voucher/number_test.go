package voucher

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestValidDepartment(t *testing.T) {
	valid := []string{"01", "02", "19", "21", "2A", "2B", "75", "78", "92", "95", "971", "972", "973", "974", "975", "976"}
	invalid := []string{"", "0", "1", "00", "20", "96", "99", "2C", "2a", "2b", "970", "977", "979", "78 ", " 78", "780", "9710", "A1", "7-", "97 ", "+1", "１２"}
	for _, c := range valid {
		if !ValidDepartment(c) {
			t.Errorf("ValidDepartment(%q) = false", c)
		}
	}
	for _, c := range invalid {
		if ValidDepartment(c) {
			t.Errorf("ValidDepartment(%q) = true", c)
		}
	}
	if n := len(departments); n != 94+2+6 {
		t.Errorf("%d valid départements, want 102", n)
	}
}

func TestFormatNumber(t *testing.T) {
	cases := map[uint64]string{
		1:             "0000 0000 013",
		42:            "0000 0000 427",
		1234567890:    "1234 5678 906",
		MaxSerial:     "9999 9999 992",
		0:             "",
		MaxSerial + 1: "",
		1<<64 - 1:     "",
	}
	for serial, want := range cases {
		if got := FormatNumber(serial); got != want {
			t.Errorf("FormatNumber(%d) = %q, want %q", serial, got, want)
		}
		if want == "" {
			continue
		}
		if got, err := ParseNumber(want); err != nil || got != serial {
			t.Errorf("ParseNumber(%q) = %d, %v", want, got, err)
		}
	}
}

func TestParseNumber(t *testing.T) {
	ok := []string{"0000 0000 427", "00000000427", "0000-0000-427", "0000.0000.427", " 0000 0000 427 ", "0-0-0-0-0-0-0-0-4-2-7", "0000  0000  427"}
	for _, s := range ok {
		if got, err := ParseNumber(s); err != nil || got != 42 {
			t.Errorf("ParseNumber(%q) = %d, %v; want 42", s, got, err)
		}
	}
	bad := []struct {
		s    string
		want error
	}{
		{"", ErrNumberFormat},
		{"   ", ErrNumberFormat},
		{"0000 0000 42", ErrNumberFormat},    // 10 digits
		{"0000 0000 4270", ErrNumberFormat},  // 12 digits
		{"0000 0000 42X", ErrNumberFormat},   // letter
		{"0000\t0000 427", ErrNumberFormat},  // only spaces, '-' and '.' are ignored
		{"0000 0000 427\n", ErrNumberFormat}, // idem
		{"0000_0000_427", ErrNumberFormat},
		{"+0000000427", ErrNumberFormat},
		{"０000 0000 427", ErrNumberFormat}, // full-width digit
		{"0000 0000 000", ErrNumberFormat}, // serial 0: valid check digit, never issued
		{strings.Repeat("1", 1000), ErrNumberFormat},
		{"0000 0000 428", ErrCheckDigit},
		{"0000 0000 247", ErrCheckDigit},
		{"1000 0000 427", ErrCheckDigit},
	}
	for _, c := range bad {
		_, err := ParseNumber(c.s)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseNumber(%q) = %v, want %v", c.s, err, c.want)
		}
		other := ErrCheckDigit
		if c.want == ErrCheckDigit {
			other = ErrNumberFormat
		}
		if errors.Is(err, other) {
			t.Errorf("ParseNumber(%q) = %v matches %v too", c.s, err, other)
		}
	}
}

// TestDammTable proves the two properties the check digit is there for, for
// any number, from the table alone: each row is a permutation (a changed
// digit changes the interim digit, and every later step is a permutation
// too), and weak total anti-symmetry (swapping two different adjacent digits
// changes the interim digit, including a swap with the check digit itself).
func TestDammTable(t *testing.T) {
	for r := range 10 {
		seen := [10]bool{}
		for c := range 10 {
			seen[damm[r][c]] = true
		}
		for d, ok := range seen {
			if !ok {
				t.Errorf("row %d lacks %d", r, d)
			}
		}
		if damm[r][r] != 0 {
			t.Errorf("diagonal %d is %d", r, damm[r][r])
		}
	}
	// Columns are permutations too, so an interim digit is recoverable and
	// one wrong digit can never be cancelled by the next step.
	for c := range 10 {
		seen := [10]bool{}
		for r := range 10 {
			seen[damm[r][c]] = true
		}
		for d, ok := range seen {
			if !ok {
				t.Errorf("column %d lacks %d", c, d)
			}
		}
	}
	for i := range 10 {
		for x := range 10 {
			for y := range 10 {
				if x != y && damm[damm[i][x]][y] == damm[damm[i][y]][x] {
					t.Errorf("interim %d: %d%d and %d%d agree", i, x, y, y, x)
				}
			}
		}
	}
}

// TestCheckDigitCatchesErrors tries every single-digit error and every
// adjacent transposition on a set of numbers, check digit included.
func TestCheckDigitCatchesErrors(t *testing.T) {
	serials := []uint64{1, 42, 1234567890, MaxSerial, 1000000000, 1111111111, 9090909090}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		serials = append(serials, 1+r.Uint64N(MaxSerial))
	}
	for _, serial := range serials {
		digits := []byte(strings.ReplaceAll(FormatNumber(serial), " ", ""))
		if got, err := ParseNumber(string(digits)); err != nil || got != serial {
			t.Fatalf("ParseNumber(%s) = %d, %v", digits, got, err)
		}
		for i := range digits {
			for c := byte('0'); c <= '9'; c++ {
				if c == digits[i] {
					continue
				}
				typo := []byte(string(digits))
				typo[i] = c
				if _, err := ParseNumber(string(typo)); !errors.Is(err, ErrCheckDigit) {
					t.Errorf("%s typed as %s: %v", digits, typo, err)
				}
			}
			if i+1 < len(digits) && digits[i] != digits[i+1] {
				swap := []byte(string(digits))
				swap[i], swap[i+1] = swap[i+1], swap[i]
				if _, err := ParseNumber(string(swap)); !errors.Is(err, ErrCheckDigit) {
					t.Errorf("%s typed as %s: %v", digits, swap, err)
				}
			}
		}
	}
}

var testSecret = []byte("test-secret")

func TestVerificationCode(t *testing.T) {
	want := map[uint64]string{1: "KMP1-7WMK", 42: "6CR1-X4V2", 1234567890: "5FFC-EK1B", MaxSerial: "Z1WJ-1WGE"}
	for serial, code := range want {
		if got := VerificationCode(testSecret, serial); got != code {
			t.Errorf("VerificationCode(%d) = %s, want %s", serial, got, code)
		}
	}
	for serial := uint64(1); serial < 2000; serial++ {
		c := VerificationCode(testSecret, serial)
		if len(c) != 9 || c[4] != '-' || strings.ContainsAny(c, "ILOU") {
			t.Fatalf("VerificationCode(%d) = %q", serial, c)
		}
		if !CheckVerificationCode(testSecret, serial, c) {
			t.Fatalf("CheckVerificationCode rejects its own %q", c)
		}
	}
	if VerificationCode([]byte("other-secret"), 42) == want[42] {
		t.Error("the secret does not change the code")
	}
}

func TestCheckVerificationCode(t *testing.T) {
	cases := []struct {
		serial uint64
		typed  string
		want   bool
	}{
		{42, "6CR1-X4V2", true},
		{42, "6cr1-x4v2", true},
		{42, "6CR1X4V2", true},
		{42, " 6CR1 X4V2 ", true},
		{42, "6-C-R-1-X-4-V-2", true},
		{42, "6CRI-X4V2", true}, // I for 1
		{42, "6CRl-X4V2", true}, // l for 1
		{42, "6CRL-X4V2", true},
		{1, "KMP1-7WMK", true},
		{MaxSerial, "Z1WJ-1WGE", true},
		{MaxSerial, "ZIWJ-LWGE", true},
		{1234567890, "5FFC-EK1B", true},
		{42, "6CR1-X4V3", false},
		{42, "6CR1-X4V", false},
		{42, "6CR1-X4V22", false},
		{42, "", false},
		{42, "6CR1\tX4V2", false},
		{43, "6CR1-X4V2", false},
		{1, "KMP1-7WMK-", true},
		{1, "KMPU-7WMK", false},
	}
	for _, c := range cases {
		if got := CheckVerificationCode(testSecret, c.serial, c.typed); got != c.want {
			t.Errorf("CheckVerificationCode(%d, %q) = %v, want %v", c.serial, c.typed, got, c.want)
		}
	}
	// O for 0: find a code with a zero in it.
	for serial := uint64(1); ; serial++ {
		c := VerificationCode(testSecret, serial)
		if strings.Contains(c, "0") {
			if !CheckVerificationCode(testSecret, serial, strings.ReplaceAll(c, "0", "o")) {
				t.Errorf("o for 0 in %q rejected", c)
			}
			break
		}
	}
	if CheckVerificationCode(nil, 42, VerificationCode(nil, 42)) {
		t.Error("an empty secret verifies")
	}
}

func TestChequierNumber(t *testing.T) {
	cases := []struct {
		dept string
		year uint16
		seq  uint32
		want string
	}{
		{"78", 2026, 42, "78-2026-000042"},
		{"2A", 2026, 1, "2A-2026-000001"},
		{"971", 2030, 999999, "971-2030-999999"},
		{"92", 2027, 1234567, "92-2027-1234567"},
		{"92", 2027, 1<<32 - 1, "92-2027-4294967295"},
	}
	for _, c := range cases {
		got := FormatChequierNumber(c.dept, c.year, c.seq)
		if got != c.want {
			t.Errorf("FormatChequierNumber = %q, want %q", got, c.want)
		}
		d, y, s, err := ParseChequierNumber(got)
		if err != nil || d != c.dept || y != c.year || s != c.seq {
			t.Errorf("ParseChequierNumber(%q) = %q, %d, %d, %v", got, d, y, s, err)
		}
	}
	lenient := map[string]string{" 78-2026-000042 ": "78", "2a-2026-42": "2A", "78-2026-42": "78", "78-2026-0000042": "78"}
	for s, dept := range lenient {
		if d, _, _, err := ParseChequierNumber(s); err != nil || d != dept {
			t.Errorf("ParseChequierNumber(%q) = %q, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "78", "78-2026", "78-2026-000042-1", "20-2026-000042", "78 -2026-000042",
		"78-26-000042", "78-1999-000042", "78-+026-000042", "78-2026-000000", "78-2026-", "78-2026-4294967296",
		"78-2026-+42", "78-2026-00000000042", "78/2026/000042", "78–2026–000042"} {
		if _, _, _, err := ParseChequierNumber(s); !errors.Is(err, ErrNumberFormat) {
			t.Errorf("ParseChequierNumber(%q) = %v, want ErrNumberFormat", s, err)
		}
	}
}
