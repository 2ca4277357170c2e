package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"passnum/voucher"
)

// ChainError names the first entry of the ledger that fails verification.
type ChainError struct {
	Seq     int64  // the event's (or checkpoint's) sequence number
	EventID int64  // 0 when the event itself is missing
	Type    string // the event's type, when known
	Problem string
}

func (e *ChainError) Error() string {
	if e.EventID == 0 {
		return fmt.Sprintf("ledger entry #%d: %s", e.Seq, e.Problem)
	}
	return fmt.Sprintf("ledger event #%d (id %d, %s): %s", e.Seq, e.EventID, e.Type, e.Problem)
}

// ChainReport sums up a successful chain verification.
type ChainReport struct {
	Events      int64    // sealed events checked
	Checkpoints int      // checkpoints whose hash and signature were checked
	SignedUpTo  int64    // the last event covered by a valid checkpoint
	Warnings    []string // things an auditor should know that do not break the chain
}

// ChainVerifier re-computes the hash chain over sealed events given in
// sequence order and checks it against the stored hashes and the signed
// checkpoints. It reads from any source: the database or an export file.
type ChainVerifier struct {
	keys        *voucher.KeySet
	checkpoints []Checkpoint // ascending seq
	next        int          // index of the next checkpoint to reach
	chain       Chain
	report      ChainReport
}

// NewChainVerifier prepares a verification against the given public keys
// and checkpoints (in ascending sequence order).
func NewChainVerifier(keys *voucher.KeySet, checkpoints []Checkpoint) *ChainVerifier {
	return &ChainVerifier{keys: keys, checkpoints: checkpoints}
}

// Add checks the next sealed event.
func (v *ChainVerifier) Add(ev *Event) error {
	want := v.chain.Seq + 1
	switch {
	case ev.Seq == nil:
		return &ChainError{Seq: want, EventID: ev.ID, Type: ev.Type, Problem: "is not sealed but was given as sealed"}
	case *ev.Seq > want:
		return &ChainError{Seq: want, Problem: fmt.Sprintf("is missing: the chain jumps from #%d to #%d (event id %d); events were deleted", v.chain.Seq, *ev.Seq, ev.ID)}
	case *ev.Seq < want:
		return &ChainError{Seq: *ev.Seq, EventID: ev.ID, Type: ev.Type, Problem: fmt.Sprintf("appears again after #%d; events were duplicated or reordered", v.chain.Seq)}
	}
	hash := v.chain.Next(ev)
	if !bytes.Equal(hash, ev.Hash) {
		return &ChainError{Seq: want, EventID: ev.ID, Type: ev.Type,
			Problem: "does not match its recorded hash: it was altered, or events before it were deleted or reordered"}
	}
	v.report.Events++
	for v.next < len(v.checkpoints) && v.checkpoints[v.next].Seq == want {
		if err := v.checkCheckpoint(&v.checkpoints[v.next], ev); err != nil {
			return err
		}
		v.next++
	}
	return nil
}

func (v *ChainVerifier) checkCheckpoint(cp *Checkpoint, ev *Event) error {
	if !bytes.Equal(cp.Hash, v.chain.Head) {
		return &ChainError{Seq: cp.Seq, EventID: ev.ID, Type: ev.Type,
			Problem: "differs from the signed checkpoint at this position: events up to here were rewritten"}
	}
	var c voucher.Checkpoint
	c.Seq = uint64(cp.Seq)
	c.TimeMicros = cp.CreatedAt.UnixMicro()
	copy(c.Hash[:], cp.Hash)
	err := voucher.VerifyCheckpoint(v.keys, byte(cp.KeyID), c, cp.Signature)
	switch {
	case errors.Is(err, voucher.ErrRevokedKey):
		v.report.Warnings = append(v.report.Warnings,
			fmt.Sprintf("checkpoint #%d is signed by revoked key %d and proves nothing; a later checkpoint must cover it", cp.Seq, cp.KeyID))
		return nil
	case err != nil:
		return &ChainError{Seq: cp.Seq, EventID: ev.ID, Type: ev.Type,
			Problem: fmt.Sprintf("its checkpoint signature does not verify with key %d: %v", cp.KeyID, err)}
	}
	v.report.Checkpoints++
	v.report.SignedUpTo = cp.Seq
	return nil
}

