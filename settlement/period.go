package settlement

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Line kinds of a statement.
const (
	KindRedemption = "redemption"
	KindReversal   = "reversal"
	KindAdjustment = "adjustment"
)

// Line is one entry of a venue's statement: a redeemed voucher, its
// reversal, or an adjustment.
type Line struct {
	At           time.Time `json:"at"` // scan time, reversal time, or adjustment time
	Kind         string    `json:"kind"`
	RedemptionID int64     `json:"redemption_id,omitempty"`
	Serial       int64     `json:"serial,omitempty"`
	Number       string    `json:"number,omitempty"` // printed voucher number
	Label        string    `json:"label,omitempty"`  // an adjustment's reason
	AmountCents  int64     `json:"amount_cents"`     // negative for reversals
}

// Statement is what one venue is due from one département for a month.
type Statement struct {
	Venue           ledger.Venue `json:"-"`
	VenueID         int64        `json:"venue_id"`
	VenueName       string       `json:"venue_name"`
	Reference       string       `json:"reference"`
	Redemptions     int          `json:"redemptions"` // baskets accepted in the month
	GrossCents      int64        `json:"gross_cents"`
	ReversedCents   int64        `json:"reversed_cents"`
	AdjustmentCents int64        `json:"adjustment_cents"`
	CommissionCents int64        `json:"commission_cents"`
	NetCents        int64        `json:"net_cents"`
	// The venue as it is paid: for a closed month, as it was at closing
	// (frozen in the closing), whatever it became since.
	IBAN         string `json:"iban,omitempty"`
	BIC          string `json:"bic,omitempty"`
	VenueAddress string `json:"-"`
	Lines        []Line `json:"lines,omitempty"`
}

// Period is a département's month: its statements and totals, frozen if
// it is closed.
type Period struct {
	Department            string      `json:"department"`
	Month                 string      `json:"month"`
	FirstDay              string      `json:"first_day"`
	LastDay               string      `json:"last_day"`
	Closed                bool        `json:"closed"`
	ClosedAt              *time.Time  `json:"closed_at,omitempty"`
	ClosedBy              string      `json:"closed_by,omitempty"`
	CommissionBasisPoints int64       `json:"commission_basis_points"`
	GrossCents            int64       `json:"gross_cents"`
	ReversedCents         int64       `json:"reversed_cents"`
	AdjustmentCents       int64       `json:"adjustment_cents"`
	CommissionCents       int64       `json:"commission_cents"`
	NetCents              int64       `json:"net_cents"`
	Statements            []Statement `json:"statements"`

	dept  ledger.Department
	month Month
}

// Reference names a venue's statement, on paper and in the bank transfer.
func Reference(dept string, m Month, venueID int64) string {
	return fmt.Sprintf("REL-%s-%s-%04d", dept, m, venueID)
}

// Period computes a département's month as it stands: for a closed month,
// what was frozen (the lines are recomputed and must agree); for an open
// one, what would be paid if it closed now. Errors: not_found.
func (s *Service) Period(ctx context.Context, department string, m Month) (Period, error) {
	db := s.DB.Read(ctx)
	dept, err := findDepartment(db, department)
	if err != nil {
		return Period{}, err
	}
	var closed ledger.SettlementPeriod
	err = db.Where("department_code = ? AND first_day = ?", dept.Code, ledger.Date(m.FirstDay())).Take(&closed).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return compute(db, dept, m, dept.CommissionBasisPoints)
	case err != nil:
		return Period{}, err
	}
	p, err := compute(db, dept, m, closed.CommissionBasisPoints)
	if err != nil {
		return Period{}, err
	}
	var frozen []ledger.SettlementStatement
	if err := db.Where("period_id = ?", closed.ID).Find(&frozen).Error; err != nil {
		return Period{}, err
	}
	if err := p.agrees(closed, frozen); err != nil {
		return Period{}, err
	}
	closedAt := closed.ClosedAt.UTC()
	p.Closed, p.ClosedAt, p.ClosedBy = true, &closedAt, closed.ClosedBy
	return p, nil
}

