package issuing_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"passnum"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

func TestIssue(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 120, 10))
		b := res.Batch
		if b.ChequierCount != 120 || b.TotalCents != 120*10*1000 || b.LastSerial-b.FirstSerial+1 != 1200 {
			t.Fatalf("batch %+v", b)
		}
		if res.FirstChequier != "78-2026-000001" || res.LastChequier != "78-2026-000120" {
			t.Fatalf("chéquier range %s … %s", res.FirstChequier, res.LastChequier)
		}
		if got := ledgertest.Count(t, db, &ledger.Voucher{}, "batch_id = ? AND status = ?", b.ID, ledger.VoucherInactive); got != 1200 {
			t.Fatalf("%d inactive vouchers, want 1200", got)
		}
		if got := ledgertest.Count(t, db, &ledger.Chequier{}, "batch_id = ? AND status = ?", b.ID, ledger.ChequierIssued); got != 120 {
			t.Fatalf("%d issued chéquiers, want 120", got)
		}
		if got := ledgertest.Count(t, db, &ledger.Event{}, "type = ? AND entity_id = ?", "batch.issued", fmt.Sprint(b.ID)); got != 1 {
			t.Fatalf("%d batch.issued events, want 1", got)
		}

		// Re-creating every chéquier's codes gives back the batch's digest,
		// and every code verifies and says what the ledger says.
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for seq := b.FirstChequierSeq; seq <= b.LastChequierSeq; seq++ {
			pc, err := f.Issuing.Chequier(ctx, voucher.FormatChequierNumber("78", 2026, uint32(seq)))
			if err != nil {
				t.Fatal(err)
			}
			if len(pc.Vouchers) != 10 {
				t.Fatalf("chéquier %s has %d vouchers", pc.Chequier.Number, len(pc.Vouchers))
			}
			for i, pv := range pc.Vouchers {
				h.Write([]byte(pv.Code + "\n"))
				d, err := ks.Verify(pv.Code)
				if err != nil {
					t.Fatalf("voucher %s: %v", pv.Number, err)
				}
				v := d.Payload.(voucher.Voucher)
				if int64(v.Serial) != pv.Serial || v.Department != "78" || v.ValueCents != 1000 ||
					v.ValidUntil != b.ValidUntil.Day() || int(pv.Position) != i+1 || pv.ChequierID != pc.Chequier.ID {
					t.Fatalf("voucher %s decodes to %+v, ledger has %+v", pv.Number, v, pv.Voucher)
				}
				serial, err := voucher.ParseNumber(pv.Number)
				if err != nil || int64(serial) != pv.Serial {
					t.Fatalf("number %s parses to %d, %v", pv.Number, serial, err)
				}
			}
			if d, err := ks.Verify(pc.ActivationCode); err != nil || d.Payload.(voucher.Activation).Seq != uint32(seq) {
				t.Fatalf("activation code of %s: %v", pc.Chequier.Number, err)
			}
		}
		if got := h.Sum(nil); string(got) != string(b.CodesSHA256) {
			t.Fatalf("re-created codes hash to %x, the batch recorded %x", got, b.CodesSHA256)
		}

		// The next batch of the same département continues the numbering.
		res2 := f.Issue(t, issuingtest.Request("78", 3, 5))
		if res2.FirstChequier != "78-2026-000121" || res2.Batch.FirstSerial != b.LastSerial+1 {
			t.Fatalf("second batch starts at %s, serial %d", res2.FirstChequier, res2.Batch.FirstSerial)
		}
	})
}

