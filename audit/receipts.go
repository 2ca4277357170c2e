package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"passnum/ledger"
	"passnum/voucher"
)

// Presented is a receipt as a venue presents it: the code, and the serials
// of its vouchers when they come with it (nil: not given).
type Presented struct {
	Code    string
	Serials []uint64
}

// ParsePresented reads a receipts file as the scanner writes it: one
// receipt a line, optionally followed by a space and its vouchers'
// serials, comma-separated; blank lines are skipped.
func ParsePresented(text string) ([]Presented, error) {
	var out []Presented
	for n, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) > 2 {
			return nil, fmt.Errorf("line %d: a receipt and its serials, separated by one space; found %d words", n+1, len(f))
		}
		p := Presented{Code: f[0]}
		if len(f) == 2 {
			for _, s := range strings.Split(f[1], ",") {
				v, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("line %d: %q is not a voucher serial", n+1, s)
				}
				p.Serials = append(p.Serials, v)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// ReceiptCheck is what the ledger says of one receipt a venue presents.
type ReceiptCheck struct {
	Receipt voucher.Receipt // as decoded; zero when the code is not a genuine receipt
	// Problem is empty when the receipt is genuine and its redemption is in
	// the ledger with the same facts; otherwise it says what is wrong.
	Problem string
	// Reversed is set when the venue undid the redemption afterwards (the
	// receipt is genuine, but the money is not owed).
	Reversed string
}

// Receipts checks receipts that venues present (voucher format, type 05):
// each must verify with the public keys ks, and its redemption must be in
// the ledger as a redemption.accepted event with the same venue, total,
// vouchers and times. A receipt the server signed for a redemption the
// ledger lacks is the sign of a ledger rewritten: its events are the
// source of truth here, not the tables. Serials given with a receipt must
// be the ones it was signed for. Run Verify too, for the chain.
func Receipts(ctx context.Context, db *ledger.DB, ks *voucher.KeySet, receipts []Presented) ([]ReceiptCheck, error) {
	out := make([]ReceiptCheck, len(receipts))
	for i, pr := range receipts {
		d, err := ks.Verify(strings.TrimSpace(pr.Code))
		if err != nil {
			out[i].Problem = fmt.Sprintf("not a genuine code (%s): %v", voucher.Reason(err), err)
			continue
		}
		r, ok := d.Payload.(voucher.Receipt)
		if !ok {
			out[i].Problem = fmt.Sprintf("a genuine code, but a %s, not a receipt", d.Type)
			continue
		}
		out[i].Receipt = r
		if pr.Serials != nil && (len(pr.Serials) != int(r.Vouchers) || voucher.ReceiptDigest(pr.Serials) != r.Digest) {
			out[i].Problem = "the serials given with it are not the vouchers it was signed for"
			continue
		}
		id := strconv.FormatUint(r.RedemptionID, 10)
		var evs []ledger.Event
		if err := db.Read(ctx).Where("entity = ? AND entity_id = ? AND type IN ?", "redemption", id,
			[]string{ledger.EventRedeemed, ledger.EventReversed}).Order("id").Find(&evs).Error; err != nil {
			return nil, err
		}
		out[i].Problem = "the ledger has no redemption " + id
		for _, ev := range evs {
			switch ev.Type {
			case ledger.EventRedeemed:
				var red ledger.Redeemed
				if err := json.Unmarshal([]byte(ev.Data), &red); err != nil {
					return nil, fmt.Errorf("event %d: %w", ev.ID, err)
				}
				want, err := red.Receipt()
				if err != nil {
					return nil, err
				}
				out[i].Problem = receiptDiff(want, r, ev.ID)
			case ledger.EventReversed:
				out[i].Reversed = ev.CreatedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
		}
	}
	return out, nil
}

// receiptDiff names the facts where a receipt and the ledger's event differ.
func receiptDiff(ledgers, presented voucher.Receipt, event int64) string {
	var d []string
	if ledgers.VenueID != presented.VenueID {
		d = append(d, fmt.Sprintf("venue %d, not %d", ledgers.VenueID, presented.VenueID))
	}
	if ledgers.TotalCents != presented.TotalCents {
		d = append(d, fmt.Sprintf("%d cents, not %d", ledgers.TotalCents, presented.TotalCents))
	}
	if ledgers.Vouchers != presented.Vouchers || ledgers.Digest != presented.Digest {
		d = append(d, fmt.Sprintf("%d other vouchers", ledgers.Vouchers))
	}
	if ledgers.ScannedMicros != presented.ScannedMicros || ledgers.ReceivedMicros != presented.ReceivedMicros {
		d = append(d, "other times")
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprintf("the ledger's redemption %d (event %d) has %s", ledgers.RedemptionID, event, strings.Join(d, ", "))
}
