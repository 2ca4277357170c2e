package redemption

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"passnum"
	"passnum/ledger"
)

// Basket is one session's vouchers sent by a venue.
type Basket struct {
	VenueID        int64
	IdempotencyKey string
	ScannedAt      time.Time // when the venue scanned; may be in the past for an offline device
	Session        string    // optional label of the session, no personal data
	Items          []Input
	Actor          string
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
	// Replayed is true when this is the stored answer to an earlier request
	// with the same idempotency key.
	Replayed bool `json:"-"`
}

// claimTimeout is how long a request may hold its idempotency key before a
// retry may assume it died and take over.
const claimTimeout = time.Minute

// errSpentMeanwhile aborts a redemption transaction whose conditional
// update found a voucher spent by a concurrent request; judging again then
// names it.
var errSpentMeanwhile = errors.New("a voucher was spent concurrently")

// Redeem redeems every voucher of the basket, or none. The same
// idempotency key from the same venue gets the first final answer back, for
// at least 24 hours. Errors: invalid, not_found (venue),
// idempotency_key_reused (same key, other request), request_in_progress
// (same key, first request still running: retry shortly).
func (s *Service) Redeem(ctx context.Context, b Basket) (Result, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	hash := requestHash(&b) // of the request as sent, before defaults fill it in
	if err := validBasket(&b, now); err != nil {
		return Result{}, err
	}
	replay, err := s.claim(ctx, b.VenueID, b.IdempotencyKey, hash, now)
	if err != nil || replay != nil {
		if replay != nil {
			replay.Replayed = true
			return *replay, nil
		}
		return Result{}, err
	}
	var res Result
	for attempt := 0; ; attempt++ {
		res, err = s.redeemOnce(ctx, &b, now)
		if (errors.Is(err, errSpentMeanwhile) || errors.Is(err, ledger.ErrBusy)) && attempt < 5 {
			continue // judge again: the voucher spent meanwhile is now refused by name
		}
		break
	}
	if err != nil {
		s.release(b.VenueID, b.IdempotencyKey)
		return Result{}, err
	}
	return res, nil
}

func (s *Service) redeemOnce(ctx context.Context, b *Basket, now time.Time) (Result, error) {
	res := Result{ScannedAt: b.ScannedAt, ReceivedAt: now}
	ks, err := s.DB.KeySet(ctx)
	if err != nil {
		return res, err
	}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		items, err := s.judge(tx.DB, ks, b.VenueID, b.Items, b.ScannedAt)
		if err != nil {
			return err
		}
		res.Items, res.Accepted = items, true
		for _, it := range items {
			res.Accepted = res.Accepted && it.Accepted
		}
		if res.Accepted {
			if err := s.spend(tx, b, &res); err != nil {
				return err
			}
		} else if err := s.recordOfflineConflict(tx, b, &res); err != nil {
			return err
		}
		return storeAnswer(tx, b, &res, now)
	})
	return res, err
}

