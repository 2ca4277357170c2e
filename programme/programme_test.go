package programme_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"passnum"
	"passnum/foureyes"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/voucher"
)

func TestDepartments(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s := &programme.Service{DB: db}
		if _, err := s.AddDepartment(ctx, " 2a ", "Corse-du-Sud", "test"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, code, dept string
		}{
			{"ErrDuplicate", passnum.EConflict, "2A"},
			{"ErrBadCode", passnum.EInvalid, "20"},
			{"ErrEmpty", passnum.EInvalid, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.AddDepartment(ctx, c.dept, "X", "test")
				if got := passnum.ErrorCode(err); got != c.code {
					t.Fatalf("code %q (%v), want %q", got, err, c.code)
				}
			})
		}
		if _, err := s.AddDepartment(ctx, "78", " ", "test"); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Fatalf("empty name: %v", err)
		}
		name, iban, bic := "Paierie départementale de Corse-du-Sud", "FR14 2004 1010 0505 0001 3M02 606", "psstfrppxxx"
		bp := int64(150)
		u, err := s.UpdateDepartment(ctx, "2A", programme.DepartmentChanges{PayerName: &name, PayerIBAN: &iban, PayerBIC: &bic, CommissionBasisPoints: &bp}, "account:3@organisation:1")
		if err != nil {
			t.Fatal(err)
		}
		// The paying office and the commission, once a second person
		// confirms them: not the same person acting for another organisation.
		if u.PayerIBAN != nil || u.CommissionBasisPoints != 0 || u.Asked == nil || u.Asked.RequestedBy != "account:3@organisation:1" || u.Changed {
			t.Fatalf("département after the request: %+v", u)
		}
		if _, err := s.UpdateDepartment(ctx, "2A", programme.DepartmentChanges{CommissionBasisPoints: &bp}, "account:4@organisation:1"); passnum.ErrorCode(err) != foureyes.EAwaiting {
			t.Fatalf("a second request while one waits: %v", err)
		}
		if _, _, err := s.ConfirmSettings(ctx, "2A", "account:3@organisation:9"); passnum.ErrorCode(err) != passnum.EForbidden {
			t.Fatalf("the same person confirming: %v", err)
		}
		d, r, err := s.ConfirmSettings(ctx, "2A", "account:4@organisation:1")
		if err != nil {
			t.Fatal(err)
		}
		if *d.PayerIBAN != "FR1420041010050500013M02606" || *d.PayerBIC != "PSSTFRPPXXX" || *d.PayerName != name || d.CommissionBasisPoints != 150 ||
			r.RequestedBy != "account:3@organisation:1" || !programme.PaysFrom(r) {
			t.Fatalf("département after the confirmation: %+v", d)
		}
		if _, _, err := s.ConfirmSettings(ctx, "2A", "account:4@organisation:1"); passnum.ErrorCode(err) != foureyes.ENothingAsked {
			t.Fatalf("confirmed twice: %v", err)
		}
		// Four eyes on closing: on at once, off only by two people.
		on, off := true, false
		if u, err := s.UpdateDepartment(ctx, "2A", programme.DepartmentChanges{CloseFourEyes: &on}, "account:3@organisation:1"); err != nil || !u.CloseFourEyes {
			t.Fatalf("turned on: %+v, %v", u, err)
		}
		if u, err := s.UpdateDepartment(ctx, "2A", programme.DepartmentChanges{CloseFourEyes: &off}, "account:3@organisation:1"); err != nil || !u.CloseFourEyes || u.Asked == nil || u.Changed {
			t.Fatalf("turned off by one: %+v, %v", u, err)
		}
		if _, _, err := s.ConfirmSettings(ctx, "2A", "account:3@organisation:2"); passnum.ErrorCode(err) != passnum.EForbidden {
			t.Fatalf("the same person confirming: %v", err)
		}
		if d, r, err := s.ConfirmSettings(ctx, "2A", "account:4@organisation:1"); err != nil || d.CloseFourEyes || programme.PaysFrom(r) {
			t.Fatalf("turned off by a second person: %+v, %v", d, err)
		}
		bad := "FR14 2004 1010 0505 0001 3M02 607"
		tooMuch := int64(10001)
		for _, ch := range []programme.DepartmentChanges{{PayerIBAN: &bad}, {CommissionBasisPoints: &tooMuch}, {PayerBIC: &bic}, {}} {
			if _, err := s.UpdateDepartment(ctx, "2A", ch, "test"); passnum.ErrorCode(err) != passnum.EInvalid {
				t.Errorf("%+v: %v, want invalid", ch, err)
			}
		}
		if _, err := s.UpdateDepartment(ctx, "75", programme.DepartmentChanges{PayerName: &name}, "test"); passnum.ErrorCode(err) != passnum.ENotFound {
			t.Errorf("unknown département: %v", err)
		}
	})
}