// Finish ends the verification once every sealed event was added.
func (v *ChainVerifier) Finish() (ChainReport, error) {
	if v.next < len(v.checkpoints) {
		cp := v.checkpoints[v.next]
		return v.report, &ChainError{Seq: v.chain.Seq + 1,
			Problem: fmt.Sprintf("is missing: checkpoint #%d vouches for events up to #%d but the chain ends at #%d; events were deleted", cp.Seq, cp.Seq, v.chain.Seq)}
	}
	if unsigned := v.chain.Seq - v.report.SignedUpTo; unsigned > 0 {
		v.report.Warnings = append(v.report.Warnings,
			fmt.Sprintf("%d sealed events after #%d are not yet covered by a signed checkpoint", unsigned, v.report.SignedUpTo))
	}
	return v.report, nil
}

// VerifyChain checks every sealed event of the database, streaming them in
// sequence order.
func (db *DB) VerifyChain(ctx context.Context, keys *voucher.KeySet) (ChainReport, error) {
	var cps []Checkpoint
	if err := db.Read(ctx).Order("seq").Find(&cps).Error; err != nil {
		return ChainReport{}, fmt.Errorf("read checkpoints: %w", err)
	}
	v := NewChainVerifier(keys, cps)
	rows, err := db.Read(ctx).Model(&Event{}).Where("seq IS NOT NULL").Order("seq").Rows()
	if err != nil {
		return ChainReport{}, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev Event
		if err := db.gorm.ScanRows(rows, &ev); err != nil {
			return ChainReport{}, fmt.Errorf("read events: %w", err)
		}
		if err := v.Add(&ev); err != nil {
			return v.report, err
		}
	}
	if err := rows.Err(); err != nil {
		return ChainReport{}, fmt.Errorf("read events: %w", err)
	}
	return v.Finish()
}

// KeySet loads the public signing keys, with their status, for verifying
// codes and checkpoints.
func (db *DB) KeySet(ctx context.Context) (*voucher.KeySet, error) {
	var keys []SigningKey
	if err := db.Read(ctx).Order("id").Find(&keys).Error; err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	ks := voucher.NewKeySet()
	for _, k := range keys {
		if err := ks.Add(byte(k.ID), ed25519.PublicKey(k.PublicKey), voucher.KeyStatus(k.Status)); err != nil {
			return nil, fmt.Errorf("signing key %d: %w", k.ID, err)
		}
	}
	return ks, nil
}

// SerialRange is a run of voucher serials, first and last included.
type SerialRange [2]int64

// RevokedSerials returns, for each revoked key, the serials of the
// vouchers it signed as few ranges as possible: its batches' ranges (a
// batch is a contiguous run of serials) and the replacements it signed,
// which have serials of their own. An offline verifier refuses a typed
// number with them, as it refuses a scanned code by its key id.
func (db *DB) RevokedSerials(ctx context.Context) (map[int16][]SerialRange, error) {
	var rows []struct {
		KeyID       int16
		First, Last int64
	}
	err := db.Read(ctx).Raw(`SELECT b.key_id, b.first_serial AS first, b.last_serial AS last
		FROM batches b JOIN signing_keys k ON k.id = b.key_id WHERE k.status = ?
		UNION ALL
		SELECT v.key_id, v.serial, v.serial
		FROM vouchers v JOIN signing_keys k ON k.id = v.key_id WHERE k.status = ?
		ORDER BY 1, 2`, string(voucher.KeyRevoked), string(voucher.KeyRevoked)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read the serials of revoked keys: %w", err)
	}
	out := map[int16][]SerialRange{}
	for _, r := range rows {
		rs := out[r.KeyID]
		if n := len(rs); n > 0 && r.First <= rs[n-1][1]+1 {
			rs[n-1][1] = max(rs[n-1][1], r.Last)
			continue
		}
		out[r.KeyID] = append(rs, SerialRange{r.First, r.Last})
	}
	return out, nil
}