// agrees checks a recomputed closed period against its frozen totals:
// they differ only if the database was changed behind the settlement.
func (p *Period) agrees(closed ledger.SettlementPeriod, frozen []ledger.SettlementStatement) error {
	byVenue := map[int64]ledger.SettlementStatement{}
	for _, f := range frozen {
		byVenue[f.VenueID] = f
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		f, ok := byVenue[st.VenueID]
		if !ok || f.NetCents != st.NetCents || f.GrossCents != st.GrossCents || f.ReversedCents != st.ReversedCents {
			return fmt.Errorf("settlement %s of département %s: venue %d's statement no longer matches what was closed: run 'passnum audit verify'",
				p.Month, p.Department, st.VenueID)
		}
		st.frozen(f)
	}
	if len(frozen) != len(p.Statements) || closed.NetCents != p.NetCents {
		return fmt.Errorf("settlement %s of département %s no longer matches what was closed: run 'passnum audit verify'", p.Month, p.Department)
	}
	return nil
}

// frozen shows a closed month's statement with the venue as it was at
// closing. Months closed before the name, address and BIC were frozen
// (migration 00007) have their IBAN only; the BIC then goes with the
// venue's current IBAN only if it is still the one paid.
func (st *Statement) frozen(f ledger.SettlementStatement) {
	if f.IBAN != nil {
		st.IBAN = *f.IBAN
	}
	if f.VenueName == nil {
		if deref(st.Venue.IBAN) != st.IBAN {
			st.BIC = ""
		}
		return
	}
	st.VenueName, st.VenueAddress, st.BIC = *f.VenueName, deref(f.VenueAddress), deref(f.BIC)
}

func findDepartment(db *gorm.DB, code string) (ledger.Department, error) {
	var d ledger.Department
	err := db.Where("code = ?", strings.ToUpper(code)).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return d, passnum.NotFound("there is no département %s", code)
	}
	return d, err
}

