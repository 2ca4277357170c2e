// Package redemption is the money path: venues check vouchers, redeem a
// basket of them atomically and idempotently, and undo a mistake.
//
// Double spending is prevented by the database (design decision 5): a
// voucher is spent by a conditional UPDATE … WHERE status = 'active' whose
// row count must match the basket, inside the transaction that writes the
// redemption and its ledger event. Nothing is held in memory between
// requests, so any number of server processes may share one PostgreSQL.
package redemption

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/keys"
	"passnum/ledger"
	"passnum/voucher"
)

// Service checks, redeems and reverses. It is safe for concurrent use.
// Its time is the database's clock: a judgement is made at the instant of
// the transaction that writes it (ledger.Tx.Now).
type Service struct {
	DB *ledger.DB
	// Keys gives each signing key's verification secret, behind the codes
	// printed for the vouchers it signed.
	Keys *keys.Manager
	// ReversalWindow is how long after acceptance a venue may undo a
	// redemption (default 30 minutes).
	ReversalWindow time.Duration
	// ManualEntryLimit wrong typed entries per ManualEntryWindow lock a
	// venue's manual entry until the window passes (defaults 10 per 15 min).
	ManualEntryLimit  int
	ManualEntryWindow time.Duration
	// KeyCacheTTL keeps the public keys in memory that long instead of
	// reading them on every request (zero: always read). A key revoked in
	// the database then still verifies for up to that long on each server.
	KeyCacheTTL time.Duration

	signer struct {
		sync.Mutex
		s       *voucher.Signer
		fetched time.Time
	}
	keys struct {
		sync.Mutex
		set     *voucher.KeySet
		fetched time.Time
	}
}

// keySet returns the public keys, from memory when KeyCacheTTL allows.
func (s *Service) keySet(ctx context.Context) (*voucher.KeySet, error) {
	if s.KeyCacheTTL <= 0 {
		return s.DB.KeySet(ctx)
	}
	s.keys.Lock()
	defer s.keys.Unlock()
	now := s.DB.Now()
	if s.keys.set != nil && now.Sub(s.keys.fetched) < s.KeyCacheTTL {
		return s.keys.set, nil
	}
	ks, err := s.DB.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	s.keys.set, s.keys.fetched = ks, now
	return ks, nil
}

