package issuing

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Error codes of reprints.
const (
	EChequierHandedOver = "chequier_handed_over"
	EVoucherRedeemed    = "voucher_redeemed"
	EVoucherVoided      = "voucher_voided"
)

// Reprint returns a chéquier's codes to print it again, identical, because
// the first copy was damaged. Only a chéquier not yet handed over may be
// reprinted: once a beneficiary holds it, a second copy would be a second
// set of valid codes in other hands; replace its vouchers instead.
// The reprint is recorded in the ledger.
// Errors: invalid, not_found, and the conflicts chequier_handed_over,
// chequier_voided and chequier_key_revoked.
func (s *Service) Reprint(ctx context.Context, number, reason, actor string) (PrintedChequier, error) {
	reason, err := passnum.Reason("abîmé à l'impression").Check(reason)
	if err != nil {
		return PrintedChequier{}, err
	}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		c, _, err := findChequier(tx.DB, number, "")
		if err != nil {
			return err
		}
		switch c.Status {
		case ledger.ChequierActive:
			return passnum.Errorf(passnum.KindConflict, EChequierHandedOver, "Le chéquier %s a été remis le %s : le réimprimer mettrait en circulation une seconde copie de ses codes. Remplacez plutôt les chèques abîmés, un par un.", c.Number, voucher.Today(*c.ActivatedAt).French())
		case ledger.ChequierVoid:
			return passnum.Errorf(passnum.KindConflict, EChequierVoided, "Le chéquier %s est annulé : il ne peut pas être réimprimé.", c.Number)
		}
		// Its codes are re-created for the printout, which a revoked key no
		// longer signs: refuse before the reprint is recorded.
		revoked, err := revokedKeyOf(tx.DB, c)
		if err != nil {
			return err
		}
		if revoked != 0 {
			return keyRevoked(c.Number, revoked)
		}
		return tx.Append(ledger.Record{Entity: "chequier", EntityID: strconv.FormatInt(c.ID, 10),
			Department: c.DepartmentCode, Actor: actor, At: tx.Now(), Data: ledger.ChequierReprinted{ChequierID: c.ID, Number: c.Number, Reason: reason}})
	})
	if err != nil {
		return PrintedChequier{}, err
	}
	return s.Chequier(ctx, number)
}

// revokedKeyOf returns the lowest revoked key that signed chéquier c or
// one of its vouchers (its batch's key, a replacement's own), or 0.
func revokedKeyOf(db *gorm.DB, c ledger.Chequier) (int16, error) {
	var revoked []int16
	err := db.Raw(`SELECT id FROM signing_keys WHERE status = ? AND (id = (SELECT key_id FROM batches WHERE id = ?)
		OR id IN (SELECT key_id FROM vouchers WHERE chequier_id = ? AND key_id IS NOT NULL)) ORDER BY id`,
		string(voucher.KeyRevoked), c.BatchID, c.ID).Scan(&revoked).Error
	if err != nil || len(revoked) == 0 {
		return 0, err
	}
	return revoked[0], nil
}

// Replaced is a voucher that took the place of one whose code leaked.
type Replaced struct {
	Old      ledger.Voucher
	New      PrintedVoucher
	Chequier PrintedChequier // the chéquier as it now is
}

