// Package signals flags, for the auditors, redemptions that deserve a look,
// each with its evidence: what the Cour des comptes found missing in the
// control of which services public money paid for. A signal is not a
// verdict: a venue running a big event has a big week. Each rule is
// computed from the ledger's tables over a period, with thresholds that
// an auditor may tune (Thresholds); the rules and why each exists are in
// docs/operations.md ("Signals for auditors").
package signals

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/printing"
	"passnum/redemption"
	"passnum/voucher"
)

// The rules.
const (
	// VolumeSpike: a venue's week far above its usual weeks.
	VolumeSpike = "volume_spike"
	// WholeChequier: every voucher of a chéquier in one basket (a
	// chéquier is meant for several sessions).
	WholeChequier = "whole_chequier"
	// ManyVenues: vouchers of one chéquier redeemed at several venues on
	// one day (one person is in one place at a time).
	ManyVenues = "chequier_many_venues"
	// BeforeExpiry: a venue's redemptions bunched in the last days of
	// the vouchers' validity (a stock of vouchers spent before it is
	// lost, rather than sessions given).
	BeforeExpiry = "before_expiry"
	// OfflineConflicts: vouchers a venue accepted offline that had been
	// spent elsewhere first.
	OfflineConflicts = "offline_conflicts"
	// Late: redemptions reaching the server long after their scan, or
	// with vouchers expired on receipt (redemption.Late).
	Late = "late"
)

// names are the rules as the pages and the report say them.
var names = map[string]string{
	VolumeSpike:      "Semaine inhabituelle",
	WholeChequier:    "Chéquier entier d’un coup",
	ManyVenues:       "Un chéquier dans plusieurs lieux le même jour",
	BeforeExpiry:     "Encaissés juste avant l’expiration",
	OfflineConflicts: "Conflits hors ligne",
	Late:             "Encaissements arrivés en retard",
}

// Name is a rule in French.
func Name(rule string) string { return names[rule] }

// Thresholds tune the rules; the zero value of a field takes its default.
type Thresholds struct {
	// A week counts as a spike above SpikeFactor times the venue's median
	// of the SpikeHistory weeks before it, with at least SpikeMinVouchers
	// vouchers, and only for a venue active in SpikeMinActive of them.
	SpikeFactor      float64
	SpikeMinVouchers int
	SpikeHistory     int
	SpikeMinActive   int
	// BeforeExpiry: more than ExpiryShare of a venue's vouchers redeemed
	// in the ExpiryDays before their last valid day, with at least
	// ExpiryMinVouchers such vouchers.
	ExpiryDays        int
	ExpiryShare       float64
	ExpiryMinVouchers int
	// A venue with at least this many offline conflicts, or late
	// redemptions, in the period.
	MinConflicts int
	MinLate      int
}

// DefaultThresholds are the rules' defaults.
var DefaultThresholds = Thresholds{SpikeFactor: 3, SpikeMinVouchers: 20, SpikeHistory: 8, SpikeMinActive: 4,
	ExpiryDays: 7, ExpiryShare: 0.5, ExpiryMinVouchers: 10, MinConflicts: 1, MinLate: 1}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds
	pick := func(v, def float64) float64 {
		if v > 0 {
			return v
		}
		return def
	}
	t.SpikeFactor, t.ExpiryShare = pick(t.SpikeFactor, d.SpikeFactor), pick(t.ExpiryShare, d.ExpiryShare)
	for _, p := range []struct {
		v   *int
		def int
	}{{&t.SpikeMinVouchers, d.SpikeMinVouchers}, {&t.SpikeHistory, d.SpikeHistory},
		{&t.SpikeMinActive, d.SpikeMinActive}, {&t.ExpiryDays, d.ExpiryDays}, {&t.ExpiryMinVouchers, d.ExpiryMinVouchers},
		{&t.MinConflicts, d.MinConflicts}, {&t.MinLate, d.MinLate}} {
		if *p.v <= 0 {
			*p.v = p.def
		}
	}
	return t
}

// Signal is one flag with its evidence.
type Signal struct {
	Rule      string
	VenueID   int64
	VenueName string
	// Evidence says in French what was seen, with the figures.
	Evidence string
	// Redemptions are the redemptions behind it (at most maxShown).
	Redemptions []int64
	// At is when it happened: the first redemption's reception.
	At time.Time
}

const maxShown = 10

// Query is what to look at: redemptions received in [From, To), of the
// vouchers of Department's batches ("" for all).
type Query struct {
	Department string
	From, To   time.Time
	Thresholds Thresholds
}

// Service finds the signals.
type Service struct {
	DB *ledger.DB
}

