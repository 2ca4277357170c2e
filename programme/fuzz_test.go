package programme_test

import (
	"strings"
	"testing"

	"passnum/programme"
)

// FuzzCheckSIRET: no input panics; an accepted SIRET is its 14 digits,
// accepted again as is, and changing any one of its digits is refused
// (except at La Poste, whose digit-sum rule allows some changes).
func FuzzCheckSIRET(f *testing.F) {
	for _, s := range []string{"73282932000074", "732 829 320 00074", "35600000049837", "", "7328293200007A",
		"73282932000075", "٣٣٣٣٣٣٣٣٣٣٣٣٣٣", "7.3.2.8.2.9.3.2.0.0.0.0.7.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := programme.CheckSIRET(s)
		if err != nil {
			if got != "" {
				t.Fatalf("CheckSIRET(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if len(got) != 14 || strings.Trim(got, "0123456789") != "" {
			t.Fatalf("CheckSIRET(%q) = %q", s, got)
		}
		if again, err := programme.CheckSIRET(got); err != nil || again != got {
			t.Fatalf("CheckSIRET(%q) = %q, %v on its own output", got, again, err)
		}
		if strings.HasPrefix(got, "356000000") {
			return
		}
		for i := range got {
			alt := []byte(got)
			alt[i] = '0' + (alt[i]-'0'+1)%10
			if _, err := programme.CheckSIRET(string(alt)); err == nil {
				t.Fatalf("%s accepted, altered from %s", alt, got)
			}
		}
	})
}
