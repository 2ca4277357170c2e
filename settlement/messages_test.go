package settlement_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme/programmetest"
	"passnum/settlement"
	"passnum/voucher"
)

// TestMessages: each refusal of the settlement says, in French and the same
// on every edge, what went wrong in terms of the programme, and writes
// nothing. (The edges add their own hints: cmd/passnum/hints.go, api/hints.go.)
func TestMessages(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		v1 := e.r.Venue1
		v92, err := e.prog.AddVenue(ctx, programmetest.Venue(92, "Lieu de 92", "92"), "test")
		if err != nil {
			t.Fatal(err)
		}
		e.at(t, "2026-11-27T10:00:00Z")
		redeemed := e.spend(t, v1, 0)
		e.at(t, "2026-11-30T23:10:00Z") // 00:10 in Paris on 1 December
		events := func() (n int64) {
			if err := db.Read(ctx).Model(&ledger.Event{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := events()
		nov := month(t, "2026-11")
		check := func(name string, err error, code, want string) {
			t.Helper()
			if passnum.ErrorCode(err) != code || passnum.ErrorMessage(err) != want {
				t.Errorf("%s: %s %q, want %s %q", name, passnum.ErrorCode(err), passnum.ErrorMessage(err), code, want)
			}
		}
		_, err = e.settle.Close(ctx, "78", nov, "test")
		check("TooEarly", err, settlement.EPeriodOpen,
			"Le mois 2026-11 ne peut être clos qu'à partir du 01/12/2026 à 00:15 (heure de Paris), quand tous ses encaissements sont enregistrés.")
		_, err = e.settle.Period(ctx, "75", nov)
		check("UnknownDépartement", err, passnum.ENotFound, "Le département 75 n'existe pas dans le programme.")
		_, err = settlement.ParseMonth("2026-13")
		check("Month", err, passnum.EInvalid, "« 2026-13 » n'est pas un mois possible : écrivez-le AAAA-MM, entre 1970-01 et 2149-05, par exemple 2026-10.")
		open, err := e.settle.Period(ctx, "78", nov)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.settle.Payment(open, 0)
		check("PayOpen", err, settlement.EPeriodOpen, "Le mois 2026-11 n'est pas encore clos : clôturez-le avant de payer.")
		err = settlement.WriteStatementPDF(&bytes.Buffer{}, open, v1)
		check("StatementOfOpen", err, settlement.EPeriodOpen, "Le mois 2026-11 n'est pas encore clos : le relevé peut encore changer. Il est disponible une fois le mois clos.")

		other := redeemed + 1000
		for name, c := range map[string]struct {
			venue, cents int64
			redemption   *int64
			code, want   string
		}{
			"Zero":         {v1, 0, nil, passnum.EInvalid, "Un ajustement est un montant non nul d'au plus 100 000,00 € : positif pour payer plus, négatif pour reprendre."},
			"Huge":         {v1, -100_000_01, nil, passnum.EInvalid, "Un ajustement est un montant non nul d'au plus 100 000,00 € : positif pour payer plus, négatif pour reprendre."},
			"UnknownVenue": {999, 500, nil, passnum.ENotFound, "Le lieu 999 n'existe pas dans le programme."},
			"NotLabelled": {v92.ID, 500, nil, passnum.EInvalid,
				fmt.Sprintf("Le lieu %d n'est pas labellisé pour le département 78 : un ajustement ne porte que sur un lieu du département qui paie.", v92.ID)},
			"OthersRedemption": {e.r.Venue2, 500, &redeemed, passnum.ENotFound, fmt.Sprintf("Le lieu %d n'a pas d'encaissement %d.", e.r.Venue2, redeemed)},
			"NoRedemption":     {v1, 500, &other, passnum.ENotFound, fmt.Sprintf("Le lieu %d n'a pas d'encaissement %d.", v1, other)},
		} {
			_, err := e.settle.Adjust(ctx, "78", c.venue, c.cents, "payé deux fois", c.redemption, "test")
			check("Adjust"+name, err, c.code, c.want)
		}
		// The venue labelled for 92 is adjusted by 92, not by 78.
		if _, err := e.settle.Adjust(ctx, "92", v92.ID, 500, "geste commercial", nil, "test"); err != nil {
			t.Fatalf("adjustment by the venue's own département: %v", err)
		}
		if n := events(); n != before+1 {
			t.Fatalf("the refusals wrote %d ledger events", n-before-1)
		}

		// Closed: no second closing; paying needs the paying office, a day to
		// come and every venue's IBAN.
		db.Read(ctx).Exec(`UPDATE venues SET iban = NULL, bic = NULL WHERE id = ?`, v1)
		e.at(t, "2026-12-01T00:00:00Z")
		closed, err := e.settle.Close(ctx, "78", nov, "test")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.settle.Close(ctx, "78", nov, "test")
		check("ClosedTwice", err, settlement.EPeriodClosed, "Le mois 2026-11 du département 78 est déjà clos.")
		_, err = e.settle.Payment(closed, 0)
		check("NoPayer", err, settlement.ENoPayer, "Le département 78 n'a pas de payeur : il faut le nom et l'IBAN de son service payeur pour payer les lieux.")
		programmetest.PayingOffice(t, e.prog, "78", "Paierie départementale des Yvelines", programmetest.IBAN)
		if closed, err = e.settle.Period(ctx, "78", nov); err != nil {
			t.Fatal(err)
		}
		yesterday, _ := voucher.ParseDay("2026-11-30")
		_, err = e.settle.Payment(closed, yesterday)
		check("PastExecution", err, passnum.EInvalid, "Le 30/11/2026 est déjà passé : la banque exécute les virements à une date à venir.")
		_, err = e.settle.Payment(closed, 0)
		check("NoIBAN", err, settlement.ENoIBAN,
			fmt.Sprintf("Le lieu %d (%s) n'a pas d'IBAN : renseignez-le, puis payez-le par un ajustement le mois suivant.", v1, closed.Statements[0].VenueName))

		// In order: January waits for December, which has a redemption.
		e.at(t, "2026-12-10T10:00:00Z")
		e.spend(t, v1, 1)
		e.at(t, "2027-02-02T10:00:00Z")
		_, err = e.settle.Close(ctx, "78", month(t, "2027-01"), "test")
		check("OutOfOrder", err, settlement.EPeriodOrder,
			"Le mois 2026-12 du département 78, qui a des encaissements ou des ajustements, est encore ouvert : les mois se clôturent dans l'ordre.")
	})
}

// TestVenueStatements: a venue's month is its own part of each département's
// month, the same as Period computes, closed or open.
func TestVenueStatements(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		v1, v2 := e.r.Venue1, e.r.Venue2
		e.at(t, "2026-11-27T10:00:00Z")
		e.spend(t, v1, 0, 1)
		e.spend(t, v2, 2)
		nov := month(t, "2026-11")
		for _, closing := range []bool{false, true} {
			if closing {
				e.at(t, "2026-12-01T00:00:00Z")
				if _, err := e.settle.Close(ctx, "78", nov, "test"); err != nil {
					t.Fatal(err)
				}
			}
			p, err := e.settle.Period(ctx, "78", nov)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []int64{v1, v2} {
				sts, err := e.settle.VenueStatements(ctx, v, nov)
				whole, _ := p.VenueStatement(v)
				if err != nil || len(sts) != 1 || sts[0].Department != "78" || sts[0].DepartmentName != "Yvelines" || sts[0].Closed != closing ||
					sts[0].NetCents != whole.NetCents || sts[0].Reference != whole.Reference || len(sts[0].Lines) != len(whole.Lines) {
					t.Fatalf("closed %v, venue %d: %+v %v, want %+v", closing, v, sts, err, whole)
				}
			}
		}
		if sts, err := e.settle.VenueStatements(ctx, v1, month(t, "2026-10")); err != nil || len(sts) != 0 {
			t.Fatalf("a month without activity: %+v %v", sts, err)
		}
		if _, err := e.settle.VenueStatements(ctx, 999, nov); passnum.ErrorCode(err) != passnum.ENotFound {
			t.Fatalf("unknown venue: %v", err)
		}
	})
}
