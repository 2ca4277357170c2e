// Package audittest verifies a test's ledger as passnum audit verify does.
// It is apart from issuingtest, which the redemption package's own tests
// import, because audit imports redemption: a helper there would close an
// import cycle.
package audittest

import (
	"context"
	"testing"

	"passnum/audit"
	"passnum/issuing/issuingtest"
)

// OK seals the fixture's ledger and verifies it as passnum audit verify
// does: chain, checkpoints, and the tables against the events.
func OK(tb testing.TB, f *issuingtest.Fixture) {
	tb.Helper()
	f.Seal(tb)
	ks, err := f.DB.KeySet(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := audit.Verify(context.Background(), f.DB, ks); err != nil {
		tb.Fatalf("audit verify: %v", err)
	}
}