// spend writes the redemption, spends its vouchers with one conditional
// update whose row count must be the basket's size, and appends the event.
func (s *Service) spend(tx *ledger.Tx, b *Basket, res *Result) error {
	serials := make([]int64, len(res.Items))
	items := make([]ledger.RedeemedItem, len(res.Items))
	for i, it := range res.Items {
		serials[i] = it.Serial
		items[i] = ledger.RedeemedItem{Serial: it.Serial, ValueCents: it.ValueCents}
		res.TotalCents += it.ValueCents
	}
	r := ledger.Redemption{VenueID: b.VenueID, IdempotencyKey: b.IdempotencyKey, Status: ledger.RedemptionAccepted,
		TotalCents: res.TotalCents, ScannedAt: b.ScannedAt, CreatedAt: res.ReceivedAt}
	if b.Session != "" {
		r.Session = &b.Session
	}
	if err := tx.Create(&r).Error; err != nil {
		return fmt.Errorf("write the redemption: %w", err)
	}
	upd := tx.Model(&ledger.Voucher{}).Where("serial IN ? AND status = ?", serials, ledger.VoucherActive).
		Updates(map[string]any{"status": ledger.VoucherRedeemed, "redemption_id": r.ID})
	if upd.Error != nil {
		return upd.Error
	}
	if upd.RowsAffected != int64(len(serials)) {
		return errSpentMeanwhile
	}
	rows := make([]ledger.RedemptionItem, len(items))
	for i, it := range items {
		rows[i] = ledger.RedemptionItem{RedemptionID: r.ID, VoucherSerial: it.Serial, ValueCents: it.ValueCents}
	}
	if err := tx.Create(&rows).Error; err != nil { // one INSERT: a basket is small
		return fmt.Errorf("write the redemption's items: %w", err)
	}
	res.RedemptionID = r.ID
	return tx.Append(ledger.Record{Type: ledger.EventRedeemed, Entity: "redemption", EntityID: strconv.FormatInt(r.ID, 10),
		Actor: b.Actor, At: res.ReceivedAt, Data: ledger.Redeemed{ID: r.ID, VenueID: b.VenueID,
			ScannedAt: b.ScannedAt.Format(time.RFC3339Nano), ReceivedAt: res.ReceivedAt.Format(time.RFC3339Nano),
			TotalCents: res.TotalCents, Items: items}})
}

// recordOfflineConflict appends an event when a basket scanned earlier
// meets vouchers spent elsewhere after its scan: first come, first served,
// and the auditors see both.
func (s *Service) recordOfflineConflict(tx *ledger.Tx, b *Basket, res *Result) error {
	var conflicts []ledger.ConflictingSpend
	for _, it := range res.Items {
		if it.Reason == ReasonAlreadyRedeemed && !it.ByThisVenue && it.OtherRedemptionID != 0 {
			var other ledger.Redemption
			if err := tx.Where("id = ?", it.OtherRedemptionID).Take(&other).Error; err != nil {
				return err
			}
			if other.CreatedAt.After(b.ScannedAt) {
				conflicts = append(conflicts, ledger.ConflictingSpend{Serial: it.Serial, RedemptionID: other.ID})
			}
		}
	}
	if len(conflicts) == 0 {
		return nil
	}
	return tx.Append(ledger.Record{Type: ledger.EventOfflineConflict, Entity: "venue", EntityID: strconv.FormatInt(b.VenueID, 10),
		Actor: b.Actor, At: res.ReceivedAt, Data: ledger.OfflineConflict{VenueID: b.VenueID, IdempotencyKey: b.IdempotencyKey,
			ScannedAt: b.ScannedAt.Format(time.RFC3339Nano), Conflicts: conflicts}})
}

// claim takes the idempotency key for this request with one autocommitted
// insert, so that a concurrent repeat sees the claim at once (and gets
// "in progress") instead of waiting on a transaction. It returns the stored
// answer when the key already has one for the same request.
func (s *Service) claim(ctx context.Context, venueID int64, key string, hash []byte, now time.Time) (*Result, error) {
	db := s.DB.Read(ctx)
	ins := db.Exec(`INSERT INTO idempotency_keys (venue_id, key, request_sha256, state, created_at, updated_at)
		VALUES (?, ?, ?, 'in_progress', ?, ?) ON CONFLICT (venue_id, key) DO NOTHING`, venueID, key, hash, now, now)
	if err := ledger.Translate(s.DB.Dialect(), ins.Error); err != nil {
		if errors.Is(err, ledger.ErrConstraint) {
			return nil, passnum.Errorf(passnum.ENotFound, "Structure %d inconnue.", venueID)
		}
		return nil, err
	}
	if ins.RowsAffected == 1 {
		return nil, nil
	}
	inProgress := passnum.Errorf(EInProgress, "Ce panier est déjà en cours d'enregistrement : réessayez dans quelques secondes.")
	var k ledger.IdempotencyKey
	if err := db.Where("venue_id = ? AND key = ?", venueID, key).Take(&k).Error; err != nil {
		return nil, err
	}
	switch {
	case string(k.RequestSHA256) != string(hash):
		return nil, passnum.Errorf(EIdempotencyMismatch, "Cette clé d'idempotence a déjà servi pour un autre panier : utilisez une nouvelle clé pour un nouveau panier.")
	case k.State == "done":
		replay := &Result{}
		return replay, json.Unmarshal([]byte(*k.Response), replay)
	case now.Sub(k.UpdatedAt) < claimTimeout:
		return nil, inProgress
	}
	// The first request died holding the key: take it over, unless another
	// retry just did.
	r := db.Model(&ledger.IdempotencyKey{}).Where("venue_id = ? AND key = ? AND state = ? AND updated_at = ?",
		venueID, key, "in_progress", k.UpdatedAt).Update("updated_at", now)
	if r.Error != nil {
		return nil, r.Error
	}
	if r.RowsAffected != 1 {
		return nil, inProgress
	}
	return nil, nil
}

