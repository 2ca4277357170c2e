package programme_test

import (
	"context"
	"testing"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
)

func TestDepartmentsAndVenues(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		s := &programme.Service{DB: db, Now: time.Now}
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
		v, err := s.AddVenue(ctx, "Médiathèque", []string{"2a", "2A"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddVenue(ctx, "Ailleurs", []string{"75"}, "test"); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Fatalf("unknown département: %v", err)
		}
		if _, err := s.AddVenue(ctx, "Nulle part", nil, "test"); passnum.ErrorCode(err) != passnum.EInvalid {
			t.Fatalf("no département: %v", err)
		}
		vs, err := s.Venues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].ID != v.ID || len(vs[0].Departments) != 1 || vs[0].Departments[0] != "2A" {
			t.Fatalf("venues %+v", vs)
		}
		var events int64
		db.Read(ctx).Model(&ledger.Event{}).Count(&events)
		if events != 2 {
			t.Fatalf("%d events, want 2 (one département, one venue)", events)
		}
	})
}
