package voucher

import (
	"errors"
	"fmt"
	"math"
	"time"
	_ "time/tzdata" // Europe/Paris must load even on a machine without zoneinfo
)

// Day is a civil calendar date: the number of days since 1970-01-01, so it
// fits in two bytes of a code until 2149-06-06. A Day used as a validity
// bound covers the whole day in Europe/Paris, whatever the DST offset.
type Day uint16

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		// Unreachable: time/tzdata is linked in.
		panic("voucher: cannot load Europe/Paris: " + err.Error())
	}
	return loc
}()

// Paris is the time zone the programme's users read times in.
func Paris() *time.Location { return paris }

const secondsPerDay = 24 * 60 * 60

// civilDays counts days from 1970-01-01 to a date, in UTC where every day
// has exactly 86400 seconds (so the division is exact, even before 1970).
func civilDays(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

// DayOf returns the Day of a calendar date. It rejects dates that do not
// exist (2027-02-30) rather than normalising them, and dates outside
// 1970-01-01..2149-06-06.
func DayOf(y int, m time.Month, d int) (Day, error) {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		return 0, fmt.Errorf("voucher: %04d-%02d-%02d is not a calendar date", y, int(m), d)
	}
	n := civilDays(y, m, d)
	if n < 0 || n > math.MaxUint16 {
		return 0, fmt.Errorf("voucher: %04d-%02d-%02d is outside 1970-01-01..2149-06-06", y, int(m), d)
	}
	return Day(n), nil
}

// ParseDay reads an ISO 8601 calendar date, "2027-12-31", and nothing else.
func ParseDay(s string) (Day, error) {
	if len(s) != len("2006-01-02") {
		return 0, fmt.Errorf("voucher: date %q is not YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("voucher: date %q is not YYYY-MM-DD: %w", s, err)
	}
	return DayOf(t.Date())
}

// Date returns the calendar date of d.
func (d Day) Date() (year int, month time.Month, day int) {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
}

// String returns "2027-12-31".
func (d Day) String() string {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Format(time.DateOnly)
}

// Start is the first instant of the day in Europe/Paris.
func (d Day) Start() time.Time {
	y, m, dd := d.Date()
	return startOfDay(y, m, dd)
}

// End is the instant the day ends in Europe/Paris, exclusive: the start of
// the next day. A voucher valid until d is valid at t iff t.Before(d.End()),
// that is iff Today(t) <= d. Computing it from the next date, not
// Start()+24h, keeps DST days (23 or 25 hours long) right.
func (d Day) End() time.Time {
	y, m, dd := d.Date()
	return startOfDay(y, m, dd+1)
}

func startOfDay(y int, m time.Month, d int) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, paris)
	// When midnight happened twice (summer time ended at midnight in 1976)
	// time.Date may pick the second one; the day began at the first, and
	// Today must agree. Paris offsets have changed by whole hours since 1970.
	y, m, d = t.Date()
	for {
		e := t.Add(-time.Hour)
		if ey, em, ed := e.Date(); ey != y || em != m || ed != d {
			return t
		}
		t = e
	}
}

// Today returns the Day that contains now in Europe/Paris. Instants outside
// the range of Day are clamped to its ends, so that a bad clock makes
// everything expired or not yet valid rather than wrapping around.
func Today(now time.Time) Day {
	n := civilDays(now.In(paris).Date())
	switch {
	case n < 0:
		return 0
	case n > math.MaxUint16:
		return math.MaxUint16
	}
	return Day(n)
}

// MarshalText makes a Day read as "2027-12-31" in JSON and elsewhere.
func (d Day) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText accepts what MarshalText writes.
func (d *Day) UnmarshalText(b []byte) error {
	if d == nil {
		return errors.New("voucher: UnmarshalText on nil *Day")
	}
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AddDays returns the day n days after d (before it when n < 0), clamped
// to the days a Day can hold.
func (d Day) AddDays(n int) Day {
	return Day(min(max(int(d)+n, 0), math.MaxUint16))
}

// AddMonths returns the same day of the month n calendar months later,
// or that month's last day when it is shorter: a grace period of one month
// after 2027-01-31 ends on 2027-02-28, not on 3 March.
func (d Day) AddMonths(n int) Day {
	y, m, day := d.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return Day(min(max(civilDays(first.Year(), first.Month(), min(day, last)), 0), math.MaxUint16))
}

// FirstOfMonth returns the first day of d's month.
func (d Day) FirstOfMonth() Day {
	return d.AddDays(1 - d.dayOfMonth())
}

func (d Day) dayOfMonth() int {
	_, _, day := d.Date()
	return day
}

// French writes the day as French readers expect it: "26/11/2026".
func (d Day) French() string {
	y, m, day := d.Date()
	return fmt.Sprintf("%02d/%02d/%d", day, int(m), y)
}
