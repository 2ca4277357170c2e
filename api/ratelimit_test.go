package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"passnum/api"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
)

// limitClock is the rate limits' clock, moved by hand.
type limitClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *limitClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *limitClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitedEnv serves with tight limits on a hand-moved clock; proxied says
// whether 127.0.0.1 (the test client) is a trusted proxy.
func limitedEnv(t *testing.T, db *ledger.DB, limits api.RateLimits, proxied bool) (*env, *limitClock) {
	clock := &limitClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	limits.Clock = clock.now
	e := newEnv(t, db, 1, func(cfg *api.Config) {
		cfg.RateLimits = &limits
		if proxied {
			cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}
	})
	return e, clock
}

var roomy = api.Limit{Burst: 1 << 20, Every: time.Nanosecond}

var unlimited = api.RateLimits{FailedAuthPerAddress: roomy, ChecksPerKey: roomy, ChecksPerAddress: roomy, RedemptionsPerVenue: roomy}

// wrongKey is shaped like a key of prefix, or of a new prefix each time
// (so that only the limits per address apply).
func wrongKey(prefix string) string {
	if prefix == "" {
		prefix = fmt.Sprintf("pn_x%012d", keyCounter.Add(1))
	}
	return "Bearer " + prefix + "_" + strings.Repeat("b", 52)
}

func prefixOf(secret string) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(secret, "pn_"), "_")
	return "pn_" + p
}

// expectLimited checks a 429 and its Retry-After, in whole seconds.
func expectLimited(t *testing.T, r response, retry int) {
	t.Helper()
	r.expect(t, http.StatusTooManyRequests, "rate_limited")
	if got := r.header.Get("Retry-After"); got != strconv.Itoa(retry) {
		t.Errorf("Retry-After %q, want %d", got, retry)
	}
}

func TestFailedAuthenticationsPerAddress(t *testing.T) {
	limits := api.RateLimits{FailedAuthPerAddress: api.Limit{Burst: 3, Every: time.Minute},
		ChecksPerKey: roomy, ChecksPerAddress: roomy}
	each := func(name string, f func(t *testing.T, db *ledger.DB)) {
		t.Run(name, func(t *testing.T) { ledgertest.Each(t, f) })
	}
	each("direct", func(t *testing.T, db *ledger.DB) {
		e, clock := limitedEnv(t, db, limits, false)
		list := request{method: "GET", path: "/api/v1/redemptions", as: "venue1"}
		e.do(t, list).expect(t, http.StatusOK, "")
		for range 3 {
			e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")}).expect(t, http.StatusUnauthorized, "unauthorized")
		}
		// The fourth failure, and one with a forged X-Forwarded-For (no
		// proxy is trusted), are held back for a minute.
		r := e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")})
		expectLimited(t, r, 60)
		var body errorJSON
		r.decode(t, &body)
		if !strings.Contains(body.Error.Message, "60 secondes") {
			t.Errorf("the message does not say how long to wait: %q", body.Error.Message)
		}
		expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""),
			header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}), 60)
		// The right key is checked before the limit and let through: only
		// failures are held back (TestPrefixCannotLockAKeyOut).
		e.do(t, list).expect(t, http.StatusOK, "")
		// The pages' login and the scanner's pairing count the same way: a
		// wrong key or code is held back, the right key is not.
		b := &browser{e: e}
		expectLimited(t, b.send(t, "POST", "/session", map[string]string{"key": strings.TrimPrefix(wrongKey(""), "Bearer ")}, nil), 60)
		expectLimited(t, e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": e.vouchers[0].Code}}), 60)
		if r := b.send(t, "POST", "/session", map[string]string{"key": e.keys["department"]}, nil); r.status != http.StatusOK {
			t.Fatalf("login with the right key from a limited address: %d %s", r.status, r.body)
		}

		clock.advance(59 * time.Second)
		expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")}), 1)
		clock.advance(time.Second)
		// One failure more per minute, no more.
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")}).expect(t, http.StatusUnauthorized, "unauthorized")
		expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")}), 60)
		// What a client sent as a key is never logged, wrong or not.
		if strings.Contains(e.logs.String(), strings.Repeat("b", 52)) {
			t.Error("a wrong key's secret is in the log")
		}
	})

	each("defaults", func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1, func(cfg *api.Config) { cfg.RateLimits = nil })
		d := api.DefaultRateLimits.FailedAuthPerAddress
		for range d.Burst {
			e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")}).expect(t, http.StatusUnauthorized, "unauthorized")
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey("")})
		r.expect(t, http.StatusTooManyRequests, "rate_limited")
		if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 1 || s > int(d.Every/time.Second) {
			t.Errorf("Retry-After %q, want 1 to %d", r.header.Get("Retry-After"), int(d.Every/time.Second))
		}
	})

	each("behind a trusted proxy", func(t *testing.T, db *ledger.DB) {
		e, _ := limitedEnv(t, db, limits, true)
		from := func(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }
		for range 3 {
			e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""), header: from("203.0.113.9")}).
				expect(t, http.StatusUnauthorized, "unauthorized")
		}
		expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""), header: from("203.0.113.9")}), 60)
		// Another client of the same proxy is not held back.
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""), header: from("198.51.100.4")}).
			expect(t, http.StatusUnauthorized, "unauthorized")
		// IPv6 counts per /64: another address of the same block is the same subscriber.
		for range 3 {
			e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""), header: from("2001:db8:1:2::5")}).
				expect(t, http.StatusUnauthorized, "unauthorized")
		}
		expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""), header: from("2001:db8:1:2:ffff::1")}), 60)
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(""), header: from("2001:db8:1:3::5")}).
			expect(t, http.StatusUnauthorized, "unauthorized")
	})
}