// compute builds a month's statements from the redemptions accepted in it,
// their reversals and the adjustments that count in it.
func compute(db *gorm.DB, dept ledger.Department, m Month, bp int64) (Period, error) {
	var items []struct {
		RedemptionID  int64
		VenueID       int64
		Status        string
		ScannedAt     time.Time
		ReversedAt    *time.Time
		VoucherSerial int64
		ValueCents    int64
	}
	err := db.Raw(`SELECT r.id AS redemption_id, r.venue_id, r.status, r.scanned_at, r.reversed_at, i.voucher_serial, i.value_cents
		FROM redemptions r
		JOIN redemption_items i ON i.redemption_id = r.id
		JOIN vouchers v ON v.serial = i.voucher_serial
		JOIN batches b ON b.id = v.batch_id
		WHERE r.created_at >= ? AND r.created_at < ? AND b.department_code = ?
		ORDER BY r.venue_id, r.scanned_at, r.id, i.voucher_serial`, m.Start(), m.End(), dept.Code).Scan(&items).Error
	if err != nil {
		return Period{}, fmt.Errorf("read the redemptions of %s: %w", m, err)
	}
	var adjustments []ledger.SettlementAdjustment
	if err := db.Where("department_code = ? AND period_first_day = ?", dept.Code, ledger.Date(m.FirstDay())).
		Order("venue_id, id").Find(&adjustments).Error; err != nil {
		return Period{}, err
	}
	byVenue := map[int64]*Statement{}
	statement := func(venue int64) *Statement {
		st := byVenue[venue]
		if st == nil {
			st = &Statement{VenueID: venue, Reference: Reference(dept.Code, m, venue)}
			byVenue[venue] = st
		}
		return st
	}
	lastRedemption := int64(0)
	for _, it := range items {
		st := statement(it.VenueID)
		if it.RedemptionID != lastRedemption {
			st.Redemptions++
			lastRedemption = it.RedemptionID
		}
		number := voucher.FormatNumber(uint64(it.VoucherSerial))
		st.Lines = append(st.Lines, Line{At: it.ScannedAt.UTC(), Kind: KindRedemption, RedemptionID: it.RedemptionID,
			Serial: it.VoucherSerial, Number: number, AmountCents: it.ValueCents})
		st.GrossCents += it.ValueCents
		if it.Status == string(ledger.RedemptionReversed) && it.ReversedAt != nil {
			st.Lines = append(st.Lines, Line{At: it.ReversedAt.UTC(), Kind: KindReversal, RedemptionID: it.RedemptionID,
				Serial: it.VoucherSerial, Number: number, AmountCents: -it.ValueCents})
			st.ReversedCents += it.ValueCents
		}
	}
	for _, a := range adjustments {
		st := statement(a.VenueID)
		st.Lines = append(st.Lines, Line{At: a.CreatedAt.UTC(), Kind: KindAdjustment, RedemptionID: derefOr(a.RedemptionID),
			Label: a.Reason, AmountCents: a.AmountCents})
		st.AdjustmentCents += a.AmountCents
	}
	p := Period{Department: dept.Code, Month: m.String(), FirstDay: m.FirstDay().String(), LastDay: m.LastDay().String(),
		CommissionBasisPoints: bp, Statements: make([]Statement, 0, len(byVenue)), dept: dept, month: m}
	ids := make([]int64, 0, len(byVenue))
	for id := range byVenue {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var venues []ledger.Venue
	if len(ids) > 0 {
		if err := db.Where("id IN ?", ids).Order("id").Find(&venues).Error; err != nil {
			return Period{}, err
		}
	}
	for _, v := range venues {
		st := byVenue[v.ID]
		st.Venue, st.VenueName, st.VenueAddress, st.IBAN, st.BIC = v, v.Name, v.Address, deref(v.IBAN), deref(v.BIC)
		slices.SortStableFunc(st.Lines, func(a, b Line) int { return a.At.Compare(b.At) })
		base := st.GrossCents - st.ReversedCents + st.AdjustmentCents
		st.CommissionCents = Commission(max(base, 0), bp)
		st.NetCents = base - st.CommissionCents
		p.Statements = append(p.Statements, *st)
		p.GrossCents += st.GrossCents
		p.ReversedCents += st.ReversedCents
		p.AdjustmentCents += st.AdjustmentCents
		p.CommissionCents += st.CommissionCents
		p.NetCents += st.NetCents
	}
	return p, nil
}

func derefOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Close freezes a département's month: its totals and each venue's
// statement are stored and recorded in the ledger; from then on no
// reversal touches it. A venue whose month ends negative (an adjustment
// took back more than it redeemed) is paid nothing and the balance is
// carried to the next month as an adjustment.
// Errors: not_found, and the conflicts period_not_over, period_closed and
// period_order.
func (s *Service) Close(ctx context.Context, department string, m Month, actor string) (Period, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	if now.Before(m.End().Add(CloseDelay)) {
		return Period{}, passnum.Errorf(passnum.KindConflict, EPeriodOpen, "%s can be closed from %s (Europe/Paris), once every redemption of the month has been recorded",
			m, m.Next().FirstDay().Start().Add(CloseDelay).Format("2006-01-02 15:04"))
	}
	var out Period
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		dept, err := findDepartment(tx.DB, department)
		if err != nil {
			return err
		}
		if err := tx.LockDepartments(true, dept.Code); err != nil {
			return err
		}
		var done int64
		if err := tx.Model(&ledger.SettlementPeriod{}).Where("department_code = ? AND first_day = ?", dept.Code, ledger.Date(m.FirstDay())).
			Count(&done).Error; err != nil {
			return err
		}
		if done > 0 {
			return passnum.Errorf(passnum.KindConflict, EPeriodClosed, "%s of département %s is already closed", m, dept.Code)
		}
		if err := checkOrder(tx.DB, dept.Code, m); err != nil {
			return err
		}
		p, err := compute(tx.DB, dept, m, dept.CommissionBasisPoints)
		if err != nil {
			return err
		}
		// A negative balance is settled by a pair of adjustments: one
		// brings this month to zero, the other takes it back next month.
		next, carried := m.Next(), false
		for _, st := range p.Statements {
			if st.NetCents >= 0 {
				continue
			}
			if _, err := adjust(tx, now, dept.Code, st.VenueID, -st.NetCents, fmt.Sprintf("Solde négatif reporté sur %s", next), nil, m, actor); err != nil {
				return err
			}
			if _, err := adjust(tx, now, dept.Code, st.VenueID, st.NetCents, fmt.Sprintf("Solde négatif reporté de %s", m), nil, next, actor); err != nil {
				return err
			}
			carried = true
		}
		if carried {
			if p, err = compute(tx.DB, dept, m, dept.CommissionBasisPoints); err != nil {
				return err
			}
		}
		closed := ledger.SettlementPeriod{DepartmentCode: dept.Code, FirstDay: ledger.Date(m.FirstDay()), LastDay: ledger.Date(m.LastDay()),
			CommissionBasisPoints: p.CommissionBasisPoints, Venues: len(p.Statements), GrossCents: p.GrossCents,
			ReversedCents: p.ReversedCents, AdjustmentCents: p.AdjustmentCents, CommissionCents: p.CommissionCents,
			NetCents: p.NetCents, ClosedAt: now, ClosedBy: actor}
		if err := tx.Create(&closed).Error; err != nil {
			return err
		}
		data := ledger.SettlementClosed{ID: closed.ID, Department: dept.Code, FirstDay: p.FirstDay, LastDay: p.LastDay,
			CommissionBasisPoints: p.CommissionBasisPoints, GrossCents: p.GrossCents, ReversedCents: p.ReversedCents,
			AdjustmentCents: p.AdjustmentCents, CommissionCents: p.CommissionCents, NetCents: p.NetCents,
			Statements: make([]ledger.SettledVenue, 0, len(p.Statements))}
		for _, st := range p.Statements {
			row := ledger.SettlementStatement{PeriodID: closed.ID, VenueID: st.VenueID, Reference: st.Reference,
				Redemptions: st.Redemptions, GrossCents: st.GrossCents, ReversedCents: st.ReversedCents,
				AdjustmentCents: st.AdjustmentCents, CommissionCents: st.CommissionCents, NetCents: st.NetCents,
				IBAN: optional(st.IBAN), BIC: optional(st.BIC), VenueName: &st.VenueName, VenueAddress: &st.VenueAddress}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			data.Statements = append(data.Statements, ledger.SettledVenue{VenueID: st.VenueID, Reference: st.Reference,
				Redemptions: st.Redemptions, GrossCents: st.GrossCents, ReversedCents: st.ReversedCents,
				AdjustmentCents: st.AdjustmentCents, CommissionCents: st.CommissionCents, NetCents: st.NetCents, IBAN: st.IBAN,
				BIC: st.BIC, VenueName: st.VenueName, VenueAddress: st.VenueAddress})
		}
		p.Closed, p.ClosedAt, p.ClosedBy = true, &now, actor
		out = p
		return tx.Append(ledger.Record{Entity: "settlement", EntityID: strconv.FormatInt(closed.ID, 10),
			Department: dept.Code, Actor: actor, At: now, Data: data})
	})
	return out, err
}