// receiptSigner is the active key's signer, for receipts, kept as long as
// the public keys are (KeyCacheTTL): reading the key's row and its private
// file for every basket would cost more than the signature. With no active
// key (revoked, its successor not made yet) it is nil: baskets are still
// redeemed, without a receipt, rather than venues turned away.
func (s *Service) receiptSigner(ctx context.Context) (*voucher.Signer, error) {
	s.signer.Lock()
	defer s.signer.Unlock()
	now := s.DB.Now()
	if s.KeyCacheTTL > 0 && s.signer.s != nil && now.Sub(s.signer.fetched) < s.KeyCacheTTL {
		return s.signer.s, nil
	}
	sg, err := s.Keys.Signer(ctx)
	if passnum.ErrorCode(err) == keys.ENoActiveKey {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.signer.s, s.signer.fetched = sg, now
	return sg, nil
}

// Limits of a request.
const (
	MaxBasket     = 100                 // vouchers in one basket
	MaxOfflineAge = 30 * 24 * time.Hour // oldest scan an offline device may send
	maxClockSkew  = 5 * time.Minute     // a scan "in the future" within this is the device's clock
)

func (s *Service) reversalWindow() time.Duration {
	if s.ReversalWindow > 0 {
		return s.ReversalWindow
	}
	return 30 * time.Minute
}

// ReversibleUntil is the last instant a redemption received at receivedAt
// may be reversed: Reverse refuses it after, and the API tells the scanner,
// so that the page offers to undo exactly as long as the server accepts.
func (s *Service) ReversibleUntil(receivedAt time.Time) time.Time {
	return receivedAt.Add(s.reversalWindow())
}

func (s *Service) manualLimit() (int, time.Duration) {
	limit, window := s.ManualEntryLimit, s.ManualEntryWindow
	if limit <= 0 {
		limit = 10
	}
	if window <= 0 {
		window = 15 * time.Minute
	}
	return limit, window
}

// Input is one voucher as the venue gives it: a scanned code, or the
// printed number and verification code typed by hand.
type Input struct {
	Code             string `json:"code,omitempty"`
	Number           string `json:"number,omitempty"`
	VerificationCode string `json:"verification_code,omitempty"`
}

// Item is the verdict on one input.
type Item struct {
	Index      int    `json:"index"`            // position in the request
	Number     string `json:"number,omitempty"` // printed number, when the input was readable
	Serial     int64  `json:"serial,omitempty"`
	Department string `json:"department,omitempty"`
	ValueCents int64  `json:"value_cents"`
	Accepted   bool   `json:"accepted"`
	Reason     string `json:"reason,omitempty"`
	Message    string `json:"message,omitempty"` // French, for the volunteer
	// For already_redeemed: when, whether by this venue, and which redemption.
	RedeemedAt        *time.Time `json:"redeemed_at,omitempty"`
	ByThisVenue       bool       `json:"by_this_venue,omitempty"`
	OtherRedemptionID int64      `json:"redemption_id,omitempty"`
	Manual            bool       `json:"manual,omitempty"`

	validFromText, validUntilText string
	departmentName                string // who the volunteer calls, in messages
}

func (it *Item) reject(reason string) {
	it.Accepted, it.Reason = false, reason
	it.Message = message(it)
}

// venueState is what a venue may do: its label for each département it is
// labelled for, each département's own (a 78 suspension does not stop
// 92's vouchers).
type venueState struct {
	ledger.Venue
	labels map[string]ledger.VenueDepartment
}

// venueQuery reads a venue and its labels in one query (one row per
// département); redemptions on PostgreSQL run it in the same statement as
// their idempotency claim.
const venueQuery = `SELECT v.*, d.department_code AS department, d.status AS label_status, d.label_expires_on
	FROM venues v LEFT JOIN venue_departments d ON d.venue_id = v.id WHERE v.id = ?`

type venueRow struct {
	ledger.Venue
	Department     *string
	LabelStatus    *ledger.VenueStatus
	LabelExpiresOn *ledger.Date
}

func loadVenue(db *gorm.DB, id int64) (venueState, error) {
	var rows []venueRow
	if err := db.Raw(venueQuery, id).Scan(&rows).Error; err != nil {
		return venueState{}, err
	}
	return venueOf(id, rows)
}

func venueOf(id int64, rows []venueRow) (venueState, error) {
	if len(rows) == 0 {
		return venueState{}, passnum.NotFound("Structure %d inconnue.", id)
	}
	v := venueState{Venue: rows[0].Venue, labels: map[string]ledger.VenueDepartment{}}
	for _, r := range rows {
		if r.Department != nil && r.LabelStatus != nil {
			v.labels[*r.Department] = ledger.VenueDepartment{VenueID: id, DepartmentCode: *r.Department,
				Status: *r.LabelStatus, LabelExpiresOn: r.LabelExpiresOn}
		}
	}
	return v, nil
}

// voucherRow is a voucher with what judging it needs.
type voucherRow struct {
	Serial             int64
	Status             ledger.VoucherStatus
	RedemptionID       *int64
	DepartmentCode     string
	FaceValueCents     int64
	ValidFrom          ledger.Date
	ValidUntil         ledger.Date
	RedeemedVenueID    *int64
	RedeemedScannedAt  *time.Time
	RedeemedReceivedAt *time.Time
	DepartmentName     string
}

func loadVouchers(db *gorm.DB, serials []int64) (map[int64]voucherRow, error) {
	var rows []voucherRow
	err := db.Raw(`SELECT v.serial, v.status, v.redemption_id, b.department_code, b.face_value_cents,
			b.valid_from, b.valid_until, r.venue_id AS redeemed_venue_id,
			r.scanned_at AS redeemed_scanned_at, r.created_at AS redeemed_received_at, d.name AS department_name
		FROM vouchers v
		JOIN batches b ON b.id = v.batch_id
		JOIN departments d ON d.code = b.department_code
		LEFT JOIN redemptions r ON r.id = v.redemption_id
		WHERE v.serial IN ?`, serials).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read vouchers: %w", err)
	}
	out := make(map[int64]voucherRow, len(rows))
	for _, r := range rows {
		out[r.Serial] = r
	}
	return out, nil
}

