package qrcode

import (
	"math/rand/v2"
	"testing"

	skip2 "github.com/skip2/go-qrcode"
)

// benchCodes are voucher-like codes: 136 base32 characters, encoded at
// 6-M as printing does.
func benchCodes(n, length int) []string {
	r := rand.New(rand.NewPCG(42, 42))
	codes := make([]string, n)
	for i := range codes {
		codes[i] = "A" + randomString(r, base32Alphabet, length-1)
	}
	return codes
}

// BenchmarkEncode and BenchmarkSkip2 encode the same voucher codes; run
// them together to compare in the same conditions.
func BenchmarkEncode(b *testing.B) {
	codes := benchCodes(64, 136)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Encode(codes[i%len(codes)], 6, M); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSkip2(b *testing.B) {
	codes := benchCodes(64, 136)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q, err := skip2.NewWithForcedVersion(codes[i%len(codes)], 6, skip2.Medium)
		if err != nil {
			b.Fatal(err)
		}
		q.DisableBorder = true
		q.Bitmap()
	}
}

// BenchmarkEncodeActivation is the chéquier activation code, 120
// characters at 5-M.
func BenchmarkEncodeActivation(b *testing.B) {
	codes := benchCodes(64, 120)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Encode(codes[i%len(codes)], 5, M); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeGridPath is the byte-per-module path that versions above
// 10 take, here on the voucher code at version 6 for comparison.
func BenchmarkEncodeGridPath(b *testing.B) {
	codes := benchCodes(64, 136)
	lay := layoutFor(6)
	rows := lay.rows
	lay.rows = nil
	defer func() { lay.rows = rows }()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Encode(codes[i%len(codes)], 6, M); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeV40 is the largest symbol, on the grid path.
func BenchmarkEncodeV40(b *testing.B) {
	text := randomString(rand.New(rand.NewPCG(1, 2)), base32Alphabet, capacity(40, M, modeAlphanumeric))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(text, 40, M); err != nil {
			b.Fatal(err)
		}
	}
}
