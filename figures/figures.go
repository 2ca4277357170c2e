// Package figures computes what funders and auditors read about a
// programme: per département, batch, venue and month, where the chéquiers
// and the money are as of one day, with the invariant that accounts for
// every voucher issued.
//
// Definitions, as of a day AsOf (Europe/Paris):
//
//   - Printed: the chéquiers of the batch. Handed out: those ever activated
//     (a chéquier lost by its beneficiary was handed out, even if void now);
//     for a batch that does not require activation, every chéquier. Not
//     handed out: printed − handed out, so it includes a chéquier voided
//     before it left the office. Started: a chéquier with at least one
//     voucher redeemed.
//   - Issued: the current vouchers (vouchers.replaced_by IS NULL). A
//     replaced voucher is void and its replacement is a new row of the
//     same value at the same place: counting every row would issue that
//     value twice.
//   - Redeemed, voided: current vouchers with status redeemed, void.
//     Expired: status active or inactive and the batch's valid_until
//     before AsOf. Outstanding: active or inactive, still valid on AsOf.
//   - Unused: issued − redeemed, in euros: the value due back to the
//     funder at the programme's end (outstanding vouchers included, since
//     they may still expire).
//   - Redemptions per venue and month: baskets the server accepted and
//     that were not reversed, in the month (Europe/Paris) of their
//     acceptance (redemptions.created_at), the rule of settlement.
//
// AsOf decides which unused vouchers count as expired and each batch's
// stage. Every other figure is the database as it stands: the statuses of
// a past day are not reconstructed.
//
// The invariant issued = outstanding + redeemed + voided + expired is
// checked per batch, département and in total, in counts and in cents.
// The cents are not all derived from the counts, or the check would prove
// nothing: issued cents are the value the batch was ordered for
// (batches.total_cents), redeemed cents the money venues were credited for
// its vouchers (redemption items of accepted redemptions), the others face
// value × count. So the invariant in cents fails if voucher rows are
// missing or extra, or if the redeemed vouchers and the money paid for them
// disagree.
package figures

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/printing"
	"passnum/redemption"
	"passnum/settlement"
	"passnum/voucher"
)

// Service computes figures from the database; it only reads.
type Service struct {
	DB *ledger.DB
}

// Filter chooses the figures.
type Filter struct {
	Department string      // a département's code; "" for all
	AsOf       voucher.Day // the day the figures are for (required)
}

// Counts are the figures of a batch, a département or the whole programme.
// Money is in cents; RedemptionRate is for display only.
type Counts struct {
	ChequiersPrinted      int64 `json:"chequiers_printed"`
	ChequiersHandedOut    int64 `json:"chequiers_handed_out"`
	ChequiersNotHandedOut int64 `json:"chequiers_not_handed_out"`
	ChequiersStarted      int64 `json:"chequiers_started"`
	// ChequiersUntracked are the chéquiers of batches without activation:
	// their hand-over is not recorded ("remise non suivie"), so they are
	// neither handed out nor not handed out.
	ChequiersUntracked int64 `json:"chequiers_untracked"`

	VouchersIssued      int64 `json:"vouchers_issued"`
	IssuedCents         int64 `json:"issued_cents"`
	VouchersRedeemed    int64 `json:"vouchers_redeemed"`
	RedeemedCents       int64 `json:"redeemed_cents"`
	VouchersVoided      int64 `json:"vouchers_voided"`
	VoidedCents         int64 `json:"voided_cents"`
	VouchersExpired     int64 `json:"vouchers_expired"`
	ExpiredCents        int64 `json:"expired_cents"`
	VouchersOutstanding int64 `json:"vouchers_outstanding"`
	OutstandingCents    int64 `json:"outstanding_cents"`
	// UnusedCents is issued − redeemed: due back to the funder at the end.
	UnusedCents int64 `json:"unused_cents"`
	// RedemptionRate is redeemed cents over issued cents (0 to 1), as the
	// PDF prints it; never use it to compute money.
	RedemptionRate float64 `json:"redemption_rate"`
	// InvariantHolds says issued = outstanding + redeemed + voided +
	// expired, in count and in cents.
	InvariantHolds bool `json:"invariant_holds"`
	// LateVouchers and LateCents are the redeemed vouchers of late
	// redemptions (redemption.Late), a part of the redeemed ones.
	LateVouchers int64 `json:"late_vouchers"`
	LateCents    int64 `json:"late_cents"`
}

// DepartmentFigures are one département's figures.
type DepartmentFigures struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Counts
}

