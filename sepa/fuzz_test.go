package sepa_test

import (
	"strings"
	"testing"

	"passnum/sepa"
)

// FuzzCheckIBAN: no input panics; an accepted IBAN is in electronic form,
// accepted again, and its grouped display reads back to it.
func FuzzCheckIBAN(f *testing.F) {
	for _, s := range []string{"FR76 3000 6000 0112 3456 7890 189", "fr7630006000011234567890189", "DE89370400440532013000",
		"GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606", "", "FR", "FR00", "ZZ12345", "FR76\u00a03000", "ÉÉ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sepa.CheckIBAN(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(got, " abcdefghijklmnopqrstuvwxyz") || len(got) < 15 || len(got) > 34 {
			t.Fatalf("CheckIBAN(%q) = %q", s, got)
		}
		if again, err := sepa.CheckIBAN(got); err != nil || again != got {
			t.Fatalf("CheckIBAN(%q) = %q, %v on its own output", got, again, err)
		}
		if back, err := sepa.CheckIBAN(sepa.FormatIBAN(got)); err != nil || back != got {
			t.Fatalf("FormatIBAN(%q) = %q reads back as %q, %v", got, sepa.FormatIBAN(got), back, err)
		}
	})
}

// FuzzCheckBIC: no input panics; an accepted BIC is 8 or 11 upper-case
// characters and accepted again.
func FuzzCheckBIC(f *testing.F) {
	for _, s := range []string{"PSSTFRPPXXX", "psstfrpp", "DEUTDEFF500", "", "1234FRPP", "PSSTFRP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sepa.CheckBIC(s)
		if err != nil {
			return
		}
		if (len(got) != 8 && len(got) != 11) || strings.ToUpper(got) != got {
			t.Fatalf("CheckBIC(%q) = %q", s, got)
		}
		if again, err := sepa.CheckBIC(got); err != nil || again != got {
			t.Fatalf("CheckBIC(%q) = %q, %v on its own output", got, again, err)
		}
	})
}