func TestIssueRejectsBadRequests(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		f := issuingtest.New(t, db)
		past, _ := voucher.DayOf(2026, time.January, 1)
		far, _ := voucher.DayOf(2040, time.January, 1)
		cases := []struct {
			name   string
			change func(r *issuing.BatchRequest)
			code   string
		}{
			{"ErrDepartmentCode", func(r *issuing.BatchRequest) { r.Department = "7" }, passnum.EInvalid},
			{"ErrDepartmentUnknown", func(r *issuing.BatchRequest) { r.Department = "75" }, passnum.ENotFound},
			{"ErrNoChequiers", func(r *issuing.BatchRequest) { r.Chequiers = 0 }, passnum.EInvalid},
			{"ErrTooManyChequiers", func(r *issuing.BatchRequest) { r.Chequiers = issuing.MaxChequiers + 1 }, passnum.EInvalid},
			{"ErrNoVouchers", func(r *issuing.BatchRequest) { r.VouchersPerChequier = 0 }, passnum.EInvalid},
			{"ErrTooManyVouchers", func(r *issuing.BatchRequest) { r.VouchersPerChequier = 51 }, passnum.EInvalid},
			{"ErrZeroValue", func(r *issuing.BatchRequest) { r.FaceValueCents = 0 }, passnum.EInvalid},
			{"ErrNegativeValue", func(r *issuing.BatchRequest) { r.FaceValueCents = -1000 }, passnum.EInvalid},
			{"ErrExpired", func(r *issuing.BatchRequest) { r.ValidUntil = past }, passnum.EInvalid},
			{"ErrTooFar", func(r *issuing.BatchRequest) { r.ValidUntil = far }, passnum.EInvalid},
			{"ErrReversed", func(r *issuing.BatchRequest) { r.ValidFrom = r.ValidUntil + 1 }, passnum.EInvalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req := issuingtest.Request("78", 2, 10)
				c.change(&req)
				_, err := f.Issuing.Issue(context.Background(), req, nil)
				if got := passnum.ErrorCode(err); got != c.code {
					t.Fatalf("code %q (%v), want %q", got, err, c.code)
				}
			})
		}
		if n := ledgertest.Count(t, db, &ledger.Batch{}) + ledgertest.Count(t, db, &ledger.Voucher{}) + ledgertest.Count(t, db, &ledger.Chequier{}); n != 0 {
			t.Fatalf("rejected requests left %d rows", n)
		}
	})
}

// TestIssueIsAtomic cancels a batch midway through writing its vouchers:
// nothing of it may remain, and its numbers are given to the next batch.
func TestIssueIsAtomic(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		f := issuingtest.New(t, db)
		events := ledgertest.Count(t, db, &ledger.Event{})
		ctx, cancel := context.WithCancel(context.Background())
		var written int
		_, err := f.Issuing.Issue(ctx, issuingtest.Request("78", 500, 10), func(done int) {
			written = done
			if done >= 2000 {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("a cancelled batch was issued")
		}
		if written < 2000 {
			t.Fatalf("cancelled after %d vouchers; the test needs a cancellation midway", written)
		}
		for name, model := range map[string]any{"batches": &ledger.Batch{}, "chéquiers": &ledger.Chequier{}, "vouchers": &ledger.Voucher{}} {
			if n := ledgertest.Count(t, db, model); n != 0 {
				t.Errorf("%d %s left by a cancelled batch", n, name)
			}
		}
		if n := ledgertest.Count(t, db, &ledger.Event{}); n != events {
			t.Errorf("%d events after a cancelled batch, want %d", n, events)
		}
		res := f.Issue(t, issuingtest.Request("78", 1, 10))
		if res.Batch.FirstSerial != 1 || res.FirstChequier != "78-2026-000001" {
			t.Fatalf("after a rollback the next batch starts at serial %d, %s", res.Batch.FirstSerial, res.FirstChequier)
		}
	})
}

