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
	"passnum/foureyes"
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
	Department   string     `json:"department"`
	Month        string     `json:"month"`
	FirstDay     string     `json:"first_day"`
	LastDay      string     `json:"last_day"`
	Closed       bool       `json:"closed"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	ClosedBy     string     `json:"closed_by,omitempty"`
	ClosableFrom *time.Time `json:"closable_from,omitempty"` // an open month: when it may be closed, the months' order aside
	// CloseAskedBy asked for the closing of an open month, which awaits
	// a second person (the département's close_four_eyes) since
	// CloseAskedAt.
	CloseAskedBy          string      `json:"close_asked_by,omitempty"`
	CloseAskedAt          *time.Time  `json:"close_asked_at,omitempty"`
	CommissionBasisPoints int64       `json:"commission_basis_points"`
	GrossCents            int64       `json:"gross_cents"`
	ReversedCents         int64       `json:"reversed_cents"`
	AdjustmentCents       int64       `json:"adjustment_cents"`
	CommissionCents       int64       `json:"commission_cents"`
	NetCents              int64       `json:"net_cents"`
	Statements            []Statement `json:"statements"`
	// DepartmentName is the département's name, as the PDF statements
	// and the pages show it.
	DepartmentName string `json:"department_name"`

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
		p, err := compute(db, dept, m, dept.CommissionBasisPoints, 0)
		if err != nil {
			return Period{}, err
		}
		from := m.ClosableFrom().UTC()
		p.ClosableFrom = &from
		asked, err := foureyes.Find(db, dept.Code, foureyes.Close(m.String()))
		if asked != nil {
			at := asked.RequestedAt.UTC()
			p.CloseAskedBy, p.CloseAskedAt = asked.RequestedBy, &at
		}
		return p, err
	case err != nil:
		return Period{}, err
	}
	return computeClosed(db, dept, m, closed, 0)
}

// computeClosed recomputes a closed month, of one venue or (venueID 0)
// of every venue, and checks it against what was frozen.
func computeClosed(db *gorm.DB, dept ledger.Department, m Month, closed ledger.SettlementPeriod, venueID int64) (Period, error) {
	p, err := compute(db, dept, m, closed.CommissionBasisPoints, venueID)
	if err != nil {
		return Period{}, err
	}
	q := db.Where("period_id = ?", closed.ID)
	if venueID != 0 {
		q = q.Where("venue_id = ?", venueID)
	}
	var frozen []ledger.SettlementStatement
	if err := q.Find(&frozen).Error; err != nil {
		return Period{}, err
	}
	if err := p.agrees(closed, frozen, venueID == 0); err != nil {
		return Period{}, err
	}
	closedAt := closed.ClosedAt.UTC()
	p.Closed, p.ClosedAt, p.ClosedBy = true, &closedAt, closed.ClosedBy
	return p, nil
}

// agrees checks a recomputed closed period against its frozen totals:
// they differ only if the database was changed behind the settlement.
// Only a whole period is checked against the period's total.
func (p *Period) agrees(closed ledger.SettlementPeriod, frozen []ledger.SettlementStatement, whole bool) error {
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
	if len(frozen) != len(p.Statements) || whole && closed.NetCents != p.NetCents {
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
		return d, passnum.NotFound("Le département %s n'existe pas dans le programme.", strings.ToUpper(code))
	}
	return d, err
}

// compute builds a month's statements from the redemptions accepted in it,
// their reversals and the adjustments that count in it: every venue's, or
// (venueID not 0) that venue's only.
func compute(db *gorm.DB, dept ledger.Department, m Month, bp, venueID int64) (Period, error) {
	var items []struct {
		RedemptionID  int64
		VenueID       int64
		Status        string
		ScannedAt     time.Time
		ReversedAt    *time.Time
		VoucherSerial int64
		ValueCents    int64
	}
	where, args := "", []any{m.Start(), m.End(), dept.Code}
	if venueID != 0 {
		where, args = "AND r.venue_id = ?", append(args, venueID)
	}
	err := db.Raw(`SELECT r.id AS redemption_id, r.venue_id, r.status, r.scanned_at, r.reversed_at, i.voucher_serial, i.value_cents
		FROM redemptions r
		JOIN redemption_items i ON i.redemption_id = r.id
		JOIN vouchers v ON v.serial = i.voucher_serial
		JOIN batches b ON b.id = v.batch_id
		WHERE r.created_at >= ? AND r.created_at < ? AND b.department_code = ? `+where+`
		ORDER BY r.venue_id, r.scanned_at, r.id, i.voucher_serial`, args...).Scan(&items).Error
	if err != nil {
		return Period{}, fmt.Errorf("read the redemptions of %s: %w", m, err)
	}
	var adjustments []ledger.SettlementAdjustment
	q := db.Where("department_code = ? AND period_first_day = ?", dept.Code, ledger.Date(m.FirstDay()))
	if venueID != 0 {
		q = q.Where("venue_id = ?", venueID)
	}
	if err := q.Order("venue_id, id").Find(&adjustments).Error; err != nil {
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
	p := Period{Department: dept.Code, DepartmentName: dept.Name, Month: m.String(), FirstDay: m.FirstDay().String(), LastDay: m.LastDay().String(),
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
// carried to the next month as an adjustment. When the département wants
// four eyes on closing (close_four_eyes), the first call only asks: the
// month stays open, the returned period says who asked (CloseAskedBy),
// and another person's call closes it (package foureyes).
// Errors: not_found, forbidden (the one who asked confirming), and the
// conflicts period_not_over, period_closed and period_order.
func (s *Service) Close(ctx context.Context, department string, m Month, actor string) (Period, error) {
	var out Period
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if from := m.ClosableFrom(); now.Before(from) {
			return passnum.Errorf(passnum.KindConflict, EPeriodOpen, "Le mois %s ne peut être clos qu'à partir du %s à %s (heure de Paris), quand tous ses encaissements sont enregistrés.",
				m, voucher.Today(from).French(), from.Format("15:04"))
		}
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
			return passnum.Errorf(passnum.KindConflict, EPeriodClosed, "Le mois %s du département %s est déjà clos.", m, dept.Code)
		}
		if err := checkOrder(tx.DB, dept.Code, m); err != nil {
			return err
		}
		p, err := compute(tx.DB, dept, m, dept.CommissionBasisPoints, 0)
		if err != nil {
			return err
		}
		// With four eyes, the first call asks and the month stays open;
		// another person's call confirms and closes.
		requestedBy := ""
		if dept.CloseFourEyes {
			subject := foureyes.Close(m.String())
			asked, err := foureyes.Find(tx.DB, dept.Code, subject)
			if err != nil {
				return err
			}
			if asked == nil {
				r, err := foureyes.Ask(tx, dept.Code, subject, map[string]string{"month": m.String()}, actor)
				if err != nil {
					return err
				}
				at := r.RequestedAt.UTC()
				p.CloseAskedBy, p.CloseAskedAt = r.RequestedBy, &at
				out = p
				return nil
			}
			r, err := foureyes.Confirm(tx, dept.Code, subject, actor)
			if err != nil {
				return err
			}
			requestedBy = r.RequestedBy
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
			if p, err = compute(tx.DB, dept, m, dept.CommissionBasisPoints, 0); err != nil {
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
			Statements: make([]ledger.SettledVenue, 0, len(p.Statements)), RequestedBy: requestedBy}
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

// RefuseClose drops a closing asked for and not yet confirmed, with a
// reason (the one who asked withdraws it so); the month stays open.
// Errors: not_found, nothing_asked, invalid (reason).
func (s *Service) RefuseClose(ctx context.Context, department string, m Month, reason, actor string) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		dept, err := findDepartment(tx.DB, department)
		if err != nil {
			return err
		}
		if err := tx.LockDepartments(true, dept.Code); err != nil {
			return err
		}
		_, err = foureyes.Refuse(tx, dept.Code, foureyes.Close(m.String()), reason, actor)
		return err
	})
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
	return passnum.Errorf(passnum.KindConflict, EPeriodOrder, "Le mois %s du département %s, qui a des encaissements ou des ajustements, est encore ouvert : les mois se clôturent dans l'ordre.", open, dept)
}

// Adjust records a correction for a venue (positive: paid more; negative:
// taken back), counted in the current month. A reference to the redemption
// it corrects is optional. The venue must be labelled for the paying
// département (whatever the label's status now): a département pays only
// its own venues. Errors: invalid, not_found, period_closed.
func (s *Service) Adjust(ctx context.Context, department string, venueID, amountCents int64, reason string, redemptionID *int64, actor string) (ledger.SettlementAdjustment, error) {
	reason, err := passnum.Reason("chèque 0000 0001 952 payé deux fois en octobre").Check(reason)
	if err != nil {
		return ledger.SettlementAdjustment{}, err
	}
	if amountCents == 0 || amountCents > 100_000_00 || amountCents < -100_000_00 {
		return ledger.SettlementAdjustment{}, passnum.Invalid("Un ajustement est un montant non nul d'au plus 100 000,00 € : positif pour payer plus, négatif pour reprendre.")
	}
	var out ledger.SettlementAdjustment
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
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
			return passnum.NotFound("Le lieu %d n'existe pas dans le programme.", venueID)
		}
		if err := tx.Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = ?", venueID, dept.Code).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return passnum.Invalid("Le lieu %d n'est pas labellisé pour le département %s : un ajustement ne porte que sur un lieu du département qui paie.", venueID, dept.Code)
		}
		if redemptionID != nil {
			if err := tx.Model(&ledger.Redemption{}).Where("id = ? AND venue_id = ?", *redemptionID, venueID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return passnum.NotFound("Le lieu %d n'a pas d'encaissement %d.", venueID, *redemptionID)
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
		return ledger.SettlementAdjustment{}, passnum.Errorf(passnum.KindConflict, EPeriodClosed, "Le mois %s du département %s est déjà clos : un ajustement compte dans un mois encore ouvert.", m, dept)
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

// VenueStatement is one département's part of a venue's month.
type VenueStatement struct {
	Department            string
	DepartmentName        string
	Closed                bool
	CommissionBasisPoints int64
	Statement
}

// VenueStatements is what one venue is due for a month, from each
// département that labels it (whatever the label's status) and where it
// had activity, by département code: what the scanner page shows as "what
// you will be reimbursed". Only that venue's redemptions are read. An open
// month may still change (reversals, adjustments); a closed one is checked
// against what was frozen, as Period does. Errors: not_found.
func (s *Service) VenueStatements(ctx context.Context, venueID int64, m Month) ([]VenueStatement, error) {
	db := s.DB.Read(ctx)
	var n int64
	if err := db.Model(&ledger.Venue{}).Where("id = ?", venueID).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, passnum.NotFound("Le lieu %d n'existe pas dans le programme.", venueID)
	}
	var depts []ledger.Department
	if err := db.Where("code IN (?)", db.Model(&ledger.VenueDepartment{}).Select("department_code").Where("venue_id = ?", venueID)).
		Order("code").Find(&depts).Error; err != nil {
		return nil, err
	}
	out := []VenueStatement{}
	for _, dept := range depts {
		var closed ledger.SettlementPeriod
		err := db.Where("department_code = ? AND first_day = ?", dept.Code, ledger.Date(m.FirstDay())).Take(&closed).Error
		var p Period
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			p, err = compute(db, dept, m, dept.CommissionBasisPoints, venueID)
		case err == nil:
			p, err = computeClosed(db, dept, m, closed, venueID)
		}
		if err != nil {
			return nil, err
		}
		if st, ok := p.VenueStatement(venueID); ok {
			out = append(out, VenueStatement{Department: dept.Code, DepartmentName: dept.Name, Closed: p.Closed,
				CommissionBasisPoints: p.CommissionBasisPoints, Statement: st})
		}
	}
	return out, nil
}