// item is one redeemed voucher with what the rules need of it.
type item struct {
	redemption       int64
	venue            int64
	scanned, created time.Time
	serial, chequier int64
	perChequier      int
	validUntil       ledger.Date
}

// Find returns the period's signals, by rule then time. Errors: invalid
// (a period that is empty, or longer than two years).
func (s *Service) Find(ctx context.Context, q Query) ([]Signal, error) {
	switch {
	case !q.From.Before(q.To):
		return nil, passnum.Invalid("La période est vide : « du » doit être avant « au ».")
	case q.To.Sub(q.From) > 2*366*24*time.Hour:
		return nil, passnum.Invalid("La période dépasse deux ans : choisissez-en une plus courte.")
	}
	th := q.Thresholds.withDefaults()
	week := 7 * 24 * time.Hour
	history := q.From.Add(-time.Duration(th.SpikeHistory) * week)
	items, err := s.items(ctx, q.Department, history, q.To)
	if err != nil {
		return nil, err
	}
	names, err := s.venueNames(ctx)
	if err != nil {
		return nil, err
	}
	var inPeriod []item
	for _, it := range items {
		if !it.created.Before(q.From) {
			inPeriod = append(inPeriod, it)
		}
	}
	out := volumeSpikes(items, q, th)
	out = append(out, wholeChequiers(inPeriod)...)
	out = append(out, manyVenues(inPeriod)...)
	out = append(out, beforeExpiry(inPeriod, th)...)
	out = append(out, late(inPeriod, th)...)
	conflicts, err := s.offlineConflicts(ctx, q, th)
	if err != nil {
		return nil, err
	}
	out = append(out, conflicts...)
	for i := range out {
		out[i].VenueName = names[out[i].VenueID]
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].At.Before(out[j].At)
	})
	return out, nil
}

func (s *Service) items(ctx context.Context, department string, from, to time.Time) ([]item, error) {
	type row struct {
		RedemptionID        int64
		VenueID             int64
		ScannedAt           time.Time
		CreatedAt           time.Time
		VoucherSerial       int64
		ChequierID          int64
		VouchersPerChequier int
		ValidUntil          ledger.Date
	}
	q := s.DB.Read(ctx).Table("redemptions r").
		Select("r.id AS redemption_id, r.venue_id, r.scanned_at, r.created_at, i.voucher_serial, v.chequier_id, b.vouchers_per_chequier, b.valid_until").
		Joins("JOIN redemption_items i ON i.redemption_id = r.id").
		Joins("JOIN vouchers v ON v.serial = i.voucher_serial").
		Joins("JOIN batches b ON b.id = v.batch_id").
		Where("r.status = ? AND r.created_at >= ? AND r.created_at < ?", ledger.RedemptionAccepted, from, to)
	if department != "" {
		q = q.Where("b.department_code = ?", department)
	}
	var rows []row
	if err := q.Order("r.id, i.voucher_serial").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]item, len(rows))
	for i, r := range rows {
		out[i] = item{redemption: r.RedemptionID, venue: r.VenueID, scanned: r.ScannedAt, created: r.CreatedAt, serial: r.VoucherSerial,
			chequier: r.ChequierID, perChequier: r.VouchersPerChequier, validUntil: r.ValidUntil}
	}
	return out, nil
}

func (s *Service) venueNames(ctx context.Context) (map[int64]string, error) {
	var vs []ledger.Venue
	if err := s.DB.Read(ctx).Select("id", "name").Find(&vs).Error; err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, v := range vs {
		out[v.ID] = v.Name
	}
	return out, nil
}

// volumeSpikes counts each venue's vouchers by 7-day period counted back
// from To, and flags a period of the query far above the median of the
// ones before it. A venue without enough history has no usual volume.
func volumeSpikes(items []item, q Query, th Thresholds) []Signal {
	week := 7 * 24 * time.Hour
	// 0: the last 7 days before To, From included when the period is
	// whole weeks.
	slot := func(t time.Time) int { return int((q.To.Sub(t) - 1) / week) }
	counts := map[int64]map[int]int{}
	first := map[int64]map[int]item{}
	for _, it := range items {
		if counts[it.venue] == nil {
			counts[it.venue], first[it.venue] = map[int]int{}, map[int]item{}
		}
		k := slot(it.created)
		counts[it.venue][k]++
		if f, ok := first[it.venue][k]; !ok || it.created.Before(f.created) {
			first[it.venue][k] = it
		}
	}
	periods := int((q.To.Sub(q.From) + week - 1) / week)
	var out []Signal
	for venue, c := range counts {
		for k := range periods {
			n := c[k]
			if n < th.SpikeMinVouchers {
				continue
			}
			var before []int
			active := 0
			for j := k + 1; j <= k+th.SpikeHistory; j++ {
				before = append(before, c[j])
				if c[j] > 0 {
					active++
				}
			}
			if active < th.SpikeMinActive {
				continue
			}
			med := median(before)
			if float64(n) <= th.SpikeFactor*med {
				continue
			}
			start := q.To.Add(-time.Duration(k+1) * week)
			out = append(out, Signal{Rule: VolumeSpike, VenueID: venue, At: first[venue][k].created,
				Redemptions: redemptionsOf(items, func(it item) bool { return it.venue == venue && slot(it.created) == k }),
				Evidence: fmt.Sprintf("%d chèques encaissés en 7 jours à partir du %s, contre %s par semaine d’habitude (médiane des %d semaines d’avant).",
					n, day(start), number(med), th.SpikeHistory)})
		}
	}
	return out
}

