package apikeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/apikeys"
	"passnum/audit"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

func TestKeys(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s := f.keys
		specs := []apikeys.Spec{
			{Role: access.RoleAdmin, Name: "exploitation"},
			{Role: access.RoleDepartment, Department: "78", Name: "CCAS"},
			{Role: access.RoleVenue, VenueID: f.venue, Name: "tablette"},
			{Role: access.RoleAuditor, Name: "CRC"},
		}
		secrets := map[string]string{}
		for _, spec := range specs {
			secret, k, err := s.Create(ctx, spec, "test")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, k.Prefix+"_") || len(secret) < 60 {
				t.Fatalf("secret %q for prefix %q", secret, k.Prefix)
			}
			p, err := s.Authenticate(ctx, secret)
			if err != nil || !p.Has(spec.Role) || p.Department != spec.Department || p.VenueID != spec.VenueID {
				t.Fatalf("authenticate %s: %+v %v", spec.Role, p, err)
			}
			secrets[spec.Role] = secret
		}
		bad := []struct {
			name string
			spec apikeys.Spec
			code string
		}{
			{"ErrRole", apikeys.Spec{Role: "root", Name: "x"}, passnum.EInvalid},
			{"ErrNoName", apikeys.Spec{Role: access.RoleAdmin}, passnum.EInvalid},
			{"ErrAdminScoped", apikeys.Spec{Role: access.RoleAdmin, Department: "78", Name: "x"}, passnum.EInvalid},
			{"ErrDepartmentMissing", apikeys.Spec{Role: access.RoleDepartment, Name: "x"}, passnum.EInvalid},
			{"ErrDepartmentUnknown", apikeys.Spec{Role: access.RoleDepartment, Department: "75", Name: "x"}, passnum.ENotFound},
			{"ErrVenueUnknown", apikeys.Spec{Role: access.RoleVenue, VenueID: 99, Name: "x"}, passnum.ENotFound},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				if _, _, err := s.Create(ctx, c.spec, "test"); passnum.ErrorCode(err) != c.code {
					t.Fatalf("code %q (%v), want %q", passnum.ErrorCode(err), err, c.code)
				}
			})
		}
		venueSecret := secrets[access.RoleVenue]
		last := map[bool]string{true: "b", false: "a"}[strings.HasSuffix(venueSecret, "a")]
		for _, wrong := range []string{"", "Bearer x", "pn_", "pn_abc_def", venueSecret + "x", venueSecret[:len(venueSecret)-1] + last,
			strings.Replace(venueSecret, "pn_", "pn_z", 1)} {
			if _, err := s.Authenticate(ctx, wrong); passnum.ErrorCode(err) != passnum.EUnauthorized {
				t.Fatalf("%q authenticated: %v", wrong, err)
			}
		}
		p, _ := s.Authenticate(ctx, venueSecret)
		rolled, k, err := s.Roll(ctx, p, p.Actor())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, venueSecret); passnum.ErrorCode(err) != passnum.EUnauthorized {
			t.Fatal("the rolled-over key still works")
		}
		if p2, err := s.Authenticate(ctx, rolled); err != nil || p2.VenueID != f.venue || p2.Prefix != k.Prefix {
			t.Fatalf("rolled key: %+v %v", p2, err)
		}
		if err := s.Revoke(ctx, k.Prefix, "test"); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, k.Prefix, "test"); passnum.ErrorCode(err) != passnum.EConflict {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := s.Authenticate(ctx, rolled); passnum.ErrorCode(err) != passnum.EUnauthorized {
			t.Fatal("a revoked key still works")
		}

		// Access granted behind the ledger's back is caught by the audit.
		f.Seal(t)
		ks, _ := db.KeySet(ctx)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatal(err)
		}
		db.Read(ctx).Model(&ledger.APIKey{}).Where("role = ?", access.RoleAuditor).Update("role", access.RoleAdmin)
		_, err = audit.Verify(ctx, db, ks)
		var se *audit.StateError
		if !errors.As(err, &se) || se.Entity != "API key" {
			t.Fatalf("an escalated key went unnoticed: %v", err)
		}
	})
}

// TestAuthenticateCache checks what the cache promises: a key revoked
// through this service stops at once; one revoked behind its back (by
// another server process) stops once CacheTTL has passed.
func TestAuthenticateCache(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		db.Clock = f.Clock.Now
		s := &apikeys.Service{DB: db, CacheTTL: 2 * time.Second}
		other := &apikeys.Service{DB: db} // another process
		here, k1, err := s.Create(ctx, apikeys.Spec{Role: access.RoleAuditor, Name: "ici"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		there, k2, err := s.Create(ctx, apikeys.Spec{Role: access.RoleAuditor, Name: "ailleurs"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{here, there} {
			if _, err := s.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Revoke(ctx, k1.Prefix, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, here); passnum.ErrorCode(err) != passnum.EUnauthorized {
			t.Fatalf("key revoked through this service still works: %v", err)
		}
		if err := other.Revoke(ctx, k2.Prefix, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, there); err != nil {
			t.Fatalf("within the TTL the cached key answers: %v", err)
		}
		f.Clock.T = f.Clock.T.Add(2 * time.Second)
		if _, err := s.Authenticate(ctx, there); passnum.ErrorCode(err) != passnum.EUnauthorized {
			t.Fatalf("key revoked elsewhere still works after the TTL: %v", err)
		}
	})
}
