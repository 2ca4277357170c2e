package redemption

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"
)

// TestRequestHashUnchangedForUTC: the idempotency keys stored before the
// scan time was normalised (kept 24 hours) hold the hash of the time as
// written. Every request the scanner sends (UTC, milliseconds, no cursor
// then) or without a scan time must hash as before, so that its retry
// still replays.
func TestRequestHashUnchangedForUTC(t *testing.T) {
	items := []Input{{Code: "AEAQ"}, {Number: "0000 0000 013", VerificationCode: "ABCD-EFGH"}}
	for _, at := range []string{"", "2026-11-26T09:58:00.123Z", "2026-11-26T09:58:00Z", "2026-11-26T09:58:00.123456Z"} {
		var scanned time.Time
		if at != "" {
			var err error
			if scanned, err = time.Parse(time.RFC3339, at); err != nil {
				t.Fatal(err)
			}
		}
		b := Basket{ScannedAt: scanned, Session: "atelier", Items: items}
		// The hash as it was computed before.
		data, _ := json.Marshal(struct {
			ScannedAt time.Time
			Session   string
			Items     []Input
		}{b.ScannedAt, b.Session, b.Items})
		before := sha256.Sum256(data)
		if !bytes.Equal(requestHash(&b), before[:]) {
			t.Errorf("scanned_at %q: the hash changed, a stored key's retry would be refused", at)
		}
	}
}
