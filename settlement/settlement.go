// Package settlement pays venues: per département and calendar month, each
// venue's statement lists its redemptions, reversals and adjustments and
// the net amount due; closing a period freezes it and records its totals in
// the ledger; exports are CSV, a PDF statement per venue and a SEPA credit
// transfer file for the département's paying office.
//
// A redemption belongs to the month (Europe/Paris) in which the server
// accepted it, never the scan time: an offline basket scanned on the 31st
// and sent on the 1st is paid the next month, so a closed month never gains
// a late redemption. A reversal counts in its redemption's month, and is
// refused once that month is closed; a later correction is an adjustment in
// a later, open month.
package settlement

import (
	"fmt"
	"strings"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// CloseDelay is how long after a month ends it can be closed. A redemption
// takes its time when its request starts and commits within the server's
// write timeout (at most a minute); waiting longer than that means every
// redemption of the month has committed before the totals are summed,
// without making redemptions take any lock.
const CloseDelay = 15 * time.Minute

// Error codes beside the generic ones.
const (
	EPeriodOpen   = "period_not_over" // the month is not over (plus CloseDelay)
	EPeriodClosed = "period_closed"
	EPeriodOrder  = "period_order" // an earlier month with activity is still open
	ENoPayer      = "payer_missing"
	ENoIBAN       = "iban_missing" // a venue to pay has no IBAN
)

// Service computes, closes and exports settlement periods. Its "now" is the
// ledger's clock (DB.Now, Tx.Now).
type Service struct {
	DB *ledger.DB
}

// Month is a settlement period: one calendar month in Europe/Paris.
type Month struct {
	Year  int
	Month time.Month
}

// The months a settlement can cover: every day of them must be a
// voucher.Day (1970-01-01..2149-06-06). A month outside is refused, never
// read as another one: Month{0, 1} would otherwise become 1970-01.
var (
	firstMonth = Month{1970, time.January}
	lastMonth  = Month{2149, time.May}
)

// ParseMonth reads "2026-10". Its message is the one every edge shows.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	m := Month{t.Year(), t.Month()}
	if err != nil || len(s) != 7 || m.before(firstMonth) || lastMonth.before(m) {
		if len(s) > 16 {
			s = s[:16] + "…"
		}
		return Month{}, passnum.Invalid("« %s » n'est pas un mois possible : écrivez-le AAAA-MM, entre %s et %s, par exemple 2026-10.",
			strings.ToValidUTF8(s, "?"), firstMonth, lastMonth)
	}
	return m, nil
}

func (m Month) before(o Month) bool {
	return m.Year < o.Year || m.Year == o.Year && m.Month < o.Month
}

// MonthOf is the month holding a day.
func MonthOf(d voucher.Day) Month {
	y, m, _ := d.Date()
	return Month{y, m}
}

// MonthAt is the month (Europe/Paris) holding an instant.
func MonthAt(t time.Time) Month { return MonthOf(voucher.Today(t)) }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// FirstDay and LastDay bound the month.
func (m Month) FirstDay() voucher.Day {
	d, _ := voucher.DayOf(m.Year, m.Month, 1)
	return d
}

func (m Month) LastDay() voucher.Day { return m.Next().FirstDay().AddDays(-1) }

// Previous is the month before m.
func (m Month) Previous() Month { return MonthOf(m.FirstDay().AddMonths(-1)) }

// Next is the month after m.
func (m Month) Next() Month { return MonthOf(m.FirstDay().AddMonths(1)) }

// Start and End are the instants the month begins and the next begins, in
// UTC: SQLite compares the stored UTC text, so a query's bounds must be UTC too.
func (m Month) Start() time.Time { return m.FirstDay().Start().UTC() }
func (m Month) End() time.Time   { return m.Next().FirstDay().Start().UTC() }

// ClosableFrom is when the month may be closed: CloseDelay after it ends,
// in Europe/Paris.
func (m Month) ClosableFrom() time.Time { return m.Next().FirstDay().Start().Add(CloseDelay) }

// Commission is the programme's share of a venue's base amount, rounded to
// the nearest cent (halves away from zero), in integer arithmetic.
func Commission(baseCents, basisPoints int64) int64 {
	n := baseCents * basisPoints
	if n >= 0 {
		return (n + 5000) / 10000
	}
	return -((-n + 5000) / 10000)
}
