package issuing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"passnum"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

func TestBatchChequiers(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 300, 3)) // more than one page
		var n, vouchers int
		last := ""
		for pc, err := range f.Issuing.BatchChequiers(ctx, res.Batch) {
			if err != nil {
				t.Fatal(err)
			}
			if pc.Chequier.Number <= last {
				t.Fatalf("chéquier %s after %s", pc.Chequier.Number, last)
			}
			last = pc.Chequier.Number
			n++
			vouchers += len(pc.Vouchers)
		}
		if n != 300 || vouchers != 900 || last != res.LastChequier {
			t.Fatalf("%d chéquiers, %d vouchers, last %s", n, vouchers, last)
		}
		// A batch whose recorded checksum does not match what would be printed
		// (a wrong key file, a bug) must not print silently.
		b := res.Batch
		b.CodesSHA256 = make([]byte, 32)
		var failed error
		for _, err := range f.Issuing.BatchChequiers(ctx, b) {
			failed = err
		}
		if failed == nil || !strings.Contains(failed.Error(), "not to") {
			t.Fatalf("a wrong checksum went unnoticed: %v", failed)
		}
	})
}

func TestReprint(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 3, 10))
		before, err := f.Issuing.Chequier(ctx, res.FirstChequier)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.Issuing.Reprint(ctx, res.FirstChequier, "abîmé", "test")
		if err != nil {
			t.Fatal(err)
		}
		for i := range before.Vouchers {
			if again.Vouchers[i].Code != before.Vouchers[i].Code || again.Vouchers[i].VerificationCode != before.Vouchers[i].VerificationCode {
				t.Fatalf("voucher %d differs in the reprint", i+1)
			}
		}
		if again.ActivationCode != before.ActivationCode {
			t.Fatal("the activation code differs in the reprint")
		}
		if n := ledgertest.Count(t, db, &ledger.Event{}, "type = ?", ledger.EventChequierReprinted); n != 1 {
			t.Fatalf("%d reprint events", n)
		}
		if _, err := f.Issuing.Activate(ctx, res.FirstChequier, "", "test"); err != nil {
			t.Fatal(err)
		}
		cases := []struct{ name, number, reason, code string }{
			{"ErrHandedOver", res.FirstChequier, "abîmé", issuing.EChequierHandedOver},
			{"ErrNoReason", res.LastChequier, "", passnum.EInvalid},
			{"ErrUnknown", "78-2026-000099", "abîmé", passnum.ENotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.Issuing.Reprint(ctx, c.number, c.reason, "test")
				if got := passnum.ErrorCode(err); got != c.code {
					t.Fatalf("code %q (%v), want %q", got, err, c.code)
				}
			})
		}
	})
}

func TestReplace(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 3, 10))
		if _, err := f.Issuing.Activate(ctx, res.FirstChequier, "", "test"); err != nil {
			t.Fatal(err)
		}
		before, err := f.Issuing.Chequier(ctx, res.FirstChequier)
		if err != nil {
			t.Fatal(err)
		}
		leaked := before.Vouchers[3]
		// The key rotates before the leak: the replacement is signed by the new key.
		if _, err := f.Keys.New(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		r, err := f.Issuing.Replace(ctx, leaked.Number, "code photographié", "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.New.Serial <= res.Batch.LastSerial || r.New.Position != leaked.Position || r.New.Status != ledger.VoucherActive || r.New.Code == leaked.Code {
			t.Fatalf("replacement %+v", r.New.Voucher)
		}
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ks.Verify(r.New.Code)
		if err != nil || d.KeyID != 2 || int64(d.Payload.(voucher.Voucher).Serial) != r.New.Serial {
			t.Fatalf("replacement code: key %d, %v", d.KeyID, err)
		}
		var old ledger.Voucher
		db.Read(ctx).Where("serial = ?", leaked.Serial).Take(&old)
		if old.Status != ledger.VoucherVoid || old.ReplacedBy == nil || *old.ReplacedBy != r.New.Serial {
			t.Fatalf("the leaked voucher is %+v", old)
		}
		// The chéquier keeps ten vouchers, the new one in the leaked one's place,
		// and the others unchanged.
		if len(r.Chequier.Vouchers) != 10 {
			t.Fatalf("%d vouchers in the chéquier", len(r.Chequier.Vouchers))
		}
		for i, pv := range r.Chequier.Vouchers {
			want := before.Vouchers[i].Code
			if i == 3 {
				want = r.New.Code
			}
			if pv.Code != want {
				t.Fatalf("voucher at position %d changed", i+1)
			}
		}
		// The batch still prints and its checksum still holds.
		for _, err := range f.Issuing.BatchChequiers(ctx, res.Batch) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Read(ctx).Model(&ledger.Voucher{}).Where("serial = ?", before.Vouchers[5].Serial).Update("status", ledger.VoucherRedeemed).Error; err != nil {
			t.Fatal(err)
		}
		cases := []struct{ name, number, code string }{
			{"ErrAlreadyReplaced", leaked.Number, issuing.EVoucherVoided},
			{"ErrRedeemed", before.Vouchers[5].Number, issuing.EVoucherRedeemed},
			{"ErrMistyped", strings.Replace(leaked.Number, "0", "9", 1), passnum.EInvalid},
			{"ErrUnknown", voucher.FormatNumber(999_999), passnum.ENotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.Issuing.Replace(ctx, c.number, "fuite", "test", nil)
				if got := passnum.ErrorCode(err); got != c.code {
					t.Fatalf("code %q (%v), want %q", got, err, c.code)
				}
			})
		}
		// A printout that fails undoes the replacement: the voucher stays as
		// it was, with no replacement and no event.
		t.Run("ErrPrint", func(t *testing.T) {
			v := before.Vouchers[6]
			var seen issuing.Replaced
			_, err := f.Issuing.Replace(ctx, v.Number, "fuite", "test", func(r issuing.Replaced) error {
				seen = r
				return errors.New("disk full")
			})
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("error %v", err)
			}
			if seen.New.Code == "" || seen.New.Position != v.Position || len(seen.Chequier.Vouchers) != 10 {
				t.Fatalf("the printout was given %+v", seen.New)
			}
			var now ledger.Voucher
			db.Read(ctx).Where("serial = ?", v.Serial).Take(&now)
			if n := ledgertest.Count(t, db, &ledger.Voucher{}, "serial = ?", seen.New.Serial); now.Status != ledger.VoucherActive || now.ReplacedBy != nil || n != 0 {
				t.Fatalf("after a failed printout the voucher is %s, replaced by %v, %d replacements", now.Status, now.ReplacedBy, n)
			}
			if n := ledgertest.Count(t, db, &ledger.Event{}, "type = ?", ledger.EventVoucherReplaced); n != 1 {
				t.Fatalf("%d replacement events, want the first one only", n)
			}
		})
	})
}
