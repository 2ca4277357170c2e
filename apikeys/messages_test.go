package apikeys_test

import (
	"context"
	"testing"

	"passnum"
	"passnum/access"
	"passnum/apikeys"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestMessages: each refusal of the service, with its code and the French
// words both edges show; a refused key or pairing writes nothing.
func TestMessages(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s, p := f.keys, f.pairings
		_, k, err := s.Create(ctx, apikeys.Spec{Role: access.RoleAuditor, Name: "CRC"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, k.Prefix, "test"); err != nil {
			t.Fatal(err)
		}
		create := func(spec apikeys.Spec) func() error {
			return func() error { _, _, err := s.Create(ctx, spec, "test"); return err }
		}
		const (
			everywhere = "Une clé d'administrateur ou d'auditeur vaut pour tout le programme : elle ne se rattache ni à un département ni à un lieu."
			department = "Une clé de département se rattache à un département, par son code (par exemple 78), et à aucun lieu."
			venue      = "Une clé de lieu se rattache à un lieu, par son numéro, et à aucun département."
		)
		keys, events := ledgertest.Count(t, db, &ledger.APIKey{}), ledgertest.Count(t, db, &ledger.Event{})
		for _, c := range []struct {
			name string
			call func() error
			code string
			msg  string
		}{
			{"UnknownRole", create(apikeys.Spec{Role: "root", Name: "x"}), passnum.EInvalid,
				"Le rôle « root » n'existe pas : une clé est admin (administrateur), department (département), venue (lieu) ou auditor (auditeur)."},
			{"AdminWithDepartment", create(apikeys.Spec{Role: access.RoleAdmin, Department: "78", Name: "x"}), passnum.EInvalid, everywhere},
			{"AuditorWithVenue", create(apikeys.Spec{Role: access.RoleAuditor, VenueID: f.venue, Name: "x"}), passnum.EInvalid, everywhere},
			{"DepartmentMissing", create(apikeys.Spec{Role: access.RoleDepartment, Name: "x"}), passnum.EInvalid, department},
			{"DepartmentMalformed", create(apikeys.Spec{Role: access.RoleDepartment, Department: "Yvelines", Name: "x"}), passnum.EInvalid, department},
			{"DepartmentWithVenue", create(apikeys.Spec{Role: access.RoleDepartment, Department: "78", VenueID: f.venue, Name: "x"}), passnum.EInvalid, department},
			{"VenueMissing", create(apikeys.Spec{Role: access.RoleVenue, Name: "x"}), passnum.EInvalid, venue},
			{"VenueWithDepartment", create(apikeys.Spec{Role: access.RoleVenue, VenueID: f.venue, Department: "78", Name: "x"}), passnum.EInvalid, venue},
			{"DepartmentUnknown", create(apikeys.Spec{Role: access.RoleDepartment, Department: "75", Name: "x"}), passnum.ENotFound,
				"Le département 75 n'existe pas dans le programme."},
			{"VenueUnknown", create(apikeys.Spec{Role: access.RoleVenue, VenueID: 99, Name: "x"}), passnum.ENotFound, "Le lieu 99 n'existe pas."},
			{"RevokeUnknown", func() error { return s.Revoke(ctx, "pn_nothing", "test") }, apikeys.EKeyNotFound,
				"Il n'y a pas de clé d'accès pn_nothing."},
			{"RevokeTwice", func() error { return s.Revoke(ctx, k.Prefix, "test") }, passnum.EConflict,
				"La clé d'accès " + k.Prefix + " est déjà révoquée."},
			{"PairingVenueUnknown", func() error { _, err := p.Create(ctx, 99, "tablette", "test"); return err }, passnum.ENotFound,
				"Le lieu 99 n'existe pas."},
			{"PairingRefused", func() error { _, err := p.Redeem(ctx, "HELLO"); return err }, apikeys.EPairingRefused,
				"Ce code d'appairage n'est pas valable, a expiré ou a déjà servi : demandez-en un nouveau."},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := c.call()
				if passnum.ErrorCode(err) != c.code || passnum.ErrorMessage(err) != c.msg {
					t.Fatalf("%s %q, want %s %q", passnum.ErrorCode(err), passnum.ErrorMessage(err), c.code, c.msg)
				}
			})
		}
		if n, m := ledgertest.Count(t, db, &ledger.APIKey{}), ledgertest.Count(t, db, &ledger.Event{}); n != keys || m != events {
			t.Fatalf("refusals wrote %d keys and %d events", n-keys, m-events)
		}
		if n := ledgertest.Count(t, db, &ledger.Pairing{}); n != 0 {
			t.Fatalf("a refused pairing wrote %d rows", n)
		}
	})
}
