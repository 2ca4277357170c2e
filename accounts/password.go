package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"passnum"
)

// Passwords are hashed with Argon2id at the parameters the OWASP Password
// Storage Cheat Sheet gives as its first choice
// (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id):
// m=19 MiB, t=2, p=1, with a 16-byte random salt and a 32-byte key. The hash
// is stored as a PHC string ($argon2id$v=19$m=19456,t=2,p=1$salt$key), which
// carries its parameters: a hash made with others still verifies, and is
// made again with these at the next successful login (Login).
var hashParams = argonParams{memoryKiB: 19 * 1024, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

type argonParams struct {
	memoryKiB uint32
	time      uint32
	threads   uint8
}

// The rule of a password, after NIST SP 800-63B (§5.1.1.2, "memorized
// secrets"): a minimum length and no composition rules (no "one digit, one
// capital"), which only push people to predictable patterns; any character,
// spaces included, compared after Unicode NFKC normalisation so that the
// same passphrase typed on another keyboard is the same. The maximum bounds
// the work of a login.
const (
	MinPasswordLength = 12
	maxPasswordLength = 128
)

// checkPassword returns the password normalised, or an invalid error that
// states the rule.
func checkPassword(pw string) (string, error) {
	if !utf8.ValidString(pw) {
		return "", passnum.Invalid("Le mot de passe contient des caractères illisibles : tapez-le à nouveau.").On("password")
	}
	pw = norm.NFKC.String(pw)
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return "", passnum.Invalid("Le mot de passe doit faire au moins %d caractères (il en fait %d). Une phrase de plusieurs mots que vous retenez facilement convient très bien.", MinPasswordLength, n).On("password")
	}
	if n > maxPasswordLength {
		return "", passnum.Invalid("Le mot de passe fait au plus %d caractères (il en fait %d).", maxPasswordLength, n).On("password")
	}
	if strings.TrimSpace(pw) == "" {
		return "", passnum.Invalid("Le mot de passe ne peut pas être fait que d’espaces.").On("password")
	}
	return pw, nil
}

var b64 = base64.RawStdEncoding

// hashPassword hashes a password checked by checkPassword (when it is a
// new one).
func hashPassword(pw string) string {
	pw = norm.NFKC.String(pw)
	salt := make([]byte, saltLen)
	rand.Read(salt)
	return encodeHash(hashParams, salt, argonKey([]byte(pw), salt, hashParams, keyLen))
}

// argonSlots bounds the Argon2id computations running at once. Each holds
// its memory (19 MiB) for its ~30 ms: a burst of a thousand logins, a
// password spray or just a morning rush, would otherwise ask for 19 GiB at
// once. With one slot per CPU the hashes run as fast as the machine allows
// anyway and the others wait their turn without holding memory; the
// per-address lockout (Login) keeps one sprayer's queue short.
var argonSlots = make(chan struct{}, runtime.NumCPU())

// argonBusy counts the computations in their slot, for the test of the
// bound; argonRuns counts them all, for the test that an unknown address
// costs the same work as a wrong password.
var (
	argonBusy atomic.Int32
	argonRuns atomic.Int64
)

func argonKey(pw, salt []byte, p argonParams, n uint32) []byte {
	argonSlots <- struct{}{}
	argonBusy.Add(1)
	argonRuns.Add(1)
	defer func() {
		argonBusy.Add(-1)
		<-argonSlots
	}()
	return argon2.IDKey(pw, salt, p.time, p.memoryKiB, p.threads, n)
}

func encodeHash(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memoryKiB, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword tells whether pw matches the PHC string, comparing in
// constant time, and whether the hash should be made again with today's
// parameters. A hash it cannot read matches nothing.
func verifyPassword(phc, pw string) (ok, rehash bool) {
	p, salt, key, err := decodeHash(phc)
	if err != nil {
		return false, false
	}
	got := argonKey([]byte(norm.NFKC.String(pw)), salt, p, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && (p != hashParams || len(salt) != saltLen || len(key) != keyLen)
}

func decodeHash(phc string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("argon2 version %q", parts[2])
	}
	// Bounded (256 MiB, 16 passes) so that a corrupted row cannot exhaust
	// the server's memory or time.
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.time, &p.threads); err != nil ||
		p.time == 0 || p.time > 16 || p.threads == 0 || p.memoryKiB < 8*uint32(p.threads) || p.memoryKiB > 1<<18 {
		return p, nil, nil, fmt.Errorf("argon2 parameters %q", parts[3])
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("argon2 salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, fmt.Errorf("argon2 key")
	}
	return p, salt, key, nil
}