// TestPayingOfficeConfirmedOnce: many second persons confirm one paying
// office at once; it applies once, the others are told nothing waits, and
// the ledger has one confirmation and one update.
func TestPayingOfficeConfirmedOnce(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s := &programme.Service{DB: db}
		if _, err := s.AddDepartment(ctx, "78", "Yvelines", "test"); err != nil {
			t.Fatal(err)
		}
		name, iban := "Paierie départementale des Yvelines", programmetest.IBAN
		if _, err := s.UpdateDepartment(ctx, "78", programme.DepartmentChanges{PayerName: &name, PayerIBAN: &iban}, "account:1@organisation:1"); err != nil {
			t.Fatal(err)
		}
		const n = 16
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, _, err := s.ConfirmSettings(ctx, "78", fmt.Sprintf("account:%d@organisation:1", i+2))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		applied := 0
		for err := range errs {
			switch {
			case err == nil:
				applied++
			case passnum.ErrorCode(err) != foureyes.ENothingAsked:
				t.Errorf("a concurrent confirmation: %v", err)
			}
		}
		var updates, confirmations int64
		db.Read(ctx).Model(&ledger.Event{}).Where("type = ?", ledger.EventDepartmentUpdated).Count(&updates)
		db.Read(ctx).Model(&ledger.Event{}).Where("type = ?", ledger.EventSecondPersonConfirmed).Count(&confirmations)
		if applied != 1 || updates != 1 || confirmations != 1 {
			t.Fatalf("%d confirmations succeeded, %d updates and %d confirmations in the ledger; want 1 each", applied, updates, confirmations)
		}
	})
}

func TestCheckSIRET(t *testing.T) {
	// Real SIRETs of well-known establishments, and La Poste's, whose
	// establishments follow a digit-sum rule instead of Luhn.
	for _, s := range []string{"73282932000074", "552 081 317 66522", "44306184100047", "35600000000048", "35600000049837"} {
		got, err := programme.CheckSIRET(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if len(got) != 14 {
			t.Errorf("%s: got %q", s, got)
		}
		// Any single altered digit is caught.
		digits := []byte(got)
		for i := range digits {
			for _, d := range "0123456789" {
				if byte(d) == got[i] {
					continue
				}
				alt := []byte(got)
				alt[i] = byte(d)
				if _, err := programme.CheckSIRET(string(alt)); err == nil && got[:9] != "356000000" {
					t.Errorf("%s accepted (altered from %s)", alt, got)
				}
			}
		}
	}
	for _, s := range []string{"", "7328293200007", "732829320000745", "7328293200007A", "73282932000075"} {
		if _, err := programme.CheckSIRET(s); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Errorf("%q: %v, want invalid", s, err)
		}
	}
}

