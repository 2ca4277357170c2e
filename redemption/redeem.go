package redemption

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Basket is one session's vouchers sent by a venue.
type Basket struct {
	VenueID        int64
	IdempotencyKey string
	ScannedAt      time.Time // when the venue scanned; may be in the past for an offline device
	Session        string    // optional label of the session, no personal data
	Items          []Input
	Actor          string
	// Evidence of an offline scan: the API key of the device that sends
	// the basket (0: none) and the revocation feed cursor it held when it
	// scanned (nil: not given).
	DeviceKeyID      int64
	RevocationCursor *int64
}

// Result is the final answer to a basket: every voucher accepted (then
// RedemptionID is set) or none.
type Result struct {
	RedemptionID int64     `json:"redemption_id,omitempty"`
	Accepted     bool      `json:"accepted"`
	TotalCents   int64     `json:"total_cents"`
	ScannedAt    time.Time `json:"scanned_at"`
	ReceivedAt   time.Time `json:"received_at"`
	Items        []Item    `json:"items"`
	// Receipt is the redemption's receipt (voucher format, type 05), the
	// venue's proof of what it is owed; empty for a refused basket, or
	// when no signing key was active (the receipt can be signed again
	// from the ledger).
	Receipt string `json:"receipt,omitempty"`
	// Replayed is true when this is the stored answer to an earlier request
	// with the same idempotency key.
	Replayed bool `json:"-"`
}

// errSpentMeanwhile aborts a redemption transaction whose conditional
// update found a voucher spent by a concurrent request; judging again then
// names it.
var errSpentMeanwhile = errors.New("a voucher was spent concurrently")

// Redeem redeems every voucher of the basket, or none. The same
// idempotency key from the same venue gets the first final answer back, for
// at least 24 hours. Errors: invalid, not_found (venue),
// idempotency_key_reused (rejected: same key, other request) and the
// conflict request_in_progress (same key, first request still running:
// retry shortly).
func (s *Service) Redeem(ctx context.Context, b Basket) (Result, error) {
	hash := requestHash(&b) // of the request as sent, before defaults fill it in
	if err := validBasket(&b); err != nil {
		return Result{}, err
	}
	ks, err := s.keySet(ctx)
	if err != nil {
		return Result{}, err
	}
	signer, err := s.receiptSigner(ctx)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for attempt := 0; ; attempt++ {
		res, err = s.redeemOnce(ctx, ks, signer, b, hash)
		if (errors.Is(err, errSpentMeanwhile) || errors.Is(err, ledger.ErrBusy)) && attempt < 5 {
			continue // judge again: the voucher spent meanwhile is now refused by name
		}
		return res, err
	}
}

// redeemOnce is one transaction: it claims the idempotency key, judges the
// basket, spends it or not, and stores the answer under the key. A crash
// before the commit leaves nothing, not even the claim, so a retry starts
// afresh; after the commit, a retry gets the stored answer. Everything is
// judged at the transaction's instant, the one its rows and event record
// as received: b is the basket as sent, a copy that each attempt fills in.
func (s *Service) redeemOnce(ctx context.Context, ks *voucher.KeySet, signer *voucher.Signer, b Basket, hash []byte) (Result, error) {
	var res Result
	var replay *Result
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if err := validScanTime(&b, now); err != nil {
			return err
		}
		res = Result{ScannedAt: b.ScannedAt, ReceivedAt: now}
		venue, r, err := claim(tx, b.VenueID, b.IdempotencyKey, hash, now)
		if replay = r; err != nil || replay != nil {
			return err
		}
		if b.ScannedAt, err = scanTime(tx.DB, &b, now); err != nil {
			return err
		}
		res.ScannedAt = b.ScannedAt
		items, err := s.judgeCounted(tx, ks, venue, b.Items, now, b.ScannedAt)
		if err != nil {
			return err
		}
		res.Items, res.Accepted = items, true
		for _, it := range items {
			res.Accepted = res.Accepted && it.Accepted
		}
		if res.Accepted {
			if err := s.spend(tx, signer, &b, &res); err != nil {
				return err
			}
		} else if err := s.recordOfflineConflict(tx, &b, &res); err != nil {
			return err
		}
		return storeAnswer(tx, &b, &res, now)
	})
	if replay != nil && err == nil {
		replay.Replayed = true
		return *replay, nil
	}
	return res, err
}