func median(xs []int) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

// wholeChequiers flags a basket holding every voucher of a chéquier.
func wholeChequiers(items []item) []Signal {
	type key struct{ redemption, chequier int64 }
	n := map[key]int{}
	by := map[key]item{}
	for _, it := range items {
		k := key{it.redemption, it.chequier}
		n[k]++
		by[k] = it
	}
	var out []Signal
	for k, c := range n {
		it := by[k]
		if c >= it.perChequier && it.perChequier > 1 {
			out = append(out, Signal{Rule: WholeChequier, VenueID: it.venue, At: it.created, Redemptions: []int64{k.redemption},
				Evidence: fmt.Sprintf("Les %d chèques d’un même chéquier encaissés d’un coup (encaissement %d), alors qu’un chéquier sert à plusieurs séances.",
					c, k.redemption)})
		}
	}
	return out
}

// manyVenues flags a chéquier whose vouchers were redeemed at several
// venues on one day, in Paris.
func manyVenues(items []item) []Signal {
	type key struct {
		chequier int64
		day      voucher.Day
	}
	venues := map[key]map[int64]bool{}
	for _, it := range items {
		k := key{it.chequier, voucher.Today(it.created)}
		if venues[k] == nil {
			venues[k] = map[int64]bool{}
		}
		venues[k][it.venue] = true
	}
	var out []Signal
	for k, vs := range venues {
		if len(vs) < 2 {
			continue
		}
		ids := make([]int64, 0, len(vs))
		for v := range vs {
			ids = append(ids, v)
		}
		slices.Sort(ids)
		match := func(it item) bool { return it.chequier == k.chequier && voucher.Today(it.created) == k.day }
		at := firstAt(items, match)
		for _, v := range ids {
			out = append(out, Signal{Rule: ManyVenues, VenueID: v, At: at, Redemptions: redemptionsOf(items, match),
				Evidence: fmt.Sprintf("Des chèques d’un même chéquier encaissés le %s dans %d lieux différents (lieux %s).",
					k.day.Start().In(voucher.Paris()).Format("02/01/2006"), len(ids), joinIDs(ids))})
		}
	}
	return out
}

// beforeExpiry flags a venue whose redemptions bunch in the last days of
// the vouchers' validity.
func beforeExpiry(items []item, th Thresholds) []Signal {
	total, late := map[int64]int{}, map[int64]int{}
	for _, it := range items {
		total[it.venue]++
		left := int(it.validUntil.Day()) - int(voucher.Today(it.created))
		if left >= 0 && left < th.ExpiryDays {
			late[it.venue]++
		}
	}
	var out []Signal
	for venue, n := range late {
		share := float64(n) / float64(total[venue])
		if n < th.ExpiryMinVouchers || share <= th.ExpiryShare {
			continue
		}
		match := func(it item) bool {
			left := int(it.validUntil.Day()) - int(voucher.Today(it.created))
			return it.venue == venue && left >= 0 && left < th.ExpiryDays
		}
		out = append(out, Signal{Rule: BeforeExpiry, VenueID: venue, At: firstAt(items, match), Redemptions: redemptionsOf(items, match),
			Evidence: fmt.Sprintf("%d chèques sur %d (%d %%) encaissés dans les %d derniers jours de leur validité.",
				n, total[venue], int(100*share+0.5), th.ExpiryDays)})
	}
	return out
}

