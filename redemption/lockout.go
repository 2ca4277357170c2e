package redemption

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"passnum/ledger"
)

// A verification code is 40 bits: guessing one takes about a trillion
// tries, but a venue typing wrong codes again and again is either lost or
// trying its luck. Its manual entry is refused for a while (ManualEntryLimit
// wrong entries within ManualEntryWindow), counted in the database so that
// every server replica agrees, and its départements are told: the lock is a
// ledger event they see in GET /api/v1/warnings.

// LockoutNoticeDays is how long a lockout stays in the départements'
// warnings after it began, so that staff who look once a week still see it.
const LockoutNoticeDays = 7

// recordManualFailures writes the wrong manual entries among items, and
// appends venue.manual_entry_locked when they lock the venue out. The
// caller (judgeCounted) holds the venue's lock and counted the failures
// already in the window (before). Entries refused because the venue was
// out of attempts are not counted (they were never compared), so a lock
// ends on its own once the window passes.
func (s *Service) recordManualFailures(tx *ledger.Tx, venue venueState, items []Item, before int64, now time.Time) error {
	wrong := 0
	for _, it := range items {
		if it.Manual && it.Reason == ReasonInvalidCode {
			wrong++
		}
	}
	if wrong == 0 {
		return nil
	}
	limit, window := s.manualLimit()
	rows := make([]ledger.ManualEntryFailure, wrong)
	for i := range rows {
		rows[i] = ledger.ManualEntryFailure{VenueID: venue.ID, At: now}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return err
	}
	after := before + int64(wrong)
	if before >= int64(limit) || after < int64(limit) {
		return nil
	}
	until, err := lockedUntil(tx, venue.ID, limit, window, now)
	if err != nil {
		return err
	}
	departments := make([]string, 0, len(venue.labels))
	for d := range venue.labels {
		departments = append(departments, d)
	}
	slices.Sort(departments)
	return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(venue.ID, 10),
		Actor: "system:manual-entry-limit", At: now,
		Data: ledger.ManualEntryLocked{VenueID: venue.ID, Departments: departments, Failures: int(after),
			WindowSeconds: int64(window / time.Second), LockedUntil: until.Format(time.RFC3339Nano)}})
}

// lockedUntil is when a venue locked out of manual entry may type again:
// the lock lasts until fewer than limit failures are left in the window,
// that is until the limit-th most recent one is window old.
func lockedUntil(tx *ledger.Tx, venueID int64, limit int, window time.Duration, now time.Time) (time.Time, error) {
	var times []time.Time
	if err := tx.Model(&ledger.ManualEntryFailure{}).Where("venue_id = ? AND at > ?", venueID, now.Add(-window)).
		Order("at DESC").Offset(limit-1).Limit(1).Pluck("at", &times).Error; err != nil {
		return time.Time{}, err
	}
	if len(times) == 1 {
		return times[0].UTC().Add(window), nil
	}
	return now.Add(window), nil
}

// tellWait gives the items refused unread (rate_limited) the real wait,
// in whole minutes rounded up: "a few minutes" leaves the volunteer
// guessing whether to wait or to send the person away.
func (s *Service) tellWait(tx *ledger.Tx, venueID int64, items []Item, now time.Time) error {
	if !slices.ContainsFunc(items, func(it Item) bool { return it.Reason == ReasonRateLimited }) {
		return nil
	}
	limit, window := s.manualLimit()
	until, err := lockedUntil(tx, venueID, limit, window, now)
	if err != nil {
		return err
	}
	text := lockedMessage(until.Sub(now))
	for i := range items {
		if items[i].Reason == ReasonRateLimited {
			items[i].Message = text
		}
	}
	return nil
}

// Lockout is a venue locked out of manual entry, as its départements see it.
type Lockout struct {
	VenueID     int64     `json:"venue_id"`
	VenueName   string    `json:"venue_name"`
	Departments []string  `json:"departments"`
	LockedAt    time.Time `json:"locked_at"`
	LockedUntil time.Time `json:"locked_until"`
	Failures    int       `json:"failures"`
	Active      bool      `json:"active"`  // still locked now
	Message     string    `json:"message"` // in French, for the département's staff
}

// Lockouts lists the lockouts of the last LockoutNoticeDays, most recent
// first, of the venues of a département ("" for all).
func (s *Service) Lockouts(ctx context.Context, department string) ([]Lockout, error) {
	now := s.DB.Now()
	var events []ledger.Event
	// The type is written out, not bound, for the partial index on it
	// (migration 00006) to be used whatever the plan.
	err := s.DB.Read(ctx).Where("type = '"+ledger.EventManualEntryLocked+"' AND created_at > ?", now.AddDate(0, 0, -LockoutNoticeDays)).
		Order("created_at DESC, id DESC").Find(&events).Error
	if err != nil {
		return nil, err
	}
	out := []Lockout{}
	names := map[int64]string{}
	for _, ev := range events {
		var d ledger.ManualEntryLocked
		if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", ev.ID, ev.Type, err)
		}
		if department != "" && !slices.Contains(d.Departments, department) {
			continue
		}
		until, err := time.Parse(time.RFC3339Nano, d.LockedUntil)
		if err != nil {
			return nil, fmt.Errorf("event %d (%s): locked_until: %w", ev.ID, ev.Type, err)
		}
		name, ok := names[d.VenueID]
		if !ok {
			var v ledger.Venue
			if err := s.DB.Read(ctx).Select("name").Where("id = ?", d.VenueID).Take(&v).Error; err != nil {
				return nil, err
			}
			name, names[d.VenueID] = v.Name, v.Name
		}
		l := Lockout{VenueID: d.VenueID, VenueName: name, Departments: d.Departments, LockedAt: ev.CreatedAt.UTC(),
			LockedUntil: until, Failures: d.Failures, Active: now.Before(until)}
		l.Message = lockoutMessage(l, d.WindowSeconds)
		out = append(out, l)
	}
	return out, nil
}

func lockoutMessage(l Lockout, windowSeconds int64) string {
	at, until := parisClock(l.LockedAt), parisClock(l.LockedUntil)
	return fmt.Sprintf("La structure « %s » (n° %d) a saisi %d numéros ou codes de vérification erronés en %d minutes : "+
		"sa saisie manuelle a été bloquée le %s à %s, jusqu'à %s. Si ce n'est pas une erreur de bonne foi, contactez-la "+
		"ou suspendez-la.", l.VenueName, l.VenueID, l.Failures, windowSeconds/60, frenchDay(l.LockedAt), at, until)
}

// parisClock is the time of day in Paris, as the venue's staff read it.
func parisClock(t time.Time) string {
	return t.In(paris).Format("15:04")
}