func TestVenueLifecycle(t *testing.T) {
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
		in := programmetest.Venue(1, "Médiathèque", "78", "78", "92")
		in.SIRET = "732 829 320 00074"
		in.IBAN = "fr76 3000 6000 0112 3456 7890 189"
		v, err := s.AddVenue(ctx, in, "dept-78")
		if err != nil {
			t.Fatal(err)
		}
		if *v.SIRET != "73282932000074" || *v.IBAN != "FR7630006000011234567890189" || len(v.Departments) != 2 || v.Labels[0].Status != ledger.VenueLabelled || v.Labels[1].Status != ledger.VenueLabelled {
			t.Fatalf("venue %+v", v)
		}

		bad := func(mod func(*programme.VenueInput)) programme.VenueInput {
			c := programmetest.Venue(2, "Autre", "78")
			mod(&c)
			return c
		}
		for name, c := range map[string]struct {
			in   programme.VenueInput
			code string
		}{
			"siret taken":         {bad(func(i *programme.VenueInput) { i.SIRET = "73282932000074" }), programme.EVenueSIRETTaken},
			"siret altered":       {bad(func(i *programme.VenueInput) { i.SIRET = "73282932000075" }), passnum.EInvalid},
			"iban altered":        {bad(func(i *programme.VenueInput) { i.IBAN = "FR7630006000011234567890188" }), passnum.EInvalid},
			"no iban":             {bad(func(i *programme.VenueInput) { i.IBAN = "" }), passnum.EInvalid},
			"bad bic":             {bad(func(i *programme.VenueInput) { i.BIC = "XX" }), passnum.EInvalid},
			"unknown département": {bad(func(i *programme.VenueInput) { i.Departments = []string{"75"} }), programme.EDepartmentUnknown},
			"no département":      {bad(func(i *programme.VenueInput) { i.Departments = nil }), passnum.EInvalid},
			"label in the past":   {bad(func(i *programme.VenueInput) { i.LabelExpiresOn = voucher.Today(now).AddDays(-1) }), passnum.EInvalid},
			"no name":             {bad(func(i *programme.VenueInput) { i.Name = " " }), passnum.EInvalid},
		} {
			if _, err := s.AddVenue(ctx, c.in, "test"); passnum.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", name, err, c.code)
			}
		}

		steps := []struct {
			name   string
			do     func() (programme.VenueWithDepartments, error)
			status ledger.VenueStatus
			code   string
		}{
			{"reinstate a labelled venue", func() (programme.VenueWithDepartments, error) {
				return s.Reinstate(ctx, v.ID, programme.LabelOf{Department: "78"}, "erreur", "test")
			}, "", programme.EVenueStatus},
			{"suspend without reason", func() (programme.VenueWithDepartments, error) {
				return s.Suspend(ctx, v.ID, programme.LabelOf{Department: "78"}, " ", "test")
			}, "", passnum.EInvalid},
			{"suspend", func() (programme.VenueWithDepartments, error) {
				return s.Suspend(ctx, v.ID, programme.LabelOf{Department: "78"}, "enquête en cours", "test")
			}, ledger.VenueSuspended, ""},
			{"suspend twice", func() (programme.VenueWithDepartments, error) {
				return s.Suspend(ctx, v.ID, programme.LabelOf{Department: "78"}, "encore", "test")
			}, "", programme.EVenueStatus},
			{"label while suspended", func() (programme.VenueWithDepartments, error) {
				return s.Label(ctx, v.ID, programme.LabelOf{Department: "78"}, 0, "x", "test")
			}, "", programme.EVenueLabelSuspended},
			{"reinstate", func() (programme.VenueWithDepartments, error) {
				return s.Reinstate(ctx, v.ID, programme.LabelOf{Department: "78"}, "enquête close", "test")
			}, ledger.VenueLabelled, ""},
			{"unlabel", func() (programme.VenueWithDepartments, error) {
				return s.Unlabel(ctx, v.ID, programme.LabelOf{Department: "78"}, "label retiré", "test")
			}, ledger.VenueUnlabelled, ""},
			{"suspend an unlabelled venue", func() (programme.VenueWithDepartments, error) {
				return s.Suspend(ctx, v.ID, programme.LabelOf{Department: "78"}, "x", "test")
			}, "", programme.EVenueStatus},
			{"label again until a day", func() (programme.VenueWithDepartments, error) {
				return s.Label(ctx, v.ID, programme.LabelOf{Department: "78"}, voucher.Today(now).AddDays(365), "comité du 26/11", "test")
			}, ledger.VenueLabelled, ""},
			{"unknown venue", func() (programme.VenueWithDepartments, error) {
				return s.Suspend(ctx, 999, programme.LabelOf{Department: "78"}, "x", "test")
			}, "", passnum.ENotFound},
		}
		for _, st := range steps {
			got, err := st.do()
			if passnum.ErrorCode(err) != st.code {
				t.Fatalf("%s: %v, want code %q", st.name, err, st.code)
			}
			l78, _ := got.Label("78")
			l92, _ := got.Label("92")
			if st.code == "" && (l78.Status != st.status || l92.Status != ledger.VenueLabelled) {
				t.Fatalf("%s: labels %+v, want %s for 78 and 92 untouched", st.name, got.Labels, st.status)
			}
		}
		v, err = s.Venue(ctx, v.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := v.Label("78"); l.LabelExpiresOn == nil || l.LabelExpiresOn.Day() != voucher.Today(now).AddDays(365) {
			t.Fatalf("label expiry %v", l.LabelExpiresOn)
		}

		newIBAN, contact := "FR1420041010050500013M02606", "nouvelle@example.org"
		if _, err := s.UpdateVenue(ctx, v.ID, programme.VenueChanges{IBAN: &newIBAN, Contact: &contact}, "", "", "test"); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Fatalf("update without reason: %v", err)
		}
		// The contact changes at once, the IBAN once 92, which pays the
		// venue too, approves it.
		u, err := s.UpdateVenue(ctx, v.ID, programme.VenueChanges{IBAN: &newIBAN, Contact: &contact}, "RIB reçu le 02/11", "78", "account:3@organisation:1")
		if err != nil || u.Request == nil || fmt.Sprint(u.Request.Awaiting) != "[92]" {
			t.Fatal(err, u.Request)
		}
		if v = u.Venue; *v.IBAN == newIBAN || v.Contact != contact {
			t.Fatalf("after the request %+v", v)
		}
		if _, err := s.ApproveChange(ctx, u.Request.ID, "92", "account:3@organisation:5"); passnum.ErrorCode(err) != passnum.EForbidden {
			t.Fatalf("approved by the one who asked, acting for 92: %v", err)
		}
		if r, err := s.ApproveChange(ctx, u.Request.ID, "92", "account:4@organisation:5"); err != nil || r.Status != ledger.ChangeApplied {
			t.Fatal(err, r)
		}
		if v, _ = s.Venue(ctx, v.ID, ""); *v.IBAN != newIBAN {
			t.Fatalf("after the approval %+v", v)
		}

		// Every change is in the ledger with who and why; the contact's value never is.
		var evs []ledger.Event
		db.Read(ctx).Where("entity = 'venue'").Order("id").Find(&evs)
		want := []string{ledger.EventVenueAdded, ledger.EventVenueSuspended, ledger.EventVenueReinstated,
			ledger.EventVenueUnlabelled, ledger.EventVenueLabelled, ledger.EventChangeRequested, ledger.EventVenueUpdated,
			ledger.EventChangeApproved, ledger.EventVenueUpdated}
		if len(evs) != len(want) {
			t.Fatalf("%d venue events, want %d", len(evs), len(want))
		}
		for i, ev := range evs {
			if ev.Type != want[i] {
				t.Errorf("event %d: %s, want %s", i, ev.Type, want[i])
			}
			if !json.Valid([]byte(ev.Data)) || strings.Contains(ev.Data, "@example.org") {
				t.Errorf("event %s data %s: the contact must stay out of the ledger", ev.Type, ev.Data)
			}
		}
		var contactUpd, ibanUpd ledger.VenueUpdated
		json.Unmarshal([]byte(evs[6].Data), &contactUpd)
		json.Unmarshal([]byte(evs[8].Data), &ibanUpd)
		if !contactUpd.ContactChanged || contactUpd.IBAN != "" || evs[6].Actor != "account:3@organisation:1" {
			t.Fatalf("venue.updated (contact) %+v by %s", contactUpd, evs[6].Actor)
		}
		if ibanUpd.IBAN != newIBAN || ibanUpd.Reason != "RIB reçu le 02/11" || evs[8].Actor != "account:4@organisation:5" {
			t.Fatalf("venue.updated (IBAN) %+v by %s", ibanUpd, evs[8].Actor)
		}

		only92, err := s.Venues(ctx, programme.VenueFilter{Department: "92"})
		if err != nil || len(only92.Venues) != 1 {
			t.Fatalf("venues of 92: %v %v", only92, err)
		}
	})
}

