// Package accountstest makes people for tests: an account invited by the
// operator and accepted, with a known password.
package accountstest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"passnum/accounts"
)

// Password is the password of every account Person makes.
const Password = "une longue phrase de passe"

// Person invites address to role in org as the operator and accepts the
// invitation with Password (or, for an address that has an account, adds
// the role to it). The result names the account and the organisation it
// may act for: accounts.Caller{Account: p.Account, Organisation: p.Organisation}.
func Person(tb testing.TB, s *accounts.Service, address string, org accounts.Org, role string) accounts.Accepted {
	tb.Helper()
	ctx := context.Background()
	inv, err := s.Invite(ctx, accounts.Operator("test"), address, org, role)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := s.Accept(ctx, inv.Token, Password)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// Caller is the person acting for the organisation of its role.
func Caller(a accounts.Accepted) accounts.Caller {
	return accounts.Caller{Account: a.Account, Organisation: a.Organisation}
}

// TOTP is the 6-digit code an authenticator application shows at t for a
// base32 secret (RFC 6238: HMAC-SHA1, 30-second steps). It is written
// apart from the service's, from the RFC, so that the tests check one
// against the other.
func TOTP(secret string, t time.Time) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		panic(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000)
}
