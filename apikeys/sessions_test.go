package apikeys_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/apikeys"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestSessions: a session stands for its key until it expires, is ended or
// its key is revoked; a venue key opens none; expired ones are swept.
func TestSessions(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s := &apikeys.Service{DB: db, CacheTTL: time.Hour} // sessions do not go through the cache
		principal := func(spec apikeys.Spec) access.Principal {
			t.Helper()
			secret, _, err := s.Create(ctx, spec, "test")
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Authenticate(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		const none = "Session absente, expirée ou fermée : reconnectez-vous avec votre clé d'accès."
		refused := func(t *testing.T, secret string) {
			t.Helper()
			_, err := s.Session(ctx, secret)
			if passnum.ErrorCode(err) != passnum.EUnauthorized || passnum.ErrorMessage(err) != none {
				t.Fatalf("session %q: %v, want unauthorized %q", secret, err, none)
			}
		}
		dept := principal(apikeys.Spec{Role: access.RoleDepartment, Department: "78", Name: "CCAS"})
		opened, err := s.OpenSession(ctx, dept)
		if err != nil {
			t.Fatal(err)
		}
		if len(opened.Secret) < 40 || !opened.ExpiresAt.Equal(issuingtest.Start.Add(apikeys.SessionLifetime)) {
			t.Fatalf("session %+v", opened)
		}
		var row ledger.WebSession
		if err := db.Read(ctx).Take(&row).Error; err != nil || string(row.TokenHash) == opened.Secret || len(row.TokenHash) != 32 {
			t.Fatalf("stored %+v %v: want the secret's hash only", row, err)
		}

		t.Run("Found", func(t *testing.T) {
			got, err := s.Session(ctx, opened.Secret)
			if err != nil || !reflect.DeepEqual(got, opened) || got.Principal.Department != "78" {
				t.Fatalf("%+v %v, want %+v", got, err, opened)
			}
			refused(t, "")
			refused(t, opened.Secret+"x")
		})
		t.Run("Expiry", func(t *testing.T) {
			f.Clock.T = issuingtest.Start.Add(apikeys.SessionLifetime - time.Second)
			if _, err := s.Session(ctx, opened.Secret); err != nil {
				t.Fatalf("a second before its expiry: %v", err)
			}
			f.Clock.T = issuingtest.Start.Add(apikeys.SessionLifetime)
			refused(t, opened.Secret)
			// The next session opened sweeps the expired one.
			if _, err := s.OpenSession(ctx, dept); err != nil {
				t.Fatal(err)
			}
			if n := ledgertest.Count(t, db, &ledger.WebSession{}); n != 1 {
				t.Fatalf("%d sessions after the sweep, want 1", n)
			}
		})
		t.Run("RevokedKey", func(t *testing.T) {
			auditor := principal(apikeys.Spec{Role: access.RoleAuditor, Name: "CRC"})
			ses, err := s.OpenSession(ctx, auditor)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Revoke(ctx, auditor.Prefix, "test"); err != nil {
				t.Fatal(err)
			}
			refused(t, ses.Secret)
		})
		t.Run("Ended", func(t *testing.T) {
			ses, err := s.OpenSession(ctx, dept)
			if err != nil {
				t.Fatal(err)
			}
			kept, err := s.OpenSession(ctx, dept)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EndSession(ctx, ses); err != nil {
				t.Fatal(err)
			}
			refused(t, ses.Secret)
			if err := s.EndSession(ctx, ses); err != nil {
				t.Fatalf("ending it again: %v", err)
			}
			if _, err := s.Session(ctx, kept.Secret); err != nil {
				t.Fatalf("another session of the same key: %v", err)
			}
		})
		t.Run("VenueKeyRefused", func(t *testing.T) {
			before := ledgertest.Count(t, db, &ledger.WebSession{})
			_, err := s.OpenSession(ctx, principal(apikeys.Spec{Role: access.RoleVenue, VenueID: f.venue, Name: "tablette"}))
			const msg = "Cette clé est celle d'un lieu : elle sert au scanner des chèques, pas à ces pages. Utilisez une clé de département ou d'auditeur."
			if passnum.ErrorCode(err) != passnum.EForbidden || passnum.ErrorMessage(err) != msg {
				t.Fatalf("%v, want forbidden %q", err, msg)
			}
			if n := ledgertest.Count(t, db, &ledger.WebSession{}); n != before {
				t.Fatalf("a refused session wrote %d rows", n-before)
			}
		})
	})
}
