package issuing

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Error codes of chéquier changes, beside the generic ones.
const (
	EChequierVoided        = "chequier_voided"
	EChequierAlreadyActive = "chequier_already_active"
	EChequierExpired       = "chequier_expired"
)

// beneficiaryRef allows a pseudonymous file reference ("CCAS-17-0193") and
// nothing that looks like a name: no spaces, at most 64 characters
// (design decision 9: no personal data in the ledger).
var beneficiaryRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

// Activate records that a chéquier was handed over, optionally with the
// département's pseudonymous beneficiary reference. Its vouchers become
// redeemable if its batch required activation.
// Errors: invalid (bad number or reference), not_found, chequier_voided,
// chequier_already_active, chequier_expired.
func (s *Service) Activate(ctx context.Context, number, ref, actor string) (ledger.Chequier, error) {
	if ref != "" && !beneficiaryRef.MatchString(ref) {
		return ledger.Chequier{}, passnum.Errorf(passnum.EInvalid,
			"the beneficiary reference must be a file reference of 1 to 64 letters, digits, '.', '_', '/' or '-' (never a name)")
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	var c ledger.Chequier
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		var b ledger.Batch
		var err error
		if c, b, err = findChequier(tx.DB, number); err != nil {
			return err
		}
		switch c.Status {
		case ledger.ChequierVoid:
			return passnum.Errorf(EChequierVoided, "chéquier %s was voided on %s; it cannot be handed over", c.Number, c.VoidedAt.Format(time.DateOnly))
		case ledger.ChequierActive:
			return passnum.Errorf(EChequierAlreadyActive, "chéquier %s was already handed over on %s", c.Number, c.ActivatedAt.Format(time.DateOnly))
		}
		if voucher.Today(now) > b.ValidUntil.Day() {
			return passnum.Errorf(EChequierExpired, "chéquier %s expired on %s; hand over a valid one", c.Number, b.ValidUntil)
		}
		updates := map[string]any{"status": ledger.ChequierActive, "activated_at": now}
		if ref != "" {
			updates["beneficiary_ref"] = ref
		}
		// Conditional on the status read above: a concurrent activation or
		// voiding makes this touch no row, and the transaction fails.
		r := tx.Model(&ledger.Chequier{}).Where("id = ? AND status = ?", c.ID, ledger.ChequierIssued).Updates(updates)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Errorf(passnum.EConflict, "chéquier %s changed while it was being activated: try again", c.Number)
		}
		activated := int64(0)
		if b.RequiresActivation {
			r = tx.Model(&ledger.Voucher{}).Where("chequier_id = ? AND status = ?", c.ID, ledger.VoucherInactive).
				Update("status", ledger.VoucherActive)
			if r.Error != nil {
				return r.Error
			}
			activated = r.RowsAffected
		}
		c.Status, c.ActivatedAt = ledger.ChequierActive, &now
		if ref != "" {
			c.BeneficiaryRef = &ref
		}
		return tx.Append(ledger.Record{Type: ledger.EventChequierActivated, Entity: "chequier", EntityID: strconv.FormatInt(c.ID, 10),
			Department: c.DepartmentCode, Actor: actor, At: now, Data: ledger.ChequierActivated{
				ChequierID: c.ID, Number: c.Number, BeneficiaryRef: ref, VouchersActivated: activated}})
	})
	return c, err
}

// Voided is a chéquier just voided and the serials of the vouchers that
// became void with it (those already redeemed stay redeemed).
type Voided struct {
	Chequier ledger.Chequier
	Serials  []int64
}

// Void cancels a lost or stolen chéquier: its unredeemed vouchers become
// void. Errors: invalid (no reason), not_found, chequier_voided.
func (s *Service) Void(ctx context.Context, number, reason, actor string) (Voided, error) {
	reason, err := checkReason(reason, "perdu")
	if err != nil {
		return Voided{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	var out Voided
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		c, _, err := findChequier(tx.DB, number)
		if err != nil {
			return err
		}
		if c.Status == ledger.ChequierVoid {
			return passnum.Errorf(EChequierVoided, "chéquier %s was already voided on %s", c.Number, c.VoidedAt.Format(time.DateOnly))
		}
		r := tx.Model(&ledger.Chequier{}).Where("id = ? AND status = ?", c.ID, c.Status).
			Updates(map[string]any{"status": ledger.ChequierVoid, "voided_at": now, "void_reason": reason})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Errorf(passnum.EConflict, "chéquier %s changed while it was being voided: try again", c.Number)
		}
		// RETURNING gives exactly the rows this statement changed, even if a
		// redemption commits in between on PostgreSQL.
		var serials []int64
		if err := tx.Raw(`UPDATE vouchers SET status = ? WHERE chequier_id = ? AND status IN (?, ?) RETURNING serial`,
			ledger.VoucherVoid, c.ID, ledger.VoucherInactive, ledger.VoucherActive).Scan(&serials).Error; err != nil {
			return err
		}
		slices.Sort(serials)
		c.Status, c.VoidedAt, c.VoidReason = ledger.ChequierVoid, &now, &reason
		out = Voided{Chequier: c, Serials: serials}
		return tx.Append(ledger.Record{Type: ledger.EventChequierVoided, Entity: "chequier", EntityID: strconv.FormatInt(c.ID, 10),
			Department: c.DepartmentCode, Actor: actor, At: now, Data: ledger.ChequierVoided{
				ChequierID: c.ID, Number: c.Number, Reason: reason, VoidedSerials: serials}})
	})
	return out, err
}

// findChequier reads a chéquier and its batch by printed number.
func findChequier(tx *gorm.DB, number string) (ledger.Chequier, ledger.Batch, error) {
	var c ledger.Chequier
	var b ledger.Batch
	dept, year, seq, err := voucher.ParseChequierNumber(number)
	if err != nil {
		return c, b, passnum.Errorf(passnum.EInvalid, "%q is not a chéquier number: it looks like 78-2026-000042", number)
	}
	canonical := voucher.FormatChequierNumber(dept, year, seq)
	err = tx.Where("number = ?", canonical).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, b, passnum.Errorf(passnum.ENotFound, "there is no chéquier %s", canonical)
	}
	if err != nil {
		return c, b, err
	}
	err = tx.Where("id = ?", c.BatchID).Take(&b).Error
	return c, b, err
}
