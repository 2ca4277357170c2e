package apikeys_test

import (
	"context"
	"testing"

	"passnum/apikeys"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/programme"
	"passnum/programme/programmetest"
)

// fixture is the départements 78 and 92, a signing key, venue "Lieu" of 78,
// and the services under test, on the test clock.
type fixture struct {
	*issuingtest.Fixture
	venue    int64
	keys     *apikeys.Service
	pairings *apikeys.Pairings
}

func newFixture(t *testing.T, db *ledger.DB) fixture {
	t.Helper()
	f := issuingtest.New(t, db)
	db.Clock = f.Clock.Now
	v, err := (&programme.Service{DB: db}).AddVenue(context.Background(), programmetest.Venue(9, "Lieu", "78"), "test")
	if err != nil {
		t.Fatal(err)
	}
	s := &apikeys.Service{DB: db}
	return fixture{Fixture: f, venue: v.ID, keys: s, pairings: &apikeys.Pairings{Keys: s, Sign: f.Keys}}
}
