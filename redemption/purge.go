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
	return s.purge(ctx, "idempotency_keys", "NOT accepted AND created_at < ?", s.DB.Now().Add(-AnswerRetention))
}

// FailureRetention is how long a wrong typed entry is kept. Only those
// inside the lockout window count (ManualEntryWindow, 15 minutes by
// default); a day lets an operator look into a lockout the départements
// were told of, and stays longer than any window a replica is given.
const FailureRetention = 24 * time.Hour

// PurgeFailures deletes the wrong typed entries older than
// FailureRetention (or than the lockout window, if longer), and returns
// how many: without it the table grows with every mistyped digit, for
// ever. The lockouts themselves are ledger events, kept.
func (s *Service) PurgeFailures(ctx context.Context) (int64, error) {
	_, window := s.manualLimit()
	return s.purge(ctx, "manual_entry_failures", "at < ?", s.DB.Now().Add(-max(window, FailureRetention)))
}

// purge deletes the rows of table matching where (with its one argument),
// purgeBatch at a time, and returns how many. Any number of server processes may run it at once: on PostgreSQL
// each batch skips the rows another one is deleting.
func (s *Service) purge(ctx context.Context, table, where string, arg any) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
			query := `DELETE FROM ` + table + ` WHERE rowid IN (
				SELECT rowid FROM ` + table + ` WHERE ` + where + ` LIMIT ?)`
			if tx.Dialect() == ledger.Postgres {
				query = `DELETE FROM ` + table + ` WHERE ctid IN (
					SELECT ctid FROM ` + table + ` WHERE ` + where + ` LIMIT ? FOR UPDATE SKIP LOCKED)`
			}
			r := tx.Exec(query, arg, purgeBatch)
			n = r.RowsAffected
			return r.Error
		})
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// PurgeEvery runs PurgeAnswers and PurgeFailures every interval until
// ctx is done; an error is logged and the purge tried again at the next
// tick.
func (s *Service) PurgeEvery(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, p := range []struct {
			what string
			run  func(context.Context) (int64, error)
		}{{"old refused baskets' answers", s.PurgeAnswers}, {"old wrong typed entries", s.PurgeFailures}} {
			n, err := p.run(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("purging "+p.what+" failed; retrying", "err", err)
			case n > 0:
				log.Info("purged "+p.what, "rows", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
