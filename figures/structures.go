package figures

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum/ledger"
	"passnum/voucher"
)

// Funnel is what became of the chéquiers a distribution network received
// (docs/stock.md). Received is InStock + HandedOver + Voided + Untracked;
// Started, Finished and ExpiredUnused are among HandedOver.
type Funnel struct {
	Received int64 `json:"received"`
	// InStock are not handed over yet; HandedOver were, of which Started
	// have at least one voucher redeemed, Finished every voucher still
	// valid redeemed, and ExpiredUnused none redeemed by the end of their
	// validity.
	InStock       int64 `json:"in_stock"`
	HandedOver    int64 `json:"handed_over"`
	Started       int64 `json:"started"`
	Finished      int64 `json:"finished"`
	ExpiredUnused int64 `json:"expired_unused"`
	// Voided were voided, lost or stolen (handed over or not).
	Voided int64 `json:"voided"`
	// Untracked are the chéquiers of batches without activation: their
	// hand-over is not recorded ("non suivi"), so they are counted neither
	// in stock nor handed over.
	Untracked int64 `json:"untracked"`
}

func (f *Funnel) add(o Funnel) {
	f.Received += o.Received
	f.InStock += o.InStock
	f.HandedOver += o.HandedOver
	f.Started += o.Started
	f.Finished += o.Finished
	f.ExpiredUnused += o.ExpiredUnused
	f.Voided += o.Voided
	f.Untracked += o.Untracked
}

// chequierFunnel is one chéquier's place in the funnel: live vouchers
// (not void) and how many of them are redeemed.
func chequierFunnel(b *batchRow, status ledger.ChequierStatus, live, redeemed int64, asOf voucher.Day) Funnel {
	f := Funnel{Received: 1}
	switch {
	case !b.RequiresActivation:
		f.Untracked = 1
	case status == ledger.ChequierIssued:
		f.InStock = 1
	case status == ledger.ChequierVoid:
		f.Voided = 1
	case status == ledger.ChequierActive:
		f.HandedOver = 1
		switch {
		case redeemed > 0 && redeemed == live:
			f.Started, f.Finished = 1, 1
		case redeemed > 0:
			f.Started = 1
		case b.ValidUntil.Day() < asOf:
			f.ExpiredUnused = 1
		}
	}
	return f
}

// StructureFigures is the funnel of one distribution structure. A chéquier
// counts for the structure that holds it or handed it over; one moved on
// to another structure counts for that one.
type StructureFigures struct {
	ID         int64  `json:"id"`
	Department string `json:"department"`
	Name       string `json:"name"`
	Commune    string `json:"commune"` // the territory it counts in
	Funnel
}

// CommuneFigures is the funnel of a territory: the structures of one
// commune of a département, together.
type CommuneFigures struct {
	Department string `json:"department"`
	Commune    string `json:"commune"`
	Structures int    `json:"structures"`
	Funnel
}

// FunnelMonth is the funnel of the chéquiers structures received in one
// month (Paris time): a cohort, followed to what became of it since. A
// chéquier moved on counts in the month its last structure received it.
type FunnelMonth struct {
	Month string `json:"month"` // "2026-10"
	Funnel
}

// structures computes the funnel of every structure of the départements,
// and of their communes and months, from one aggregate over the vouchers
// of the chéquiers structures hold.
func structures(tx *gorm.DB, codes []string, byID map[int64]*batchRow, asOf voucher.Day) ([]StructureFigures, []CommuneFigures, []FunnelMonth, error) {
	var orgs []ledger.Organisation
	if err := tx.Where("kind = ? AND department_code IN ?", ledger.OrgStructure, codes).Order("department_code, name, id").Find(&orgs).Error; err != nil {
		return nil, nil, nil, fmt.Errorf("read the structures: %w", err)
	}
	out := make([]StructureFigures, len(orgs))
	index := map[int64]*StructureFigures{}
	for i, o := range orgs {
		out[i] = StructureFigures{ID: o.ID, Department: *o.DepartmentCode, Name: o.Name, Commune: o.Commune}
		index[o.ID] = &out[i]
	}
	if len(orgs) == 0 {
		return out, nil, nil, nil
	}
	var rows []struct {
		StructureID int64
		BatchID     int64
		Status      ledger.ChequierStatus
		AllocatedAt *time.Time
		Live        int64 // vouchers not void
		Redeemed    int64
	}
	err := tx.Raw(`SELECT c.structure_id, c.batch_id, c.status, c.allocated_at,
			SUM(CASE WHEN v.status <> ? THEN 1 ELSE 0 END) AS live,
			SUM(CASE WHEN v.status = ? THEN 1 ELSE 0 END) AS redeemed
		FROM chequiers c JOIN vouchers v ON v.chequier_id = c.id AND v.replaced_by IS NULL
		WHERE c.structure_id IS NOT NULL AND c.department_code IN ?
		GROUP BY c.id, c.structure_id, c.batch_id, c.status, c.allocated_at`, ledger.VoucherVoid, ledger.VoucherRedeemed, codes).Scan(&rows).Error
	if err != nil {
		return nil, nil, nil, fmt.Errorf("count the structures' chéquiers: %w", err)
	}
	months := map[string]*Funnel{}
	for _, r := range rows {
		s, b := index[r.StructureID], byID[r.BatchID]
		if s == nil || b == nil {
			continue // another département's structure cannot hold these: the stock's rule
		}
		f := chequierFunnel(b, r.Status, r.Live, r.Redeemed, asOf)
		s.add(f)
		if r.AllocatedAt != nil {
			m := r.AllocatedAt.In(voucher.Paris()).Format("2006-01")
			if months[m] == nil {
				months[m] = &Funnel{}
			}
			months[m].add(f)
		}
	}
	return out, communes(out), monthly(months), nil
}

// communes adds the structures' funnels up per département and commune,
// in the structures' order of départements, then by commune.
func communes(ss []StructureFigures) []CommuneFigures {
	var out []CommuneFigures
	at := map[[2]string]int{}
	for _, s := range ss {
		k := [2]string{s.Department, s.Commune}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, CommuneFigures{Department: s.Department, Commune: s.Commune})
		}
		out[i].Structures++
		out[i].add(s.Funnel)
	}
	slices.SortStableFunc(out, func(a, b CommuneFigures) int {
		return cmp.Or(cmp.Compare(a.Department, b.Department), cmp.Compare(strings.ToLower(a.Commune), strings.ToLower(b.Commune)))
	})
	return out
}

func monthly(months map[string]*Funnel) []FunnelMonth {
	out := make([]FunnelMonth, 0, len(months))
	for m, f := range months {
		out = append(out, FunnelMonth{Month: m, Funnel: *f})
	}
	slices.SortFunc(out, func(a, b FunnelMonth) int { return cmp.Compare(a.Month, b.Month) })
	return out
}
