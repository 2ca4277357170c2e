package redemption

import (
	"context"
	"encoding/json"
	"fmt"

	"passnum/ledger"
	"passnum/voucher"
)

// Revocation tells an offline scanner that a voucher changed: spent, void,
// or spendable again after a reversal. Applied in order, they bring a local
// list up to date.
type Revocation struct {
	Seq    int64  `json:"seq"`
	Serial int64  `json:"serial"`
	Number string `json:"number"`
	Status string `json:"status"` // redeemed, void or active
}

// MaxRevocations bounds one page of revocations.
const MaxRevocations = 5000

// Revocations lists voucher changes recorded in sealed events after the
// cursor `since` (a ledger sequence number, 0 for all) and returns the
// cursor to ask from next time. Only sealed events are listed: their
// sequence numbers are final and gap-free, so a client never misses a change
// committed late; the price is the sealer's delay (about a second).
func (s *Service) Revocations(ctx context.Context, since int64, limit int) ([]Revocation, int64, error) {
	if limit <= 0 || limit > MaxRevocations {
		limit = MaxRevocations
	}
	var evs []ledger.Event
	err := s.DB.Read(ctx).Where("seq > ? AND type IN ?", since, []string{ledger.EventChequierVoided,
		ledger.EventVoucherReplaced, ledger.EventRedeemed, ledger.EventReversed}).
		Order("seq").Limit(limit).Find(&evs).Error
	if err != nil {
		return nil, since, err
	}
	var out []Revocation
	next := since
	add := func(seq int64, status string, serials ...int64) {
		for _, serial := range serials {
			out = append(out, Revocation{Seq: seq, Serial: serial, Number: voucher.FormatNumber(uint64(serial)), Status: status})
		}
	}
	for _, ev := range evs {
		seq := *ev.Seq
		next = seq
		switch ev.Type {
		case ledger.EventChequierVoided:
			var d ledger.ChequierVoided
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				return nil, since, fmt.Errorf("event #%d: %w", seq, err)
			}
			add(seq, ledger.VoucherVoid, d.VoidedSerials...)
		case ledger.EventVoucherReplaced:
			var d ledger.VoucherReplaced
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				return nil, since, fmt.Errorf("event #%d: %w", seq, err)
			}
			add(seq, ledger.VoucherVoid, d.OldSerial)
		case ledger.EventRedeemed:
			var d ledger.Redeemed
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				return nil, since, fmt.Errorf("event #%d: %w", seq, err)
			}
			for _, it := range d.Items {
				add(seq, ledger.VoucherRedeemed, it.Serial)
			}
		case ledger.EventReversed:
			var d ledger.Reversed
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				return nil, since, fmt.Errorf("event #%d: %w", seq, err)
			}
			add(seq, ledger.VoucherActive, d.Active...)
			add(seq, ledger.VoucherVoid, d.Void...)
		}
	}
	return out, next, nil
}
