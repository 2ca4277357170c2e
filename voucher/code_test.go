package voucher

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	ks := testKeySet(t)
	cases := []struct {
		name    string
		key     byte
		p       Payload
		codeLen int
	}{
		{"voucher", 1, testVoucher(t), 136},
		{"voucher 2A", 1, Voucher{Serial: 1, Department: "2A", ValueCents: 500, ValidFrom: 0, ValidUntil: 0}, 136},
		{"voucher limits", 1, Voucher{Serial: MaxSerial, Department: "976", ValueCents: 1<<32 - 1, ValidFrom: 0, ValidUntil: 65535}, 136},
		{"voucher retired key", 2, testVoucher(t), 136},
		{"activation", 1, Activation{Department: "78", Year: 2026, Seq: 42}, 120},
		{"activation limits", 1, Activation{Department: "971", Year: 9999, Seq: 1<<32 - 1}, 120},
		{"checkpoint", 1, testCheckpoint(), 183},
		{"checkpoint zero", 1, Checkpoint{}, 183},
		{"checkpoint negative time", 1, Checkpoint{Seq: 1<<64 - 1, TimeMicros: -1}, 183},
		{"receipt", 1, testReceipt(), 224},
		{"receipt limits", 1, Receipt{RedemptionID: 1<<64 - 1, VenueID: 1<<64 - 1, TotalCents: 1<<64 - 1, Vouchers: 1<<16 - 1, ScannedMicros: -1, ReceivedMicros: 1<<63 - 1}, 224},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testSigner(t, c.key, int(c.key))
			code, err := s.Sign(c.p)
			if err != nil {
				t.Fatal(err)
			}
			if len(code) != c.codeLen {
				t.Errorf("code has %d characters, want %d", len(code), c.codeLen)
			}
			want := Decoded{Type: c.p.Type(), KeyID: c.key, Payload: c.p}
			got, err := ks.Verify(code)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != want {
				t.Errorf("Verify = %+v, want %+v", got, want)
			}
			got, err = Parse(code)
			if err != nil || got != want {
				t.Errorf("Parse = %+v, %v; want %+v", got, err, want)
			}
			// A pointer signs the same thing as the value.
			var ptr Payload
			switch v := c.p.(type) {
			case Voucher:
				ptr = &v
			case Activation:
				ptr = &v
			case Checkpoint:
				ptr = &v
			case Receipt:
				ptr = &v
			}
			if code2, err := s.Sign(ptr); err != nil || code2 != code {
				t.Errorf("Sign(pointer) = %q, %v; want %q", code2, err, code)
			}
			// AppendCode appends, and agrees with Sign.
			b, err := s.AppendCode([]byte("x"), c.p)
			if err != nil || string(b) != "x"+code {
				t.Errorf("AppendCode = %q, %v", b, err)
			}
		})
	}
}

func TestSignRejectsInvalidPayload(t *testing.T) {
	s := testSigner(t, 1, 1)
	v := testVoucher(t)
	mod := func(f func(*Voucher)) Voucher { w := v; f(&w); return w }
	cases := []struct {
		name string
		p    Payload
	}{
		{"nil", nil},
		{"nil pointer", (*Voucher)(nil)},
		{"nil activation pointer", (*Activation)(nil)},
		{"zero voucher", Voucher{}},
		{"serial 0", mod(func(w *Voucher) { w.Serial = 0 })},
		{"serial 10^10", mod(func(w *Voucher) { w.Serial = MaxSerial + 1 })},
		{"département 20", mod(func(w *Voucher) { w.Department = "20" })},
		{"département padded", mod(func(w *Voucher) { w.Department = "78 " })},
		{"département lower case", mod(func(w *Voucher) { w.Department = "2a" })},
		{"value 0", mod(func(w *Voucher) { w.ValueCents = 0 })},
		{"days reversed", mod(func(w *Voucher) { w.ValidFrom, w.ValidUntil = w.ValidUntil, w.ValidFrom })},
		{"activation seq 0", Activation{Department: "78", Year: 2026}},
		{"activation year 1999", Activation{Department: "78", Year: 1999, Seq: 1}},
		{"activation département", Activation{Department: "100", Year: 2026, Seq: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, err := s.Sign(c.p)
			if !errors.Is(err, ErrInvalidPayload) || code != "" {
				t.Errorf("Sign = %q, %v; want ErrInvalidPayload", code, err)
			}
			dst := []byte("keep")
			b, err := s.AppendCode(dst, c.p)
			if !errors.Is(err, ErrInvalidPayload) || string(b) != "keep" {
				t.Errorf("AppendCode = %q, %v; want dst unchanged and ErrInvalidPayload", b, err)
			}
		})
	}
}