// TestVenuePages: a département's venues a page at a time, each with all
// its labels; the last page says there is no next.
func TestVenuePages(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s := &programme.Service{DB: db}
		for _, d := range []string{"78", "92"} {
			if _, err := s.AddDepartment(ctx, d, "Département "+d, "test"); err != nil {
				t.Fatal(err)
			}
		}
		var ids []int64
		for i, ds := range [][]string{{"78"}, {"92"}, {"78", "92"}, {"78"}} {
			v, err := s.AddVenue(ctx, programmetest.Venue(i+1, fmt.Sprintf("Lieu %d", i+1), ds...), "test")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, v.ID)
		}
		var got []int64
		f := programme.VenueFilter{Department: "78", Limit: 2}
		for pages := 0; ; pages++ {
			page, err := s.Venues(ctx, f)
			if err != nil || pages > 2 {
				t.Fatalf("page %d: %v", pages, err)
			}
			for _, v := range page.Venues {
				got = append(got, v.ID)
				if v.ID == ids[2] && fmt.Sprint(v.Departments) != "[78 92]" {
					t.Errorf("venue %d shows the labels %v", v.ID, v.Departments)
				}
			}
			if page.Next == 0 {
				break
			}
			f.After = page.Next
		}
		if want := fmt.Sprint([]int64{ids[0], ids[2], ids[3]}); fmt.Sprint(got) != want {
			t.Fatalf("78's venues %v, want %s", got, want)
		}
		all, err := s.Venues(ctx, programme.VenueFilter{})
		if err != nil || len(all.Venues) != 4 || all.Next != 0 {
			t.Fatalf("%v %+v", err, all)
		}
	})
}

