package accounts

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// The second factor is TOTP (RFC 6238) as every authenticator application
// reads it from an otpauth:// URI: HMAC-SHA1, 30-second steps from the Unix
// epoch, 6 digits, a 160-bit secret (RFC 4226 §4 asks for at least 128).
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	totpSecret = 20
	totpIssuer = "passnum"
	totpWindow = 1 // steps accepted either side of now, for a phone's clock a little off
)

var totpBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpStepAt is the RFC 6238 time step T of an instant.
func totpStepAt(t time.Time) int64 { return t.Unix() / int64(totpStep/time.Second) }

// totpCode is the HOTP value (RFC 4226 §5.3) of a step, in digits digits,
// zero-padded.
func totpCode(secret []byte, step int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// totpMatch returns the step within the window around now whose code is
// code, later than last (nil: none used yet), comparing in constant time;
// false if none.
func totpMatch(secret []byte, code string, now time.Time, last *int64) (int64, bool) {
	cur := totpStepAt(now)
	for step := cur - totpWindow; step <= cur+totpWindow; step++ {
		if last != nil && step <= *last {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, step, totpDigits)), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// totpURI is what an authenticator application scans: the account is
// labelled by its email, which goes to the person's own phone only.
func totpURI(secret []byte, email string) string {
	q := url.Values{}
	q.Set("secret", totpBase32.EncodeToString(secret))
	q.Set("issuer", totpIssuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", strconv.Itoa(totpDigits))
	q.Set("period", strconv.Itoa(int(totpStep/time.Second)))
	return "otpauth://totp/" + url.PathEscape(totpIssuer+":"+email) + "?" + q.Encode()
}
