// Package accountstest makes people for tests: an account invited by the
// operator and accepted, with a known password.
package accountstest

import (
	"context"
	"testing"

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