// The contact phone printed on covers and statements: stored in pairs,
// recorded in the ledger, removable; a wrong number is refused in French
// and changes nothing.
func TestDepartmentContactPhone(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s := &programme.Service{DB: db}
		if _, err := s.AddDepartment(ctx, "78", "Yvelines", "test"); err != nil {
			t.Fatal(err)
		}
		for _, c := range [][2]string{{"0139077878", "01 39 07 78 78"}, {"+33 1.39.07.78.78", "01 39 07 78 78"},
			{"+33 (0)1 39 07 78 78", ""}, {"01-39-07-78-78", "01 39 07 78 78"}, {" 3939 ", "3939"}} {
			typed, stored := c[0], c[1]
			_, err := programme.CheckPhone(typed)
			if stored == "" {
				if err == nil {
					t.Errorf("%q accepted", typed)
				}
				continue
			}
			d, err := s.UpdateDepartment(ctx, "78", programme.DepartmentChanges{ContactPhone: &typed}, "test")
			if err != nil || d.ContactPhone == nil || *d.ContactPhone != stored {
				t.Fatalf("%q: %+v, %v; want %q", typed, d.ContactPhone, err, stored)
			}
		}
		events := ledgertest.Count(t, db, &ledger.Event{}, "type = ?", ledger.EventDepartmentUpdated)
		for _, bad := range []string{"01 39 07 78", "00 39 07 78 78 78", "0139O77878", "appelez-nous", "1234", "+44 20 7946 0958"} {
			_, err := s.UpdateDepartment(ctx, "78", programme.DepartmentChanges{ContactPhone: &bad}, "test")
			if passnum.ErrorCode(err) != passnum.EInvalid || !strings.Contains(err.Error(), "n’est pas un numéro de téléphone") ||
				!strings.Contains(err.Error(), "01 39 07 78 78") {
				t.Errorf("%q: %v, want a French invalid error that shows a number", bad, err)
			}
		}
		ds, err := s.Departments(ctx, "78")
		if err != nil || *ds[0].ContactPhone != "3939" {
			t.Fatalf("a refused number changed the département: %+v, %v", ds, err)
		}
		if n := ledgertest.Count(t, db, &ledger.Event{}, "type = ?", ledger.EventDepartmentUpdated); n != events {
			t.Errorf("%d events after the refusals, %d before", n, events)
		}
		var last ledger.Event
		if err := db.Read(ctx).Where("type = ?", ledger.EventDepartmentUpdated).Order("id DESC").Take(&last).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(last.Data, `"contact_phone":"3939"`) {
			t.Errorf("the ledger event says %s", last.Data)
		}
		none := ""
		d, err := s.UpdateDepartment(ctx, "78", programme.DepartmentChanges{ContactPhone: &none}, "test")
		if err != nil || d.ContactPhone != nil {
			t.Fatalf("removing the number: %+v, %v", d.ContactPhone, err)
		}
	})
}
