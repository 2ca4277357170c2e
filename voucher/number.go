package voucher

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Errors of the numbers people type: ParseNumber and ParseChequierNumber.
var (
	ErrNumberFormat = errors.New("voucher: malformed number")
	ErrCheckDigit   = errors.New("voucher: wrong check digit")
)

// ValidDepartment reports whether code is a département code of the
// programme: "01".."95" except "20" (Corsica is "2A" and "2B"), and the
// overseas "971".."976". Upper case, no padding.
func ValidDepartment(code string) bool {
	switch len(code) {
	case 2:
		if code == "2A" || code == "2B" {
			return true
		}
		if !isDigit(code[0]) || !isDigit(code[1]) {
			return false
		}
		n := int(code[0]-'0')*10 + int(code[1]-'0')
		return n >= 1 && n <= 95 && n != 20
	case 3:
		return code[0] == '9' && code[1] == '7' && code[2] >= '1' && code[2] <= '6'
	}
	return false
}

// departments maps each valid code to itself, so decoding can return a
// shared string instead of allocating one per code.
var departments = func() map[string]string {
	m := make(map[string]string)
	for _, c := range []string{"2A", "2B", "971", "972", "973", "974", "975", "976"} {
		m[c] = c
	}
	for n := 1; n <= 95; n++ {
		c := fmt.Sprintf("%02d", n)
		if ValidDepartment(c) {
			m[c] = c
		}
	}
	return m
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// damm is the quasigroup of order 10 from H. M. Damm's thesis (2004), the
// table everyone publishes: weakly totally anti-symmetric with a zero
// diagonal, so one check digit catches every single-digit error and every
// transposition of adjacent digits, with no letter like ISO 7064's 'X'.
var damm = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammInterim runs digits (ASCII) through the table. Appending the result
// as a check digit makes the interim of the whole string zero.
func dammInterim(digits []byte) byte {
	var i byte
	for _, c := range digits {
		i = damm[i][c-'0']
	}
	return i
}

const numberDigits = 11 // 10 serial digits + 1 check digit

// FormatNumber returns the voucher number printed under the QR code: the
// serial on 10 digits, zero-padded, then a Damm check digit, grouped 4-4-3
// for reading aloud: "0000 0000 424". It returns "" for a serial outside
// 1..MaxSerial, which no valid voucher has: printing the low digits instead
// would name another voucher.
func FormatNumber(serial uint64) string {
	var d [numberDigits]byte
	if serial == 0 || serial > MaxSerial {
		return ""
	}
	v := serial
	for i := numberDigits - 2; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	d[numberDigits-1] = '0' + dammInterim(d[:numberDigits-1])
	out := make([]byte, 0, numberDigits+2)
	out = append(out, d[0:4]...)
	out = append(out, ' ')
	out = append(out, d[4:8]...)
	out = append(out, ' ')
	out = append(out, d[8:11]...)
	return string(out)
}

// ParseNumber reads a typed voucher number and returns its serial. Spaces,
// '-' and '.' are ignored wherever they are, since people group digits as
// they like. It returns ErrNumberFormat unless exactly 11 digits remain
// (or for serial 0, never issued), and ErrCheckDigit if the check fails.
func ParseNumber(s string) (uint64, error) {
	var d [numberDigits]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '.':
			continue
		case !isDigit(c):
			return 0, fmt.Errorf("%w: %q is not a digit", ErrNumberFormat, c)
		case n == numberDigits:
			return 0, fmt.Errorf("%w: more than %d digits", ErrNumberFormat, numberDigits)
		}
		d[n] = c
		n++
	}
	if n != numberDigits {
		return 0, fmt.Errorf("%w: %d digits, a voucher number has %d", ErrNumberFormat, n, numberDigits)
	}
	if dammInterim(d[:]) != 0 {
		return 0, fmt.Errorf("%w: the number was mistyped", ErrCheckDigit)
	}
	var serial uint64
	for _, c := range d[:numberDigits-1] {
		serial = serial*10 + uint64(c-'0')
	}
	if serial == 0 {
		return 0, fmt.Errorf("%w: serial 0 is never issued", ErrNumberFormat)
	}
	return serial, nil
}

