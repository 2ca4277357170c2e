package redemption

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"passnum/ledger"
	"passnum/voucher"
)

// Revocation tells an offline scanner that a voucher changed: spent, void,
// or spendable again after a reversal. Applied in order, they bring a local
// list up to date.
type Revocation struct {
	Seq    int64                `json:"seq"`
	Serial int64                `json:"serial"`
	Number string               `json:"number"`
	Status ledger.VoucherStatus `json:"status"` // redeemed, void or active
}

// MaxRevocations bounds one page of revocations.
const MaxRevocations = 5000

// feedRule reads one event's data and tells add which vouchers it made
// redeemed, void or active again.
type feedRule func(data []byte, add func(status ledger.VoucherStatus, serials ...int64)) error

func rule[T any](f func(d T, add func(status ledger.VoucherStatus, serials ...int64))) feedRule {
	return func(data []byte, add func(ledger.VoucherStatus, ...int64)) error {
		var d T
		if err := json.Unmarshal(data, &d); err != nil {
			return err
		}
		f(d, add)
		return nil
	}
}

// feedRules is the one place that says how each event changes whether a
// voucher code is redeemable: every change of vouchers.status to or from
// redeemed or void. A test (TestEveryEventTypeHasAFeedRule) fails when an
// event type of the ledger is neither here nor listed as changing no voucher
// a scanner could refuse, so that a new way of voiding a voucher cannot
// bypass offline scanners.
var feedRules = map[string]feedRule{
	ledger.EventChequierVoided: rule(func(d ledger.ChequierVoided, add func(ledger.VoucherStatus, ...int64)) {
		add(ledger.VoucherVoid, d.VoidedSerials...)
	}),
	ledger.EventVoucherVoided: rule(func(d ledger.VoucherVoided, add func(ledger.VoucherStatus, ...int64)) {
		add(ledger.VoucherVoid, d.Serial)
	}),
	// The new voucher takes the old one's status, active or waiting for its
	// hand-over: nothing for a scanner to refuse.
	ledger.EventVoucherReplaced: rule(func(d ledger.VoucherReplaced, add func(ledger.VoucherStatus, ...int64)) {
		add(ledger.VoucherVoid, d.OldSerial)
	}),
	ledger.EventRedeemed: rule(func(d ledger.Redeemed, add func(ledger.VoucherStatus, ...int64)) {
		for _, it := range d.Items {
			add(ledger.VoucherRedeemed, it.Serial)
		}
	}),
	ledger.EventReversed: rule(func(d ledger.Reversed, add func(ledger.VoucherStatus, ...int64)) {
		add(ledger.VoucherActive, d.Active...)
		add(ledger.VoucherVoid, d.Void...)
	}),
}

// feedTypes are the event types the feed reads, in a fixed order.
var feedTypes = slices.Sorted(maps.Keys(feedRules))

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
	err := s.DB.Read(ctx).Where("seq > ? AND type IN ?", since, feedTypes).
		Order("seq").Limit(limit).Find(&evs).Error
	if err != nil {
		return nil, since, err
	}
	var out []Revocation
	next := since
	for _, ev := range evs {
		seq := *ev.Seq
		next = seq
		add := func(status ledger.VoucherStatus, serials ...int64) {
			for _, serial := range serials {
				out = append(out, Revocation{Seq: seq, Serial: serial, Number: voucher.FormatNumber(uint64(serial)), Status: status})
			}
		}
		if err := feedRules[ev.Type]([]byte(ev.Data), add); err != nil {
			return nil, since, fmt.Errorf("event #%d: %w", seq, err)
		}
	}
	return out, next, nil
}