// judge decides on every input, changing nothing (the caller counts the
// wrong manual entries with recordManualFailures). It is the one place
// where the rules live: Check and Redeem both call it. The venue's label
// and status are judged at now, when the server has the basket; typed
// entries wholly at now too, since no scanner checks them offline; scanned
// codes' validity at scannedAt, the scan time the device's evidence
// supports (scanTime). At most budget typed entries may be wrong: the rest
// are refused unread. Every query goes through db, the caller's
// transaction: taking a second pooled connection while holding one can
// exhaust the pool under load.
func (s *Service) judge(db *gorm.DB, ks *voucher.KeySet, venue venueState, inputs []Input, now, scannedAt time.Time, budget int64) ([]Item, error) {
	venueID := venue.ID
	items := make([]Item, len(inputs))
	serials := make([]int64, 0, len(inputs))
	seen := map[int64]bool{}
	typed, err := s.typedKeys(db, ks, inputs, budget)
	if err != nil {
		return nil, err
	}
	for i, in := range inputs {
		it := &items[i]
		it.Index, it.Accepted = i, true
		serial, reason := s.decode(ks, in, &budget, typed)
		it.Manual = in.Code == ""
		if serial != 0 {
			it.Serial, it.Number = int64(serial), voucher.FormatNumber(serial)
		}
		switch {
		case reason != "":
			it.reject(reason)
		case seen[it.Serial]:
			it.reject(ReasonDuplicateInBasket)
		default:
			seen[it.Serial] = true
			serials = append(serials, it.Serial)
		}
	}
	rows, err := loadVouchers(db, serials)
	if err != nil {
		return nil, err
	}
	today, scanDay := voucher.Today(now), voucher.Today(scannedAt)
	for i := range items {
		it := &items[i]
		if !it.Accepted {
			continue
		}
		row, ok := rows[it.Serial]
		if !ok {
			it.reject(ReasonUnknownVoucher)
			continue
		}
		it.Department, it.ValueCents, it.departmentName = row.DepartmentCode, row.FaceValueCents, row.DepartmentName
		it.validFromText = frenchDay(row.ValidFrom.Day().Start())
		it.validUntilText = frenchDay(row.ValidUntil.Day().Start())
		day := scanDay
		if it.Manual {
			day = today
		}
		// The label of the voucher's département: its money, its decision.
		label, labelled := venue.labels[row.DepartmentCode]
		switch {
		case labelled && label.Status == ledger.VenueSuspended:
			it.reject(ReasonVenueSuspended)
		case labelled && !label.Redeems(today):
			it.reject(ReasonVenueNotLabelled)
		case row.Status == ledger.VoucherVoid:
			it.reject(ReasonVoided)
		case row.Status == ledger.VoucherRedeemed:
			it.RedeemedAt = row.RedeemedScannedAt
			it.ByThisVenue = row.RedeemedVenueID != nil && *row.RedeemedVenueID == venueID
			if row.RedemptionID != nil {
				it.OtherRedemptionID = *row.RedemptionID
			}
			it.reject(ReasonAlreadyRedeemed)
		case row.Status == ledger.VoucherInactive:
			it.reject(ReasonNotActivated)
		case !labelled:
			it.reject(ReasonWrongDepartment)
		case day < row.ValidFrom.Day():
			it.reject(ReasonNotYetValid)
		case day > row.ValidUntil.Day():
			it.reject(ReasonExpired)
		}
	}
	return items, nil
}

// typedKey is what checking a typed voucher needs of the key that signed
// it: whether it is revoked, else its verification secret.
type typedKey struct {
	revoked bool
	secret  []byte
}

// typedKeys returns, by serial, the key of each voucher typed by hand in
// inputs: a replacement's own, else its batch's. A serial that was never
// issued has none.
func (s *Service) typedKeys(db *gorm.DB, ks *voucher.KeySet, inputs []Input, budget int64) (map[uint64]typedKey, error) {
	var serials []int64
	if budget <= 0 {
		return nil, nil // no typed entry will be read
	}
	for _, in := range inputs {
		if in.Code != "" {
			continue
		}
		if serial, err := voucher.ParseNumber(in.Number); err == nil {
			serials = append(serials, int64(serial))
		}
	}
	if len(serials) == 0 {
		return nil, nil
	}
	var rows []struct {
		Serial int64
		KeyID  int16
	}
	if err := db.Raw(`SELECT v.serial, COALESCE(v.key_id, b.key_id) AS key_id FROM vouchers v
		JOIN batches b ON b.id = v.batch_id WHERE v.serial IN ?`, serials).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the keys of typed vouchers: %w", err)
	}
	out := make(map[uint64]typedKey, len(rows))
	for _, r := range rows {
		// The key set, as for a scanned code: a key revoked since is refused
		// within the same KeyCacheTTL, and its secret is never needed. A key
		// newer than the cached set is not revoked.
		if k, ok := ks.Key(byte(r.KeyID)); ok && k.Status == voucher.KeyRevoked {
			out[uint64(r.Serial)] = typedKey{revoked: true}
			continue
		}
		secret, err := s.Keys.VerificationSecret(db.Statement.Context, r.KeyID)
		if err != nil {
			return nil, err
		}
		out[uint64(r.Serial)] = typedKey{secret: secret}
	}
	return out, nil
}

