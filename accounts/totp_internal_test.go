package accounts

import (
	"testing"
	"time"
)

// TestTOTPVectors: the SHA-1 test vectors of RFC 6238 Appendix B (8
// digits, seed "12345678901234567890"), and their last 6 digits, which is
// what a 6-digit code is (RFC 4226 §5.3: the same number modulo 10^6).
func TestTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		step := totpStepAt(time.Unix(v.unix, 0))
		if got := totpCode(secret, step, 8); got != v.code {
			t.Errorf("T=%d: code %s, RFC 6238 says %s", v.unix, got, v.code)
		}
		if got := totpCode(secret, step, 6); got != v.code[2:] {
			t.Errorf("T=%d: 6-digit code %s, want %s", v.unix, got, v.code[2:])
		}
	}
}

// TestTOTPWindowAndReplay: a code of the step before or after now passes,
// two steps away it does not; a step at or before the last used one never
// passes again.
func TestTOTPWindowAndReplay(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	cur := totpStepAt(now)
	for d, want := range map[int64]bool{-2: false, -1: true, 0: true, 1: true, 2: false} {
		if _, ok := totpMatch(secret, totpCode(secret, cur+d, 6), now, nil); ok != want {
			t.Errorf("code of step now%+d: accepted %v, want %v", d, ok, want)
		}
	}
	step, ok := totpMatch(secret, totpCode(secret, cur, 6), now, nil)
	if !ok || step != cur {
		t.Fatalf("current code: step %d, %v", step, ok)
	}
	if _, ok := totpMatch(secret, totpCode(secret, cur, 6), now, &step); ok {
		t.Error("a used code passed again")
	}
	if _, ok := totpMatch(secret, totpCode(secret, cur-1, 6), now, &step); ok {
		t.Error("the code before a used one passed")
	}
	if _, ok := totpMatch(secret, totpCode(secret, cur+1, 6), now, &step); !ok {
		t.Error("the next code was refused")
	}
}

func TestTOTPURI(t *testing.T) {
	u := totpURI([]byte("12345678901234567890"), "agent@ccas-trappes.fr")
	want := "otpauth://totp/passnum:agent@ccas-trappes.fr?algorithm=SHA1&digits=6&issuer=passnum&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	if u != want {
		t.Errorf("URI\n%s\nwant\n%s", u, want)
	}
}
