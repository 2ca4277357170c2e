package voucher

import (
	"crypto/ed25519"
	"testing"
)

// BenchmarkSignVoucher and BenchmarkRawEd25519 side by side show what the
// envelope costs on top of the signature itself (issuing signs one voucher
// per code, hundreds of thousands per batch).
func BenchmarkSignVoucher(b *testing.B) {
	s := testSigner(b, 1, 1)
	v := testVoucher(b)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		v.Serial = v.Serial%MaxSerial + 1
		var err error
		if dst, err = s.AppendCode(dst[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawEd25519(b *testing.B) {
	priv := testKey(1)
	var raw [maxRawLen]byte
	n, err := putPayload(&raw, 1, testVoucher(b))
	if err != nil {
		b.Fatal(err)
	}
	msg := raw[:n]
	b.ReportAllocs()
	for b.Loop() {
		msg[9]++ // vary the serial's low byte like the other benchmark
		ed25519.Sign(priv, msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	ks := testKeySet(b)
	code, err := testSigner(b, 1, 1).Sign(testVoucher(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Verify(code); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyReject is the cost of turning away garbage (no signature
// check is reached).
func BenchmarkVerifyReject(b *testing.B) {
	ks := testKeySet(b)
	b.ReportAllocs()
	for b.Loop() {
		ks.Verify("https://example.org/not-a-voucher")
	}
}

func BenchmarkParse(b *testing.B) {
	code, err := testSigner(b, 1, 1).Sign(testVoucher(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(code); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatNumber(b *testing.B) {
	b.ReportAllocs()
	for i := uint64(1); b.Loop(); i++ {
		FormatNumber(i)
	}
}

func BenchmarkVerificationCode(b *testing.B) {
	b.ReportAllocs()
	for i := uint64(1); b.Loop(); i++ {
		VerificationCode(testSecret, i)
	}
}