// TestWrongSecretsLockNoKey: wrong secrets naming one key, sent from many
// addresses each within its own limit, are refused one by one (401) and
// count against nothing the key's holder needs: there is no limit per key,
// nor a global one, whose exhaustion would refuse the right secret.
func TestWrongSecretsLockNoKey(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		limits := api.RateLimits{FailedAuthPerAddress: api.Limit{Burst: 2, Every: 30 * time.Second},
			ChecksPerKey: roomy, ChecksPerAddress: roomy}
		e, _ := limitedEnv(t, db, limits, true)
		venue1 := prefixOf(e.keys["venue1"])
		for i := range 50 {
			addr := map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1)}
			for range 2 {
				e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(venue1), header: addr}).
					expect(t, http.StatusUnauthorized, "unauthorized")
			}
			expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(venue1), header: addr}), 30)
		}
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1"}).expect(t, http.StatusOK, "")
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1",
			header: map[string]string{"X-Forwarded-For": "203.0.113.1"}}).expect(t, http.StatusOK, "")
	})
}

func TestCheckLimits(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		limits := api.RateLimits{FailedAuthPerAddress: roomy,
			ChecksPerKey: api.Limit{Burst: 4, Every: 2 * time.Second}, ChecksPerAddress: api.Limit{Burst: 6, Every: time.Second}}
		e, clock := limitedEnv(t, db, limits, true)
		check := func(as, addr string) response {
			return e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: as, json: e.code(0),
				header: map[string]string{"X-Forwarded-For": addr}})
		}
		for range 4 {
			check("venue1", "203.0.113.1").expect(t, http.StatusOK, "")
		}
		expectLimited(t, check("venue1", "203.0.113.2"), 2) // per key, whatever the address
		// Redeeming is not a check: a venue held back may still cash a basket.
		e.redeem(t, "venue1", e.code(1)).expect(t, http.StatusCreated, "")
		check("venue2", "203.0.113.1").expect(t, http.StatusOK, "")
		check("venue2", "203.0.113.1").expect(t, http.StatusOK, "")
		expectLimited(t, check("venue2", "203.0.113.1"), 1) // six from that address
		check("venue2", "203.0.113.7").expect(t, http.StatusOK, "")
		clock.advance(2 * time.Second)
		check("venue1", "203.0.113.2").expect(t, http.StatusOK, "")
		expectLimited(t, check("venue1", "203.0.113.2"), 2)
	})
}

