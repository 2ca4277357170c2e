package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"passnum/audit"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/voucher"
)

// scenario issues two batches, adds a venue, activates and voids chéquiers,
// reprints one and replaces a voucher, and seals the ledger; audit.Verify
// passes on it.
func scenario(t *testing.T, db *ledger.DB) *issuingtest.Fixture {
	t.Helper()
	ctx := context.Background()
	f := issuingtest.New(t, db)
	a := f.Issue(t, issuingtest.Request("78", 20, 10))
	req := issuingtest.Request("92", 10, 5)
	req.RequiresActivation = false
	b := f.Issue(t, req)
	prog := &programme.Service{DB: db}
	if _, err := prog.AddVenue(ctx, programmetest.Venue(1, "Médiathèque", "78", "92"), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Issuing.Activate(ctx, a.FirstChequier, "REF-1", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Issuing.Void(ctx, a.LastChequier, "perdu", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Issuing.Void(ctx, b.FirstChequier, "volé", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Issuing.Reprint(ctx, b.LastChequier, "abîmé", "test"); err != nil {
		t.Fatal(err)
	}
	// Serial 5 of the activated chéquier leaked: serial 251 replaces it.
	if _, err := f.Issuing.Replace(ctx, voucher.FormatNumber(5), "code photographié", "test", nil); err != nil {
		t.Fatal(err)
	}
	f.Seal(t)
	return f
}

func TestVerifyCleanLedger(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		scenario(t, db)
		ks, err := db.KeySet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(context.Background(), db, ks)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Batches != 2 || rep.Chequiers != 30 || rep.Vouchers != 251 || rep.Unsealed != 0 || rep.Chain.Events != 11 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// TestVerifyCatchesTampering changes the state tables or the events behind
// the services' back; each change must be reported, naming what is wrong.
func TestVerifyCatchesTampering(t *testing.T) {
	cases := []struct {
		name string
		sql  []string
		want string // a substring of the error naming the bad entry
	}{
		{"VoucherRedeemedBehindTheLedger", []string{`UPDATE vouchers SET status = 'redeemed' WHERE serial = 15`}, "voucher 0000 0000 15"},
		{"VoidedVoucherRevived", []string{`UPDATE vouchers SET status = 'active' WHERE serial = 195`}, "voucher 0000 0001 95"},
		{"VoucherDeleted", []string{`DELETE FROM vouchers WHERE serial = 30`}, "batch 1: has 200 vouchers in the table but 201"},
		{"ChequierActivatedSilently", []string{`UPDATE chequiers SET status = 'active' WHERE number = '78-2026-000002'`}, "chéquier 78-2026-000002"},
		{"BatchValueRaised", []string{`UPDATE batches SET face_value_cents = 2000 WHERE id = 1`}, "batch 1: face_value_cents is 2000 in the table but 1000"},
		{"LeakedVoucherRevived", []string{`UPDATE vouchers SET status = 'active' WHERE serial = 5`}, "voucher 0000 0000 05"},
		{"ReplacementMoved", []string{`UPDATE vouchers SET position = 11 WHERE serial = 251`}, "is not where its replacement event put it"},
		{"VenueAdded", []string{`INSERT INTO venues (name, created_at) VALUES ('Fantôme', '2026-01-01')`}, "venue 2: exists but no event"},
		{"LabelSuspendedSilently", []string{`UPDATE venue_departments SET status = 'suspended'`}, "venue 1: is suspended until \"\" for département 78"},
		{"KeyStatusChanged", []string{`UPDATE signing_keys SET status = 'retired'`}, "signing key 1"},
		{"KeySecretSourceChanged", []string{`UPDATE signing_keys SET verification_secret_from = 'installation'`}, "takes its verification secret from installation but the ledger says key"},
		{"EventEdited", []string{`UPDATE events SET data = REPLACE(data, '"REF-1"', '"REF-2"') WHERE type = 'chequier.activated'`}, "(id 7, chequier.activated): does not match"},
		{"EventDeleted", []string{`DELETE FROM events WHERE type = 'venue.added'`}, "ledger entry #6: is missing"},
		{"EventsReordered", []string{`UPDATE events SET seq = -1 WHERE seq = 6`, `UPDATE events SET seq = 6 WHERE seq = 7`, `UPDATE events SET seq = 7 WHERE seq = -1`}, "ledger event #6"},
		{"EventInsertedUnsealed", []string{`INSERT INTO events (type, entity, entity_id, actor, data, created_at) VALUES ('chequier.activated', 'chequier', '2', 'x', '{"chequier_id":2}', '2026-01-01')`}, "chéquier 78-2026-000002"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
				ctx := context.Background()
				scenario(t, db)
				ks, err := db.KeySet(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range c.sql {
					if err := db.Read(ctx).Exec(q).Error; err != nil {
						t.Fatal(err)
					}
				}
				_, err = audit.Verify(ctx, db, ks)
				var ce *ledger.ChainError
				var se *audit.StateError
				if !errors.As(err, &ce) && !errors.As(err, &se) {
					t.Fatalf("got %v, want a ChainError or StateError", err)
				}
				if !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %q does not name %q", err, c.want)
				}
				t.Log(err)
			})
		})
	}
}