// checkOrder refuses to close a month while an earlier month with activity
// is open: payments go out in order, and a gap would leave money unpaid.
func checkOrder(db *gorm.DB, dept string, m Month) error {
	var last ledger.SettlementPeriod
	err := db.Where("department_code = ? AND first_day < ?", dept, ledger.Date(m.FirstDay())).Order("first_day DESC").Limit(1).Find(&last).Error
	if err != nil {
		return err
	}
	from := time.Time{}
	fromDay := voucher.Day(0)
	if last.ID != 0 {
		fromDay = last.LastDay.Day().AddDays(1)
		from = fromDay.Start().UTC()
	}
	var earliest []struct{ CreatedAt time.Time }
	if err := db.Raw(`SELECT r.created_at FROM redemptions r
		JOIN redemption_items i ON i.redemption_id = r.id
		JOIN vouchers v ON v.serial = i.voucher_serial
		JOIN batches b ON b.id = v.batch_id
		WHERE b.department_code = ? AND r.created_at >= ? AND r.created_at < ?
		ORDER BY r.created_at LIMIT 1`, dept, from, m.Start()).Scan(&earliest).Error; err != nil {
		return err
	}
	var adj []ledger.Date
	if err := db.Model(&ledger.SettlementAdjustment{}).Where("department_code = ? AND period_first_day >= ? AND period_first_day < ?",
		dept, ledger.Date(fromDay), ledger.Date(m.FirstDay())).Order("period_first_day").Limit(1).Pluck("period_first_day", &adj).Error; err != nil {
		return err
	}
	var open Month
	switch {
	case len(earliest) > 0:
		open = MonthAt(earliest[0].CreatedAt)
		if len(adj) > 0 && MonthOf(adj[0].Day()).FirstDay() < open.FirstDay() {
			open = MonthOf(adj[0].Day())
		}
	case len(adj) > 0:
		open = MonthOf(adj[0].Day())
	default:
		return nil
	}
	return passnum.Errorf(passnum.KindConflict, EPeriodOrder, "%s of département %s is still open and has redemptions or adjustments: close it first", open, dept)
}