func TestNewSigner(t *testing.T) {
	k := testKey(1)
	if _, err := NewSigner(0, k); err == nil {
		t.Error("key id 0 accepted")
	}
	if _, err := NewSigner(1, k[:32]); err == nil {
		t.Error("32-byte key accepted")
	}
	bad := bytes.Clone(k)
	copy(bad[32:], testKey(2)[32:])
	if _, err := NewSigner(1, bad); err == nil {
		t.Error("key with a foreign public half accepted")
	}
	s, err := NewSigner(255, k)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != 255 || !s.Public().Equal(k.Public()) {
		t.Errorf("KeyID, Public = %d, %x", s.KeyID(), s.Public())
	}
	// The signer keeps its own copy of the key.
	for i := range k {
		k[i] = 0
	}
	if !s.Public().Equal(testKey(1).Public()) {
		t.Error("signer shares the caller's key slice")
	}
}

// rawOf decodes a code the test made, without any check.
func rawOf(t testing.TB, code string) []byte {
	t.Helper()
	raw, err := b32.DecodeString(code)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func encodeRaw(raw []byte) string { return b32.EncodeToString(raw) }

// voucherPayload builds a voucher payload by hand, byte by byte as the
// format document lays it out, so the test does not trust appendBody.
func voucherPayload(keyID byte, serial uint64, dept string, value uint32, from, until uint16) []byte {
	p := []byte{0x01, keyID}
	p = binary.BigEndian.AppendUint64(p, serial)
	p = append(p, dept...)
	p = binary.BigEndian.AppendUint32(p, value)
	p = binary.BigEndian.AppendUint16(p, from)
	return binary.BigEndian.AppendUint16(p, until)
}

func activationPayload(keyID byte, dept string, year uint16, seq uint32) []byte {
	p := append([]byte{0x02, keyID}, dept...)
	p = binary.BigEndian.AppendUint16(p, year)
	return binary.BigEndian.AppendUint32(p, seq)
}

func TestReject(t *testing.T) {
	ks := testKeySet(t)
	k1 := testKey(1)
	s1 := testSigner(t, 1, 1)
	good, err := s1.Sign(testVoucher(t))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := s1.Sign(testCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	from, until := uint16(mustDay(t, "2026-01-01")), uint16(mustDay(t, "2027-12-31"))
	if got := encodeRaw(append(voucherPayload(1, 42, "78 ", 1000, from, until), rawOf(t, good)[21:]...)); got != good {
		t.Fatalf("hand-built voucher payload differs from the signer's:\n%s\n%s", got, good)
	}

	withType := func(typ byte) string {
		p := voucherPayload(1, 42, "78 ", 1000, from, until)
		p[0] = typ
		return rawCode(k1, p)
	}
	flip := func(code string, i int) string { // flips one bit of raw byte i
		raw := rawOf(t, code)
		raw[i] ^= 0x01
		return encodeRaw(raw)
	}
	setLastChar := func(code string, c byte) string { return code[:len(code)-1] + string(c) }
	signedAs := func(id byte, key int, p Payload) string {
		code, err := testSigner(t, id, key).Sign(p)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	cases := []struct {
		name      string
		code      string
		verifyErr error
		parseErr  error // nil: Parse accepts it (it does not check signatures)
	}{
		{"empty", "", ErrTooShort, ErrTooShort},
		{"one group", "AEAQAAAA", ErrTooShort, ErrTooShort},
		{"shorter than an envelope", good[:minCodeLen-1], ErrTooShort, ErrTooShort},
		{"shorter than an envelope, bad characters", "hello, world", ErrTooShort, ErrTooShort},
		{"truncated voucher", good[:128], ErrTooShort, ErrTooShort},
		{"truncated checkpoint", cp[:176], ErrTooShort, ErrTooShort},
		{"voucher with 5 more bytes", good + "AAAAAAAA", ErrTrailingBytes, ErrTrailingBytes},
		{"voucher with 1 more byte", good + "AA", ErrTrailingBytes, ErrTrailingBytes},
		{"oversized", good + strings.Repeat("A", 8000), ErrTrailingBytes, ErrTrailingBytes},
		{"lower case", strings.ToLower(good), ErrEncoding, ErrEncoding},
		{"one lower-case letter", "a" + good[1:], ErrEncoding, ErrEncoding},
		{"inner space", good[:60] + " " + good[60:], ErrEncoding, ErrEncoding},
		{"trailing newline", good + "\n", ErrEncoding, ErrEncoding},
		{"CRLF inside", good[:64] + "\r\n" + good[64:], ErrEncoding, ErrEncoding},
		{"padding", cp + "=====", ErrEncoding, ErrEncoding},
		{"digit 1", "1" + good[1:], ErrEncoding, ErrEncoding},
		{"digit 0", good[:135] + "0", ErrEncoding, ErrEncoding},
		{"digit 8", good[:100] + "8" + good[101:], ErrEncoding, ErrEncoding},
		{"NUL", good[:100] + "\x00" + good[101:], ErrEncoding, ErrEncoding},
		{"non-ASCII", good[:134] + "É", ErrEncoding, ErrEncoding},
		{"impossible length (1 extra char)", good + "A", ErrEncoding, ErrEncoding},
		{"impossible length (3 extra chars)", good + "AAA", ErrEncoding, ErrEncoding},
		{"non-canonical trailing bits", setLastChar(cp, cp[len(cp)-1]+1), ErrEncoding, ErrEncoding},
		{"non-canonical trailing bits, top", setLastChar(cp, b32Alphabet[b32Value[cp[len(cp)-1]]|4]), ErrEncoding, ErrEncoding},
		{"non-canonical trailing bits, extra byte", good + "AB", ErrEncoding, ErrEncoding},
		{"type 0x00", withType(0x00), ErrUnknownType, ErrUnknownType},
		{"type 0x06 (undefined)", withType(0x06), ErrUnknownType, ErrUnknownType},
		{"type 0x06", withType(0x06), ErrUnknownType, ErrUnknownType},
		{"type 0xff", withType(0xff), ErrUnknownType, ErrUnknownType},
		{"unknown type, oversized", "77" + strings.Repeat("A", 10000), ErrUnknownType, ErrUnknownType},
		{"activation-sized voucher", rawCode(k1, append([]byte{0x01, 0x01}, make([]byte, activationBodyLen)...)), ErrTooShort, ErrTooShort},
		{"voucher-sized activation", rawCode(k1, append([]byte{0x02, 0x01}, make([]byte, voucherBodyLen)...)), ErrTrailingBytes, ErrTrailingBytes},
		{"unknown key 7", signedAs(7, 1, testVoucher(t)), ErrUnknownKey, nil},
		{"key id 0", rawCode(k1, voucherPayload(0, 42, "78 ", 1000, from, until)), ErrUnknownKey, ErrInvalidPayload},
		{"revoked key", signedAs(3, 3, testVoucher(t)), ErrRevokedKey, nil},
		{"revoked key, invalid fields", rawCode(testKey(3), voucherPayload(3, 0, "78 ", 1000, from, until)), ErrRevokedKey, ErrInvalidPayload},
		{"signed by another key under id 1", signedAs(1, 2, testVoucher(t)), ErrBadSignature, nil},
		{"signature bit flipped", flip(good, 84), ErrBadSignature, nil},
		{"signature R flipped", flip(good, 21), ErrBadSignature, nil},
		{"value tampered", flip(good, 2+8+3+3), ErrBadSignature, nil},
		{"key id tampered 1 to 2 (retired)", encodeRaw(append([]byte{0x01, 0x02}, rawOf(t, good)[2:]...)), ErrBadSignature, nil},
		{"activation retyped as voucher", encodeRaw(append([]byte{0x01}, rawOf(t, signedAs(1, 1, Activation{"78", 2026, 42}))[1:]...)), ErrTooShort, ErrTooShort},
		{"checkpoint tampered", flip(cp, 40), ErrBadSignature, nil},
		{"tampered and invalid", flip(good, 2+8+3+3+3), ErrBadSignature, nil}, // value 1000^1: still valid fields, bad sig
		{"serial 0", rawCode(k1, voucherPayload(1, 0, "78 ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"serial 10^10", rawCode(k1, voucherPayload(1, 10_000_000_000, "78 ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"serial max uint64", rawCode(k1, voucherPayload(1, 1<<64-1, "78 ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département 20", rawCode(k1, voucherPayload(1, 42, "20 ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département 96", rawCode(k1, voucherPayload(1, 42, "96 ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département left-padded", rawCode(k1, voucherPayload(1, 42, " 78", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département NUL-padded", rawCode(k1, voucherPayload(1, 42, "78\x00", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département lower case", rawCode(k1, voucherPayload(1, 42, "2a ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département 977", rawCode(k1, voucherPayload(1, 42, "977", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"département blank", rawCode(k1, voucherPayload(1, 42, "   ", 1000, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"value 0", rawCode(k1, voucherPayload(1, 42, "78 ", 0, from, until)), ErrInvalidPayload, ErrInvalidPayload},
		{"days reversed", rawCode(k1, voucherPayload(1, 42, "78 ", 1000, until, from)), ErrInvalidPayload, ErrInvalidPayload},
		{"activation seq 0", rawCode(k1, activationPayload(1, "78 ", 2026, 0)), ErrInvalidPayload, ErrInvalidPayload},
		{"activation year 0", rawCode(k1, activationPayload(1, "78 ", 0, 42)), ErrInvalidPayload, ErrInvalidPayload},
		{"activation département", rawCode(k1, activationPayload(1, "7 8", 2026, 42)), ErrInvalidPayload, ErrInvalidPayload},
		{"invalid fields under a retired key", rawCode(testKey(2), voucherPayload(2, 42, "78 ", 0, from, until)), ErrInvalidPayload, ErrInvalidPayload},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ks.Verify(c.code)
			if got := errorClass(t, err); got != c.verifyErr {
				t.Errorf("Verify: %v; want %v", err, c.verifyErr)
			}
			if d != (Decoded{}) {
				t.Errorf("Verify returned %+v with its error", d)
			}
			if !strings.HasPrefix(err.Error(), c.verifyErr.Error()+": ") {
				t.Errorf("error %q does not start with the sentinel and detail", err)
			}
			_, err = Parse(c.code)
			switch {
			case c.parseErr == nil && err != nil:
				t.Errorf("Parse: %v; want success", err)
			case c.parseErr != nil && errorClass(t, err) != c.parseErr:
				t.Errorf("Parse: %v; want %v", err, c.parseErr)
			}
		})
	}
}

func TestSentinelsDistinct(t *testing.T) {
	all := append(append([]error(nil), sentinels...), ErrNumberFormat, ErrCheckDigit)
	for i, a := range all {
		for j, b := range all {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%q, %q) = %v", a, b, errors.Is(a, b))
			}
			if i != j && a.Error() == b.Error() {
				t.Errorf("two errors read %q", a)
			}
		}
	}
}

func TestParseShowsInvalidFields(t *testing.T) {
	code := rawCode(testKey(1), voucherPayload(1, 42, "20 ", 1000, 1, 2))
	d, err := Parse(code)
	if !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("Parse: %v", err)
	}
	want := Decoded{Type: TypeVoucher, KeyID: 1, Payload: Voucher{Serial: 42, Department: "20", ValueCents: 1000, ValidFrom: 1, ValidUntil: 2}}
	if d != want {
		t.Errorf("Parse = %+v, want %+v", d, want)
	}
}

func TestReason(t *testing.T) {
	if len(reasons) != len(sentinels)+2 {
		t.Fatal("reasons and sentinels disagree")
	}
	for i, s := range sentinels {
		if reasons[i].err != s {
			t.Errorf("reasons[%d] is %v, want %v (same order)", i, reasons[i].err, s)
		}
	}
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrBadSignature, "bad_signature"},
		{fmt.Errorf("%w: detail", ErrTooShort), "too_short"},
		{fmt.Errorf("outer: %w", fmt.Errorf("%w: key 3", ErrRevokedKey)), "revoked_key"},
		{fmt.Errorf("%w: x", ErrCheckDigit), "check_digit"},
		{ErrNumberFormat, "number_format"},
		{errors.New("voucher: code too short"), "other"}, // same text, not the sentinel
	}
	for _, c := range cases {
		if got := Reason(c.err); got != c.want {
			t.Errorf("Reason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	names := map[string]bool{}
	for _, r := range reasons {
		if names[r.name] {
			t.Errorf("reason %q used twice", r.name)
		}
		names[r.name] = true
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{TypeVoucher: "voucher", TypeActivation: "activation", TypePairing: "pairing", TypeCheckpoint: "checkpoint", TypeReceipt: "receipt", 0x2a: "Type(0x2a)"} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", byte(typ), got, want)
		}
	}
}

func TestCheckpointSignature(t *testing.T) {
	ks := testKeySet(t)
	c := testCheckpoint()
	s := testSigner(t, 1, 1)
	sig, err := s.SignCheckpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if raw := rawOf(t, code); !bytes.Equal(raw[len(raw)-sigLen:], sig) {
		t.Error("SignCheckpoint differs from the signature in the checkpoint's code")
	}
	if err := VerifyCheckpoint(ks, 1, c, sig); err != nil {
		t.Errorf("VerifyCheckpoint: %v", err)
	}
	retiredSig, _ := testSigner(t, 2, 2).SignCheckpoint(c)
	if err := VerifyCheckpoint(ks, 2, c, retiredSig); err != nil {
		t.Errorf("retired key: %v", err)
	}
	revokedSig, _ := testSigner(t, 3, 3).SignCheckpoint(c)
	tampered := c
	tampered.Hash[31] ^= 1
	later := c
	later.TimeMicros++
	cases := []struct {
		name  string
		keyID byte
		c     Checkpoint
		sig   []byte
		want  error
	}{
		{"unknown key", 9, c, sig, ErrUnknownKey},
		{"key id 0", 0, c, sig, ErrUnknownKey},
		{"revoked key", 3, c, revokedSig, ErrRevokedKey},
		{"other key id", 2, c, sig, ErrBadSignature},
		{"tampered hash", 1, tampered, sig, ErrBadSignature},
		{"tampered time", 1, later, sig, ErrBadSignature},
		{"short signature", 1, c, sig[:63], ErrBadSignature},
		{"long signature", 1, c, append(bytes.Clone(sig), 0), ErrBadSignature},
		{"no signature", 1, c, nil, ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyCheckpoint(ks, tc.keyID, tc.c, tc.sig)
			if errorClass(t, err) != tc.want {
				t.Errorf("VerifyCheckpoint: %v; want %v", err, tc.want)
			}
		})
	}
	if err := VerifyCheckpoint(nil, 1, c, sig); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nil key set: %v", err)
	}
}

func TestAppendCodeAllocations(t *testing.T) {
	s := testSigner(t, 1, 1)
	v := testVoucher(t)
	dst := make([]byte, 0, 256)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		v.Serial++
		_, err = s.AppendCode(dst[:0], v)
	})
	if err != nil {
		t.Fatal(err)
	}
	// ed25519.Sign outlines its body so that its 64-byte result stays on the
	// stack; a payload escaping through an interface call would show up here
	// as one allocation.
	if allocs != 0 {
		t.Errorf("AppendCode allocates %v times per call", allocs)
	}
	t.Logf("AppendCode: %v allocations per call", allocs)
}

func TestVerifyDoesNotTrustKeyHalf(t *testing.T) {
	// A public key in the set is exactly 32 bytes, so ed25519.Verify can
	// never panic on it; Add enforces that.
	ks := NewKeySet()
	if err := ks.Add(1, make(ed25519.PublicKey, 31), KeyActive); err == nil {
		t.Fatal("31-byte public key accepted")
	}
}
