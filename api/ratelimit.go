package api

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
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
	// pages' login, or a refused pairing code) per client address. The
	// secret is always checked first and the right one always admitted:
	// only failures are counted, and only the failing address is held
	// back. A limit that refused before checking, or per key, would let
	// anyone who knows a key's prefix (it is public: ledger export, logs)
	// or shares an address with its holder lock that key out.
	FailedAuthPerAddress Limit
	// Voucher checks (POST /api/v1/vouchers/check) per venue key and per
	// client address: a check is the oracle someone holding a venue key
	// would ask, and a volunteer never needs more than a few a second.
	ChecksPerKey     Limit
	ChecksPerAddress Limit
	// Baskets (POST /api/v1/redemptions) per venue, all its devices' keys
	// together: a venue can make itself new keys (pairing, rolling) but
	// not new venues. Each refused basket's answer is stored for a day
	// (redemption.AnswerRetention), so this bounds what one venue can make
	// the database hold (docs/RELIABILITY.md, "8. Storage cannot be
	// filled…"). A basket held back is not recorded; the scanner keeps it
	// and sends it again later.
	RedemptionsPerVenue Limit
	// Invitations (POST /api/v1/invitations) per person or key: each sends
	// an email, and a manager's stolen session must not make the
	// installation's mail server a source of spam. Zero: the default.
	InvitationsPerCaller Limit
	// Clock is the limits' time (nil: time.Now). Not the programme's clock,
	// which tests move by days: a limit counts seconds of real time.
	Clock func() time.Time
}

// DefaultRateLimits are far above what a venue or a département does by
// hand and far below what a script guessing would need.
var DefaultRateLimits = RateLimits{
	FailedAuthPerAddress: Limit{Burst: 20, Every: 6 * time.Second}, // then 10 a minute
	ChecksPerKey:         Limit{Burst: 120, Every: 500 * time.Millisecond},
	ChecksPerAddress:     Limit{Burst: 600, Every: 100 * time.Millisecond}, // a venue's devices share one address behind its box
	// A day's offline queue at once, then one basket every 30 seconds: a
	// session of 30 beneficiaries is 30 baskets in an hour or so.
	RedemptionsPerVenue: Limit{Burst: 120, Every: 30 * time.Second},
	// A structure's whole team at once, then one a minute.
	InvitationsPerCaller: Limit{Burst: 50, Every: time.Minute},
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
	// latest is the latest time a request brought. Callers read the time
	// before they wait for mu; one that waited behind later requests
	// arrives at latest, not at its own older time, which would count the
	// requests served meanwhile as a burst it made.
	latest time.Time
}

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, full: map[string]time.Time{}}
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
	if now.Before(l.latest) {
		now = l.latest
	}
	l.latest = now
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
	authByAddress                *limiter
	checksByKey, checksByAddress *limiter
	redemptionsByVenue           *limiter
	invitationsByCaller          *limiter
}

func newLimiters(r RateLimits) *limiters {
	l := &limiters{now: r.Clock,
		authByAddress: newLimiter(r.FailedAuthPerAddress),
		checksByKey:   newLimiter(r.ChecksPerKey), checksByAddress: newLimiter(r.ChecksPerAddress),
		redemptionsByVenue: newLimiter(r.RedemptionsPerVenue),
	}
	if r.InvitationsPerCaller == (Limit{}) {
		r.InvitationsPerCaller = DefaultRateLimits.InvitationsPerCaller
	}
	l.invitationsByCaller = newLimiter(r.InvitationsPerCaller)
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

// authFailed counts a failed authentication of the client's address and
// returns the error to answer: err itself, or 429 while the address is over
// its limit. It runs only once the secret was checked and refused, so the
// holder of the right secret is never held back, whatever others sent.
func (s *server) authFailed(c echo.Context, err error) error {
	if wait := s.limits.authByAddress.take(clientAddress(c), s.limits.now()); wait > 0 {
		s.metrics.RateLimited("failed_authentications_by_address")
		return authLimited(wait)
	}
	return err
}

func authLimited(wait time.Duration) *problem {
	return rateLimited(wait, "Trop de tentatives d'authentification échouées depuis votre adresse. Réessayez dans %s ; vérifiez la clé d'accès utilisée.")
}

// rateLimited is the 429 answer to wait; message has a %s for how long.
func rateLimited(wait time.Duration, message string) *problem {
	return &problem{kind: passnum.KindRateLimited, code: codeRateLimited, retry: wait, message: fmt.Sprintf(message, frenchWait(wait))}
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
			s.metrics.RateLimited("checks")
			return rateLimited(wait, "Trop de vérifications de chèques en peu de temps. Réessayez dans %s.")
		}
		return next(c)
	}
}

// limitRedemptions bounds the baskets of the caller's venue. It runs after
// require, which admits only venue keys, before the basket is read: a
// basket held back is neither judged nor stored.
func (s *server) limitRedemptions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if wait := s.limits.redemptionsByVenue.take(strconv.FormatInt(principal(c).VenueID, 10), s.limits.now()); wait > 0 {
			s.metrics.RateLimited("baskets_by_venue")
			return rateLimited(wait, "Trop de paniers envoyés en peu de temps par votre structure. Réessayez dans %s : ce panier n'est pas enregistré, renvoyez-le tel quel.")
		}
		return next(c)
	}
}

// limitInvitations bounds the invitations of one person (all their
// organisations together) or key. It runs after require.
func (s *server) limitInvitations(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principal(c)
		who := "key:" + p.Prefix
		if p.Account != 0 {
			who = "account:" + strconv.FormatInt(p.Account, 10)
		}
		if wait := s.limits.invitationsByCaller.take(who, s.limits.now()); wait > 0 {
			s.metrics.RateLimited("invitations")
			return rateLimited(wait, "Trop d’invitations envoyées en peu de temps. Réessayez dans %s : cette invitation n’est pas faite.")
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