// TestIssueConcurrent creates several batches at once, for one and for two
// départements: serials and chéquier numbers never collide or leave gaps.
func TestIssueConcurrent(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		f := issuingtest.New(t, db)
		depts := []string{"78", "78", "92", "78", "92", "92"}
		results := make([]issuing.Issued, len(depts))
		var wg sync.WaitGroup
		for i, d := range depts {
			wg.Go(func() {
				// SQLite runs one writer at a time: on a loaded machine a batch
				// may wait longer than the busy timeout and be refused busy,
				// having written nothing; like any client, try it again.
				for {
					res, err := f.Issuing.Issue(context.Background(), issuingtest.Request(d, 150, 10), nil)
					if errors.Is(err, ledger.ErrBusy) {
						continue
					}
					if err != nil {
						t.Error(err)
					}
					results[i] = res
					return
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		serials := map[int64]int{}
		for i, r := range results {
			for s := r.Batch.FirstSerial; s <= r.Batch.LastSerial; s++ {
				if j, dup := serials[s]; dup {
					t.Fatalf("serial %d in batches %d and %d", s, j, i)
				}
				serials[s] = i
			}
		}
		if len(serials) != len(depts)*1500 {
			t.Fatalf("%d serials", len(serials))
		}
		var distinct int64
		db.Read(context.Background()).Model(&ledger.Chequier{}).Distinct("number").Count(&distinct)
		if distinct != int64(len(depts)*150) {
			t.Fatalf("%d distinct chéquier numbers, want %d", distinct, len(depts)*150)
		}
		var maxSeq int64
		db.Read(context.Background()).Model(&ledger.Chequier{}).Where("department_code = '78'").Select("MAX(seq)").Scan(&maxSeq)
		if maxSeq != 450 {
			t.Fatalf("département 78's last chéquier is %d, want 450 (no gap)", maxSeq)
		}
	})
}

func TestActivate(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 5, 10))
		first := res.FirstChequier
		t.Run("OK", func(t *testing.T) {
			c, err := f.Issuing.Activate(ctx, first, "CCAS-17-0193", "test")
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != ledger.ChequierActive || *c.BeneficiaryRef != "CCAS-17-0193" {
				t.Fatalf("chéquier %+v", c)
			}
			if n := ledgertest.Count(t, db, &ledger.Voucher{}, "chequier_id = ? AND status = ?", c.ID, ledger.VoucherActive); n != 10 {
				t.Fatalf("%d active vouchers, want 10", n)
			}
			if n := ledgertest.Count(t, db, &ledger.Voucher{}, "status = ?", ledger.VoucherActive); n != 10 {
				t.Fatalf("activation touched other chéquiers: %d active vouchers", n)
			}
			if n := ledgertest.Count(t, db, &ledger.Event{}, "type = ? AND entity_id = ?", "chequier.activated", fmt.Sprint(c.ID)); n != 1 {
				t.Fatalf("%d activation events", n)
			}
		})
		cases := []struct {
			name, number, ref, code string
		}{
			{"ErrAlreadyActive", first, "", issuing.EChequierAlreadyActive},
			{"ErrUnknown", "78-2026-999999", "", passnum.ENotFound},
			{"ErrMalformed", "not a number", "", passnum.EInvalid},
			{"ErrRefLooksLikeAName", "78-2026-000002", "Jean Dupont", passnum.EInvalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.Issuing.Activate(ctx, c.number, c.ref, "test")
				if got := passnum.ErrorCode(err); got != c.code {
					t.Fatalf("code %q (%v), want %q", got, err, c.code)
				}
			})
		}
		t.Run("ErrVoided", func(t *testing.T) {
			if _, err := f.Issuing.Void(ctx, "78-2026-000003", "perdu", "test"); err != nil {
				t.Fatal(err)
			}
			_, err := f.Issuing.Activate(ctx, "78-2026-000003", "", "test")
			if got := passnum.ErrorCode(err); got != issuing.EChequierVoided {
				t.Fatalf("code %q (%v)", got, err)
			}
		})
		t.Run("ErrExpired", func(t *testing.T) {
			defer func(t0 time.Time) { f.Clock.T = t0 }(f.Clock.T)
			f.Clock.T = time.Date(2028, 1, 1, 12, 0, 0, 0, time.UTC)
			_, err := f.Issuing.Activate(ctx, "78-2026-000004", "", "test")
			if got := passnum.ErrorCode(err); got != issuing.EChequierExpired {
				t.Fatalf("code %q (%v)", got, err)
			}
		})
		t.Run("NoActivationBatch", func(t *testing.T) {
			req := issuingtest.Request("92", 2, 5)
			req.RequiresActivation = false
			r := f.Issue(t, req)
			if n := ledgertest.Count(t, db, &ledger.Voucher{}, "batch_id = ? AND status = ?", r.Batch.ID, ledger.VoucherActive); n != 10 {
				t.Fatalf("%d active vouchers in a batch without activation, want 10", n)
			}
			// Recording the hand-over still works and is counted.
			c, err := f.Issuing.Activate(ctx, r.FirstChequier, "", "test")
			if err != nil || c.Status != ledger.ChequierActive {
				t.Fatalf("%+v %v", c, err)
			}
		})
	})
}

