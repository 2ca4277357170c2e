package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/audit"
	"passnum/audit/audittest"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
)

// fixture is the départements 78 and 92, venue "Lieu" of 78, the service
// under test on the test clock, and a manager of 78 (with its second
// factor) and a structure of 78.
type fixture struct {
	*issuingtest.Fixture
	s         *accounts.Service
	venue     int64
	op        accounts.Caller
	manager   accounts.Accepted
	structure ledger.Organisation
}

func newFixture(t *testing.T, db *ledger.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{Fixture: issuingtest.New(t, db), s: &accounts.Service{DB: db}, op: accounts.Operator("cli:test")}
	v, err := (&programme.Service{DB: db}).AddVenue(ctx, programmetest.Venue(9, "Lieu", "78"), "test")
	if err != nil {
		t.Fatal(err)
	}
	f.venue = v.ID
	f.manager = accountstest.Person(t, f.s, "Responsable@Yvelines.fr", accounts.Org{Department: "78"}, access.RoleDepartmentManager)
	f.structure, err = f.s.AddStructure(ctx, f.op, accounts.StructureInput{Department: "78", Name: "CCAS de Trappes", Type: "ccas",
		Address: "1 place de la Mairie", Commune: "Trappes"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// inviteAgent invites an agent of the structure, as the operator.
func (f *fixture) inviteAgent(t *testing.T, address string) accounts.Invitation {
	t.Helper()
	inv, err := f.s.Invite(context.Background(), f.op, address, accounts.Org{ID: f.structure.ID}, access.RoleStructureAgent)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// enrol gives an account its second factor and returns the secret.
func (f *fixture) enrol(t *testing.T, account int64) string {
	t.Helper()
	ctx := context.Background()
	e, err := f.s.EnrolTOTP(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.ConfirmTOTP(ctx, account, accountstest.TOTP(e.Secret, f.Clock.T)); err != nil {
		t.Fatal(err)
	}
	f.Clock.T = f.Clock.T.Add(30 * time.Second) // the confirming code is spent
	return e.Secret
}

// wantError checks err's code and French message.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *passnum.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want %s: %s", err, err, code, msg)
	}
	if e.Code != code || e.Message != msg {
		t.Fatalf("error %s: %q\nwant  %s: %q", e.Code, e.Message, code, msg)
	}
}

// counts is how many rows the tables of accounts hold, to check that a
// refusal wrote nothing.
type counts struct{ orgs, accounts, memberships, invitations, resets, events int64 }

func countAll(t *testing.T, db *ledger.DB) counts {
	t.Helper()
	return counts{ledgertest.Count(t, db, &ledger.Organisation{}), ledgertest.Count(t, db, &ledger.Account{}),
		ledgertest.Count(t, db, &ledger.Membership{}), ledgertest.Count(t, db, &ledger.Invitation{}),
		ledgertest.Count(t, db, &ledger.PasswordReset{}), ledgertest.Count(t, db, &ledger.Event{})}
}

var accountActor = regexp.MustCompile(`^(account:\d+(@organisation:\d+)?|anonymous|cli:test|test)$`)

// auditOK verifies the ledger, and its export as an auditor would on
// their own machine: the events of accounts are ones the audit knows.
func auditOK(t *testing.T, f *fixture) {
	t.Helper()
	audittest.OK(t, f.Fixture)
	ks, err := f.DB.KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	if _, err := audit.Export(context.Background(), f.DB, &export); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyExport(&export, ks); err != nil {
		t.Fatalf("audit verify of the export: %v", err)
	}
}

// checkEvents: every event names its actor by account id (and
// organisation) or is the operator's, and none holds an email address.
func checkEvents(t *testing.T, db *ledger.DB) {
	t.Helper()
	var evs []ledger.Event
	if err := db.Read(context.Background()).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if !accountActor.MatchString(ev.Actor) {
			t.Errorf("event %d %s: actor %q", ev.ID, ev.Type, ev.Actor)
		}
		if strings.Contains(ev.Data, "@") {
			t.Errorf("event %d %s holds an email: %s %s", ev.ID, ev.Type, ev.Actor, ev.Data)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func actor(account, org int64) string {
	return "account:" + itoa(account) + "@organisation:" + itoa(org)
}
