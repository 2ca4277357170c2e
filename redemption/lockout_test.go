package redemption_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
)

func (e *env) typedWrong(i int) redemption.Input {
	return redemption.Input{Number: e.vouchers[i].Number, VerificationCode: "ZZZZ-ZZZZ"}
}

func (e *env) typedRight(i int) redemption.Input {
	return redemption.Input{Number: e.vouchers[i].Number, VerificationCode: e.vouchers[i].VerificationCode}
}

func (e *env) lockouts(t *testing.T, department string) []redemption.Lockout {
	t.Helper()
	ls, err := e.svc.Lockouts(context.Background(), department)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// count counts the rows of model that match the condition.
func (e *env) count(t *testing.T, model any, cond string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Read(context.Background()).Model(model).Where(cond, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) lockEvents(t *testing.T) int64 {
	return e.count(t, &ledger.Event{}, "type = ?", ledger.EventManualEntryLocked)
}

// failures are the wrong manual entries counted against a venue: the codes
// it had compared.
func (e *env) failures(t *testing.T, venue int64) int64 {
	return e.count(t, &ledger.ManualEntryFailure{}, "venue_id = ?", venue)
}

// A venue that types wrong codes is locked out of manual entry, and its
// départements see it, once per lock.
func TestManualEntryLockout(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 2)
		t0 := e.Clock.T
		for range 5 {
			e.svc.Check(ctx, e.venue2, e.typedWrong(3))
		}
		e.Clock.T = t0.Add(10 * time.Minute)
		for range 4 {
			e.svc.Check(ctx, e.venue2, e.typedWrong(3))
		}
		if ls := e.lockouts(t, ""); len(ls) != 0 || e.lockEvents(t) != 0 {
			t.Fatalf("9 wrong entries locked the venue out: %+v", ls)
		}
		// The tenth, in a basket: refused, and the venue is locked out.
		res := e.redeem(t, e.venue2, e.code(0), e.typedWrong(4))
		if res.Accepted || res.Items[1].Reason != redemption.ReasonInvalidCode {
			t.Fatalf("basket with a wrong code: %+v", res)
		}
		// Locked until t0+15min, 5 minutes from now: the message says so,
		// rounded up to the minute 30 seconds later.
		if it, _ := e.svc.Check(ctx, e.venue2, e.typedRight(5)); it.Reason != redemption.ReasonRateLimited ||
			!strings.Contains(it.Message, "Réessayez dans 5 minutes") {
			t.Fatalf("right code while locked out: %+v", it)
		}
		lockedAt := e.Clock.T
		for _, c := range []struct {
			after time.Duration
			want  string
		}{{30 * time.Second, "dans 5 minutes"}, {4*time.Minute + time.Second, "dans 1 minute,"}} {
			e.Clock.T = lockedAt.Add(c.after)
			if it, _ := e.svc.Check(ctx, e.venue2, e.typedRight(5)); !strings.Contains(it.Message, c.want) {
				t.Fatalf("%v after the lock: %q, want %q", c.after, it.Message, c.want)
			}
		}
		e.Clock.T = lockedAt
		for range 5 { // refused without being compared, so not counted again
			e.svc.Check(ctx, e.venue2, e.typedWrong(3))
		}
		if n := e.lockEvents(t); n != 1 {
			t.Fatalf("%d lock events, want 1", n)
		}
		ls := e.lockouts(t, "92")
		if len(ls) != 1 {
			t.Fatalf("lockouts of 92: %+v", ls)
		}
		l := ls[0]
		// The first five wrong entries leave the window at t0+15min: from
		// then on fewer than ten are left.
		if l.VenueID != e.venue2 || !l.Active || l.Failures != 10 || !l.LockedAt.Equal(e.Clock.T) ||
			!l.LockedUntil.Equal(t0.Add(15*time.Minute)) || strings.Join(l.Departments, ",") != "78,92" {
			t.Fatalf("lockout: %+v", l)
		}
		if !strings.Contains(l.Message, l.VenueName) || !strings.Contains(l.Message, "bloquée") || !strings.Contains(l.Message, "10 numéros") {
			t.Fatalf("message: %q", l.Message)
		}
		if ls := e.lockouts(t, "78"); len(ls) != 1 {
			t.Fatalf("lockouts of 78: %+v", ls)
		}
		if ls := e.lockouts(t, "2A"); len(ls) != 0 {
			t.Fatalf("a département the venue is not labelled for sees its lockout: %+v", ls)
		}

		e.Clock.T = t0.Add(15 * time.Minute)
		if it, _ := e.svc.Check(ctx, e.venue2, e.typedRight(5)); !it.Accepted {
			t.Fatalf("right code once the lock is over: %+v", it)
		}
		if ls := e.lockouts(t, "78"); len(ls) != 1 || ls[0].Active {
			t.Fatalf("a lock that is over is still listed, inactive: %+v", ls)
		}
		// Locked again later: a second notice, listed first.
		e.Clock.T = t0.Add(2 * time.Hour)
		for range 10 {
			e.svc.Check(ctx, e.venue2, e.typedWrong(3))
		}
		ls = e.lockouts(t, "")
		if len(ls) != 2 || !ls[0].Active || ls[0].LockedUntil != e.Clock.T.Add(15*time.Minute) || ls[1].Active {
			t.Fatalf("after a second lock: %+v", ls)
		}
		e.Clock.T = e.Clock.T.AddDate(0, 0, redemption.LockoutNoticeDays)
		if ls := e.lockouts(t, ""); len(ls) != 0 {
			t.Fatalf("lockouts older than %d days are still listed: %+v", redemption.LockoutNoticeDays, ls)
		}
		e.auditOK(t)
	})
}

