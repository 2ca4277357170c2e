package ledger

import (
	"fmt"
	"time"

	"passnum/voucher"
)

// Receipt is what the receipt of this redemption says (voucher format,
// type 05): the event and the receipt hold the same facts, so that the
// server signs one from the other when it accepts the basket, and an
// audit compares a receipt a venue presents with the ledger.
func (r Redeemed) Receipt() (voucher.Receipt, error) {
	scanned, err := time.Parse(time.RFC3339Nano, r.ScannedAt)
	if err != nil {
		return voucher.Receipt{}, fmt.Errorf("redemption %d: scanned_at: %w", r.ID, err)
	}
	received, err := time.Parse(time.RFC3339Nano, r.ReceivedAt)
	if err != nil {
		return voucher.Receipt{}, fmt.Errorf("redemption %d: received_at: %w", r.ID, err)
	}
	serials := make([]uint64, len(r.Items))
	for i, it := range r.Items {
		serials[i] = uint64(it.Serial)
	}
	return voucher.Receipt{RedemptionID: uint64(r.ID), VenueID: uint64(r.VenueID), TotalCents: uint64(r.TotalCents),
		Vouchers: uint16(len(r.Items)), ScannedMicros: scanned.UnixMicro(), ReceivedMicros: received.UnixMicro(),
		Digest: voucher.ReceiptDigest(serials)}, nil
}