// crockford is Crockford's base32 alphabet: no I, L, O or U, so nothing read
// aloud or handwritten is ambiguous.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const verificationLabel = "passnum/verification/v1"

func verificationChars(secret []byte, serial uint64) [8]byte {
	mac := hmac.New(sha256.New, secret)
	var msg [len(verificationLabel) + 8]byte
	copy(msg[:], verificationLabel)
	binary.BigEndian.PutUint64(msg[len(verificationLabel):], serial)
	mac.Write(msg[:])
	var sum [sha256.Size]byte
	h := mac.Sum(sum[:0])
	// The first 40 bits, five at a time, most significant first.
	v := uint64(h[0])<<32 | uint64(h[1])<<24 | uint64(h[2])<<16 | uint64(h[3])<<8 | uint64(h[4])
	var out [8]byte
	for i := range out {
		out[i] = crockford[(v>>(35-5*i))&31]
	}
	return out
}

// VerificationCode is the short code printed beside the voucher number, so
// that a number typed by hand proves the paper was seen: the first 40 bits of
// HMAC-SHA256(secret, "passnum/verification/v1" || serial as 8 bytes
// big-endian), as 8 Crockford base32 characters, "ABCD-EFGH". 40 bits is
// enough because manual entry is rate-limited per venue. The secret is the
// signing key's (Signer.VerificationSecret), or for keys made before, the
// installation's 32 random bytes; it stays on the server.
func VerificationCode(secret []byte, serial uint64) string {
	c := verificationChars(secret, serial)
	return string(c[:4]) + "-" + string(c[4:])
}

// CheckVerificationCode reports whether typed is the verification code of
// serial. It forgives how people type: any case, spaces and '-' anywhere, O
// for 0, I or L for 1. It is false for an empty secret, so that a server
// missing its secret refuses every code instead of accepting codes anyone
// can compute.
func CheckVerificationCode(secret []byte, serial uint64, typed string) bool {
	if len(secret) == 0 {
		return false
	}
	var got [8]byte
	n := 0
	for i := 0; i < len(typed); i++ {
		c := typed[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if n == len(got) {
			return false
		}
		got[n] = c
		n++
	}
	if n != len(got) {
		return false
	}
	want := verificationChars(secret, serial)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

const (
	minChequierYear = 2000
	maxChequierYear = 9999
)

// FormatChequierNumber returns the number printed on a chéquier's cover,
// "78-2026-000042": département, year, and the sequence zero-padded to at
// least six digits. It does not validate; Activation does.
func FormatChequierNumber(dept string, year uint16, seq uint32) string {
	return fmt.Sprintf("%s-%04d-%06d", dept, year, seq)
}

// ParseChequierNumber reads a chéquier number as FormatChequierNumber writes
// it. It forgives surrounding spaces, a lower-case Corsican "2a" and a
// sequence typed without its leading zeros; anything else is ErrNumberFormat.
func ParseChequierNumber(s string) (dept string, year uint16, seq uint32, err error) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 3 {
		return "", 0, 0, fmt.Errorf("%w: chéquier number %q is not DEPT-YEAR-NUMBER", ErrNumberFormat, s)
	}
	dept = strings.ToUpper(parts[0])
	if !ValidDepartment(dept) {
		return "", 0, 0, fmt.Errorf("%w: chéquier number %q: unknown département %q", ErrNumberFormat, s, parts[0])
	}
	y, ok := parseDigits(parts[1], 4, 4)
	if !ok || y < minChequierYear || y > maxChequierYear {
		return "", 0, 0, fmt.Errorf("%w: chéquier number %q: year %q", ErrNumberFormat, s, parts[1])
	}
	q, ok := parseDigits(parts[2], 1, 10)
	if !ok || q == 0 || q > 1<<32-1 {
		return "", 0, 0, fmt.Errorf("%w: chéquier number %q: sequence %q", ErrNumberFormat, s, parts[2])
	}
	return departments[dept], uint16(y), uint32(q), nil
}

// parseDigits accepts only ASCII digits (strconv would take a sign).
func parseDigits(s string, minLen, maxLen int) (uint64, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + uint64(s[i]-'0')
	}
	return v, true
}
