package voucher

import (
	"crypto/ed25519"
	"encoding/base32"
	"errors"
	"testing"
	"time"
)

// testKey returns the private key of test key n (1, 2, 3…), whose seed is the
// 32 bytes (n-1)*32, (n-1)*32+1, …: key 1 is the documented seed 00..1f.
func testKey(n int) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte((n-1)*32 + i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func testSigner(tb testing.TB, id byte, n int) *Signer {
	tb.Helper()
	s, err := NewSigner(id, testKey(n))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// testKeySet is the key set of the documented vectors: key 1 active, key 2
// retired, key 3 revoked, each under the id of its seed number.
func testKeySet(tb testing.TB) *KeySet {
	tb.Helper()
	ks := NewKeySet()
	for _, k := range []struct {
		id     byte
		status KeyStatus
	}{{1, KeyActive}, {2, KeyRetired}, {3, KeyRevoked}} {
		if err := ks.Add(k.id, testKey(int(k.id)).Public().(ed25519.PublicKey), k.status); err != nil {
			tb.Fatal(err)
		}
	}
	return ks
}

func mustDay(tb testing.TB, s string) Day {
	tb.Helper()
	d, err := ParseDay(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func testVoucher(tb testing.TB) Voucher {
	return Voucher{
		Serial:     42,
		Department: "78",
		ValueCents: 1000,
		ValidFrom:  mustDay(tb, "2026-01-01"),
		ValidUntil: mustDay(tb, "2027-12-31"),
	}
}

func testCheckpoint() Checkpoint {
	c := Checkpoint{Seq: 1000, TimeMicros: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()}
	for i := range c.Hash {
		c.Hash[i] = byte(0xa0 + i)
	}
	return c
}

// testReceipt is the receipt of vector receipt: redemption 1234 of venue
// 7, vouchers 42, 43 and 44 of 10 euros, scanned at 10:00 and received at
// 10:00:02 on 2026-12-01 (UTC).
func testReceipt() Receipt {
	return Receipt{RedemptionID: 1234, VenueID: 7, TotalCents: 3000, Vouchers: 3,
		ScannedMicros:  time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixMicro(),
		ReceivedMicros: time.Date(2026, 12, 1, 10, 0, 2, 0, time.UTC).UnixMicro(),
		Digest:         ReceiptDigest([]uint64{44, 42, 43})}
}

// rawCode signs arbitrary payload bytes, bypassing every check of Signer,
// to build codes the Signer refuses to make.
func rawCode(priv ed25519.PrivateKey, payload []byte) string {
	raw := append(append([]byte(nil), payload...), ed25519.Sign(priv, payload)...)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
}

// sentinels is every error a code can be rejected with, in check order.
var sentinels = []error{
	ErrTooShort, ErrEncoding, ErrUnknownType, ErrTrailingBytes,
	ErrUnknownKey, ErrRevokedKey, ErrBadSignature, ErrInvalidPayload,
}

// errorClass names the one sentinel err matches; it fails the test if err
// matches none or several.
func errorClass(tb testing.TB, err error) error {
	tb.Helper()
	var found error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			if found != nil {
				tb.Fatalf("error %q matches both %q and %q", err, found, s)
			}
			found = s
		}
	}
	if found == nil {
		tb.Fatalf("error %q matches no sentinel", err)
	}
	return found
}