// storeAnswer saves the final answer under the key, in the transaction that
// made it: a crash after commit replays it, a crash before leaves nothing.
func storeAnswer(tx *ledger.Tx, b *Basket, res *Result, now time.Time) error {
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	r := tx.Model(&ledger.IdempotencyKey{}).Where("venue_id = ? AND key = ? AND state = ?", b.VenueID, b.IdempotencyKey, "in_progress").
		Updates(map[string]any{"state": "done", "response": string(data), "updated_at": now})
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected != 1 {
		return passnum.Errorf(EInProgress, "Ce panier a été repris par une autre tentative : réessayez dans quelques secondes.")
	}
	return nil
}

// release frees a key whose request failed for an internal reason, so that
// a retry need not wait for the claim to time out.
func (s *Service) release(venueID int64, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.DB.Read(ctx).Where("venue_id = ? AND key = ? AND state = ?", venueID, key, "in_progress").Delete(&ledger.IdempotencyKey{})
}

func validBasket(b *Basket, now time.Time) error {
	switch {
	case len(b.Items) == 0:
		return passnum.Errorf(passnum.EInvalid, "Le panier est vide : scannez au moins un chèque.")
	case len(b.Items) > MaxBasket:
		return passnum.Errorf(passnum.EInvalid, "Un panier contient au plus %d chèques ; celui-ci en a %d.", MaxBasket, len(b.Items))
	case !validKey(b.IdempotencyKey):
		return passnum.Errorf(passnum.EInvalid, "La clé d'idempotence doit faire de 8 à 100 caractères imprimables.")
	case b.ScannedAt.IsZero():
		b.ScannedAt = now
	case b.ScannedAt.After(now.Add(maxClockSkew)):
		return passnum.Errorf(passnum.EInvalid, "L'heure du scan est dans le futur : vérifiez l'heure de l'appareil.")
	case b.ScannedAt.Before(now.Add(-MaxOfflineAge)):
		return passnum.Errorf(passnum.EInvalid, "Ce scan date de plus de 30 jours : il ne peut plus être enregistré.")
	}
	if utf8.RuneCountInString(b.Session) > 200 || !printable(b.Session) {
		return passnum.Errorf(passnum.EInvalid, "Le nom de la séance fait au plus 200 caractères, sans caractère de contrôle.")
	}
	b.ScannedAt = b.ScannedAt.UTC().Truncate(time.Microsecond)
	if b.ScannedAt.After(now) {
		b.ScannedAt = now // a device clock slightly ahead
	}
	for _, in := range b.Items {
		if err := validInput(in); err != nil {
			return err
		}
	}
	return nil
}

// printable refuses control characters, which have no place in a label and
// which some databases reject (NUL in PostgreSQL text).
func printable(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

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
// basket under a reused key.
func requestHash(b *Basket) []byte {
	data, _ := json.Marshal(struct {
		ScannedAt time.Time
		Session   string
		Items     []Input
	}{b.ScannedAt, b.Session, b.Items})
	h := sha256.Sum256(data)
	return h[:]
}
