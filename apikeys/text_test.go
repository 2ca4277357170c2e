package apikeys_test

import (
	"context"
	"strings"
	"testing"

	"passnum"
	"passnum/access"
	"passnum/apikeys"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestFreeText: the names of keys and of paired devices follow the one
// text rule.
func TestFreeText(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s, p := f.keys, f.pairings
		const (
			key    = "Le nom de la clé fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « logiciel de suivi du CCAS »."
			device = "Le nom de l'appareil fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « tablette accueil »."
		)
		for _, c := range []struct {
			name string
			call func() error
			msg  string
		}{
			{"KeyNameEmpty", func() error {
				_, _, err := s.Create(ctx, apikeys.Spec{Role: access.RoleAdmin, Name: " "}, "test")
				return err
			}, key},
			{"KeyNameTooLong", func() error {
				_, _, err := s.Create(ctx, apikeys.Spec{Role: access.RoleAdmin, Name: strings.Repeat("é", 101)}, "test")
				return err
			}, key},
			{"KeyNameControl", func() error {
				_, _, err := s.Create(ctx, apikeys.Spec{Role: access.RoleAdmin, Name: "exploitation\x00"}, "test")
				return err
			}, key},
			{"DeviceNameControl", func() error { _, err := p.Create(ctx, f.venue, "tablette\naccueil", "admin"); return err }, device},
			{"DeviceNameEmpty", func() error { _, err := p.Create(ctx, f.venue, "", "admin"); return err }, device},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := c.call()
				if passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != c.msg {
					t.Fatalf("%v, want invalid %q", err, c.msg)
				}
			})
		}
	})
}
