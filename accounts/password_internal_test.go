package accounts

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPasswordHash: the PHC string carries the OWASP parameters and a
// fresh salt; the right password verifies (also typed in another Unicode
// form), a wrong one or a mangled hash does not; a hash of other
// parameters verifies and asks to be made again.
func TestPasswordHash(t *testing.T) {
	pw := "café crème au comptoir"
	h := hashPassword(pw)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("PHC string %s", h)
	}
	if h == hashPassword(pw) {
		t.Error("two hashes of one password are equal: no salt")
	}
	if ok, rehash := verifyPassword(h, pw); !ok || rehash {
		t.Errorf("right password: ok %v, rehash %v", ok, rehash)
	}
	// "é" as e + combining acute (NFD) is the same password.
	if ok, _ := verifyPassword(h, "cafe\u0301 crème au comptoir"); !ok {
		t.Error("the same password in NFD was refused")
	}
	for _, bad := range []string{"café crème au comptoiR", "", pw + " "} {
		if ok, _ := verifyPassword(h, bad); ok {
			t.Errorf("%q verified", bad)
		}
	}
	for _, mangled := range []string{"", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", h[:len(h)-4],
		strings.Replace(h, "m=19456", "m=4", 1), strings.Replace(h, "m=19456", "m=4000000", 1), strings.Replace(h, "t=2", "t=1000", 1),
		strings.Replace(h, "v=19", "v=16", 1)} {
		if ok, _ := verifyPassword(mangled, pw); ok {
			t.Errorf("mangled hash %q verified", mangled)
		}
	}
	old := HashWith(pw, 8192, 1)
	if ok, rehash := verifyPassword(old, pw); !ok || !rehash {
		t.Errorf("hash of older parameters: ok %v, rehash %v", ok, rehash)
	}
	if ok, rehash := verifyPassword(old, "autre chose encore"); ok || rehash {
		t.Errorf("wrong password on an older hash: ok %v, rehash %v", ok, rehash)
	}
}

// TestPasswordRule: a minimum of 12 characters counted after
// normalisation, no composition rule, and French words.
func TestPasswordRule(t *testing.T) {
	for pw, msg := range map[string]string{
		"court":                  "Le mot de passe doit faire au moins 12 caractères (il en fait 5). Une phrase de plusieurs mots que vous retenez facilement convient très bien.",
		"            ":           "Le mot de passe ne peut pas être fait que d’espaces.",
		strings.Repeat("a", 129): "Le mot de passe fait au plus 128 caractères (il en fait 129).",
		"\xff\xfe mot de passe":  "Le mot de passe contient des caractères illisibles : tapez-le à nouveau.",
	} {
		if _, err := checkPassword(pw); err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %q", pw, err, msg)
		}
	}
	for _, pw := range []string{"tout en minuscules", "123456789012", "ünïcödé et espaces"} {
		if _, err := checkPassword(pw); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}

// TestArgonBounded: forty logins at once run at most one Argon2id per CPU
// at a time, so their memory stays bounded, and every one still verifies.
func TestArgonBounded(t *testing.T) {
	h := hashPassword("une phrase de passe assez longue")
	var peak atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if ok, _ := verifyPassword(h, "une phrase de passe assez longue"); !ok {
				t.Error("the right password was refused")
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			if p := peak.Load(); p > int32(cap(argonSlots)) || p == 0 {
				t.Errorf("%d Argon2id at once, want 1 to %d", p, cap(argonSlots))
			}
			return
		default:
			if n := argonBusy.Load(); n > peak.Load() {
				peak.Store(n)
			}
			runtime.Gosched()
		}
	}
}
