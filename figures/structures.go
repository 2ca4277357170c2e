package figures

import (
	"fmt"

	"gorm.io/gorm"

	"passnum/ledger"
	"passnum/voucher"
)

// StructureFigures is the funnel of one distribution structure
// (docs/stock.md): the chéquiers it received, and what became of them. A
// chéquier counts for the structure that holds it or handed it over; one
// moved on to another structure counts for that one. Received is InStock +
// HandedOver + Voided + Untracked.
type StructureFigures struct {
	ID         int64  `json:"id"`
	Department string `json:"department"`
	Name       string `json:"name"`
	Commune    string `json:"commune"` // the territory it counts in
	Received   int64  `json:"received"`
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

// structures computes the funnel of every structure of the départements,
// from one aggregate over the vouchers of the chéquiers structures hold.
func structures(tx *gorm.DB, codes []string, byID map[int64]*batchRow, asOf voucher.Day) ([]StructureFigures, error) {
	var orgs []ledger.Organisation
	if err := tx.Where("kind = ? AND department_code IN ?", ledger.OrgStructure, codes).Order("department_code, name, id").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("read the structures: %w", err)
	}
	out := make([]StructureFigures, len(orgs))
	index := map[int64]*StructureFigures{}
	for i, o := range orgs {
		out[i] = StructureFigures{ID: o.ID, Department: *o.DepartmentCode, Name: o.Name, Commune: o.Commune}
		index[o.ID] = &out[i]
	}
	if len(orgs) == 0 {
		return out, nil
	}
	var rows []struct {
		StructureID int64
		BatchID     int64
		Status      ledger.ChequierStatus
		Live        int64 // vouchers not void
		Redeemed    int64
	}
	err := tx.Raw(`SELECT c.structure_id, c.batch_id, c.status,
			SUM(CASE WHEN v.status <> ? THEN 1 ELSE 0 END) AS live,
			SUM(CASE WHEN v.status = ? THEN 1 ELSE 0 END) AS redeemed
		FROM chequiers c JOIN vouchers v ON v.chequier_id = c.id AND v.replaced_by IS NULL
		WHERE c.structure_id IS NOT NULL AND c.department_code IN ?
		GROUP BY c.id, c.structure_id, c.batch_id, c.status`, ledger.VoucherVoid, ledger.VoucherRedeemed, codes).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count the structures' chéquiers: %w", err)
	}
	for _, r := range rows {
		s, b := index[r.StructureID], byID[r.BatchID]
		if s == nil || b == nil {
			continue // another département's structure cannot hold these: the stock's rule
		}
		s.Received++
		switch {
		case !b.RequiresActivation:
			s.Untracked++
		case r.Status == ledger.ChequierIssued:
			s.InStock++
		case r.Status == ledger.ChequierVoid:
			s.Voided++
		case r.Status == ledger.ChequierActive:
			s.HandedOver++
			switch {
			case r.Redeemed > 0 && r.Redeemed == r.Live:
				s.Started++
				s.Finished++
			case r.Redeemed > 0:
				s.Started++
			case b.ValidUntil.Day() < asOf:
				s.ExpiredUnused++
			}
		}
	}
	return out, nil
}