// A venue locked out of manual entry is in its départements' warnings.
func TestManualEntryLockoutIsReported(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		wrong := map[string]string{"number": e.vouchers[0].Number, "verification_code": "ZZZZ-ZZZZ"}
		for range 10 {
			if v := e.check(t, "venue2", wrong); v.Reason != "invalid_code" {
				t.Fatalf("wrong code: %+v", v)
			}
		}
		if v := e.check(t, "venue2", e.typed(0)); v.Reason != "rate_limited" {
			t.Fatalf("right code once locked out: %+v", v)
		}
		type warnings struct {
			Locks []struct {
				VenueID     int64     `json:"venue_id"`
				VenueName   string    `json:"venue_name"`
				Active      bool      `json:"active"`
				Failures    int       `json:"failures"`
				LockedUntil time.Time `json:"locked_until"`
				Message     string    `json:"message"`
			} `json:"manual_entry_locks"`
		}
		for _, as := range []string{"department", "department92", "auditor", "admin"} {
			var w warnings
			e.do(t, request{method: "GET", path: "/api/v1/warnings", as: as}).decode(t, &w)
			if len(w.Locks) != 1 || w.Locks[0].VenueID != e.venue2 || !w.Locks[0].Active || w.Locks[0].Failures != 10 ||
				!w.Locks[0].LockedUntil.Equal(e.Clock.T.Add(15*time.Minute)) || !strings.Contains(w.Locks[0].Message, w.Locks[0].VenueName) {
				t.Fatalf("warnings seen by %s: %+v", as, w)
			}
		}
		// Venue 1 (78 only) typing wrong codes is not 92's business.
		for range 10 {
			e.check(t, "venue1", wrong)
		}
		var w78, w92 warnings
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department"}).decode(t, &w78)
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department92"}).decode(t, &w92)
		if len(w78.Locks) != 2 || w78.Locks[0].VenueID != e.venue1 || len(w92.Locks) != 1 {
			t.Fatalf("78 sees %+v, 92 sees %+v", w78, w92)
		}
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "venue2"}).expect(t, http.StatusForbidden, "forbidden")
	})
}

// TestPrefixCannotLockAKeyOut: key prefixes are public (ledger export,
// logs), so an attacker may send wrong secrets naming the victim's key as
// fast as it likes. Under the default limits its own address is held back
// (429 with Retry-After) and the victim, from another address or even
// from the attacker's, authenticates at once with the right secret: on the
// API, on the pages' login, and when pairing a device.
func TestPrefixCannotLockAKeyOut(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e, _ := limitedEnv(t, db, api.DefaultRateLimits, true)
		d := api.DefaultRateLimits.FailedAuthPerAddress
		from := func(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }
		const attacker, victim = "203.0.113.66", "198.51.100.7"
		venue1, department := prefixOf(e.keys["venue1"]), prefixOf(e.keys["department"])
		b := &browser{e: e}
		refused, limited := 0, 0
		for i := range 3 * d.Burst {
			var r response
			// Half the burst on each victim's prefix first (on the code
			// before issue #12, enough to lock both keys out for everyone),
			// then the three ways in in turn.
			way := i % 3
			if i < d.Burst {
				way = 2 * i / d.Burst
			}
			switch way {
			case 0:
				r = e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(venue1), header: from(attacker)})
			case 1:
				r = b.send(t, "POST", "/session", map[string]string{"key": strings.TrimPrefix(wrongKey(department), "Bearer ")}, from(attacker))
			case 2:
				r = e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": e.vouchers[0].Code}, header: from(attacker)})
			}
			switch r.status {
			case http.StatusUnauthorized, http.StatusForbidden:
				refused++
			case http.StatusTooManyRequests:
				limited++
				if r.header.Get("Retry-After") != strconv.Itoa(int(d.Every/time.Second)) {
					t.Fatalf("attempt %d: Retry-After %q, want %d", i, r.header.Get("Retry-After"), int(d.Every/time.Second))
				}
			default:
				t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
			}
		}
		if refused != d.Burst || limited != 2*d.Burst {
			t.Fatalf("the attacker got %d refusals and %d 429s, want %d and %d", refused, limited, d.Burst, 2*d.Burst)
		}
		for _, addr := range []string{victim, attacker} {
			e.do(t, request{method: "GET", path: "/api/v1/redemptions", as: "venue1", header: from(addr)}).expect(t, http.StatusOK, "")
			if r := (&browser{e: e}).send(t, "POST", "/session", map[string]string{"key": e.keys["department"]}, from(addr)); r.status != http.StatusOK {
				t.Fatalf("the département's login from %s after the attack: %d %s", addr, r.status, r.body)
			}
			var pairing struct {
				Code string `json:"code"`
			}
			e.do(t, request{method: "POST", path: "/api/v1/pairings", as: "admin", json: map[string]any{"venue_id": e.venue1, "name": "tablette " + addr}}).decode(t, &pairing)
			if r := e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": pairing.Code}, header: from(addr)}); r.status != http.StatusCreated {
				t.Fatalf("pairing from %s after the attack: %d %s", addr, r.status, r.body)
			}
		}
		// The attacker is still held back, per its address only.
		expectLimited(t, e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(venue1), header: from(attacker)}), int(d.Every/time.Second))
		e.do(t, request{method: "GET", path: "/api/v1/redemptions", auth: wrongKey(venue1), header: from(victim)}).expect(t, http.StatusUnauthorized, "unauthorized")
	})
}

