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
	"passnum/access"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
)

// sharedVenue is a venue labelled for 78 and the given other départements.
func sharedVenue(t *testing.T, db *ledger.DB, others ...string) (*programme.Service, int64) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	db.Clock = func() time.Time { return now }
	s := &programme.Service{DB: db}
	for _, d := range append([]string{"78"}, others...) {
		if _, err := s.AddDepartment(ctx, d, "Département "+d, "test"); err != nil {
			t.Fatal(err)
		}
	}
	v, err := s.AddVenue(ctx, programmetest.Venue(1, "France Services", append([]string{"78"}, others...)...), "test")
	if err != nil {
		t.Fatal(err)
	}
	return s, v.ID
}

// TestChangeRequestDecisions: who may approve, refuse and withdraw what,
// and a request that no longer fits the venue is not applied.
func TestChangeRequestDecisions(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s, id := sharedVenue(t, db, "92", "93")
		iban := "FR1420041010050500013M02606"
		name := "Espace numérique"
		ask := func(ch programme.VenueChanges) programme.ChangeRequest {
			t.Helper()
			u, err := s.UpdateVenue(ctx, id, ch, "RIB reçu le 02/11", "78", "dept-78")
			if err != nil || u.Request == nil {
				t.Fatalf("%v %+v", err, u)
			}
			return *u.Request
		}
		code := func(err error, want string) {
			t.Helper()
			if passnum.ErrorCode(err) != want {
				t.Fatalf("%v, want %s", err, want)
			}
		}
		r := ask(programme.VenueChanges{IBAN: &iban})
		if fmt.Sprint(r.Awaiting) != "[92 93]" || *r.PreviousIBAN != programmetest.IBAN {
			t.Fatalf("%+v", r)
		}
		_, err := s.UpdateVenue(ctx, id, programme.VenueChanges{Name: &name}, "autre", "92", "dept-92")
		code(err, programme.EChangePending) // one pending request per venue
		_, err = s.ApproveChange(ctx, r.ID, "78", "dept-78")
		code(err, passnum.EForbidden)
		_, err = s.RefuseChange(ctx, r.ID, "non", "78", "dept-78")
		code(err, passnum.EForbidden)
		_, err = s.WithdrawChange(ctx, r.ID, "", "92", "dept-92")
		code(err, passnum.EForbidden)
		_, err = s.ApproveChange(ctx, r.ID, "75", "dept-75")
		code(err, passnum.ENotFound)
		if r, err = s.ApproveChange(ctx, r.ID, "92", "dept-92"); err != nil || r.Status != ledger.ChangePending || fmt.Sprint(r.Awaiting) != "[93]" {
			t.Fatalf("%v %+v", err, r)
		}
		_, err = s.ApproveChange(ctx, r.ID, "92", "dept-92")
		code(err, passnum.EConflict)
		if r, err = s.RefuseChange(ctx, r.ID, "le lieu n'a pas confirmé", "93", "dept-93"); err != nil || r.Status != ledger.ChangeRefused {
			t.Fatalf("%v %+v", err, r)
		}
		v, _ := s.Venue(ctx, id, "")
		if *v.IBAN != programmetest.IBAN {
			t.Fatalf("a refused change applied: %s", *v.IBAN)
		}

		// Withdrawn by the one that asked.
		r = ask(programme.VenueChanges{Name: &name})
		if r, err = s.WithdrawChange(ctx, r.ID, "erreur", "78", "dept-78"); err != nil || r.Status != ledger.ChangeWithdrawn {
			t.Fatalf("%v %+v", err, r)
		}

		// An admin's change meanwhile: the request no longer fits and is not applied.
		r = ask(programme.VenueChanges{Name: &name})
		other := "Espace numérique de Trappes"
		if _, err := s.UpdateVenue(ctx, id, programme.VenueChanges{Name: &other}, "statuts reçus du lieu", "", "admin"); err != nil {
			t.Fatal(err)
		}
		s.ApproveChange(ctx, r.ID, "92", "dept-92")
		_, err = s.ApproveChange(ctx, r.ID, "93", "dept-93")
		code(err, programme.EChangeOutdated)
		if v, _ := s.Venue(ctx, id, ""); v.Name != other {
			t.Fatalf("the request overwrote the admin's change: %s", v.Name)
		}
		// An admin changes no IBAN alone: there would be no second person.
		_, err = s.UpdateVenue(ctx, id, programme.VenueChanges{IBAN: &iban}, "RIB reçu", "", "admin")
		code(err, passnum.EForbidden)
		// An admin approves for everyone.
		s.RefuseChange(ctx, r.ID, "dépassée", "", "admin")
		r = ask(programme.VenueChanges{Name: &name})
		if r, err = s.ApproveChange(ctx, r.ID, "", "admin"); err != nil || r.Status != ledger.ChangeApplied {
			t.Fatalf("%v %+v", err, r)
		}
		if v, _ := s.Venue(ctx, id, ""); v.Name != name {
			t.Fatalf("%+v", v)
		}
	})
}

