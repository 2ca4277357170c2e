package redemption

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"passnum/voucher"
)

// An offline scanner checks a scanned code's signature, validity dates and
// its revocation list without the server, and sends the basket later with
// the time it scanned: the vouchers' validity is then judged at that time
// (the offline rule), or the volunteer who accepted a voucher valid that
// evening would see it refused the next morning. The scan time is the
// device's word. So that it cannot revive what has lapsed:
//
//   - the venue's label and status are judged when the server receives the
//     basket, and typed entries wholly then (judge): a scanner cannot check
//     a typed entry offline, so there is no offline case for backdating it;
//   - a scan time is believed only as far as the device's evidence supports
//     it (scanTime), otherwise the basket is judged at receipt;
//   - what the offline rule let through is flagged late (Late) for the
//     auditors, in 'passnum audit verify' and in the figures.

// LateAfter is how long after its scan a redemption may reach the server
// before it counts as late. A venue without network sends its baskets when
// the session's network comes back, within hours; a day or more means the
// device stayed offline that long, checking codes against a revocation list
// that old, which is what the auditors want to look at.
const LateAfter = 24 * time.Hour

// Late tells whether a redemption accepted with vouchers valid until the
// given days is late: judged at a scan time more than LateAfter before the
// server received it, or holding a voucher that had expired on receipt.
// audit and figures flag the same redemptions by this rule.
func Late(scannedAt, receivedAt time.Time, validUntil []voucher.Day) bool {
	if receivedAt.Sub(scannedAt) > LateAfter {
		return true
	}
	received := voucher.Today(receivedAt)
	for _, d := range validUntil {
		if received > d {
			return true
		}
	}
	return false
}

// scanTime is the time at which a basket's scanned codes are judged: the
// scan time it gives, when that is within the clock tolerance of now (an
// online basket) or when the device's evidence supports it, else now.
// The evidence is the device's API key and the revocation feed cursor it
// held when it scanned (its `since`); the time is not believed when
//
//   - there is no device or no cursor (a client that gives no evidence
//     gets no offline rule);
//   - the key is not one of the venue's, or was created after the scan: a
//     device cannot scan before it is paired (a device paired again after
//     losing its key still sends its old baskets, so they are judged at
//     receipt rather than refused: the vouchers still valid still count);
//   - the cursor is not a sealed event, or an event created after the scan:
//     the device could not hold it yet, so its clock or its word is wrong.
//
// A device that lies consistently (an old cursor with an old time) still
// gets the offline rule within MaxOfflineAge: nothing on the server tells
// it from a device that stayed offline. The server's last contact with the
// key does not help, as every device comes back online before it sends.
// That residue is what Late flags.
func scanTime(db *gorm.DB, b *Basket, now time.Time) (time.Time, error) {
	if now.Sub(b.ScannedAt) <= maxClockSkew {
		return b.ScannedAt, nil
	}
	if b.DeviceKeyID == 0 || b.RevocationCursor == nil {
		return now, nil
	}
	// Columns, not a subquery: SQLite returns a computed timestamp as text.
	var rows []struct {
		Paired   time.Time
		CursorAt *time.Time
	}
	err := db.Raw(`SELECT k.created_at AS paired, e.created_at AS cursor_at FROM api_keys k
		LEFT JOIN events e ON e.seq = ? WHERE k.id = ? AND k.venue_id = ?`,
		*b.RevocationCursor, b.DeviceKeyID, b.VenueID).Scan(&rows).Error
	if err != nil {
		return now, fmt.Errorf("read the device's evidence: %w", err)
	}
	switch {
	case len(rows) == 0, b.ScannedAt.Before(rows[0].Paired):
		return now, nil
	case *b.RevocationCursor > 0 && (rows[0].CursorAt == nil || b.ScannedAt.Before(*rows[0].CursorAt)):
		return now, nil
	}
	return b.ScannedAt, nil
}
