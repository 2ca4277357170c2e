package issuing

import (
	"context"
	"passnum"
	"slices"

	"passnum/ledger"
)

// Read-only lists for the département pages and the API: they read
// committed rows and change nothing, so they need no transaction.

// Batches returns the batches of a département ("" for all), newest
// first. A département orders a few batches a year: no pagination.
func (s *Service) Batches(ctx context.Context, dept string) ([]ledger.Batch, error) {
	q := s.DB.Read(ctx).Order("id DESC")
	if dept != "" {
		q = q.Where("department_code = ?", dept)
	}
	var bs []ledger.Batch
	return bs, q.Find(&bs).Error
}

// ChequierCounts counts a batch's chéquiers by status.
func (s *Service) ChequierCounts(ctx context.Context, batchID int64) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.DB.Read(ctx).Model(&ledger.Chequier{}).Select("status, COUNT(*) AS n").
		Where("batch_id = ?", batchID).Group("status").Scan(&rows).Error
	counts := map[string]int64{}
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, err
}

// ChequierFilter selects a page of chéquiers in number order.
type ChequierFilter struct {
	Department string                // "" for all
	BatchID    int64                 // 0 for all
	Status     ledger.ChequierStatus // "" for all
	After      string                // the last number of the previous page, as printed or typed
	Limit      int
}

// chequierStatuses are the statuses a list may ask for.
var chequierStatuses = []ledger.ChequierStatus{ledger.ChequierIssued, ledger.ChequierActive, ledger.ChequierVoid}

// Chequiers returns a page of chéquiers. Errors: invalid (After is not a
// chéquier number, or Status not a chéquier's).
func (s *Service) Chequiers(ctx context.Context, f ChequierFilter) ([]ledger.Chequier, error) {
	if f.Status != "" && !slices.Contains(chequierStatuses, f.Status) {
		return nil, passnum.Invalid("Un chéquier est issued (imprimé, pas encore remis), active (remis) ou void (annulé), pas « %s ».", passnum.Shorten(string(f.Status), 20))
	}
	if f.After != "" {
		var err error
		if f.After, err = chequierNumber(f.After); err != nil {
			return nil, err
		}
	}
	q := s.DB.Read(ctx).Order("number").Limit(f.Limit)
	if f.Department != "" {
		q = q.Where("department_code = ?", f.Department)
	}
	if f.BatchID != 0 {
		q = q.Where("batch_id = ?", f.BatchID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.After != "" {
		q = q.Where("number > ?", f.After)
	}
	var cs []ledger.Chequier
	return cs, q.Find(&cs).Error
}

// ChequierVouchers lists a chéquier's vouchers by position, a replaced one
// before the voucher that took its place.
func (s *Service) ChequierVouchers(ctx context.Context, chequierID int64) ([]ledger.Voucher, error) {
	var vs []ledger.Voucher
	return vs, s.DB.Read(ctx).Where("chequier_id = ?", chequierID).Order("position, serial").Find(&vs).Error
}
