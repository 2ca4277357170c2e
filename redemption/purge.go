package redemption

import (
	"context"
	"log/slog"
	"time"

	"passnum/ledger"
)

// AnswerRetention is how long the answer to a refused basket is kept, so
// that the same idempotency key from the same venue replays it (Redeem's
// promise). After that the answer is purged and the key may serve again: a
// basket sent again so late is judged afresh. An accepted basket's answer
// is never purged: it goes with its redemption, which is kept for ever, so
// a retry, however late, still gets "accepted" and never "already redeemed
// by you"; and its storage is bounded by the vouchers spent, which no
// client can multiply.
const AnswerRetention = 24 * time.Hour

// purgeBatch bounds the rows one purge transaction deletes, so that it
// holds its locks for milliseconds, not for a backlog of days.
const purgeBatch = 1000

// PurgeAnswers deletes the refused baskets' answers older than
// AnswerRetention, purgeBatch at a time, and returns how many. Any number
// of server processes may run it at once: on PostgreSQL each batch skips
// the rows another one is deleting, and a row deleted twice is deleted once.
//
// A claim still in progress ('in_progress') exists only inside the open
// transaction that made it (claim and storeAnswer run in one), so no other
// transaction ever sees one to purge; should one ever be left behind, it
// would be purged like a refused answer and free its key.
func (s *Service) PurgeAnswers(ctx context.Context) (int64, error) {
	cutoff := s.DB.Now().Add(-AnswerRetention)
	var total int64
	for {
		var n int64
		err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
			query := `DELETE FROM idempotency_keys WHERE rowid IN (
				SELECT rowid FROM idempotency_keys WHERE NOT accepted AND created_at < ? ORDER BY created_at LIMIT ?)`
			if tx.Dialect() == ledger.Postgres {
				query = `DELETE FROM idempotency_keys WHERE ctid IN (
					SELECT ctid FROM idempotency_keys WHERE NOT accepted AND created_at < ? ORDER BY created_at LIMIT ?
					FOR UPDATE SKIP LOCKED)`
			}
			r := tx.Exec(query, cutoff, purgeBatch)
			n = r.RowsAffected
			return r.Error
		})
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// PurgeAnswersEvery runs PurgeAnswers every interval until ctx is done;
// an error is logged and the purge tried again at the next tick.
func (s *Service) PurgeAnswersEvery(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.PurgeAnswers(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("purging old refused baskets' answers failed; retrying", "err", err)
		case n > 0:
			log.Info("purged old refused baskets' answers", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
