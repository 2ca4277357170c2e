package audit

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/redemption"
	"passnum/voucher"
)

// lateWarnings names every accepted redemption that is late by
// redemption.Late, from the events alone: an offline scan sent more than a
// day after it was judged, or holding vouchers that had expired on
// receipt. They are legitimate only if the venue's device really was
// offline; the auditor asks the venue.
func (s *state) lateWarnings() []string {
	batches := make([]*batchState, 0, len(s.batches))
	for _, b := range s.batches {
		batches = append(batches, b)
	}
	slices.SortFunc(batches, func(a, b *batchState) int { return cmp.Compare(a.FirstSerial, b.FirstSerial) })
	batchOf := func(serial int64) *batchState {
		if r, ok := s.replacement[serial]; ok {
			return s.batches[r.BatchID]
		}
		i, found := slices.BinarySearchFunc(batches, serial, func(b *batchState, serial int64) int {
			switch {
			case serial < b.FirstSerial:
				return 1
			case serial > b.LastSerial:
				return -1
			}
			return 0
		})
		if !found {
			return nil
		}
		return batches[i]
	}
	var out []string
	ids := make([]int64, 0, len(s.redemptions))
	for id, r := range s.redemptions {
		if r.status == ledger.RedemptionAccepted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := s.redemptions[id]
		scanned, err1 := time.Parse(time.RFC3339Nano, r.ScannedAt)
		received, err2 := time.Parse(time.RFC3339Nano, r.ReceivedAt)
		if err1 != nil || err2 != nil {
			out = append(out, fmt.Sprintf("redemption %d (event %s) has no readable scan or receipt time: %q, %q", id, r.event, r.ScannedAt, r.ReceivedAt))
			continue
		}
		days := make([]voucher.Day, 0, len(r.Items))
		expired := 0
		for _, it := range r.Items {
			b := batchOf(it.Serial)
			if b == nil {
				continue // compareVouchers names a voucher outside every batch
			}
			d, err := voucher.ParseDay(b.ValidUntil)
			if err != nil {
				continue
			}
			days = append(days, d)
			if voucher.Today(received) > d {
				expired++
			}
		}
		if !redemption.Late(scanned, received, days) {
			continue
		}
		out = append(out, fmt.Sprintf("redemption %d (event %s) of venue %d is late: judged at its scan time %s, received %s (%s later), "+
			"%d vouchers for %s EUR, %d of them expired on receipt; check that the venue's device was offline",
			id, r.event, r.VenueID, scanned.UTC().Format(time.RFC3339), received.UTC().Format(time.RFC3339),
			received.Sub(scanned).Round(time.Minute), len(r.Items), passnum.FormatEuros(r.TotalCents), expired))
	}
	return out
}
