package settlement_test

import (
	"context"
	"strings"
	"testing"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestAdjustmentReason: an adjustment's reason follows the one text rule.
func TestAdjustmentReason(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db)
		const msg = "Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « chèque 0000 0001 952 payé deux fois en octobre »."
		for name, reason := range map[string]string{"Empty": " ", "TooLong": strings.Repeat("é", 201), "Control": "payé deux fois\x00", "BadUTF8": "pay\xe9"} {
			t.Run(name, func(t *testing.T) {
				_, err := e.settle.Adjust(context.Background(), "78", e.r.Venue1, 500, reason, nil, "test")
				if code(err) != passnum.EInvalid || passnum.ErrorMessage(err) != msg {
					t.Fatalf("%v, want invalid %q", err, msg)
				}
			})
		}
	})
}
