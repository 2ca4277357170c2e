package notices_test

import (
	"context"
	"crypto/tls"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/mail"
	"passnum/mail/mailtest"
	"passnum/notices"
	"passnum/programme"
	"passnum/programme/programmetest"
)

// TestBankDetailsChanged: once a second person of 78 approves a venue's
// new IBAN, the venue and 78's managers and finance people are told by
// a real SMTP server, each once, with the last 4 characters and who asked
// and approved, pseudonymously; a reader of 78, 92's people, a disabled
// account, and a refused request are told nothing. The same people (not
// the venue) are told of 78's new paying office once confirmed.
func TestBankDetailsChanged(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		issuingtest.New(t, db) // départements 78 and 92, the test clock
		smtp := mailtest.Start(t, mailtest.Options{})
		sender, err := mail.NewSMTP(mail.Config{URL: "smtp://" + smtp.Addr(), From: "Pass numérique 78 <ne-pas-repondre@yvelines.fr>",
			Timeout: 10 * time.Second, TLS: &tls.Config{RootCAs: smtp.RootCAs}})
		if err != nil {
			t.Fatal(err)
		}
		prog := &programme.Service{DB: db}
		acc := &accounts.Service{DB: db}
		phone := "01 39 07 78 78"
		if _, err := prog.UpdateDepartment(ctx, "78", programme.DepartmentChanges{ContactPhone: &phone}, "test"); err != nil {
			t.Fatal(err)
		}
		v, err := prog.AddVenue(ctx, programmetest.Venue(5, "Médiathèque de Trappes", "78"), "test")
		if err != nil {
			t.Fatal(err)
		}
		manager := accountstest.Person(t, acc, "responsable@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentManager)
		finance := accountstest.Person(t, acc, "finances@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance)
		accountstest.Person(t, acc, "finances@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentManager) // told once
		accountstest.Person(t, acc, "lecteur@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentReader)
		accountstest.Person(t, acc, "finances@hauts-de-seine.fr", accounts.Org{Department: "92"}, access.RoleDepartmentFinance)
		gone := accountstest.Person(t, acc, "parti@yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentFinance)
		if err := acc.Disable(ctx, accounts.Operator("test"), gone.Account); err != nil {
			t.Fatal(err)
		}
		n := &notices.Service{DB: db, Accounts: acc, Mail: sender}
		asker := access.AccountActor(manager.Account, manager.Organisation)
		approver := access.AccountActor(finance.Account, finance.Organisation)
		iban := "FR1420041010050500013M02606"

		u, err := prog.UpdateVenue(ctx, v.ID, programme.VenueChanges{IBAN: &iban}, "RIB reçu", "78", asker)
		if err != nil {
			t.Fatal(err)
		}
		refused, err := prog.RefuseChange(ctx, u.Request.ID, "RIB non signé", "78", approver)
		if err != nil {
			t.Fatal(err)
		}
		if told, err := n.BankDetailsChanged(ctx, refused); told != 0 || err != nil {
			t.Fatalf("a refused request told %d (%v)", told, err)
		}
		u, err = prog.UpdateVenue(ctx, v.ID, programme.VenueChanges{IBAN: &iban}, "RIB signé reçu", "78", asker)
		if err != nil {
			t.Fatal(err)
		}
		applied, err := prog.ApproveChange(ctx, u.Request.ID, "78", approver)
		if err != nil || applied.Status != ledger.ChangeApplied {
			t.Fatal(err, applied.Status)
		}
		told, err := n.BankDetailsChanged(ctx, applied)
		if err != nil || told != 3 {
			t.Fatalf("told %d (%v), want 3", told, err)
		}
		var to []string
		for range told {
			m := smtp.Next(t, time.Minute).Read(t)
			to = append(to, m.To[0].Address)
			if m.Subject != "Coordonnées bancaires changées : Médiathèque de Trappes" || !strings.Contains(m.Text, "l’IBAN qui finit par 2606") ||
				strings.Contains(m.Text, iban) || strings.Contains(m.Text, "@yvelines.fr") ||
				!strings.Contains(m.Text, "Demande faite par : l’agent "+itoa(manager.Account)+" de Yvelines (78).") ||
				!strings.Contains(m.Text, "Accord donné par : l’agent "+itoa(finance.Account)+" de Yvelines (78)") ||
				!strings.Contains(m.Text, "Appelez tout de suite le département Yvelines (78) au 01 39 07 78 78.") {
				t.Errorf("notice to %s %q:\n%s", m.To[0].Address, m.Subject, m.Text)
			}
		}
		sort.Strings(to)
		if strings.Join(to, " ") != "accueil@example.org finances@yvelines.fr responsable@yvelines.fr" {
			t.Errorf("told %v", to)
		}
		smtp.None(t)

		// A new paying office, confirmed by finance: 78's money people
		// are told, the venue is not.
		name, payer := "Paierie départementale des Yvelines", programmetest.IBAN
		if _, err := prog.UpdateDepartment(ctx, "78", programme.DepartmentChanges{PayerName: &name, PayerIBAN: &payer}, asker); err != nil {
			t.Fatal(err)
		}
		d, r, err := prog.ConfirmSettings(ctx, "78", approver)
		if err != nil {
			t.Fatal(err)
		}
		if told, err := n.PayingOfficeChanged(ctx, d, r.RequestedBy, approver); err != nil || told != 2 {
			t.Fatalf("paying office: told %d (%v), want 2", told, err)
		}
		to = nil
		for range 2 {
			m := smtp.Next(t, time.Minute).Read(t)
			to = append(to, m.To[0].Address)
			if m.Subject != "Compte payeur changé : Yvelines (78)" || !strings.Contains(m.Text, "Nouveau compte payeur : Paierie départementale des Yvelines, l’IBAN qui finit par "+payer[len(payer)-4:]) ||
				strings.Contains(m.Text, payer) || !strings.Contains(m.Text, "Demande faite par : l’agent "+itoa(manager.Account)+" de Yvelines (78).") ||
				!strings.Contains(m.Text, "N’envoyez pas de fichier de virements") {
				t.Errorf("paying office notice to %s %q:\n%s", m.To[0].Address, m.Subject, m.Text)
			}
		}
		sort.Strings(to)
		if strings.Join(to, " ") != "finances@yvelines.fr responsable@yvelines.fr" {
			t.Errorf("paying office: told %v", to)
		}
		smtp.None(t)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
