package programme_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/voucher"
)

// TestMessages: each rule of the programme says, in French and in words of
// the programme, what is wrong; the command line and the API show these
// words as they are (cmd/passnum/edges_test.go checks both), and a refusal
// writes nothing.
func TestMessages(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		db.Clock = func() time.Time { return now }
		s := &programme.Service{DB: db}
		for _, d := range [][2]string{{"78", "Yvelines"}, {"92", "Hauts-de-Seine"}} {
			if _, err := s.AddDepartment(ctx, d[0], d[1], "test"); err != nil {
				t.Fatal(err)
			}
		}
		shared, err := s.AddVenue(ctx, programmetest.Venue(1, "France Services", "78", "92"), "test")
		if err != nil {
			t.Fatal(err)
		}
		iban := "FR1420041010050500013M02606"
		u, err := s.UpdateVenue(ctx, shared.ID, programme.VenueChanges{IBAN: &iban}, "RIB du 02/11", "78", "dept-78")
		if err != nil || u.Request == nil {
			t.Fatal(err, u)
		}
		request := u.Request.ID
		if _, err := s.Suspend(ctx, shared.ID, programme.LabelOf{Department: "92"}, "enquête", "test"); err != nil {
			t.Fatal(err)
		}
		venues, events := ledgertest.Count(t, db, &ledger.Venue{}), ledgertest.Count(t, db, &ledger.Event{})

		venue := addVenue(s)
		ptr := func(s string) *string { return &s }
		ptr64 := func(n int64) *int64 { return &n }
		department := func(ch programme.DepartmentChanges) func() error {
			return func() error {
				_, err := s.UpdateDepartment(ctx, "78", ch, "test")
				return err
			}
		}
		change := func(ch programme.VenueChanges, department string) func() error {
			return func() error {
				_, err := s.UpdateVenue(ctx, shared.ID, ch, "motif", department, "test")
				return err
			}
		}
		label := func(do func(context.Context, int64, programme.LabelOf, string, string) (programme.VenueWithDepartments, error), of programme.LabelOf) func() error {
			return func() error {
				_, err := do(ctx, shared.ID, of, "motif", "test")
				return err
			}
		}
		relabel := func(ctx context.Context, id int64, of programme.LabelOf, reason, actor string) (programme.VenueWithDepartments, error) {
			return s.Label(ctx, id, of, 0, reason, actor)
		}
		for _, c := range []struct {
			name string
			call func() error
			code string
			msg  string
		}{
			{"ShortSIRET", venue(func(in *programme.VenueInput) { in.SIRET = "1234" }), passnum.EInvalid,
				`"1234" n'est pas un SIRET, qui compte 14 chiffres (SIREN et NIC), comme sur l'avis de situation INSEE de la structure.`},
			{"AlteredSIRET", venue(func(in *programme.VenueInput) { in.SIRET = "732 829 320 00075" }), passnum.EInvalid,
				"Le SIRET 73282932000075 a une clé de contrôle fausse : un chiffre a été mal saisi. Recopiez-le depuis l'avis de situation INSEE."},
			{"SIRETTaken", venue(func(in *programme.VenueInput) { in.SIRET = *shared.SIRET }), programme.EVenueSIRETTaken,
				"Un lieu de SIRET " + *shared.SIRET + " est déjà enregistré : c'est le même établissement."},
			{"AlteredIBAN", venue(func(in *programme.VenueInput) { in.IBAN = "FR7630006000011234567890198" }), passnum.EInvalid,
				`L'IBAN "FR7630006000011234567890198" n'est pas valable (pays, longueur ou clé de contrôle) : recopiez-le depuis le RIB du titulaire du compte.`},
			{"NoIBAN", venue(func(in *programme.VenueInput) { in.IBAN = " " }), passnum.EInvalid,
				"Donnez l'IBAN du compte, recopié depuis le RIB de son titulaire : les remboursements se font par virement."},
			{"BadBIC", venue(func(in *programme.VenueInput) { in.BIC = "BNP" }), passnum.EInvalid,
				`Le BIC "BNP" n'est pas valable (8 ou 11 lettres et chiffres) : recopiez-le depuis le RIB, ou laissez-le vide.`},
			{"NameSEPACannotWrite", venue(func(in *programme.VenueInput) { in.Name = "Цифровой клуб" }), passnum.EInvalid,
				"Le nom « Цифровой клуб » ne peut pas s'écrire dans un virement SEPA, qui n'admet que les lettres latines (les accents sont retirés), " +
					"les chiffres et quelques signes : écrivez-le en lettres latines, comme sur le RIB du compte."},
			{"NoDepartment", venue(func(in *programme.VenueInput) { in.Departments = nil }), passnum.EInvalid,
				"Donnez au moins un département pour lequel le lieu est labellisé, comme 78."},
			{"BadDepartment", venue(func(in *programme.VenueInput) { in.Departments = []string{"7"} }), passnum.EInvalid,
				`« 7 » n'est pas un code de département : donnez le code officiel, comme 78, 2A ou 971.`},
			{"UnknownDepartment", venue(func(in *programme.VenueInput) { in.Departments = []string{"78", "75"} }), programme.EDepartmentUnknown,
				"Le département 75 n'est pas dans le programme : il faut l'y ajouter avant d'y labelliser un lieu."},
			{"PastLabel", venue(func(in *programme.VenueInput) { in.LabelExpiresOn = voucher.Today(now).AddDays(-1) }), passnum.EInvalid,
				"Le label finirait le 25/11/2026, qui est déjà passé : donnez aujourd'hui ou un jour à venir."},
			{"DepartmentExists", func() error { _, err := s.AddDepartment(ctx, "78", "Yvelines", "test"); return err }, passnum.EConflict,
				"Le département 78 existe déjà."},
			{"PayerBICAlone", department(programme.DepartmentChanges{PayerBIC: ptr("BNPAFRPP")}), passnum.EInvalid,
				"Un BIC se donne avec l'IBAN du compte : ils vont ensemble."},
			{"PayerAlteredIBAN", department(programme.DepartmentChanges{PayerIBAN: ptr("FR7630006000011234567890198")}), passnum.EInvalid,
				`L'IBAN "FR7630006000011234567890198" n'est pas valable (pays, longueur ou clé de contrôle) : recopiez-le depuis le RIB du titulaire du compte.`},
			{"Commission", department(programme.DepartmentChanges{CommissionBasisPoints: ptr64(10001)}), passnum.EInvalid,
				"La commission du programme va de 0 à 100 % (de 0 à 10000 points de base ; 150 = 1,50 %), pas 10001 points de base."},
			{"DepartmentNothing", department(programme.DepartmentChanges{}), passnum.EInvalid,
				"Rien à changer : donnez le nom du payeur, son IBAN (et son BIC), la commission, le numéro de téléphone ou la double validation des clôtures."},
			{"ContactPhone", department(programme.DepartmentChanges{ContactPhone: ptr("01 39 07")}), passnum.EInvalid,
				"« 01 39 07 » n’est pas un numéro de téléphone : donnez ses 10 chiffres, comme 01 39 07 78 78, ou un numéro court comme 3939."},
			{"PayerSEPACannotWrite", department(programme.DepartmentChanges{PayerName: ptr("金库")}), passnum.EInvalid,
				"Le nom « 金库 » ne peut pas s'écrire dans un virement SEPA, qui n'admet que les lettres latines (les accents sont retirés), " +
					"les chiffres et quelques signes : écrivez-le en lettres latines, comme sur le RIB du compte."},
			{"UnknownDepartmentUpdated", func() error {
				_, err := s.UpdateDepartment(ctx, "75", programme.DepartmentChanges{CommissionBasisPoints: ptr64(1)}, "test")
				return err
			}, passnum.ENotFound, "Le département 75 n'existe pas dans le programme."},
			{"VenueNothing", change(programme.VenueChanges{}, ""), passnum.EInvalid,
				"Rien à changer : donnez un nouveau nom, une adresse, un IBAN (et son BIC) ou un contact."},
			{"VenueBICAlone", change(programme.VenueChanges{BIC: ptr("BNPAFRPP")}, ""), passnum.EInvalid,
				"Un BIC se donne avec l'IBAN du compte : ils vont ensemble."},
			{"ChangePending", change(programme.VenueChanges{Name: ptr("Espace numérique")}, "92"), programme.EChangePending,
				"Une demande de changement du lieu 1 attend déjà l'accord des autres départements : faites-la décider (ou retirez-la) avant d'en faire une autre."},
			{"VenueOfAnother", func() error {
				_, err := s.Venue(ctx, shared.ID, "93")
				return err
			}, passnum.ENotFound, "Le lieu 1 n'existe pas ou n'est pas labellisé pour le département 93."},
			{"NoVenue", func() error { _, err := s.Venue(ctx, 99, ""); return err }, passnum.ENotFound, "Le lieu 99 n'existe pas dans le programme."},
			{"LabelSuspended", label(relabel, programme.LabelOf{Department: "92"}), programme.EVenueLabelSuspended,
				"Le lieu 1 est suspendu pour le département 92 : levez la suspension plutôt que de le labelliser à nouveau."},
			{"SuspendSuspended", label(s.Suspend, programme.LabelOf{Department: "92"}), programme.EVenueStatus,
				"Le lieu 1 est suspendu pour le département 92 : seul un lieu labellisé peut être suspendu."},
			{"ReinstateLabelled", label(s.Reinstate, programme.LabelOf{Department: "78"}), programme.EVenueStatus,
				"Le lieu 1 est labellisé pour le département 78, pas suspendu : il n'y a pas de suspension à lever."},
			{"LabelOfAnother", label(s.Suspend, programme.LabelOf{Department: "92", By: "78"}), passnum.EForbidden,
				"Le département 78 ne change que son propre label, pas celui du département 92."},
			{"ApproveOwn", func() error { _, err := s.ApproveChange(ctx, request, "78", "dept-78"); return err }, passnum.EForbidden,
				"La demande de changement 1 est celle du département 78 : ce sont les autres départements du lieu qui l'approuvent ou la refusent ; lui peut la retirer."},
			{"WithdrawAnother", func() error { _, err := s.WithdrawChange(ctx, request, "", "92", "dept-92"); return err }, passnum.EForbidden,
				"La demande de changement 1 est celle du département 78 : seul celui-ci peut la retirer ; refusez-la si vous n'êtes pas d'accord."},
			{"RequestOfAnother", func() error { _, err := s.ChangeRequest(ctx, request, "93"); return err }, passnum.ENotFound,
				"La demande de changement 1 n'existe pas ou ne porte pas sur un lieu du département 93."},
			{"RequestStatus", func() error {
				_, err := s.ChangeRequests(ctx, programme.ChangeFilter{Status: "done"})
				return err
			}, passnum.EInvalid, `Une demande de changement est pending (en attente), applied (appliquée), refused (refusée) ou withdrawn (retirée), pas "done".`},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := c.call()
				if passnum.ErrorCode(err) != c.code || passnum.ErrorMessage(err) != c.msg {
					t.Fatalf("%s %q, want %s %q", passnum.ErrorCode(err), passnum.ErrorMessage(err), c.code, c.msg)
				}
			})
		}
		if ledgertest.Count(t, db, &ledger.Venue{}) != venues || ledgertest.Count(t, db, &ledger.Event{}) != events {
			t.Fatal("a refusal wrote something")
		}

		// No label of the venue can move: the refusal says where each stands.
		if _, err := s.Suspend(ctx, shared.ID, programme.LabelOf{}, "enquête", "admin"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Suspend(ctx, shared.ID, programme.LabelOf{}, "enquête", "admin")
		if passnum.ErrorCode(err) != programme.EVenueStatus || passnum.ErrorMessage(err) !=
			"Aucun label du lieu 1 ne permet ce changement : il est suspendu pour le département 78, suspendu pour le département 92." {
			t.Fatalf("%v", err)
		}

		// Decided requests, and one the venue outgrew.
		if _, err := s.WithdrawChange(ctx, request, "", "78", "dept-78"); err != nil {
			t.Fatal(err)
		}
		_, err = s.ApproveChange(ctx, request, "92", "dept-92")
		if passnum.ErrorCode(err) != programme.EChangeDecided || passnum.ErrorMessage(err) != "La demande de changement 1 est déjà retirée : relisez-la." {
			t.Fatalf("%v", err)
		}
		asked, changed := "Espace numérique", "Espace numérique de Trappes"
		u, err = s.UpdateVenue(ctx, shared.ID, programme.VenueChanges{Name: &asked}, "statuts du 03/11", "78", "dept-78")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateVenue(ctx, shared.ID, programme.VenueChanges{Name: &changed}, "statuts reçus", "", "admin"); err != nil {
			t.Fatal(err)
		}
		_, err = s.ApproveChange(ctx, u.Request.ID, "92", "dept-92")
		want := fmt.Sprintf("Le lieu 1 a changé depuis la demande de changement %d : ses coordonnées ne sont plus celles sur lesquelles elle portait. Refusez-la, puis refaites-en une.", u.Request.ID)
		if passnum.ErrorCode(err) != programme.EChangeOutdated || passnum.ErrorMessage(err) != want {
			t.Fatalf("%v", err)
		}
	})
}

// addVenue returns, for a change to a valid venue of 78, the call that
// adds it.
func addVenue(s *programme.Service) func(mod func(*programme.VenueInput)) func() error {
	return func(mod func(*programme.VenueInput)) func() error {
		return func() error {
			in := programmetest.Venue(2, "Autre lieu", "78")
			mod(&in)
			_, err := s.AddVenue(context.Background(), in, "test")
			return err
		}
	}
}
