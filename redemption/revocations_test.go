package redemption_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"passnum"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
	"passnum/voucher"
)

// device is what an offline scanner keeps of the revocation feed
// (api/web/scanner/store.js): serial -> redeemed or void, and its cursor.
type device struct {
	list   map[int64]ledger.VoucherStatus
	cursor int64
}

// sync pages through the feed from the device's cursor, limit events at a
// time, applying each revocation in order as the scanner does.
func (d *device) sync(t *testing.T, svc *redemption.Service, limit int) {
	t.Helper()
	for {
		revs, next, err := svc.Revocations(context.Background(), d.cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range revs {
			if r.Status == ledger.VoucherActive {
				delete(d.list, r.Serial)
			} else {
				d.list[r.Serial] = r.Status
			}
		}
		if next == d.cursor {
			return
		}
		d.cursor = next
	}
}

// TestRevocationFeedAgreesWithVouchers runs random sequences of every
// operation that changes a voucher (issue, hand over, redeem, reverse, void
// a chéquier, void a voucher, replace a voucher) and checks, after each
// seal, that a scanner applying the feed knows exactly the vouchers the
// table says are spent or void, with that status: one scanner syncing at
// every seal with a small page, and at the end fresh ones from cursor 0.
func TestRevocationFeedAgreesWithVouchers(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 3)
		rnd := rand.New(rand.NewPCG(20261201, 12))
		codes := map[int64]string{} // every code ever printed, voided ones too
		var serials []int64
		var chequiers []string
		addChequier := func(pc issuing.PrintedChequier) {
			chequiers = append(chequiers, pc.Chequier.Number)
			for _, v := range pc.Vouchers {
				codes[v.Serial], serials = v.Code, append(serials, v.Serial)
			}
		}
		issue := func(n, per int, activation bool) {
			req := issuingtest.Request("78", n, per)
			req.RequiresActivation = activation
			res, err := e.Issuing.Issue(ctx, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			for pc, err := range e.Issuing.BatchChequiers(ctx, res.Batch) {
				if err != nil {
					t.Fatal(err)
				}
				addChequier(pc)
			}
		}
		for pc, err := range e.Issuing.BatchChequiers(ctx, e.batch.Batch) {
			if err != nil {
				t.Fatal(err)
			}
			addChequier(pc)
		}
		var redemptions []int64
		var history []string
		// A refusal is part of the game (voiding a spent voucher, reversing
		// twice); anything else fails the test.
		done := map[string]int{} // operations that succeeded, by kind
		expected := func(kind, op string, err error) {
			history = append(history, fmt.Sprintf("%s: %v", op, err))
			if passnum.ErrorCode(err) == passnum.EInternal {
				t.Fatalf("%s: %v", op, err)
			}
			if err == nil {
				done[kind]++
			}
		}
		dev := &device{list: map[int64]ledger.VoucherStatus{}}
		var checks, revoked int
		check := func(d *device, what string) {
			t.Helper()
			var vs []ledger.Voucher
			if err := db.Read(ctx).Order("serial").Find(&vs).Error; err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, v := range vs {
				var want ledger.VoucherStatus
				if v.Status == ledger.VoucherRedeemed || v.Status == ledger.VoucherVoid {
					want, n = v.Status, n+1
				}
				if got := d.list[v.Serial]; got != want {
					t.Fatalf("%s: voucher %d is %s in the table, %q on the scanner\nlast operations:\n%s",
						what, v.Serial, v.Status, got, strings.Join(history[max(0, len(history)-15):], "\n"))
				}
			}
			if len(d.list) != n {
				t.Fatalf("%s: the scanner lists %d vouchers, the table has %d spent or void", what, len(d.list), n)
			}
			checks, revoked = checks+1, n
		}
		const operations = 1000
		for i := range operations {
			e.Clock.T = e.Clock.T.Add(time.Duration(rnd.IntN(90)) * time.Second)
			serial := serials[rnd.IntN(len(serials))]
			number := chequiers[rnd.IntN(len(chequiers))]
			switch op := rnd.IntN(16); {
			case op == 0:
				issue(1+rnd.IntN(2), 1+rnd.IntN(10), rnd.IntN(2) == 0)
				expected("issue", "issue", nil)
			case op < 3:
				_, err := e.Issuing.Activate(ctx, number, "", "test")
				expected("activate", "activate "+number, err)
			case op < 8:
				basket := []redemption.Input{{Code: codes[serial]}}
				for range rnd.IntN(4) / 2 {
					basket = append(basket, redemption.Input{Code: codes[serials[rnd.IntN(len(serials))]]})
				}
				venue := []int64{e.venue1, e.venue2}[rnd.IntN(2)]
				res, err := e.svc.Redeem(ctx, redemption.Basket{VenueID: venue, IdempotencyKey: newKey(), Items: basket, Actor: "test"})
				expected("redeem", fmt.Sprintf("redeem %d vouchers from %d, accepted %v", len(basket), serial, res.Accepted), err)
				if !res.Accepted {
					done["redeem"]--
				} else {
					redemptions = append(redemptions, res.RedemptionID)
				}
			case op < 10:
				if len(redemptions) == 0 {
					continue
				}
				// Mostly recent ones: older ones are past the reversal window.
				id := redemptions[max(0, len(redemptions)-1-rnd.IntN(6))]
				var r ledger.Redemption
				if err := db.Read(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
					t.Fatal(err)
				}
				_, err := e.svc.Reverse(ctx, r.VenueID, id, "erreur", "test")
				expected("reverse", fmt.Sprintf("reverse %d", id), err)
			case op < 11:
				_, err := e.Issuing.Void(ctx, number, "perdu", "test")
				expected("void chéquier", "void chéquier "+number, err)
			case op < 13:
				_, err := e.Issuing.VoidVoucher(ctx, voucher.FormatNumber(uint64(serial)), "code divulgué", "test")
				expected("void voucher", fmt.Sprintf("void voucher %d", serial), err)
			case op < 15:
				r, err := e.Issuing.Replace(ctx, voucher.FormatNumber(uint64(serial)), "code photographié", "test", nil)
				expected("replace", fmt.Sprintf("replace voucher %d by %d", serial, r.New.Serial), err)
				if err == nil {
					codes[r.New.Serial], serials = r.New.Code, append(serials, r.New.Serial)
				}
			default:
				e.Seal(t)
				dev.sync(t, e.svc, 1+rnd.IntN(3))
				check(dev, fmt.Sprintf("after operation %d, cursor %d", i, dev.cursor))
			}
		}
		e.Seal(t)
		dev.sync(t, e.svc, 2)
		check(dev, "at the end")
		for _, limit := range []int{0, 1, 7} {
			fresh := &device{list: map[int64]ledger.VoucherStatus{}}
			fresh.sync(t, e.svc, limit)
			check(fresh, fmt.Sprintf("a new scanner paging by %d", limit))
		}
		t.Logf("%d operations (%v succeeded), %d checks, %d vouchers spent or void at the end", operations, done, checks, revoked)
		for _, kind := range []string{"issue", "activate", "redeem", "reverse", "void chéquier", "void voucher", "replace"} {
			if done[kind] == 0 {
				t.Fatalf("no %s succeeded: %v", kind, done)
			}
		}
		e.auditOK(t)
	})
}