// TestRedemptionLimit: baskets are limited per venue, whichever of its
// keys sends them; past the burst a basket is answered 429 with
// Retry-After and a French message, and is not recorded, so that it can
// be sent again later under the same key.
func TestRedemptionLimit(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		limits := unlimited
		limits.RedemptionsPerVenue = api.Limit{Burst: 3, Every: 20 * time.Second}
		e, clock := limitedEnv(t, db, limits, false)
		secret, _, err := e.apikeys.Create(context.Background(), specVenue(e.venue1), "test")
		if err != nil {
			t.Fatal(err)
		}
		e.keys["venue1b"] = secret // a second device of venue 1
		send := func(as, key string, i int) response {
			return e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: as, json: basket(e.code(i)),
				header: map[string]string{"Idempotency-Key": key}})
		}
		send("venue1", "limit-key-0", 0).expect(t, http.StatusCreated, "")
		send("venue1b", "limit-key-1", 1).expect(t, http.StatusCreated, "")
		send("venue1", "limit-key-2", 0).expect(t, http.StatusUnprocessableEntity, "basket_rejected") // refused baskets count too
		r := send("venue1b", "limit-key-3", 3)
		expectLimited(t, r, 20)
		var body errorJSON
		r.decode(t, &body)
		if !looksFrench(body.Error.Message) || !strings.Contains(body.Error.Message, "20 secondes") {
			t.Errorf("the message is not French or does not say how long to wait: %q", body.Error.Message)
		}
		// Another venue is not held back.
		send("venue2", "limit-key-4", 4).expect(t, http.StatusCreated, "")
		clock.advance(20 * time.Second)
		send("venue1b", "limit-key-3", 3).expect(t, http.StatusCreated, "")
		expectLimited(t, send("venue1", "limit-key-5", 5), 20)
	})
}

// TestRefusedAnswersStorageIsBounded: a venue sending refused baskets as
// fast as it may for three days never has more answers stored than its
// limit lets through in 24 hours (the retention): burst + 24 h / every,
// the purge running once per simulated hour.
func TestRefusedAnswersStorageIsBounded(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		limit := api.Limit{Burst: 6, Every: time.Hour}
		limits := unlimited
		limits.RedemptionsPerVenue = limit
		e, clock := limitedEnv(t, db, limits, false)
		// Spent once (not through the limit), the voucher makes every later
		// basket holding it a refused one.
		if r, err := e.svc.Redeem(ctx, redemption.Basket{VenueID: e.venue1, IdempotencyKey: "flood-accepted", Items: []redemption.Input{{Code: e.vouchers[0].Code}}, Actor: "test"}); err != nil || !r.Accepted {
			t.Fatalf("redeem: %+v %v", r, err)
		}
		bound := int64(limit.Burst) + int64(redemption.AnswerRetention/limit.Every)
		most, sent := int64(0), 0
		for step := range 3 * 24 {
			for range limit.Burst + 2 { // as fast as it may: until held back
				sent++
				r := e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", json: basket(e.code(0)),
					header: map[string]string{"Idempotency-Key": fmt.Sprintf("flood-%06d", sent)}})
				if r.status == http.StatusTooManyRequests {
					break
				}
				r.expect(t, http.StatusUnprocessableEntity, "basket_rejected")
			}
			if _, err := e.svc.PurgeAnswers(ctx); err != nil {
				t.Fatal(err)
			}
			var stored int64
			if err := db.Read(ctx).Model(&ledger.IdempotencyKey{}).Where("venue_id = ?", e.venue1).Count(&stored).Error; err != nil {
				t.Fatal(err)
			}
			stored-- // the accepted basket's answer, kept with its redemption
			most = max(most, stored)
			if stored > bound {
				t.Fatalf("hour %d: %d refused answers stored, more than the %d that 24 h of the limit allow", step, stored, bound)
			}
			clock.advance(time.Hour)
			e.Clock.T = e.Clock.T.Add(time.Hour)
		}
		if most != bound {
			t.Errorf("at most %d refused answers stored, want the bound %d reached", most, bound)
		}
	})
}
