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
