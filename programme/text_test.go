package programme_test

import (
	"context"
	"strings"
	"testing"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
)

// TestFreeText: every free-text field of the programme is checked by the
// one text rule, whichever edge calls: too long, empty when required,
// invalid UTF-8 and control characters (refused here since issue #13, as
// the API did) are refused with the rule in French.
func TestFreeText(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s := &programme.Service{DB: db}
		if _, err := s.AddDepartment(ctx, "78", "Yvelines", "test"); err != nil {
			t.Fatal(err)
		}
		v, err := s.AddVenue(ctx, programmetest.Venue(1, "Médiathèque", "78"), "test")
		if err != nil {
			t.Fatal(err)
		}
		venue := addVenue(s)
		change := func(ch programme.VenueChanges, reason string) func() error {
			return func() error {
				_, err := s.UpdateVenue(ctx, v.ID, ch, reason, "", "test")
				return err
			}
		}
		ptr := func(s string) *string { return &s }
		const (
			name    = "Le nom du lieu fait de 1 à 200 caractères, sans caractère de contrôle."
			address = "L'adresse du lieu fait au plus 500 caractères, sur une ou plusieurs lignes, sans autre caractère de contrôle."
			contact = "Le contact du lieu fait au plus 200 caractères, sans caractère de contrôle."
			reason  = "Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « décision du comité de labellisation du 12/10 »."
			free    = "Le motif fait au plus 200 caractères, sans caractère de contrôle."
		)
		for _, c := range []struct {
			name string
			call func() error
			msg  string
		}{
			{"VenueNameTooLong", venue(func(in *programme.VenueInput) { in.Name = strings.Repeat("é", 201) }), name},
			{"VenueNameEmpty", venue(func(in *programme.VenueInput) { in.Name = "  " }), name},
			{"VenueNameControl", venue(func(in *programme.VenueInput) { in.Name = "Média\x00thèque" }), name},
			{"VenueNameBadUTF8", venue(func(in *programme.VenueInput) { in.Name = "M\xe9diath\xe8que" }), name},
			{"AddressTooLong", venue(func(in *programme.VenueInput) { in.Address = strings.Repeat("a", 501) }), address},
			{"AddressTab", venue(func(in *programme.VenueInput) { in.Address = "1 rue X\t78000" }), address},
			{"ContactControl", venue(func(in *programme.VenueInput) { in.Contact = "accueil\r\n@example.org" }), contact},
			{"CreationReasonControl", venue(func(in *programme.VenueInput) { in.Reason = "comité\x1b" }), free},
			{"ChangeNameControl", change(programme.VenueChanges{Name: ptr("Média\nthèque")}, "nouveau nom"), name},
			{"ChangeAddressTooLong", change(programme.VenueChanges{Address: ptr(strings.Repeat("a", 501))}, "déménagement"), address},
			{"ChangeContactControl", change(programme.VenueChanges{Contact: ptr("a\x07")}, "nouveau contact"), contact},
			{"ChangeNoReason", change(programme.VenueChanges{Contact: ptr("b@example.org")}, " "), reason},
			{"SuspendReasonControl", func() error {
				_, err := s.Suspend(ctx, v.ID, programme.LabelOf{}, "enquête\x00", "test")
				return err
			}, reason},
			{"DepartmentNameControl", func() error {
				_, err := s.AddDepartment(ctx, "92", "Hauts-\nde-Seine", "test")
				return err
			}, "Le nom du département fait de 1 à 200 caractères, sans caractère de contrôle."},
			{"PayerNameTooLong", func() error {
				_, err := s.UpdateDepartment(ctx, "78", programme.DepartmentChanges{PayerName: ptr(strings.Repeat("P", 201))}, "test")
				return err
			}, "Le nom du payeur fait de 1 à 200 caractères, sans caractère de contrôle."},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := c.call()
				if passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != c.msg {
					t.Fatalf("%v, want invalid %q", err, c.msg)
				}
			})
		}
		// What passes is stored trimmed, line feeds of an address kept.
		got, err := s.AddVenue(ctx, programme.VenueInput{Name: "  Café numérique ", SIRET: programmetest.SIRET(3), IBAN: programmetest.IBAN,
			Address: " 1 rue X\n78000 Versailles ", Departments: []string{"78"}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Café numérique" || got.Address != "1 rue X\n78000 Versailles" {
			t.Fatalf("stored %q, %q", got.Name, got.Address)
		}
	})
}
