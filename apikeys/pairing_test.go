package apikeys_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"passnum"
	"passnum/access"
	"passnum/apikeys"
	"passnum/audit"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

func TestPairing(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s, p := f.keys, f.pairings

		pc, err := p.Create(ctx, f.venue, "tablette accueil", "admin")
		if err != nil {
			t.Fatal(err)
		}
		ks, _ := db.KeySet(ctx)
		if d, err := ks.Verify(pc.Code); err != nil || d.Type != voucher.TypePairing {
			t.Fatalf("the pairing code is not a signed pairing code: %v", err)
		}
		paired, err := p.Redeem(ctx, pc.Code)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := s.Authenticate(ctx, paired.Secret)
		if err != nil || !pr.Has(access.RoleVenue) || pr.VenueID != f.venue || pr.Name != "tablette accueil" || paired.Venue.Name != "Lieu" {
			t.Fatalf("paired key: %+v %+v %v", pr, paired.Venue, err)
		}
		if _, err := p.Redeem(ctx, pc.Code); passnum.ErrorCode(err) != apikeys.EPairingRefused {
			t.Fatalf("a pairing code worked twice: %v", err)
		}

		// A forged code for a real pairing (right id, another secret) is
		// refused even though its signature is the server's own.
		fresh, _ := p.Create(ctx, f.venue, "téléphone", "admin")
		signer, _ := f.Keys.Signer(ctx)
		forged, _ := signer.Sign(voucher.Pairing{ID: uint64(fresh.ID), ExpiresUnix: uint32(fresh.ExpiresAt.Unix())})
		activation, _ := signer.Sign(voucher.Activation{Department: "78", Year: 2026, Seq: 1})
		for name, code := range map[string]string{"forged secret": forged, "activation code": activation, "garbage": "HELLO", "empty": ""} {
			if _, err := p.Redeem(ctx, code); passnum.ErrorCode(err) != apikeys.EPairingRefused {
				t.Fatalf("%s: %v", name, err)
			}
		}
		// Past its lifetime a code is refused.
		f.Clock.T = f.Clock.T.Add(apikeys.PairingLifetime + time.Second)
		if _, err := p.Redeem(ctx, fresh.Code); passnum.ErrorCode(err) != apikeys.EPairingRefused {
			t.Fatalf("an expired code worked: %v", err)
		}
		if _, err := p.Create(ctx, 999, "x", "admin"); passnum.ErrorCode(err) != passnum.ENotFound {
			t.Fatalf("pairing for an unknown venue: %v", err)
		}

		// Eight devices racing with one code: one key.
		race, _ := p.Create(ctx, f.venue, "borne", "admin")
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 8 {
			wg.Go(func() {
				if _, err := p.Redeem(ctx, race.Code); err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				} else if passnum.ErrorCode(err) != apikeys.EPairingRefused {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d devices paired with one code", won)
		}
		f.Seal(t)
		if _, err := audit.Verify(ctx, db, ks); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUnpairAllWhilePairing: "Dissocier tous les appareils" sent while a
// device is using its code, again and again and at once: whichever wins,
// no working key of that venue is left afterwards (the code was refused,
// or its key was revoked with the others).
func TestUnpairAllWhilePairing(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := access.Principal{Roles: []string{access.RoleAdmin}, Name: "test"}
		for round := range 12 {
			pc, err := f.pairings.Create(ctx, f.venue, "tablette", "admin")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var paired apikeys.Paired
			var pairErr, revokeErr error
			wg.Go(func() { paired, pairErr = f.pairings.Redeem(ctx, pc.Code) })
			wg.Go(func() { _, revokeErr = f.keys.RevokeAll(ctx, admin, f.venue, false) })
			wg.Wait()
			if revokeErr != nil {
				t.Fatalf("round %d: unpair all: %v", round, revokeErr)
			}
			if pairErr != nil && passnum.ErrorCode(pairErr) != apikeys.EPairingRefused {
				t.Fatalf("round %d: pairing: %v", round, pairErr)
			}
			if pairErr == nil {
				if _, err := f.keys.Authenticate(ctx, paired.Secret); err == nil {
					t.Fatalf("round %d: the key paired during the unpairing still works", round)
				}
			}
			var live int64
			if err := db.Read(ctx).Model(&ledger.APIKey{}).Where("venue_id = ? AND revoked_at IS NULL", f.venue).Count(&live).Error; err != nil {
				t.Fatal(err)
			}
			if live != 0 {
				t.Fatalf("round %d: %d keys of the venue left working", round, live)
			}
		}
	})
}
