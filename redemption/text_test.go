package redemption_test

import (
	"context"
	"strings"
	"testing"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
)

// TestFreeText: a basket's session label and a reversal's reason follow the
// one text rule; a label that passes is stored trimmed.
func TestFreeText(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		const (
			session = "Le nom de la séance fait au plus 200 caractères, sans caractère de contrôle."
			reason  = "Le motif de l'annulation fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « chèque scanné par erreur »."
		)
		for name, label := range map[string]string{"TooLong": strings.Repeat("é", 201), "Control": "atelier\x00", "LineFeed": "atelier\nmardi", "BadUTF8": "s\xe9ance"} {
			t.Run("Session"+name, func(t *testing.T) {
				_, err := e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Session: label, Items: []redemption.Input{e.code(0)}, Actor: "test"})
				if passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != session {
					t.Fatalf("%v, want invalid %q", err, session)
				}
			})
		}
		res, err := e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Session: " atelier du mardi ", Items: []redemption.Input{e.code(0)}, Actor: "test"})
		if err != nil || res.RedemptionID == 0 {
			t.Fatalf("%+v, %v", res, err)
		}
		var r ledger.Redemption
		if err := db.Read(ctx).Take(&r, res.RedemptionID).Error; err != nil || r.Session == nil || *r.Session != "atelier du mardi" {
			t.Fatalf("stored session %v (%v)", r.Session, err)
		}
		for name, why := range map[string]string{"Empty": "  ", "TooLong": strings.Repeat("x", 201), "Control": "erreur\x07"} {
			t.Run("Reason"+name, func(t *testing.T) {
				_, err := e.svc.Reverse(ctx, e.venue1, res.RedemptionID, why, "test")
				if passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != reason {
					t.Fatalf("%v, want invalid %q", err, reason)
				}
			})
		}
	})
}