// BatchFigures are one batch's figures.
type BatchFigures struct {
	ID                  int64         `json:"id"`
	Department          string        `json:"department"`
	FaceValueCents      int64         `json:"face_value_cents"`
	ChequiersOrdered    int64         `json:"chequiers_ordered"`
	VouchersPerChequier int64         `json:"vouchers_per_chequier"`
	RequiresActivation  bool          `json:"requires_activation"`
	ProgrammeEnd        string        `json:"programme_end"`
	ValidUntil          string        `json:"valid_until"`
	Stage               issuing.Stage `json:"stage"`
	Counts
}

// VenueFigures is what a venue redeemed of the vouchers in scope.
type VenueFigures struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Redemptions int64  `json:"redemptions"` // accepted baskets holding at least one voucher in scope
	Vouchers    int64  `json:"vouchers"`
	Cents       int64  `json:"cents"`
	// Late redemptions (redemption.Late) among them, and their cents.
	LateRedemptions int64 `json:"late_redemptions"`
	LateCents       int64 `json:"late_cents"`
}

// MonthFigures is one month (Europe/Paris) of activity.
type MonthFigures struct {
	Month       string `json:"month"` // "2026-10"
	Redemptions int64  `json:"redemptions"`
	Vouchers    int64  `json:"vouchers"`
	Cents       int64  `json:"cents"`
	Activations int64  `json:"activations"` // chéquiers handed over in the month
	// Late redemptions (redemption.Late) among them, and their cents.
	LateRedemptions int64 `json:"late_redemptions"`
	LateCents       int64 `json:"late_cents"`
}

// SettlementFigures is a closed settlement period, as frozen at closing.
type SettlementFigures struct {
	Department      string    `json:"department"`
	Month           string    `json:"month"`
	Venues          int       `json:"venues"`
	GrossCents      int64     `json:"gross_cents"`
	ReversedCents   int64     `json:"reversed_cents"`
	AdjustmentCents int64     `json:"adjustment_cents"`
	CommissionCents int64     `json:"commission_cents"`
	NetCents        int64     `json:"net_cents"`
	ClosedAt        time.Time `json:"closed_at"`
}

// Figures is the whole report.
type Figures struct {
	AsOf        string              `json:"as_of"`
	Department  string              `json:"department"` // "" for all
	Total       Counts              `json:"total"`
	Departments []DepartmentFigures `json:"departments"`
	Batches     []BatchFigures      `json:"batches"`
	Structures  []StructureFigures  `json:"structures"` // the distribution structures' funnel, by département then name
	Communes    []CommuneFigures    `json:"communes"`   // the same per commune, by département then commune
	// FunnelMonths is the funnel of the chéquiers structures received each
	// month, oldest first.
	FunnelMonths []FunnelMonth       `json:"funnel_months"`
	Venues       []VenueFigures      `json:"venues"` // by cents redeemed, most first, then id
	Months       []MonthFigures      `json:"months"` // every month from the first activity to the last, oldest first
	Settlements  []SettlementFigures `json:"settlements"`
	// Warnings, in French for the département's staff: discrepancies first,
	// then the programme timeline.
	Warnings []string `json:"warnings"`
}

