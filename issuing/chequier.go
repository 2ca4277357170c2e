package issuing

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	EDistributionStopped   = "distribution_stopped"
	EVoucherNotVoidable    = "voucher_not_voidable"
	EChequierKeyRevoked    = "chequier_key_revoked"
)

// beneficiaryRef allows a pseudonymous file reference ("CCAS-17-0193") and
// nothing that looks like a name: no spaces, at most 64 characters
// (design decision 9: no personal data in the ledger). It is stricter than
// passnum.Text (no control character, no invalid UTF-8 gets through), so it
// is the reference's only check.
var beneficiaryRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

// Activate records that a chéquier was handed over, optionally with the
// département's pseudonymous beneficiary reference. Its vouchers become
// redeemable if its batch required activation.
// Errors: invalid (bad number or reference), not_found, and the conflicts
// chequier_voided, chequier_already_active, chequier_key_revoked,
// chequier_expired and distribution_stopped.
func (s *Service) Activate(ctx context.Context, number, ref, actor string) (ledger.Chequier, error) {
	if ref != "" && !beneficiaryRef.MatchString(ref) {
		err := passnum.Invalid("La référence du bénéficiaire est une référence de dossier de 1 à 64 lettres, chiffres, « . », « _ », « / » ou « - », sans espace (par exemple CCAS-17-0193) : jamais un nom.")
		err.French = true
		return ledger.Chequier{}, err
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
			return passnum.Errorf(passnum.KindConflict, EChequierVoided, "chéquier %s was voided on %s; it cannot be handed over", c.Number, c.VoidedAt.Format(time.DateOnly))
		case ledger.ChequierActive:
			return passnum.Errorf(passnum.KindConflict, EChequierAlreadyActive, "chéquier %s was already handed over on %s", c.Number, c.ActivatedAt.Format(time.DateOnly))
		}
		// As its scanned activation code is, signed by the same key: every
		// voucher of a revoked key's chéquier would be refused.
		revoked, err := revokedKeyOf(tx.DB, c)
		if err != nil {
			return err
		}
		if revoked != 0 {
			return passnum.Errorf(passnum.KindConflict, EChequierKeyRevoked, "chéquier %s was signed by revoked key %d: its vouchers would be refused; void it ('passnum void %s') and hand over a chéquier of a new batch", c.Number, revoked, c.Number)
		}
		switch t := TimelineOf(&b, voucher.Today(now)); t.Stage {
		case StageExpired:
			return passnum.Errorf(passnum.KindConflict, EChequierExpired, "chéquier %s expired on %s; hand over a valid one", c.Number, b.ValidUntil)
		case StageDistributionStopped, StageGrace:
			return passnum.Errorf(passnum.KindConflict, EDistributionStopped, "the programme of chéquier %s ends on %s: hand-overs stopped on %s",
				c.Number, t.ProgrammeEnd, t.DistributionStop)
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
			return passnum.Conflict("chéquier %s changed while it was being activated: try again", c.Number)
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
		return tx.Append(ledger.Record{Entity: "chequier", EntityID: strconv.FormatInt(c.ID, 10),
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
	reason, err := passnum.Reason("perdu").Check(reason)
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
			return passnum.Errorf(passnum.KindConflict, EChequierVoided, "chéquier %s was already voided on %s", c.Number, c.VoidedAt.Format(time.DateOnly))
		}
		r := tx.Model(&ledger.Chequier{}).Where("id = ? AND status = ?", c.ID, c.Status).
			Updates(map[string]any{"status": ledger.ChequierVoid, "voided_at": now, "void_reason": reason})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Conflict("chéquier %s changed while it was being voided: try again", c.Number)
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
		return tx.Append(ledger.Record{Entity: "chequier", EntityID: strconv.FormatInt(c.ID, 10),
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
		return c, b, passnum.Invalid("%q is not a chéquier number: it looks like 78-2026-000042", number)
	}
	canonical := voucher.FormatChequierNumber(dept, year, seq)
	err = tx.Where("number = ?", canonical).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, b, passnum.NotFound("there is no chéquier %s", canonical)
	}
	if err != nil {
		return c, b, err
	}
	err = tx.Where("id = ?", c.BatchID).Take(&b).Error
	return c, b, err
}

// ActivateCode is Activate for a scanned activation code (the QR code on a
// chéquier's cover): its signature is checked before its number is used.
func (s *Service) ActivateCode(ctx context.Context, code, ref, actor string) (ledger.Chequier, error) {
	ks, err := s.DB.KeySet(ctx)
	if err != nil {
		return ledger.Chequier{}, err
	}
	d, err := ks.Verify(strings.TrimSpace(code))
	if err != nil {
		return ledger.Chequier{}, passnum.Invalid("this is not a valid activation code (%s): scan the QR code on the chéquier's cover, or type its number", voucher.Reason(err))
	}
	a, ok := d.Payload.(voucher.Activation)
	if !ok {
		return ledger.Chequier{}, passnum.Invalid("this is a %s code, not a chéquier's activation code: scan the QR code on the cover", d.Type)
	}
	return s.Activate(ctx, voucher.FormatChequierNumber(a.Department, a.Year, a.Seq), ref, actor)
}

// VoidVoucher cancels one voucher (its code leaked, or it was torn out and
// lost) while the rest of its chéquier stays usable. A redeemed voucher
// cannot be voided: undo its redemption instead.
// Errors: invalid, not_found, and the conflict voucher_not_voidable.
func (s *Service) VoidVoucher(ctx context.Context, number, reason, actor string) (ledger.Voucher, error) {
	reason, err := passnum.Reason("détaché et perdu").Check(reason)
	if err != nil {
		return ledger.Voucher{}, err
	}
	serial, err := voucher.ParseNumber(number)
	if err != nil {
		return ledger.Voucher{}, passnum.Invalid("%q is not a voucher number (11 digits, the last one a check digit): %v", number, err)
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	var v ledger.Voucher
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		err := tx.Where("serial = ?", serial).Take(&v).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return passnum.NotFound("there is no voucher %s", voucher.FormatNumber(serial))
		}
		if err != nil {
			return err
		}
		if v.Status != ledger.VoucherActive && v.Status != ledger.VoucherInactive {
			return passnum.Errorf(passnum.KindConflict, EVoucherNotVoidable, "voucher %s is %s: only an unused voucher can be voided", voucher.FormatNumber(serial), v.Status)
		}
		var dept string
		if err := tx.Raw(`SELECT department_code FROM batches WHERE id = ?`, v.BatchID).Scan(&dept).Error; err != nil {
			return err
		}
		// Conditional on the status read above, like every spend: a
		// redemption that commits first makes this touch no row.
		r := tx.Model(&ledger.Voucher{}).Where("serial = ? AND status = ?", serial, v.Status).Update("status", ledger.VoucherVoid)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Conflict("voucher %s changed while it was being voided: look at it again", voucher.FormatNumber(serial))
		}
		before := v.Status
		v.Status = ledger.VoucherVoid
		return tx.Append(ledger.Record{Entity: "voucher", EntityID: strconv.FormatInt(v.Serial, 10),
			Department: dept, Actor: actor, At: now, Data: ledger.VoucherVoided{
				Serial: v.Serial, ChequierID: v.ChequierID, Status: before, Reason: reason}})
	})
	return v, err
}
