package accounts

import (
	"golang.org/x/crypto/argon2"
)

// HashWith hashes a password with other Argon2id parameters than today's,
// as an older release might have.
func HashWith(pw string, memoryKiB, passes uint32) string {
	salt := []byte("0123456789abcdef")
	return encodeHash(argonParams{memoryKiB: memoryKiB, time: passes, threads: 1}, salt,
		argon2.IDKey([]byte(pw), salt, passes, memoryKiB, 1, keyLen))
}

// ArgonRuns is how many Argon2id computations ran so far.
func ArgonRuns() int64 { return argonRuns.Load() }