// Compute reads the figures as of f.AsOf. Errors: invalid (no day),
// not_found (unknown département).
func (s *Service) Compute(ctx context.Context, f Filter) (Figures, error) {
	if f.AsOf == 0 {
		return Figures{}, passnum.Invalid("Les chiffres sont arrêtés à un jour : dites lequel, par exemple 2026-11-26.")
	}
	dept := strings.ToUpper(strings.TrimSpace(f.Department))
	var out Figures
	// One read-only snapshot: the figures come from several queries, and a
	// redemption committing between two of them would break the invariant
	// for no real reason. ledger.DB.Tx is not used because on SQLite it
	// takes the write lock, which a report has no need to hold.
	err := s.DB.Read(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = compute(tx, s.DB.Dialect(), dept, f.AsOf)
		return err
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return out, err
}

// batchRow is a batch with what the queries found about it.
type batchRow struct {
	ledger.Batch
	statuses     map[ledger.VoucherStatus]int64 // current vouchers per status
	started      int64
	printed      int64
	activated    int64
	waiting      int64 // chéquiers still to be handed over (status issued)
	paidVouchers int64 // items of accepted redemptions
	paidCents    int64
	lateVouchers int64 // items of late accepted redemptions
	lateCents    int64
}

func compute(tx *gorm.DB, dialect ledger.Dialect, dept string, asOf voucher.Day) (Figures, error) {
	out := Figures{AsOf: asOf.String(), Department: dept}
	depts, err := departments(tx, dept)
	if err != nil {
		return out, err
	}
	codes := make([]string, len(depts))
	for i, d := range depts {
		codes[i] = d.Code
	}
	var batches []ledger.Batch
	if err := tx.Where("department_code IN ?", codes).Order("department_code, id").Find(&batches).Error; err != nil {
		return out, fmt.Errorf("read the batches: %w", err)
	}
	rows := make([]*batchRow, len(batches))
	byID := make(map[int64]*batchRow, len(batches))
	ids := make([]int64, len(batches))
	for i := range batches {
		rows[i] = &batchRow{Batch: batches[i], statuses: map[ledger.VoucherStatus]int64{}}
		byID[batches[i].ID] = rows[i]
		ids[i] = batches[i].ID
	}
	if len(ids) > 0 {
		if err := readBatches(tx, ids, byID); err != nil {
			return out, err
		}
		if out.Venues, out.Months, err = activity(tx, dialect, ids, byID); err != nil {
			return out, err
		}
	}
	if out.Settlements, err = settlements(tx, codes); err != nil {
		return out, err
	}
	if out.Structures, out.Communes, out.FunnelMonths, err = structures(tx, codes, byID, asOf); err != nil {
		return out, err
	}

	perDept := map[string]*Counts{}
	for _, d := range depts {
		perDept[d.Code] = &Counts{}
	}
	var gaps []string
	for _, b := range rows {
		bf := b.batchFigures(asOf)
		out.Batches = append(out.Batches, bf)
		perDept[b.DepartmentCode].add(bf.Counts)
		gaps = append(gaps, b.discrepancies(bf.Counts)...)
	}
	for _, d := range depts {
		c := *perDept[d.Code]
		c.finish()
		out.Departments = append(out.Departments, DepartmentFigures{Code: d.Code, Name: d.Name, Counts: c})
		out.Total.add(c)
		if !c.InvariantHolds {
			gaps = append(gaps, fmt.Sprintf("Département %s : les chèques émis (%s) ne sont pas la somme des chèques en circulation, utilisés, annulés et expirés (%s). Chiffres à vérifier avant toute restitution.",
				d.Code, countAndEuros(c.VouchersIssued, c.IssuedCents), countAndEuros(c.accountedVouchers(), c.accountedCents())))
		}
	}
	out.Total.finish()
	out.Warnings = append(append(gaps, lateWarnings(out.Venues)...), timelineWarnings(rows, asOf)...)
	// Empty lists, not null, for the readers of the JSON.
	out.Departments, out.Batches, out.Structures = orEmpty(out.Departments), orEmpty(out.Batches), orEmpty(out.Structures)
	out.Communes, out.FunnelMonths = orEmpty(out.Communes), orEmpty(out.FunnelMonths)
	out.Venues, out.Months = orEmpty(out.Venues), orEmpty(out.Months)
	out.Settlements, out.Warnings = orEmpty(out.Settlements), orEmpty(out.Warnings)
	return out, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// departments reads the département asked for, or all of them.
func departments(tx *gorm.DB, code string) ([]ledger.Department, error) {
	var ds []ledger.Department
	q := tx.Order("code")
	if code != "" {
		q = q.Where("code = ?", code)
	}
	if err := q.Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("read the départements: %w", err)
	}
	if code != "" && len(ds) == 0 {
		return nil, passnum.NotFound("Le département %s n'existe pas dans le programme.", code)
	}
	return ds, nil
}

// readBatches fills in the vouchers and chéquiers of the batches, each
// figure by one aggregate query; activity fills in their money.
func readBatches(tx *gorm.DB, ids []int64, byID map[int64]*batchRow) error {
	var statuses []struct {
		BatchID int64
		Status  ledger.VoucherStatus
		N       int64
	}
	if err := tx.Raw(`SELECT batch_id, status, COUNT(*) AS n FROM vouchers
		WHERE replaced_by IS NULL AND batch_id IN ? GROUP BY batch_id, status`, ids).Scan(&statuses).Error; err != nil {
		return fmt.Errorf("count the vouchers: %w", err)
	}
	for _, s := range statuses {
		byID[s.BatchID].statuses[s.Status] = s.N
	}

	var started []struct{ BatchID, N int64 }
	if err := tx.Raw(`SELECT batch_id, COUNT(DISTINCT chequier_id) AS n FROM vouchers
		WHERE status = ? AND replaced_by IS NULL AND batch_id IN ? GROUP BY batch_id`, ledger.VoucherRedeemed, ids).Scan(&started).Error; err != nil {
		return fmt.Errorf("count the started chéquiers: %w", err)
	}
	for _, s := range started {
		byID[s.BatchID].started = s.N
	}

	var chequiers []struct{ BatchID, Printed, Activated, Waiting int64 }
	if err := tx.Raw(`SELECT batch_id, COUNT(*) AS printed,
			CAST(SUM(CASE WHEN activated_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS activated,
			CAST(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS BIGINT) AS waiting
		FROM chequiers WHERE batch_id IN ? GROUP BY batch_id`, ledger.ChequierIssued, ids).Scan(&chequiers).Error; err != nil {
		return fmt.Errorf("count the chéquiers: %w", err)
	}
	for _, c := range chequiers {
		b := byID[c.BatchID]
		b.printed, b.activated, b.waiting = c.Printed, c.Activated, c.Waiting
	}
	return nil
}

// batchFigures turns what was read about a batch into its figures.
func (b *batchRow) batchFigures(asOf voucher.Day) BatchFigures {
	face := b.FaceValueCents
	var c Counts
	c.ChequiersPrinted = b.printed
	c.ChequiersHandedOut = b.activated
	if !b.RequiresActivation {
		// Usable from the start: nothing records when, or whether, they
		// were handed over; counting them handed out would report
		// hand-overs that may never have happened.
		c.ChequiersHandedOut, c.ChequiersUntracked = 0, b.printed
	}
	c.ChequiersNotHandedOut = c.ChequiersPrinted - c.ChequiersHandedOut - c.ChequiersUntracked
	c.ChequiersStarted = b.started
	for _, n := range b.statuses {
		c.VouchersIssued += n
	}
	c.IssuedCents = b.TotalCents
	c.VouchersRedeemed, c.RedeemedCents = b.statuses[ledger.VoucherRedeemed], b.paidCents
	c.LateVouchers, c.LateCents = b.lateVouchers, b.lateCents
	c.VouchersVoided = b.statuses[ledger.VoucherVoid]
	c.VoidedCents = face * c.VouchersVoided
	unused := b.statuses[ledger.VoucherActive] + b.statuses[ledger.VoucherInactive]
	if b.ValidUntil.Day() < asOf {
		c.VouchersExpired, c.ExpiredCents = unused, face*unused
	} else {
		c.VouchersOutstanding, c.OutstandingCents = unused, face*unused
	}
	c.finish()
	return BatchFigures{ID: b.ID, Department: b.DepartmentCode, FaceValueCents: face,
		ChequiersOrdered: int64(b.ChequierCount), VouchersPerChequier: int64(b.VouchersPerChequier),
		RequiresActivation: b.RequiresActivation, ProgrammeEnd: b.ProgrammeEnd.String(), ValidUntil: b.ValidUntil.String(),
		Stage: issuing.TimelineOf(&b.Batch, asOf).Stage, Counts: c}
}

// discrepancies says, in French, what in a batch's figures does not add
// up: the invariant, and the reasons it may fail.
func (b *batchRow) discrepancies(c Counts) []string {
	var out []string
	ordered := int64(b.ChequierCount) * int64(b.VouchersPerChequier)
	if c.ChequiersPrinted != int64(b.ChequierCount) || c.VouchersIssued != ordered {
		out = append(out, fmt.Sprintf("Lot %d — %s : la base compte %d chéquier(s) et %d chèque(s) en cours pour %d chéquier(s) de %d chèques commandés.",
			b.ID, b.DepartmentCode, c.ChequiersPrinted, c.VouchersIssued, b.ChequierCount, b.VouchersPerChequier))
	}
	if b.paidVouchers != c.VouchersRedeemed || b.paidCents != b.FaceValueCents*c.VouchersRedeemed {
		out = append(out, fmt.Sprintf("Lot %d — %s : %d chèque(s) sont marqués utilisés, mais les encaissements acceptés en comptent %d pour %s.",
			b.ID, b.DepartmentCode, c.VouchersRedeemed, b.paidVouchers, euros(b.paidCents)))
	}
	if !c.InvariantHolds {
		out = append(out, fmt.Sprintf("Lot %d — %s : les chèques émis (%s) ne sont pas la somme des chèques en circulation, utilisés, annulés et expirés (%s). Chiffres à vérifier avant toute restitution.",
			b.ID, b.DepartmentCode, countAndEuros(c.VouchersIssued, c.IssuedCents), countAndEuros(c.accountedVouchers(), c.accountedCents())))
	}
	return out
}

// add sums the figures of o into c; finish must follow.
func (c *Counts) add(o Counts) {
	c.ChequiersPrinted += o.ChequiersPrinted
	c.ChequiersHandedOut += o.ChequiersHandedOut
	c.ChequiersNotHandedOut += o.ChequiersNotHandedOut
	c.ChequiersStarted += o.ChequiersStarted
	c.ChequiersUntracked += o.ChequiersUntracked
	c.VouchersIssued += o.VouchersIssued
	c.IssuedCents += o.IssuedCents
	c.VouchersRedeemed += o.VouchersRedeemed
	c.RedeemedCents += o.RedeemedCents
	c.VouchersVoided += o.VouchersVoided
	c.VoidedCents += o.VoidedCents
	c.VouchersExpired += o.VouchersExpired
	c.ExpiredCents += o.ExpiredCents
	c.VouchersOutstanding += o.VouchersOutstanding
	c.OutstandingCents += o.OutstandingCents
	c.LateVouchers += o.LateVouchers
	c.LateCents += o.LateCents
}

// finish computes the figures derived from the others.
func (c *Counts) finish() {
	c.UnusedCents = c.IssuedCents - c.RedeemedCents
	c.RedemptionRate = 0
	if c.IssuedCents > 0 {
		c.RedemptionRate = float64(c.RedeemedCents) / float64(c.IssuedCents)
	}
	c.InvariantHolds = c.VouchersIssued == c.accountedVouchers() && c.IssuedCents == c.accountedCents()
}

func (c *Counts) accountedVouchers() int64 {
	return c.VouchersOutstanding + c.VouchersRedeemed + c.VouchersVoided + c.VouchersExpired
}

func (c *Counts) accountedCents() int64 {
	return c.OutstandingCents + c.RedeemedCents + c.VoidedCents + c.ExpiredCents
}

// activity reads the redemptions per venue and month and the activations
// per month of the batches' vouchers, and the money paid for each batch.
//
// The month of an instant is taken in Europe/Paris. SQLite stores
// timestamps as UTC text and has no time zone data, so rather than a
// dialect's date functions, one CASE expression over the months' UTC
// boundaries numbers the months; timestamps compare correctly in both
// dialects (settlement selects its months the same way).
func activity(tx *gorm.DB, dialect ledger.Dialect, ids []int64, byID map[int64]*batchRow) ([]VenueFigures, []MonthFigures, error) {
	months, err := monthRange(tx, ids)
	if err != nil || len(months) == 0 {
		return nil, nil, err
	}
	out := make([]MonthFigures, len(months))
	for i, m := range months {
		out[i].Month = m.String()
	}

	month, args := monthIndex("r.created_at", months)
	late, lateArgs := lateCondition(dialect, byID)
	args = append(args, lateArgs...)
	var redeemed []struct {
		Kind                                     string
		VenueID                                  int64
		MonthIndex                               int
		BatchID                                  int64
		Redemptions, Vouchers, Cents             int64
		LateRedemptions, LateVouchers, LateCents int64
	}
	// One pass over the accepted redemption items of the batches in scope
	// (the costly join) gives both the venue-month and the batch figures.
	// A basket may hold vouchers of several batches and départements: only
	// the items in scope count, and the basket once, on its first batch's
	// row (nth), so that the baskets add up without COUNT(DISTINCT) and
	// the sort it needs. A basket is late if any of its rows is.
	if err := tx.Raw(`WITH baskets AS MATERIALIZED (
			SELECT r.venue_id, `+month+` AS month_index, v.batch_id,
				COUNT(*) AS vouchers, SUM(i.value_cents) AS cents,
				ROW_NUMBER() OVER (PARTITION BY r.id ORDER BY v.batch_id) AS nth,
				MAX(CASE WHEN `+late+` THEN 1 ELSE 0 END) OVER (PARTITION BY r.id) AS late
			FROM redemptions r
			JOIN redemption_items i ON i.redemption_id = r.id
			JOIN vouchers v ON v.serial = i.voucher_serial
			WHERE r.status = ? AND v.batch_id IN ?
			GROUP BY r.id, r.venue_id, r.created_at, r.scanned_at, v.batch_id)
		SELECT 'venue_month' AS kind, venue_id, month_index, 0 AS batch_id,
			CAST(SUM(CASE WHEN nth = 1 THEN 1 ELSE 0 END) AS BIGINT) AS redemptions,
			CAST(SUM(vouchers) AS BIGINT) AS vouchers, CAST(SUM(cents) AS BIGINT) AS cents,
			CAST(SUM(CASE WHEN nth = 1 THEN late ELSE 0 END) AS BIGINT) AS late_redemptions,
			CAST(SUM(late * vouchers) AS BIGINT) AS late_vouchers, CAST(SUM(late * cents) AS BIGINT) AS late_cents
		FROM baskets GROUP BY venue_id, month_index
		UNION ALL
		SELECT 'batch', 0, 0, batch_id, 0, CAST(SUM(vouchers) AS BIGINT), CAST(SUM(cents) AS BIGINT),
			0, CAST(SUM(late * vouchers) AS BIGINT), CAST(SUM(late * cents) AS BIGINT)
		FROM baskets GROUP BY batch_id`, append(args, ledger.RedemptionAccepted, ids)...).Scan(&redeemed).Error; err != nil {
		return nil, nil, fmt.Errorf("sum the redemptions per venue, month and batch: %w", err)
	}
	venues := map[int64]*VenueFigures{}
	for _, r := range redeemed {
		if r.Kind == "batch" {
			b := byID[r.BatchID]
			b.paidVouchers, b.paidCents = r.Vouchers, r.Cents
			b.lateVouchers, b.lateCents = r.LateVouchers, r.LateCents
			continue
		}
		v := venues[r.VenueID]
		if v == nil {
			v = &VenueFigures{ID: r.VenueID}
			venues[r.VenueID] = v
		}
		v.Redemptions += r.Redemptions
		v.Vouchers += r.Vouchers
		v.Cents += r.Cents
		v.LateRedemptions += r.LateRedemptions
		v.LateCents += r.LateCents
		m := &out[r.MonthIndex]
		m.Redemptions += r.Redemptions
		m.Vouchers += r.Vouchers
		m.Cents += r.Cents
		m.LateRedemptions += r.LateRedemptions
		m.LateCents += r.LateCents
	}

	month, args = monthIndex("activated_at", months)
	var activations []struct {
		MonthIndex int
		N          int64
	}
	if err := tx.Raw(`SELECT `+month+` AS month_index, COUNT(*) AS n FROM chequiers
		WHERE activated_at IS NOT NULL AND batch_id IN ? GROUP BY month_index`, append(args, ids)...).Scan(&activations).Error; err != nil {
		return nil, nil, fmt.Errorf("count the activations per month: %w", err)
	}
	for _, a := range activations {
		out[a.MonthIndex].Activations += a.N
	}

	// The range came from every redemption: the months before the
	// first and after the last activity in scope are not the scope's.
	for len(out) > 0 && out[0].idle() {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1].idle() {
		out = out[:len(out)-1]
	}

	list := make([]VenueFigures, 0, len(venues))
	venueIDs := make([]int64, 0, len(venues))
	for id, v := range venues {
		list = append(list, *v)
		venueIDs = append(venueIDs, id)
	}
	var names []struct {
		ID   int64
		Name string
	}
	if len(venueIDs) > 0 {
		if err := tx.Raw(`SELECT id, name FROM venues WHERE id IN ?`, venueIDs).Scan(&names).Error; err != nil {
			return nil, nil, fmt.Errorf("read the venues: %w", err)
		}
	}
	name := make(map[int64]string, len(names))
	for _, n := range names {
		name[n.ID] = n.Name
	}
	for i := range list {
		list[i].Name = name[list[i].ID]
	}
	slices.SortFunc(list, func(a, b VenueFigures) int {
		return cmp.Or(cmp.Compare(b.Cents, a.Cents), cmp.Compare(a.ID, b.ID))
	})
	return list, out, nil
}

func (m *MonthFigures) idle() bool { return m.Redemptions == 0 && m.Activations == 0 }

// lateCondition is redemption.Late in SQL, on a row of redemption r and
// batch v.batch_id, with its arguments: received more than LateAfter after
// the scan (arithmetic on timestamps differs per dialect), or on or after
// the end of the batch's last valid day, passed in as one instant per
// distinct last day.
func lateCondition(dialect ledger.Dialect, byID map[int64]*batchRow) (string, []any) {
	delay := fmt.Sprintf("julianday(r.created_at) - julianday(r.scanned_at) > %g", redemption.LateAfter.Hours()/24)
	if dialect == ledger.Postgres {
		delay = fmt.Sprintf("r.created_at - r.scanned_at > interval '%d seconds'", int64(redemption.LateAfter/time.Second))
	}
	ends := map[voucher.Day][]int64{}
	for id, b := range byID {
		ends[b.ValidUntil.Day()] = append(ends[b.ValidUntil.Day()], id)
	}
	var args []any
	cond := []string{delay}
	for _, d := range slices.Sorted(maps.Keys(ends)) {
		cond = append(cond, "(v.batch_id IN ? AND r.created_at >= ?)")
		args = append(args, ends[d], d.End().UTC())
	}
	return "(" + strings.Join(cond, " OR ") + ")", args
}

// lateWarnings tells the département's staff which venues redeemed late.
func lateWarnings(venues []VenueFigures) []string {
	var out []string
	for _, v := range venues {
		if v.LateRedemptions > 0 {
			out = append(out, fmt.Sprintf("Structure « %s » (n° %d) : %d encaissement(s) tardif(s) pour %s, scannés hors ligne plus de 24 heures avant "+
				"leur envoi ou avec des chèques expirés à leur réception. Vérifiez auprès de la structure que son appareil était bien hors ligne.",
				v.Name, v.ID, v.LateRedemptions, euros(v.LateCents)))
		}
	}
	return out
}

// monthRange returns every month from the first redemption or activation
// to the last; none if there was neither. The bounds are read from whole
// columns, a superset of the scope, cheaply through their order.
func monthRange(tx *gorm.DB, ids []int64) ([]settlement.Month, error) {
	var bounds []time.Time
	for _, q := range []string{
		`SELECT created_at AS at FROM redemptions ORDER BY created_at LIMIT 1`,
		`SELECT created_at AS at FROM redemptions ORDER BY created_at DESC LIMIT 1`,
		`SELECT activated_at AS at FROM chequiers WHERE activated_at IS NOT NULL AND batch_id IN ? ORDER BY activated_at LIMIT 1`,
		`SELECT activated_at AS at FROM chequiers WHERE activated_at IS NOT NULL AND batch_id IN ? ORDER BY activated_at DESC LIMIT 1`,
	} {
		var args []any
		if strings.Contains(q, "IN ?") {
			args = append(args, ids)
		}
		// A column, not MIN(): SQLite returns an aggregate of timestamps
		// as bare text, a column with its declared type as a time.
		var row struct{ At *time.Time }
		if err := tx.Raw(q, args...).Scan(&row).Error; err != nil {
			return nil, fmt.Errorf("find the first and last activity: %w", err)
		}
		if row.At != nil {
			bounds = append(bounds, *row.At)
		}
	}
	if len(bounds) == 0 {
		return nil, nil
	}
	first := settlement.MonthAt(slices.MinFunc(bounds, time.Time.Compare))
	last := settlement.MonthAt(slices.MaxFunc(bounds, time.Time.Compare))
	var months []settlement.Month
	for m := first; m.FirstDay() <= last.FirstDay(); m = m.Next() {
		months = append(months, m)
	}
	return months, nil
}

// monthIndex returns an SQL expression giving the index in months of the
// month holding column, and its arguments. Every value of column must fall
// within the months.
func monthIndex(column string, months []settlement.Month) (string, []any) {
	if len(months) == 1 {
		return "0", nil
	}
	var b strings.Builder
	args := make([]any, 0, len(months))
	b.WriteString("CASE")
	for i, m := range months[:len(months)-1] {
		fmt.Fprintf(&b, " WHEN %s < ? THEN %d", column, i)
		args = append(args, m.End().UTC())
	}
	fmt.Fprintf(&b, " ELSE %d END", len(months)-1)
	return b.String(), args
}

// settlements reads the closed periods of the départements.
func settlements(tx *gorm.DB, codes []string) ([]SettlementFigures, error) {
	var periods []ledger.SettlementPeriod
	if err := tx.Where("department_code IN ?", codes).Order("first_day, department_code").Find(&periods).Error; err != nil {
		return nil, fmt.Errorf("read the settlement periods: %w", err)
	}
	out := make([]SettlementFigures, len(periods))
	for i, p := range periods {
		out[i] = SettlementFigures{Department: p.DepartmentCode, Month: settlement.MonthOf(p.FirstDay.Day()).String(),
			Venues: p.Venues, GrossCents: p.GrossCents, ReversedCents: p.ReversedCents, AdjustmentCents: p.AdjustmentCents,
			CommissionCents: p.CommissionCents, NetCents: p.NetCents, ClosedAt: p.ClosedAt.UTC()}
	}
	return out, nil
}

// timelineWarnings says which batches are ending, stopped distributing or
// in their grace period, as (*issuing.Service).Warnings does and in the
// same words, from the batches already read.
func timelineWarnings(rows []*batchRow, asOf voucher.Day) []string {
	warned := make([]*batchRow, 0, len(rows))
	for _, b := range rows {
		if issuing.TimelineOf(&b.Batch, asOf).Warned() {
			warned = append(warned, b)
		}
	}
	slices.SortStableFunc(warned, func(a, b *batchRow) int {
		return cmp.Or(cmp.Compare(a.ProgrammeEnd, b.ProgrammeEnd), cmp.Compare(a.ID, b.ID))
	})
	out := make([]string, len(warned))
	for i, b := range warned {
		out[i] = issuing.TimelineOf(&b.Batch, asOf).Message(b.ID, b.RequiresActivation, b.waiting)
	}
	return out
}

// euros writes cents the French way for the warnings: "1234,50 €".
func euros(cents int64) string {
	return strings.Replace(passnum.FormatEuros(cents), ".", ",", 1) + " €"
}

func countAndEuros(n, cents int64) string {
	return fmt.Sprintf("%d chèque(s), %s", n, euros(cents))
}

// maxReportMonths is how many months the PDF's chart holds.
const maxReportMonths = 48

// Title is the report's title, in French like the PDF: the one
// département's name, or all of them.
func (f Figures) Title() string {
	if f.Department != "" && len(f.Departments) == 1 {
		return fmt.Sprintf("Pass numérique — %s (%s)", f.Departments[0].Name, f.Department)
	}
	return "Pass numérique — tous départements"
}

// Report maps the figures to the programme report the PDF prints, under
// its Title; the chart keeps the last 48 months.
func (f Figures) Report(generatedAt time.Time) printing.ProgrammeReport {
	asOf, _ := voucher.ParseDay(f.AsOf) // zero if absent: the renderer says so
	r := printing.ProgrammeReport{Title: f.Title(), AsOf: asOf, GeneratedAt: generatedAt, Warnings: f.Warnings}
	// Funders read names, not codes: "Lot 3 — Yvelines", "Yvelines (78)".
	names := map[string]string{}
	for _, d := range f.Departments {
		names[d.Code] = d.Name
		r.Departments = append(r.Departments, figureRow(fmt.Sprintf("%s (%s)", d.Name, d.Code), d.Counts))
	}
	nameOf := func(code string) string {
		if n := names[code]; n != "" {
			return n
		}
		return code
	}
	for _, b := range f.Batches {
		r.Batches = append(r.Batches, figureRow(fmt.Sprintf("Lot %d — %s", b.ID, nameOf(b.Department)), b.Counts))
	}
	months := f.Months[max(len(f.Months)-maxReportMonths, 0):]
	for _, m := range months {
		r.Months = append(r.Months, printing.MonthRow{Month: m.Month, Vouchers: m.Vouchers, Cents: m.Cents})
	}
	for _, v := range f.Venues {
		name := v.Name
		if name == "" {
			name = "Lieu " + strconv.FormatInt(v.ID, 10)
		}
		r.TopVenues = append(r.TopVenues, printing.VenueRow{Name: name, Vouchers: v.Vouchers, Cents: v.Cents})
	}
	for _, s := range f.Settlements {
		department := s.Department
		if n := names[s.Department]; n != "" {
			department = fmt.Sprintf("%s (%s)", n, s.Department)
		}
		r.Settlements = append(r.Settlements, printing.SettlementRow{Period: s.Month, Department: department,
			Venues: s.Venues, NetCents: s.NetCents, Closed: true})
	}
	for _, st := range f.Structures {
		r.Structures = append(r.Structures, funnelRow(st.Name, st.Commune, 0, st.Funnel))
	}
	for _, c := range f.Communes {
		label := c.Commune
		if f.Department == "" {
			label = fmt.Sprintf("%s (%s)", c.Commune, c.Department)
		}
		r.Communes = append(r.Communes, funnelRow(label, "", c.Structures, c.Funnel))
	}
	for _, m := range f.FunnelMonths {
		r.ReceivedMonths = append(r.ReceivedMonths, funnelRow(m.Month, "", 0, m.Funnel))
	}
	return r
}

func funnelRow(label, place string, structures int, f Funnel) printing.FunnelRow {
	return printing.FunnelRow{Label: label, Place: place, Structures: structures, Received: f.Received, InStock: f.InStock,
		HandedOver: f.HandedOver, Started: f.Started, Finished: f.Finished, ExpiredUnused: f.ExpiredUnused, Voided: f.Voided, Untracked: f.Untracked}
}

func figureRow(label string, c Counts) printing.FigureRow {
	return printing.FigureRow{Label: label,
		ChequiersPrinted: c.ChequiersPrinted, ChequiersActivated: c.ChequiersHandedOut,
		ChequiersNotHandedOut: c.ChequiersNotHandedOut, ChequiersStarted: c.ChequiersStarted, ChequiersUntracked: c.ChequiersUntracked,
		VouchersIssued: c.VouchersIssued, IssuedCents: c.IssuedCents,
		VouchersRedeemed: c.VouchersRedeemed, RedeemedCents: c.RedeemedCents,
		VouchersVoided: c.VouchersVoided, VoidedCents: c.VoidedCents,
		VouchersExpired: c.VouchersExpired, ExpiredCents: c.ExpiredCents,
		VouchersOutstanding: c.VouchersOutstanding, OutstandingCents: c.OutstandingCents,
		UnusedCents: c.UnusedCents, InvariantHolds: c.InvariantHolds}
}