// TestConcurrentApprovalsApplyOnce: a venue labelled for 78 and five other
// départements; 78 asks for a new IBAN and the five, an admin, and another
// request all race, round after round. The change applies exactly once per
// request, and a racing request is either refused (one is pending) or
// made after the change applied.
func TestConcurrentApprovalsApplyOnce(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		others := []string{"91", "92", "93", "94", "95"}
		s, id := sharedVenue(t, db, others...)
		ibans := []string{"FR1420041010050500013M02606", programmetest.IBAN}
		const rounds = 8
		for round := range rounds {
			iban := ibans[round%2]
			u, err := s.UpdateVenue(ctx, id, programme.VenueChanges{IBAN: &iban}, fmt.Sprintf("RIB %d", round), "78", "dept-78")
			if err != nil || u.Request == nil {
				t.Fatalf("round %d: %v %+v", round, err, u)
			}
			req := u.Request.ID
			var wg sync.WaitGroup
			start := make(chan struct{})
			var mu sync.Mutex
			applied, racing := 0, []int64{}
			for _, d := range append(others, "") {
				wg.Go(func() {
					<-start
					r, err := s.ApproveChange(ctx, req, d, "dept-"+d)
					if c := passnum.ErrorCode(err); c != "" && c != programme.EChangeDecided {
						t.Errorf("round %d, %q: %v", round, d, err)
					}
					if err == nil && r.Status == ledger.ChangeApplied {
						mu.Lock()
						applied++
						mu.Unlock()
					}
				})
			}
			name := fmt.Sprintf("France Services %d", round)
			wg.Go(func() {
				<-start
				u, err := s.UpdateVenue(ctx, id, programme.VenueChanges{Name: &name}, "nouveau nom", "91", "dept-91")
				if c := passnum.ErrorCode(err); c != "" && c != programme.EChangePending {
					t.Errorf("round %d, racing request: %v", round, err)
				}
				if err == nil {
					mu.Lock()
					racing = append(racing, u.Request.ID)
					mu.Unlock()
				}
			})
			close(start)
			wg.Wait()
			r, err := s.ChangeRequest(ctx, req, "")
			if err != nil || r.Status != ledger.ChangeApplied || applied < 1 {
				t.Fatalf("round %d: %v %+v, %d calls saw it applied", round, err, r, applied)
			}
			var n int64
			db.Read(ctx).Model(&ledger.Event{}).Where("type = ? AND data LIKE ?", ledger.EventVenueUpdated, fmt.Sprintf(`%%"change_request":%d,%%`, req)).Count(&n)
			if n != 1 {
				t.Fatalf("round %d: request %d applied %d times", round, req, n)
			}
			if v, _ := s.Venue(ctx, id, ""); *v.IBAN != iban {
				t.Fatalf("round %d: IBAN %s, want %s", round, *v.IBAN, iban)
			}
			for _, other := range racing {
				if _, err := s.WithdrawChange(ctx, other, "", "91", "dept-91"); err != nil {
					t.Fatalf("round %d: the racing request %d: %v", round, other, err)
				}
			}
		}
		var evs []ledger.Event
		db.Read(ctx).Where("type = ?", ledger.EventChangeApproved).Find(&evs)
		var approvals int64
		db.Read(ctx).Model(&ledger.VenueChangeApproval{}).Count(&approvals)
		admins := 0
		for _, ev := range evs {
			var d ledger.ChangeDecided
			json.Unmarshal([]byte(ev.Data), &d)
			if d.Department == "" {
				admins++
			}
		}
		if int(approvals)+admins != len(evs) {
			t.Fatalf("%d approval rows and %d by an admin, but %d approval events", approvals, admins, len(evs))
		}
		t.Logf("%d rounds of %d racing approvals and a racing request: each applied once", rounds, len(others)+1)
	})
}

