package api

import (
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"passnum/apikeys"
)

// Limit lets Burst requests through at once, then one more every Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// RateLimits bound what one caller may try. They are kept in each server
// process's memory: with N replicas behind a balancer a caller may get up
// to N times as many tries. That is acceptable because none of them guards
// a secret that could be guessed in that many tries (API keys carry 256
// bits, sessions too); the one limit that does guard a small secret, wrong
// verification codes typed by hand, is counted in the database per venue
// (redemption.Service.ManualEntryLimit) and holds across replicas.
type RateLimits struct {
	// Failed authentications (a wrong or revoked API key, on the API or the
	// pages' login, or a refused pairing code) per client address, and per
	// key prefix named by the failing secret. Once over, even the right key
	// is refused until the time passes: a caller that might be guessing
	// learns nothing more.
	FailedAuthPerAddress Limit
	FailedAuthPerKey     Limit
	// Voucher checks (POST /api/v1/vouchers/check) per venue key and per
	// client address: a check is the oracle someone holding a venue key
	// would ask, and a volunteer never needs more than a few a second.
	ChecksPerKey     Limit
	ChecksPerAddress Limit
	// Clock is the limits' time (nil: time.Now). Not the programme's clock,
	// which tests move by days: a limit counts seconds of real time.
	Clock func() time.Time
}

// DefaultRateLimits are far above what a venue or a département does by
// hand and far below what a script guessing would need.
var DefaultRateLimits = RateLimits{
	FailedAuthPerAddress: Limit{Burst: 20, Every: 6 * time.Second},  // then 10 a minute
	FailedAuthPerKey:     Limit{Burst: 10, Every: 30 * time.Second}, // then 2 a minute
	ChecksPerKey:         Limit{Burst: 120, Every: 500 * time.Millisecond},
	ChecksPerAddress:     Limit{Burst: 600, Every: 100 * time.Millisecond}, // a venue's devices share one address behind its box
}

// maxLimiterEntries bounds the memory of one limiter (about 100 bytes an
// entry). Entries whose bucket is full again are dropped first; past the
// bound new callers are limited, which for failed authentications costs a
// legitimate user nothing (they do not fail) and for checks needs as many
// venue keys as there are entries.
const maxLimiterEntries = 100_000

// limiter is a set of token buckets, one per key, kept as the generic cell
// rate algorithm's "theoretical arrival time": the moment the bucket would
// be full again. A time in the past is an empty entry, so stale entries
// can be dropped without changing any answer.
type limiter struct {
	limit Limit
	mu    sync.Mutex
	full  map[string]time.Time
}

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, full: map[string]time.Time{}}
}

// wait returns how long a request for key must wait before it would be let
// through, zero if it would be now. It takes nothing.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, wait := l.next(key, now)
	return wait
}

// take lets a request for key through and counts it, or returns how long
// to wait (and counts nothing).
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, wait := l.next(key, now)
	if wait > 0 {
		return wait
	}
	if _, ok := l.full[key]; !ok && len(l.full) >= maxLimiterEntries {
		for k, t := range l.full {
			if !t.After(now) {
				delete(l.full, k)
			}
		}
		if len(l.full) >= maxLimiterEntries {
			return l.limit.Every
		}
	}
	l.full[key] = tat
	return 0
}

// next is the bucket's full-again time after one more request, and how long
// that request must wait first.
func (l *limiter) next(key string, now time.Time) (time.Time, time.Duration) {
	tat := l.full[key]
	if tat.Before(now) {
		tat = now
	}
	tat = tat.Add(l.limit.Every)
	if over := tat.Sub(now) - time.Duration(l.limit.Burst)*l.limit.Every; over > 0 {
		return tat, over
	}
	return tat, 0
}

// limiters are the server's rate limits, built once by New.
type limiters struct {
	now                          func() time.Time
	authByAddress, authByKey     *limiter
	checksByKey, checksByAddress *limiter
}

func newLimiters(r RateLimits) *limiters {
	l := &limiters{now: r.Clock,
		authByAddress: newLimiter(r.FailedAuthPerAddress), authByKey: newLimiter(r.FailedAuthPerKey),
		checksByKey: newLimiter(r.ChecksPerKey), checksByAddress: newLimiter(r.ChecksPerAddress),
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// clientAddress is who the limits count per address: the peer's IP, or the
// one a trusted proxy reports (Config.TrustedProxies). IPv6 is counted per
// /64, the block a single subscriber is given.
func clientAddress(c echo.Context) string {
	ip, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return c.RealIP()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// authBlocked refuses an authentication attempt from an address, or for a
// key, that failed too often lately, before the secret is even looked at.
func (s *server) authBlocked(c echo.Context, secret string) error {
	return s.authLimit(c, secret, (*limiter).wait)
}

// authFailed counts a failed authentication and returns the error to
// answer: err itself, or 429 once this failure crosses a limit.
func (s *server) authFailed(c echo.Context, secret string, err error) error {
	if limited := s.authLimit(c, secret, (*limiter).take); limited != nil {
		return limited
	}
	return err
}

// authLimit asks the limits on failed authentications, per address and per
// key prefix, with wait (look) or take (count).
func (s *server) authLimit(c echo.Context, secret string, ask func(*limiter, string, time.Time) time.Duration) error {
	now := s.limits.now()
	if wait := ask(s.limits.authByAddress, clientAddress(c), now); wait > 0 {
		return authLimited(wait, "depuis votre adresse")
	}
	if prefix, ok := apikeys.PrefixOf(secret); ok {
		if wait := ask(s.limits.authByKey, prefix, now); wait > 0 {
			return authLimited(wait, "avec cette clé")
		}
	}
	return nil
}

func authLimited(wait time.Duration, from string) *problem {
	return &problem{code: codeRateLimited, retry: wait, message: fmt.Sprintf(
		"Trop de tentatives d'authentification échouées %s. Réessayez dans %s ; vérifiez la clé d'accès utilisée.", from, frenchWait(wait))}
}

// limitChecks bounds voucher checks per venue key and per address. It runs
// after require, which names the key.
func (s *server) limitChecks(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		now := s.limits.now()
		wait := s.limits.checksByKey.take(principal(c).Prefix, now)
		if wait == 0 {
			wait = s.limits.checksByAddress.take(clientAddress(c), now)
		}
		if wait > 0 {
			return &problem{code: codeRateLimited, retry: wait, message: fmt.Sprintf(
				"Trop de vérifications de chèques en peu de temps. Réessayez dans %s.", frenchWait(wait))}
		}
		return next(c)
	}
}

// retrySeconds is a wait as Retry-After wants it: whole seconds, rounded up.
func retrySeconds(wait time.Duration) int {
	return int(math.Ceil(wait.Seconds()))
}

func frenchWait(wait time.Duration) string {
	n := retrySeconds(wait)
	if n <= 1 {
		return "1 seconde"
	}
	return fmt.Sprintf("%d secondes", n)
}