// spend writes the redemption, spends its vouchers with one conditional
// update whose row count must be the basket's size, appends the event and
// signs the receipt of what it records (with signer, when there is one).
func (s *Service) spend(tx *ledger.Tx, signer *voucher.Signer, b *Basket, res *Result) error {
	serials := make([]int64, len(res.Items))
	items := make([]ledger.RedeemedItem, len(res.Items))
	for i, it := range res.Items {
		serials[i] = it.Serial
		items[i] = ledger.RedeemedItem{Serial: it.Serial, ValueCents: it.ValueCents}
		res.TotalCents += it.ValueCents
	}
	// Plain SQL on this path: it runs for every basket, and the ORM's
	// reflection cost more CPU than the database work (docs/BENCHMARKS.md).
	var session *string
	if b.Session != "" {
		session = &b.Session
	}
	id, err := insertRedemption(tx, b, res, session, serials, items)
	if err != nil {
		return err
	}
	res.RedemptionID = id
	ev := ledger.Redeemed{ID: id, VenueID: b.VenueID, ScannedAt: b.ScannedAt.Format(time.RFC3339Nano),
		ReceivedAt: res.ReceivedAt.Format(time.RFC3339Nano), TotalCents: res.TotalCents, Items: items}
	if signer != nil {
		r, err := ev.Receipt()
		if err != nil {
			return err
		}
		if res.Receipt, err = signer.Sign(r); err != nil {
			return fmt.Errorf("sign the receipt of redemption %d: %w", id, err)
		}
	}
	return tx.Append(ledger.Record{Entity: "redemption", EntityID: strconv.FormatInt(id, 10),
		Actor: b.Actor, At: res.ReceivedAt, Data: ev})
}

// recordOfflineConflict appends an event when a basket scanned earlier
// meets vouchers spent elsewhere after its scan: first come, first served,
// and the auditors see both. Those vouchers' messages say so, for the
// volunteer who accepted them offline.
func (s *Service) recordOfflineConflict(tx *ledger.Tx, b *Basket, res *Result) error {
	var conflicts []ledger.ConflictingSpend
	for i := range res.Items {
		it := &res.Items[i]
		if it.Reason == ReasonAlreadyRedeemed && !it.ByThisVenue && it.OtherRedemptionID != 0 {
			var other ledger.Redemption
			if err := tx.Where("id = ?", it.OtherRedemptionID).Take(&other).Error; err != nil {
				return err
			}
			if other.CreatedAt.After(b.ScannedAt) {
				conflicts = append(conflicts, ledger.ConflictingSpend{Serial: it.Serial, RedemptionID: other.ID})
				it.Message = offlineConflictMessage(it, other.CreatedAt)
			}
		}
	}
	if len(conflicts) == 0 {
		return nil
	}
	return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(b.VenueID, 10),
		Actor: b.Actor, At: res.ReceivedAt, Data: ledger.OfflineConflict{VenueID: b.VenueID, IdempotencyKey: b.IdempotencyKey,
			ScannedAt: b.ScannedAt.Format(time.RFC3339Nano), Conflicts: conflicts}})
}

