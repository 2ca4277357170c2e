package accounts

import (
	"time"

	"golang.org/x/crypto/argon2"
)

// TOTPCode is the 6-digit code of a base32 secret at t, as the person's
// application shows it.
func TOTPCode(secret string, t time.Time) string {
	b, err := totpBase32.DecodeString(secret)
	if err != nil {
		panic(err)
	}
	return totpCode(b, totpStepAt(t), totpDigits)
}

// HashWith hashes a password with other Argon2id parameters than today's,
// as an older release might have.
func HashWith(pw string, memoryKiB, passes uint32) string {
	salt := []byte("0123456789abcdef")
	return encodeHash(argonParams{memoryKiB: memoryKiB, time: passes, threads: 1}, salt,
		argon2.IDKey([]byte(pw), salt, passes, memoryKiB, 1, keyLen))
}

// ArgonRuns is how many Argon2id computations ran so far.
func ArgonRuns() int64 { return argonRuns.Load() }