// late flags a venue with redemptions judged late (redemption.Late).
func late(items []item, th Thresholds) []Signal {
	byRedemption := map[int64][]item{}
	var order []int64
	for _, it := range items {
		if byRedemption[it.redemption] == nil {
			order = append(order, it.redemption)
		}
		byRedemption[it.redemption] = append(byRedemption[it.redemption], it)
	}
	lateOf := map[int64][]int64{}
	first := map[int64]time.Time{}
	for _, id := range order {
		its := byRedemption[id]
		days := make([]voucher.Day, len(its))
		for i, it := range its {
			days[i] = it.validUntil.Day()
		}
		if redemption.Late(its[0].scanned, its[0].created, days) {
			v := its[0].venue
			lateOf[v] = append(lateOf[v], id)
			if f, ok := first[v]; !ok || its[0].created.Before(f) {
				first[v] = its[0].created
			}
		}
	}
	var out []Signal
	for venue, ids := range lateOf {
		if len(ids) < th.MinLate {
			continue
		}
		out = append(out, Signal{Rule: Late, VenueID: venue, At: first[venue], Redemptions: capped(ids),
			Evidence: fmt.Sprintf("%d encaissements arrivés plus de %d heures après leur scan, ou avec des chèques expirés à leur arrivée.",
				len(ids), int(redemption.LateAfter.Hours()))})
	}
	return out
}

// offlineConflicts counts, per venue, the ledger's offline conflicts of
// the period.
func (s *Service) offlineConflicts(ctx context.Context, q Query, th Thresholds) ([]Signal, error) {
	var evs []ledger.Event
	db := s.DB.Read(ctx).Where("type = ? AND created_at >= ? AND created_at < ?", ledger.EventOfflineConflict, q.From, q.To)
	if err := db.Order("id").Find(&evs).Error; err != nil {
		return nil, err
	}
	type agg struct {
		n  int
		at time.Time
	}
	by := map[int64]*agg{}
	for _, ev := range evs {
		var oc ledger.OfflineConflict
		if err := json.Unmarshal([]byte(ev.Data), &oc); err != nil {
			return nil, fmt.Errorf("event %d: %w", ev.ID, err)
		}
		// A département sees the conflicts of the venues it labels.
		if q.Department != "" && !s.labelledFor(ctx, oc.VenueID, q.Department) {
			continue
		}
		a := by[oc.VenueID]
		if a == nil {
			a = &agg{at: ev.CreatedAt}
			by[oc.VenueID] = a
		}
		a.n += len(oc.Conflicts)
	}
	var out []Signal
	for venue, a := range by {
		if a.n < th.MinConflicts {
			continue
		}
		out = append(out, Signal{Rule: OfflineConflicts, VenueID: venue, At: a.at,
			Evidence: fmt.Sprintf("%d %s accepté%s hors ligne alors qu’ils avaient déjà été encaissés ailleurs.",
				a.n, passnum.Plural(a.n, "chèque", "chèques"), passnum.Plural(a.n, "", "s"))})
	}
	return out, nil
}

func (s *Service) labelledFor(ctx context.Context, venue int64, department string) bool {
	var n int64
	s.DB.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = ?", venue, department).Count(&n)
	return n > 0
}

func redemptionsOf(items []item, match func(item) bool) []int64 {
	var ids []int64
	for _, it := range items {
		if match(it) && !slices.Contains(ids, it.redemption) {
			ids = append(ids, it.redemption)
		}
	}
	return capped(ids)
}

func capped(ids []int64) []int64 {
	if len(ids) > maxShown {
		return ids[:maxShown]
	}
	return ids
}

func firstAt(items []item, match func(item) bool) time.Time {
	var at time.Time
	for _, it := range items {
		if match(it) && (at.IsZero() || it.created.Before(at)) {
			at = it.created
		}
	}
	return at
}

func day(t time.Time) string { return t.In(voucher.Paris()).Format("02/01/2006") }

func number(f float64) string {
	if f == float64(int(f)) {
		return fmt.Sprint(int(f))
	}
	return strings.Replace(fmt.Sprintf("%.1f", f), ".", ",", 1)
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// ReportDays is how many days up to the figures' day the report and the
// dashboard look at.
const ReportDays = 30

// ForReport is the report's section: the signals of the ReportDays up to
// asOf, with the default thresholds.
func (s *Service) ForReport(ctx context.Context, department string, asOf voucher.Day) (*printing.SignalSection, error) {
	from := asOf.AddDays(-(ReportDays - 1))
	found, err := s.Find(ctx, Query{Department: department, From: from.Start(), To: asOf.AddDays(1).Start()})
	if err != nil {
		return nil, err
	}
	sec := &printing.SignalSection{From: from, To: asOf}
	for _, f := range found {
		sec.Rows = append(sec.Rows, printing.SignalRow{Name: Name(f.Rule), Venue: f.VenueName, Day: voucher.Today(f.At), Evidence: f.Evidence})
	}
	return sec, nil
}