// insertRedemption writes the redemption, spends its vouchers with one
// conditional update whose row count must be the basket's size, and writes
// its items. On PostgreSQL the three are one statement (data-modifying
// CTEs): this runs for every basket, and each round trip inside the
// transaction is time its row locks are held (docs/BENCHMARKS.md).
func insertRedemption(tx *ledger.Tx, b *Basket, res *Result, session *string, serials []int64, items []ledger.RedeemedItem) (int64, error) {
	if tx.Dialect() == ledger.Postgres {
		values := make([]int64, len(items))
		for i, it := range items {
			values[i] = it.ValueCents
		}
		var out struct{ ID, Spent, Items int64 }
		err := tx.Raw(`WITH r AS (
				INSERT INTO redemptions (venue_id, idempotency_key, status, total_cents, scanned_at, created_at, session)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id),
			u AS (
				UPDATE vouchers SET status = ?, redemption_id = (SELECT id FROM r)
				WHERE serial = ANY(?::bigint[]) AND status = ? RETURNING serial),
			i AS (
				INSERT INTO redemption_items (redemption_id, voucher_serial, value_cents)
				SELECT (SELECT id FROM r), t.s, t.v FROM unnest(?::bigint[], ?::bigint[]) AS t(s, v) JOIN u ON u.serial = t.s
				RETURNING 1)
			SELECT (SELECT id FROM r) AS id, (SELECT COUNT(*) FROM u) AS spent, (SELECT COUNT(*) FROM i) AS items`,
			b.VenueID, b.IdempotencyKey, ledger.RedemptionAccepted, res.TotalCents, b.ScannedAt, res.ReceivedAt, session,
			ledger.VoucherRedeemed, pgArray(serials), ledger.VoucherActive, pgArray(serials), pgArray(values)).Scan(&out).Error
		if err != nil {
			return 0, fmt.Errorf("write the redemption: %w", err)
		}
		if out.Spent != int64(len(serials)) || out.Items != out.Spent {
			return 0, errSpentMeanwhile
		}
		return out.ID, nil
	}
	var id int64
	err := tx.Raw(`INSERT INTO redemptions (venue_id, idempotency_key, status, total_cents, scanned_at, created_at, session)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, b.VenueID, b.IdempotencyKey, ledger.RedemptionAccepted,
		res.TotalCents, b.ScannedAt, res.ReceivedAt, session).Scan(&id).Error
	if err != nil {
		return 0, fmt.Errorf("write the redemption: %w", err)
	}
	upd := tx.Exec(`UPDATE vouchers SET status = ?, redemption_id = ? WHERE serial IN ? AND status = ?`,
		ledger.VoucherRedeemed, id, serials, ledger.VoucherActive)
	if upd.Error != nil {
		return 0, upd.Error
	}
	if upd.RowsAffected != int64(len(serials)) {
		return 0, errSpentMeanwhile
	}
	values := make([]string, len(items))
	args := make([]any, 0, 3*len(items))
	for i, it := range items {
		values[i] = "(?, ?, ?)"
		args = append(args, id, it.Serial, it.ValueCents)
	}
	if err := tx.Exec("INSERT INTO redemption_items (redemption_id, voucher_serial, value_cents) VALUES "+
		strings.Join(values, ", "), args...).Error; err != nil { // one statement: a basket is small
		return 0, fmt.Errorf("write the redemption's items: %w", err)
	}
	return id, nil
}

// pgArray writes integers as a PostgreSQL array literal: GORM would expand
// a slice argument into a list.
func pgArray(xs []int64) string {
	b := make([]byte, 0, 2+12*len(xs))
	b = append(b, '{')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(append(b, '}'))
}

// claim takes the idempotency key inside the redemption's transaction and
// reads the venue. It returns the stored answer when the key already has
// one for this request.
//
// A repeat of a request still running must not wait for it (the client gets
// 409 and retries): on PostgreSQL the insert is guarded by a try-lock on the
// key, which fails at once while the first request's transaction holds it.
// SQLite runs one write transaction at a time, so there a repeat simply
// waits for the first to commit and replays its answer.
func claim(tx *ledger.Tx, venueID int64, key string, hash []byte, now time.Time) (venueState, *Result, error) {
	var claimed bool
	var venue venueState
	var err error
	if tx.Dialect() == ledger.Postgres {
		// One round trip: the claim, guarded by the try-lock, and the venue.
		var rows []struct {
			ledger.Venue
			Department     *string
			LabelStatus    *ledger.VenueStatus
			LabelExpiresOn *ledger.Date
			Claimed        int64
		}
		err = tx.Raw(`WITH ins AS (
				INSERT INTO idempotency_keys (venue_id, key, request_sha256, state, created_at, updated_at)
				SELECT ?, ?, ?, 'in_progress', ?, ? WHERE pg_try_advisory_xact_lock(?)
				ON CONFLICT (venue_id, key) DO NOTHING RETURNING 1)
			SELECT q.*, (SELECT COUNT(*) FROM ins) AS claimed FROM (`+venueQuery+`) q`,
			venueID, key, hash, now, now, keyLock(venueID, key), venueID).Scan(&rows).Error
		if err == nil {
			vrows := make([]venueRow, len(rows))
			for i, r := range rows {
				vrows[i] = venueRow{Venue: r.Venue, Department: r.Department, LabelStatus: r.LabelStatus, LabelExpiresOn: r.LabelExpiresOn}
			}
			claimed = len(rows) > 0 && rows[0].Claimed == 1
			venue, err = venueOf(venueID, vrows)
		}
	} else {
		ins := tx.Exec(`INSERT INTO idempotency_keys (venue_id, key, request_sha256, state, created_at, updated_at)
			VALUES (?, ?, ?, 'in_progress', ?, ?) ON CONFLICT (venue_id, key) DO NOTHING`, venueID, key, hash, now, now)
		if err = ins.Error; err == nil {
			claimed = ins.RowsAffected == 1
			venue, err = loadVenue(tx.DB, venueID)
		}
	}
	if err := ledger.Translate(tx.Dialect(), err); err != nil {
		if errors.Is(err, ledger.ErrConstraint) {
			return venue, nil, passnum.NotFound("Structure %d inconnue.", venueID)
		}
		return venue, nil, err
	}
	if claimed {
		return venue, nil, nil
	}
	var k ledger.IdempotencyKey
	err = tx.Where("venue_id = ? AND key = ?", venueID, key).Take(&k).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && k.State != "done"):
		// Not inserted and not committed: another request holds the key.
		busy := passnum.Errorf(passnum.KindConflict, EInProgress, "Ce panier est déjà en cours d'enregistrement : réessayez dans quelques secondes.")
		busy.RetryAfter = 2 * time.Second // a basket commits in well under that
		return venue, nil, busy
	case err != nil:
		return venue, nil, err
	case string(k.RequestSHA256) != string(hash):
		return venue, nil, passnum.Errorf(passnum.KindRejected, EIdempotencyMismatch, "Cette clé d'idempotence a déjà servi pour un autre panier : utilisez une nouvelle clé pour un nouveau panier.")
	}
	replay := &Result{}
	return venue, replay, json.Unmarshal([]byte(*k.Response), replay)
}

// keyLock maps a venue's idempotency key to a PostgreSQL advisory lock. Two
// keys sharing a lock (a 64-bit hash collision) would only make one of them
// wait for a retry.
func keyLock(venueID int64, key string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "passnum/idempotency/%d/%s", venueID, key)
	return int64(h.Sum64())
}

// storeAnswer saves the final answer under the key, in the transaction that
// made it: a crash after commit replays it, a crash before leaves nothing.
func storeAnswer(tx *ledger.Tx, b *Basket, res *Result, now time.Time) error {
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	r := tx.Exec(`UPDATE idempotency_keys SET state = 'done', response = ?, accepted = ?, updated_at = ?
		WHERE venue_id = ? AND key = ? AND state = 'in_progress'`, string(data), res.Accepted, now, b.VenueID, b.IdempotencyKey)
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected != 1 {
		return fmt.Errorf("the idempotency key %q was not claimed by this transaction", b.IdempotencyKey)
	}
	return nil
}

// validBasket checks what does not depend on the time, before any
// transaction; validScanTime checks the rest inside it.
func validBasket(b *Basket) error {
	switch {
	case len(b.Items) == 0:
		return passnum.Invalid("Le panier est vide : scannez au moins un chèque.")
	case len(b.Items) > MaxBasket:
		return passnum.Invalid("Un panier contient au plus %d chèques ; celui-ci en a %d.", MaxBasket, len(b.Items))
	case b.RevocationCursor != nil && *b.RevocationCursor < 0:
		return passnum.Invalid("revocation_cursor doit être un entier positif ou nul : le « next » de la dernière page de la liste des chèques révoqués reçue par l'appareil.")
	case !validKey(b.IdempotencyKey):
		return passnum.Invalid("La clé d'idempotence doit faire de 8 à 100 caractères imprimables.")
	}
	session, err := sessionLabel.Check(b.Session)
	if err != nil {
		return err
	}
	b.Session = session
	for _, in := range b.Items {
		if err := validInput(in); err != nil {
			return err
		}
	}
	return nil
}

// validScanTime judges a basket's scan time at now, the instant of the
// transaction that records it, and fills it in: none is now, and a device
// clock slightly ahead is taken as now.
func validScanTime(b *Basket, now time.Time) error {
	switch {
	case b.ScannedAt.IsZero():
		b.ScannedAt = now
	case b.ScannedAt.After(now.Add(maxClockSkew)):
		return passnum.Invalid("L'heure du scan est dans le futur : vérifiez l'heure de l'appareil.")
	case b.ScannedAt.Before(now.Add(-MaxOfflineAge)):
		return passnum.Invalid("Ce scan date de plus de 30 jours : il ne peut plus être enregistré.")
	}
	b.ScannedAt = b.ScannedAt.UTC().Truncate(time.Microsecond)
	if b.ScannedAt.After(now) {
		b.ScannedAt = now
	}
	return nil
}

// sessionLabel is the rule of a basket's session label.
var sessionLabel = passnum.Text{What: "Le nom de la séance", Max: 200}

func validKey(k string) bool {
	if len(k) < 8 || len(k) > 100 {
		return false
	}
	for _, r := range k {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// requestHash identifies a request's content, to tell a retry from a new
// basket under a reused key. The scan time counts as the instant stored
// (UTC, to the microsecond), not as written: the same instant with another
// offset is the same basket. The cursor counts only when given, so that a
// request without one hashes as it did before cursors existed.
func requestHash(b *Basket) []byte {
	data, _ := json.Marshal(struct {
		ScannedAt        time.Time
		Session          string
		Items            []Input
		RevocationCursor *int64 `json:",omitempty"`
	}{b.ScannedAt.UTC().Truncate(time.Microsecond), b.Session, b.Items, b.RevocationCursor})
	h := sha256.Sum256(data)
	return h[:]
}