// Replace voids a voucher whose code leaked or was damaged and puts a new
// voucher, with a new serial and code, at its place in the same chéquier,
// signed by the active key. The rest of the chéquier is untouched.
// print, if not nil, is given the replacement before it commits, to write
// its printout: if print fails, nothing is replaced, so that no replacement
// exists without its paper (the old code void, the new one nowhere).
// Errors: invalid, not_found, conflict, and the conflicts voucher_redeemed,
// voucher_voided and chequier_key_revoked (a key that signed the chéquier
// is revoked: the printout would re-create codes it no longer signs).
func (s *Service) Replace(ctx context.Context, number, reason, actor string, print func(Replaced) error) (Replaced, error) {
	reason, err := passnum.Reason("code photographié").Check(reason)
	if err != nil {
		return Replaced{}, err
	}
	serial, err := parseVoucherNumber(number)
	if err != nil {
		return Replaced{}, err
	}
	signer, err := s.Keys.Signer(ctx)
	if err != nil {
		return Replaced{}, err
	}
	ss, err := s.signersOf(ctx, int64(serial), signer)
	if err != nil {
		return Replaced{}, err
	}
	var out Replaced
	var c ledger.Chequier
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		old := &out.Old
		var err error
		if *old, err = findVoucher(tx.DB, serial, ""); err != nil {
			return err
		}
		// A voiding or a hand-over of the chéquier changes all its vouchers
		// in one statement, which cannot see a voucher inserted by a
		// transaction still running: locked, they run before this one (and
		// the voucher is read again as they left it) or after it.
		if err := tx.LockChequiers(old.ChequierID); err != nil {
			return err
		}
		if *old, err = findVoucher(tx.DB, serial, ""); err != nil {
			return err
		}
		switch old.Status {
		case ledger.VoucherRedeemed:
			return passnum.Errorf(passnum.KindConflict, EVoucherRedeemed, "Le chèque %s a déjà été utilisé : il n'y a plus rien à remplacer.", voucher.FormatNumber(serial))
		case ledger.VoucherVoid:
			return passnum.Errorf(passnum.KindConflict, EVoucherVoided, "Le chèque %s est annulé : il ne peut pas être remplacé.", voucher.FormatNumber(serial))
		}
		if err := tx.Where("id = ?", old.ChequierID).Take(&c).Error; err != nil {
			return err
		}
		// The printout re-creates the chéquier's other codes, which a revoked
		// key no longer signs: refuse before anything is written.
		revoked, err := revokedKeyOf(tx.DB, c)
		if err != nil {
			return err
		}
		if revoked != 0 {
			return keyRevoked(c.Number, revoked)
		}
		newSerial, err := tx.Reserve("voucher_serial", 1)
		if err != nil {
			return err
		}
		if newSerial > maxSerial {
			return passnum.Conflict("La numérotation des chèques est épuisée : aucun chèque de remplacement ne peut plus être créé.")
		}
		keyID := int16(signer.KeyID())
		// The old voucher names its replacement first (the foreign key is
		// deferred), so that one current voucher holds each position.
		r := tx.Model(&ledger.Voucher{}).Where("serial = ? AND status = ? AND replaced_by IS NULL", serial, old.Status).
			Updates(map[string]any{"status": ledger.VoucherVoid, "replaced_by": newSerial})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Conflict("Le chèque %s a changé pendant l'opération : relisez-le et réessayez.", voucher.FormatNumber(serial))
		}
		nv := ledger.Voucher{Serial: newSerial, ChequierID: old.ChequierID, BatchID: old.BatchID,
			Position: old.Position, Status: old.Status, KeyID: &keyID}
		if err := tx.Create(&nv).Error; err != nil {
			return err
		}
		if err := tx.Append(ledger.Record{Entity: "voucher", EntityID: strconv.FormatInt(old.Serial, 10),
			Department: c.DepartmentCode, Actor: actor, At: tx.Now(), Data: ledger.VoucherReplaced{
				OldSerial: old.Serial, NewSerial: newSerial, ChequierID: old.ChequierID, BatchID: old.BatchID,
				Position: old.Position, KeyID: keyID, Status: old.Status, Reason: reason}}); err != nil {
			return err
		}
		if out.Chequier, err = s.chequierIn(ctx, tx.DB, ss, c.Number); err != nil {
			return err
		}
		for _, pv := range out.Chequier.Vouchers {
			if pv.Serial == newSerial {
				out.New = pv
			}
		}
		if print == nil {
			return nil
		}
		return print(out)
	})
	if err != nil {
		return Replaced{}, err
	}
	return out, nil
}