func TestVoid(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 3, 10))
		c, err := f.Issuing.Activate(ctx, res.FirstChequier, "", "test")
		if err != nil {
			t.Fatal(err)
		}
		// One voucher was spent before the chéquier was lost: it stays spent.
		spent := res.Batch.FirstSerial + 3
		if err := db.Read(ctx).Model(&ledger.Voucher{}).Where("serial = ?", spent).Update("status", ledger.VoucherRedeemed).Error; err != nil {
			t.Fatal(err)
		}
		t.Run("ErrNoReason", func(t *testing.T) {
			_, err := f.Issuing.Void(ctx, res.FirstChequier, "  ", "test")
			if got := passnum.ErrorCode(err); got != passnum.EInvalid {
				t.Fatalf("code %q (%v)", got, err)
			}
		})
		v, err := f.Issuing.Void(ctx, res.FirstChequier, "volé", "test")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Serials) != 9 || v.Chequier.Status != ledger.ChequierVoid {
			t.Fatalf("voided %d vouchers, chéquier %s", len(v.Serials), v.Chequier.Status)
		}
		for _, s := range v.Serials {
			if s == spent {
				t.Fatal("a redeemed voucher was voided")
			}
		}
		if n := ledgertest.Count(t, db, &ledger.Voucher{}, "chequier_id = ? AND status = ?", c.ID, ledger.VoucherRedeemed); n != 1 {
			t.Fatalf("%d redeemed vouchers after voiding, want 1", n)
		}
		if n := ledgertest.Count(t, db, &ledger.Voucher{}, "status = ?", ledger.VoucherVoid); n != 9 {
			t.Fatalf("%d void vouchers in the database, want 9", n)
		}
		t.Run("ErrVoidTwice", func(t *testing.T) {
			_, err := f.Issuing.Void(ctx, res.FirstChequier, "perdu", "test")
			if got := passnum.ErrorCode(err); got != issuing.EChequierVoided {
				t.Fatalf("code %q (%v)", got, err)
			}
		})
		t.Run("NotActivated", func(t *testing.T) {
			v, err := f.Issuing.Void(ctx, res.LastChequier, "perdu avant remise", "test")
			if err != nil || len(v.Serials) != 10 {
				t.Fatalf("%d vouchers voided, %v", len(v.Serials), err)
			}
		})
	})
}

// TestActivateRevokedKey: a chéquier whose batch key was revoked is not
// handed over, by its typed number as by its scanned activation code: its
// vouchers would all be refused.
func TestActivateRevokedKey(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 2, 2))
		pc, err := f.Issuing.Chequier(ctx, res.FirstChequier)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Keys.New(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		if err := f.Keys.Revoke(ctx, 1, "test"); err != nil {
			t.Fatal(err)
		}
		want := "Le chéquier " + res.FirstChequier + " a été émis avec une clé retirée pour raison de sécurité (la clé 1) : ses chèques seraient refusés. Annulez-le et remettez un chéquier d'une nouvelle commande."
		_, err = f.Issuing.Activate(ctx, res.FirstChequier, "", "test")
		if got := passnum.ErrorCode(err); got != issuing.EChequierKeyRevoked || passnum.ErrorMessage(err) != want {
			t.Fatalf("activation by number: code %q (%v), want %q", got, err, issuing.EChequierKeyRevoked)
		}
		_, err = f.Issuing.ActivateCode(ctx, pc.ActivationCode, issuing.HandOver{}, "test")
		if got := passnum.ErrorCode(err); got != issuing.EChequierKeyRevoked || passnum.ErrorMessage(err) != want {
			t.Fatalf("activation by scanned code: code %q (%v), want %q", got, err, issuing.EChequierKeyRevoked)
		}
		if n := ledgertest.Count(t, db, &ledger.Chequier{}, "status = ?", ledger.ChequierActive); n != 0 {
			t.Fatalf("%d chéquiers handed over", n)
		}
	})
}
