package passnum_test

import (
	"testing"

	"passnum"
)

func TestParseEuros(t *testing.T) {
	ok := map[string]int64{"10": 1000, "10.00": 1000, "10.5": 1050, "10,50": 1050, "0.01": 1, " 7.25 ": 725, "0": 0}
	for in, want := range ok {
		got, err := passnum.ParseEuros(in)
		if err != nil || got != want {
			t.Errorf("ParseEuros(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ten", "10.", ".5", "10.505", "-10", "+10", "10.-5", "1e3", "10 €", "99999999999999999999"} {
		if _, err := passnum.ParseEuros(in); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Errorf("ParseEuros(%q): %v, want an invalid error", in, err)
		}
	}
}

func TestFormatEuros(t *testing.T) {
	for cents, want := range map[int64]string{0: "0.00", 1: "0.01", 1000: "10.00", 123456: "1234.56", -250: "-2.50"} {
		if got := passnum.FormatEuros(cents); got != want {
			t.Errorf("FormatEuros(%d) = %q, want %q", cents, got, want)
		}
		if cents >= 0 {
			if back, err := passnum.ParseEuros(passnum.FormatEuros(cents)); err != nil || back != cents {
				t.Errorf("round trip of %d gives %d, %v", cents, back, err)
			}
		}
	}
}