// decode reads one input into a serial, or says why it cannot. typed holds
// the keys of the typed vouchers (typedKeys). A typed entry is compared
// only while budget (the wrong entries the venue may still make) lasts, and
// a wrong one uses it up.
func (s *Service) decode(ks *voucher.KeySet, in Input, budget *int64, typed map[uint64]typedKey) (uint64, string) {
	if in.Code != "" {
		d, err := ks.Verify(strings.TrimSpace(in.Code))
		switch {
		case errors.Is(err, voucher.ErrBadSignature):
			return 0, ReasonBadSignature
		case errors.Is(err, voucher.ErrUnknownKey):
			return 0, ReasonUnknownKey
		case errors.Is(err, voucher.ErrRevokedKey):
			return 0, ReasonRevokedKey
		case err != nil:
			return 0, ReasonInvalidCode
		}
		v, ok := d.Payload.(voucher.Voucher)
		if !ok {
			return 0, ReasonInvalidCode // an activation code scanned by mistake
		}
		return v.Serial, ""
	}
	if *budget <= 0 {
		return 0, ReasonRateLimited
	}
	serial, err := voucher.ParseNumber(in.Number)
	key, issued := typed[serial]
	switch {
	case err != nil, !issued:
		// A number never issued has no key to check its code with: a
		// wrong entry, as a wrong code is.
		*budget--
		return 0, ReasonInvalidCode
	case key.revoked:
		return serial, ReasonRevokedKey
	case !voucher.CheckVerificationCode(key.secret, serial, in.VerificationCode):
		*budget--
		return 0, ReasonInvalidCode
	}
	return serial, ""
}

// Check judges one voucher for a venue now, changing nothing (but counting a
// wrong manual entry). Errors: invalid, not_found (venue).
func (s *Service) Check(ctx context.Context, venueID int64, in Input) (Item, error) {
	if err := validInput(in); err != nil {
		return Item{}, err
	}
	ks, err := s.keySet(ctx)
	if err != nil {
		return Item{}, err
	}
	var items []Item
	if in.Code != "" { // scans stay read-only
		db := s.DB.Read(ctx)
		venue, err := loadVenue(db, venueID)
		if err != nil {
			return Item{}, err
		}
		now := s.DB.Now()
		items, err = s.judge(db, ks, venue, []Input{in}, now, now, 0)
		if err != nil {
			return Item{}, err
		}
		return items[0], nil
	}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		venue, err := loadVenue(tx.DB, venueID)
		if err != nil {
			return err
		}
		items, err = s.judgeCounted(tx, ks, venue, []Input{in}, tx.Now(), tx.Now())
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return items[0], nil
}

// judgeCounted judges inputs in tx and records their wrong typed entries.
// With typed entries, it first locks the venue's row and counts its recent
// failures: concurrent requests, on any server process, then take turns,
// so that however the entries are spread over items, requests and
// replicas, the venue compares at most ManualEntryLimit wrong ones per
// ManualEntryWindow. Right ones use up nothing: the holder of a chéquier
// is not locked out by entries that did not fail. Scans take no lock.
func (s *Service) judgeCounted(tx *ledger.Tx, ks *voucher.KeySet, venue venueState, inputs []Input, now, scannedAt time.Time) ([]Item, error) {
	limit, window := s.manualLimit()
	var failures int64
	if slices.ContainsFunc(inputs, func(in Input) bool { return in.Code == "" }) {
		if err := tx.LockVenue(venue.ID); err != nil {
			return nil, err
		}
		err := tx.Model(&ledger.ManualEntryFailure{}).Where("venue_id = ? AND at > ?", venue.ID, now.Add(-window)).Count(&failures).Error
		if err != nil {
			return nil, err
		}
	}
	items, err := s.judge(tx.DB, ks, venue, inputs, now, scannedAt, int64(limit)-failures)
	if err != nil {
		return nil, err
	}
	if err := s.recordManualFailures(tx, venue, items, failures, now); err != nil {
		return nil, err
	}
	return items, s.tellWait(tx, venue.ID, items, now)
}

func validInput(in Input) error {
	switch {
	case in.Code != "" && (in.Number != "" || in.VerificationCode != ""):
		return passnum.Invalid("Donnez soit le code scanné, soit le numéro et le code de vérification, pas les deux.")
	case in.Code == "" && (in.Number == "" || in.VerificationCode == ""):
		return passnum.Invalid("Donnez le code scanné, ou le numéro du chèque et son code de vérification.")
	case len(in.Code) > 512 || len(in.Number) > 64 || len(in.VerificationCode) > 64:
		return passnum.Invalid("Ce code est trop long pour être un chèque.")
	}
	return nil
}