// TestNotices: a département is told of what others (an admin included)
// did to a venue it shares, never of its own changes nor of a contact.
func TestNotices(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s, id := sharedVenue(t, db, "92")
		if _, err := s.Suspend(ctx, id, programme.LabelOf{Department: "78", By: "78"}, "enquête en cours", "dept-78"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Suspend(ctx, id, programme.LabelOf{Department: "92"}, "fraude signalée", "admin"); err != nil {
			t.Fatal(err)
		}
		contact := "autre@example.org"
		if _, err := s.UpdateVenue(ctx, id, programme.VenueChanges{Contact: &contact}, "nouveau contact", "78", "dept-78"); err != nil {
			t.Fatal(err)
		}
		name := "France Services de Trappes"
		if _, err := s.UpdateVenue(ctx, id, programme.VenueChanges{Name: &name}, "statuts du 02/12", "", "admin"); err != nil {
			t.Fatal(err)
		}
		for dept, want := range map[string][]string{
			"78": {"updated by  for ", "suspended by  for 92"},
			"92": {"updated by  for ", "suspended by  for 92", "suspended by 78 for 78"},
		} {
			ns, err := s.Notices(ctx, dept)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range ns {
				got = append(got, fmt.Sprintf("%s by %s for %s", n.Kind, n.Department, n.Label))
				if n.VenueName != name || n.Message == "" {
					t.Errorf("%+v", n)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s is told %q, want %q", dept, got, want)
			}
		}
		if _, err := s.Suspend(ctx, id, programme.LabelOf{Department: "78", By: "92"}, "x", "dept-92"); passnum.ErrorCode(err) != passnum.EForbidden {
			t.Fatalf("92 suspended 78's label: %v", err)
		}
	})
}

// TestBankDetailsFourEyes: a venue 78 alone labels gets a new IBAN only
// once a second person of 78 approved it: the person who asked cannot,
// whatever organisation they act for; a name changes at once; the second
// person may refuse too. Many second persons approving at once apply it
// once.
func TestBankDetailsFourEyes(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s, id := sharedVenue(t, db)
		iban := "FR1420041010050500013M02606"
		asker := access.AccountActor(3, 1)
		u, err := s.UpdateVenue(ctx, id, programme.VenueChanges{IBAN: &iban}, "RIB reçu le 02/11", "78", asker)
		if err != nil || u.Request == nil || fmt.Sprint(u.Request.Awaiting) != "[78]" || *u.Venue.IBAN != programmetest.IBAN {
			t.Fatalf("%v %+v", err, u)
		}
		for _, who := range []string{asker, access.AccountActor(3, 7)} {
			if _, err := s.ApproveChange(ctx, u.Request.ID, "78", who); passnum.ErrorCode(err) != passnum.EForbidden || !strings.Contains(passnum.ErrorMessage(err), "une autre personne") {
				t.Fatalf("%s approved their own request: %v", who, err)
			}
		}
		if r, err := s.RefuseChange(ctx, u.Request.ID, "le lieu n'a pas envoyé de RIB", "78", access.AccountActor(4, 1)); err != nil || r.Status != ledger.ChangeRefused {
			t.Fatalf("refused by a second person: %v %+v", err, r)
		}

		u, err = s.UpdateVenue(ctx, id, programme.VenueChanges{IBAN: &iban}, "RIB reçu le 03/11", "78", asker)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Go(func() {
				_, results[i] = s.ApproveChange(ctx, u.Request.ID, "78", access.AccountActor(int64(10+i), 1))
			})
		}
		wg.Wait()
		applied := 0
		for _, err := range results {
			switch passnum.ErrorCode(err) {
			case "":
				applied++
			case programme.EChangeDecided, passnum.EConflict:
			default:
				t.Errorf("approval: %v", err)
			}
		}
		if applied != 1 {
			t.Fatalf("%d approvals applied the change, want 1", applied)
		}
		if v, _ := s.Venue(ctx, id, ""); *v.IBAN != iban {
			t.Fatalf("IBAN %s after the approval", *v.IBAN)
		}
		var updates int64
		db.Read(ctx).Model(&ledger.Event{}).Where("type = ?", ledger.EventVenueUpdated).Count(&updates)
		if updates != 1 {
			t.Fatalf("%d venue.updated events, want 1", updates)
		}

		name := "Espace numérique"
		if u, err := s.UpdateVenue(ctx, id, programme.VenueChanges{Name: &name}, "statuts", "78", asker); err != nil || u.Request != nil || u.Venue.Name != name {
			t.Fatalf("a name of a venue 78 alone labels: %v %+v", err, u)
		}
	})
}