// Wrong entries typed at once on many devices of a venue lock it out once,
// and however they are spread over concurrent requests (and server
// processes: the count is in the database, under the venue's row lock),
// the venue compares at most the limit's worth of them: 20 checks and 20
// baskets of 100 wrong entries compare 10.
func TestManualEntryLockoutConcurrent(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 10)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					_, err = e.svc.Check(ctx, e.venue1, e.typedWrong(i%10))
				} else {
					in := make([]redemption.Input, 100)
					for j := range in {
						in[j] = e.typedWrong((i*7 + j) % 100)
					}
					_, err = e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: newKey(), Items: in, Actor: "test"})
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := e.lockEvents(t); n != 1 {
			t.Fatalf("%d lock events after 40 concurrent requests of wrong entries, want 1", n)
		}
		if n := e.failures(t, e.venue1); n != 10 {
			t.Fatalf("40 concurrent requests of wrong entries compared %d codes, want 10", n)
		}
		if ls := e.lockouts(t, "78"); len(ls) != 1 || ls[0].Failures != 10 {
			t.Fatalf("lockouts %+v", ls)
		}
		e.auditOK(t)
	})
}

// The limit counts typed entries, not requests: a basket of 100 wrong codes
// compares 10 and refuses the rest unread, and a right code typed while the
// venue is under the limit is still accepted.
func TestManualEntryLimitCountsEntries(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 10)
		wrong := make([]redemption.Input, 100)
		for i := range wrong {
			wrong[i] = e.typedWrong(i)
		}
		res := e.redeem(t, e.venue2, wrong...)
		for i, it := range res.Items {
			want := redemption.ReasonInvalidCode
			if i >= 10 {
				want = redemption.ReasonRateLimited
			}
			if it.Reason != want {
				t.Fatalf("item %d of 100 wrong entries: %q, want %q", i, it.Reason, want)
			}
		}
		if n := e.failures(t, e.venue2); n != 10 {
			t.Fatalf("a basket of 100 wrong entries compared %d codes, want 10", n)
		}
		if n := e.lockEvents(t); n != 1 {
			t.Fatalf("%d lock events, want 1", n)
		}
		if it, _ := e.svc.Check(ctx, e.venue2, e.typedRight(0)); it.Reason != redemption.ReasonRateLimited {
			t.Fatalf("right code after the limit: %+v", it)
		}

		// Under the limit, a right code among wrong ones is compared and
		// accepted; the wrong ones past the limit are not compared.
		in := []redemption.Input{}
		for i := range 9 {
			in = append(in, e.typedWrong(i))
		}
		in = append(in, e.typedRight(50), e.typedWrong(51), e.typedWrong(52), e.typedRight(53))
		res = e.redeem(t, e.venue1, in...)
		got := make([]string, len(res.Items))
		for i, it := range res.Items {
			got[i] = it.Reason
		}
		want := strings.Repeat("invalid_code,", 9) + ",invalid_code,rate_limited,rate_limited"
		if strings.Join(got, ",") != want || !res.Items[9].Accepted {
			t.Fatalf("reasons %q, want %q", strings.Join(got, ","), want)
		}
		if n := e.failures(t, e.venue1); n != 10 {
			t.Fatalf("%d failures counted for venue 1, want 10", n)
		}
		if n := e.lockEvents(t); n != 2 {
			t.Fatalf("%d lock events, want 2", n)
		}
		e.auditOK(t)
	})
}
