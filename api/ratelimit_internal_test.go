package api

import (
	"strconv"
	"testing"
	"time"
)

// A flood of new addresses cannot grow a limiter past its bound; entries
// that would let a request through anyway are the ones dropped.
func TestLimiterMemoryIsBounded(t *testing.T) {
	l := newLimiter(Limit{Burst: 1, Every: time.Second})
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := range maxLimiterEntries {
		if wait := l.take(strconv.Itoa(i), t0); wait != 0 {
			t.Fatalf("caller %d waits %v on a fresh limiter", i, wait)
		}
	}
	if wait := l.take("one more", t0); wait != time.Second {
		t.Fatalf("a caller past the bound waits %v, want 1s", wait)
	}
	if wait := l.take("0", t0); wait != time.Second {
		t.Fatalf("a known caller over its burst waits %v, want 1s", wait)
	}
	if wait := l.take("one more", t0.Add(time.Second)); wait != 0 {
		t.Fatalf("once the buckets are full again a new caller waits %v", wait)
	}
	if n := len(l.full); n != 1 {
		t.Fatalf("%d entries kept after the others were full again, want 1", n)
	}
}

// A request whose time was read before another's but that takes the lock
// after it arrives now, not in the past: under load, goroutines queue on
// the limiter's lock with times read before they waited, and a stale time
// must not count as a burst (the chaos test's replicas, with the basket
// limit set to one per nanosecond, refused baskets that way).
func TestLimiterStaleTimes(t *testing.T) {
	l := newLimiter(Limit{Burst: 2, Every: time.Nanosecond})
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if wait := l.take("venue", t0.Add(time.Millisecond)); wait != 0 {
		t.Fatalf("first request waits %v", wait)
	}
	if wait := l.take("venue", t0); wait != 0 {
		t.Fatalf("a request whose time was read a millisecond earlier waits %v", wait)
	}
}