// Adjust records a correction for a venue (positive: paid more; negative:
// taken back), counted in the current month. A reference to the redemption
// it corrects is optional. Errors: invalid, not_found.
func (s *Service) Adjust(ctx context.Context, department string, venueID, amountCents int64, reason string, redemptionID *int64, actor string) (ledger.SettlementAdjustment, error) {
	reason, err := passnum.Reason("chèque 0000 0001 952 payé deux fois en octobre").Check(reason)
	if err != nil {
		return ledger.SettlementAdjustment{}, err
	}
	if amountCents == 0 || amountCents > 100_000_00 || amountCents < -100_000_00 {
		return ledger.SettlementAdjustment{}, passnum.Invalid("an adjustment is a non-zero amount of at most 100 000 EUR either way")
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	var out ledger.SettlementAdjustment
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		dept, err := findDepartment(tx.DB, department)
		if err != nil {
			return err
		}
		if err := tx.LockDepartments(false, dept.Code); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&ledger.Venue{}).Where("id = ?", venueID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return passnum.NotFound("there is no venue %d", venueID)
		}
		if redemptionID != nil {
			if err := tx.Model(&ledger.Redemption{}).Where("id = ? AND venue_id = ?", *redemptionID, venueID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return passnum.NotFound("venue %d has no redemption %d", venueID, *redemptionID)
			}
		}
		out, err = adjust(tx, now, dept.Code, venueID, amountCents, reason, redemptionID, MonthAt(now), actor)
		return err
	})
	return out, err
}

func adjust(tx *ledger.Tx, now time.Time, dept string, venueID, amount int64, reason string, redemptionID *int64, m Month, actor string) (ledger.SettlementAdjustment, error) {
	var closed int64
	if err := tx.Model(&ledger.SettlementPeriod{}).Where("department_code = ? AND first_day = ?", dept, ledger.Date(m.FirstDay())).Count(&closed).Error; err != nil {
		return ledger.SettlementAdjustment{}, err
	}
	if closed > 0 {
		return ledger.SettlementAdjustment{}, passnum.Errorf(passnum.KindConflict, EPeriodClosed, "%s of département %s is closed: an adjustment goes to an open month", m, dept)
	}
	a := ledger.SettlementAdjustment{DepartmentCode: dept, VenueID: venueID, AmountCents: amount, Reason: reason,
		RedemptionID: redemptionID, PeriodFirstDay: ledger.Date(m.FirstDay()), CreatedAt: now, CreatedBy: actor}
	if err := tx.Create(&a).Error; err != nil {
		return a, err
	}
	return a, tx.Append(ledger.Record{Entity: "adjustment", EntityID: strconv.FormatInt(a.ID, 10),
		Department: dept, Actor: actor, At: now, Data: ledger.SettlementAdjusted{ID: a.ID, Department: dept, VenueID: venueID,
			AmountCents: amount, Reason: reason, RedemptionID: derefOr(redemptionID), PeriodFirstDay: m.FirstDay().String()}})
}

// Periods lists a département's closed periods, newest first.
func (s *Service) Periods(ctx context.Context, department string) ([]ledger.SettlementPeriod, error) {
	var ps []ledger.SettlementPeriod
	q := s.DB.Read(ctx).Order("first_day DESC, department_code")
	if department != "" {
		q = q.Where("department_code = ?", strings.ToUpper(department))
	}
	err := q.Find(&ps).Error
	return ps, err
}

// VenueStatement returns one venue's statement of a period; false if the
// venue had no activity in it.
func (p *Period) VenueStatement(venueID int64) (Statement, bool) {
	i, ok := slices.BinarySearchFunc(p.Statements, venueID, func(s Statement, id int64) int { return cmp.Compare(s.VenueID, id) })
	if !ok {
		return Statement{}, false
	}
	return p.Statements[i], true
}
