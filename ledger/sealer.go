package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"passnum/voucher"
)

// sealerLockID is the PostgreSQL advisory lock that makes one sealer the
// leader at a time ("passnum" in ASCII).
const sealerLockID int64 = 0x706173736e756d

// Sealer numbers unsealed events, chains their hashes and writes signed
// checkpoints. Any number of processes may run one: on PostgreSQL each pass
// takes a transaction-scoped advisory lock and skips if another process holds
// it, so leadership moves by itself when a process dies; on SQLite the write
// transaction is already exclusive.
type Sealer struct {
	DB     *DB
	Signer *voucher.Signer // signs checkpoints; its key must be in signing_keys
	// ActiveSigner, if set, is asked for the signer before each Seal and
	// replaces Signer: a long-running sealer (passnum serve) then follows a
	// key made active or revoked by another process instead of signing with
	// the key it started with. Its error fails the Seal.
	ActiveSigner func(context.Context) (*voucher.Signer, error)
	// CheckpointEvery is the least time between two checkpoints; zero writes
	// one after every pass that sealed something.
	CheckpointEvery time.Duration
	// PassSize bounds the events sealed in one transaction.
	PassSize int
	Log      *slog.Logger
}

// SealResult says what one Seal call did.
type SealResult struct {
	Sealed     int   // events numbered and chained
	Head       int64 // sequence number of the last sealed event
	Checkpoint bool  // a checkpoint was written at Head
}

// Lag is how far the sealer is behind: what an operator alerts on.
type Lag struct {
	Unsealed       int64     // events not yet numbered and chained
	LastCheckpoint time.Time // when the last checkpoint was signed; zero before the first
}

// SealerLag reads the sealer's lag (the events_unsealed partial index
// keeps the count cheap however long the ledger).
func (db *DB) SealerLag(ctx context.Context) (Lag, error) {
	var lag Lag
	if err := db.Read(ctx).Model(&Event{}).Where("seq IS NULL").Count(&lag.Unsealed).Error; err != nil {
		return lag, fmt.Errorf("count unsealed events: %w", err)
	}
	var last []Checkpoint
	if err := db.Read(ctx).Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return lag, fmt.Errorf("read the last checkpoint: %w", err)
	}
	if len(last) == 1 {
		lag.LastCheckpoint = last[0].CreatedAt
	}
	return lag, nil
}

// Seal seals every pending event, pass after pass, and returns what it did.
// force writes a checkpoint at the head even if CheckpointEvery has not
// passed, unless the head already has one.
func (s *Sealer) Seal(ctx context.Context, force bool) (SealResult, error) {
	var total SealResult
	signer := s.Signer
	if s.ActiveSigner != nil {
		var err error
		if signer, err = s.ActiveSigner(ctx); err != nil {
			return total, err
		}
	}
	for {
		r, err := s.pass(ctx, signer, force)
		if err != nil {
			return total, err
		}
		total.Sealed += r.Sealed
		total.Head = r.Head
		total.Checkpoint = total.Checkpoint || r.Checkpoint
		if r.Sealed < s.passSize() {
			return total, nil
		}
	}
}

// Run seals every interval until ctx is done; errors are logged and retried
// at the next tick, so a database restart does not stop the sealer.
func (s *Sealer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Seal(ctx, false); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Error("sealing the ledger failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sealer) passSize() int {
	if s.PassSize > 0 {
		return s.PassSize
	}
	return 1000
}

func (s *Sealer) pass(ctx context.Context, signer *voucher.Signer, force bool) (res SealResult, err error) {
	err = s.DB.Tx(ctx, func(tx *Tx) error {
		if tx.Dialect() == Postgres {
			var leader bool
			if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", sealerLockID).Scan(&leader).Error; err != nil {
				return fmt.Errorf("take the sealer lock: %w", err)
			}
			if !leader {
				return nil // another process is sealing right now
			}
		}
		chain, err := chainHead(tx)
		if err != nil {
			return err
		}
		var pending []Event
		if err := tx.Where("seq IS NULL").Order("id").Limit(s.passSize()).Find(&pending).Error; err != nil {
			return fmt.Errorf("read unsealed events: %w", err)
		}
		for i := range pending {
			ev := &pending[i]
			hash := chain.Next(ev)
			r := tx.Model(&Event{}).Where("id = ? AND seq IS NULL", ev.ID).
				Updates(map[string]any{"seq": chain.Seq, "hash": hash})
			if r.Error != nil {
				return fmt.Errorf("seal event %d: %w", ev.ID, r.Error)
			}
			if r.RowsAffected != 1 {
				return fmt.Errorf("seal event %d: it was sealed concurrently", ev.ID)
			}
		}
		res = SealResult{Sealed: len(pending), Head: chain.Seq}
		if chain.Seq == 0 || (len(pending) == 0 && !force) {
			return nil
		}
		res.Checkpoint, err = s.checkpoint(tx, signer, chain, force)
		return err
	})
	return res, err
}

// chainHead reads the last sealed event's sequence number and hash.
func chainHead(tx *Tx) (Chain, error) {
	var last Event
	err := tx.Where("seq IS NOT NULL").Order("seq DESC").Limit(1).Take(&last).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return Chain{}, nil
	case err != nil:
		return Chain{}, fmt.Errorf("read the chain head: %w", err)
	}
	return Chain{Seq: *last.Seq, Head: last.Hash}, nil
}

func (s *Sealer) checkpoint(tx *Tx, signer *voucher.Signer, chain Chain, force bool) (bool, error) {
	var last Checkpoint
	err := tx.Order("seq DESC").Limit(1).Take(&last).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, fmt.Errorf("read the last checkpoint: %w", err)
	}
	now := tx.Now()
	switch {
	case err == nil && last.Seq == chain.Seq:
		return false, nil // the head is already signed
	case err == nil && !force && now.Sub(last.CreatedAt) < s.CheckpointEvery:
		return false, nil
	}
	cp := voucher.Checkpoint{Seq: uint64(chain.Seq), TimeMicros: now.UnixMicro()}
	copy(cp.Hash[:], chain.Head)
	sig, err := signer.SignCheckpoint(cp)
	if err != nil {
		return false, fmt.Errorf("sign checkpoint %d: %w", chain.Seq, err)
	}
	row := Checkpoint{Seq: chain.Seq, Hash: chain.Head, KeyID: int16(signer.KeyID()), Signature: sig, CreatedAt: now}
	if err := tx.Create(&row).Error; err != nil {
		return false, fmt.Errorf("write checkpoint %d: %w", chain.Seq, err)
	}
	return true, nil
}
