package issuing

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Error codes of chéquier changes, beside the generic ones.
const (
	EChequierVoided        = "chequier_voided"
	EChequierAlreadyActive = "chequier_already_active"
	// ERefUsed: the beneficiary reference was given to another chéquier
	// of the département; confirm a second chéquier for the same person.
	ERefUsed             = "beneficiary_ref_used"
	EChequierExpired     = "chequier_expired"
	EDistributionStopped = "distribution_stopped"
	EVoucherNotVoidable  = "voucher_not_voidable"
	EChequierKeyRevoked  = "chequier_key_revoked"
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
// chequier_expired and distribution_stopped. It is the hand-over by the
// département's staff or the operator: ActivateBy says the structure rule.
func (s *Service) Activate(ctx context.Context, number, ref, actor string) (ledger.Chequier, error) {
	return s.ActivateBy(ctx, number, HandOver{Ref: ref}, actor)
}

// HandOver is how a chéquier is handed over.
type HandOver struct {
	Ref string // the beneficiary's pseudonymous reference, optional
	// Structure is the distribution structure whose agent hands it over
	// (its organisation id); 0: the département's staff or the operator.
	Structure int64
	// SamePerson confirms a reference already used for another chéquier
	// of the département: the same person gets a second one.
	SamePerson bool
}

// ActivateBy is Activate as h says: a structure hands over only the
// chéquiers its stock holds (not_in_stock otherwise), the département any
// of its own; a reference already used in the département for another
// chéquier is refused (beneficiary_ref_used, saying which and when) unless
// h.SamePerson confirms it, on every path a chéquier is handed over.
func (s *Service) ActivateBy(ctx context.Context, number string, h HandOver, actor string) (ledger.Chequier, error) {
	ref, structure := h.Ref, h.Structure
	if ref != "" && !beneficiaryRef.MatchString(ref) {
		return ledger.Chequier{}, passnum.Invalid("La référence du bénéficiaire est une référence de dossier de 1 à 64 lettres, chiffres, « . », « _ », « / » ou « - », sans espace (par exemple CCAS-17-0193) : jamais un nom.").On("beneficiary_ref")
	}
	var c ledger.Chequier
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		var b ledger.Batch
		var err error
		if c, b, err = findChequier(tx.DB, number, ""); err != nil {
			return err
		}
		switch c.Status {
		case ledger.ChequierVoid:
			return passnum.Errorf(passnum.KindConflict, EChequierVoided, "Le chéquier %s a été annulé le %s : il ne peut pas être remis. Remettez-en un autre.", c.Number, voucher.Today(*c.VoidedAt).French())
		case ledger.ChequierActive:
			return passnum.Errorf(passnum.KindConflict, EChequierAlreadyActive, "Le chéquier %s a déjà été remis, le %s.", c.Number, voucher.Today(*c.ActivatedAt).French())
		}
		if structure != 0 && (c.StructureID == nil || *c.StructureID != structure) {
			return passnum.Errorf(passnum.KindForbidden, ENotInStock, "Le chéquier %s n'est pas dans le stock de votre structure : remettez un chéquier de votre stock, "+
				"ou demandez au département de vous le confier.", c.Number)
		}
		if ref != "" && !h.SamePerson {
			if err := refUnused(tx.DB, c, ref); err != nil {
				return err
			}
		}
		// As its scanned activation code is, signed by the same key: every
		// voucher of a revoked key's chéquier would be refused.
		revoked, err := revokedKeyOf(tx.DB, c)
		if err != nil {
			return err
		}
		if revoked != 0 {
			return keyRevoked(c.Number, revoked)
		}
		switch t := TimelineOf(&b, voucher.Today(now)); t.Stage {
		case StageExpired:
			return passnum.Errorf(passnum.KindConflict, EChequierExpired, "Le chéquier %s n'est plus valable : ses chèques expiraient le %s. Remettez-en un en cours de validité.", c.Number, t.ValidUntil.French())
		case StageDistributionStopped, StageGrace:
			return passnum.Errorf(passnum.KindConflict, EDistributionStopped, "La remise des chéquiers du lot %d est arrêtée depuis le %s (le programme finit le %s) : le chéquier %s ne peut plus être remis.",
				b.ID, t.DistributionStop.French(), t.ProgrammeEnd.French(), c.Number)
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
			return changedMeanwhile(c.Number)
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

// refUnused refuses a beneficiary reference already given, in the
// chéquier's département, to another chéquier handed over: a second
// chéquier for one person is a decision, not a slip.
func refUnused(db *gorm.DB, c ledger.Chequier, ref string) error {
	var used []ledger.Chequier
	err := db.Where("department_code = ? AND beneficiary_ref = ? AND status = ? AND id <> ?", c.DepartmentCode, ref, ledger.ChequierActive, c.ID).
		Order("activated_at").Limit(1).Find(&used).Error
	if err != nil || len(used) == 0 {
		return err
	}
	return passnum.Errorf(passnum.KindConflict, ERefUsed, "La référence %s est déjà utilisée pour le chéquier %s, remis le %s. "+
		"Si c'est bien la même personne, confirmez la remise d'un deuxième chéquier ; sinon, vérifiez la référence.",
		ref, used[0].Number, voucher.Today(*used[0].ActivatedAt).French()).On("beneficiary_ref")
}

// keyRevoked refuses a chéquier signed, in part or whole, by revoked key
// key: its vouchers would be refused, so it is neither handed over nor
// mended.
func keyRevoked(number string, key int16) error {
	return passnum.Errorf(passnum.KindConflict, EChequierKeyRevoked, "Le chéquier %s a été émis avec une clé retirée pour raison de sécurité (la clé %d) : ses chèques seraient refusés. Annulez-le et remettez un chéquier d'une nouvelle commande.", number, key)
}

// changedMeanwhile answers a conditional update that touched no row: a
// concurrent change came first.
func changedMeanwhile(number string) error {
	return passnum.Conflict("Le chéquier %s a changé pendant l'opération : relisez-le et réessayez.", number)
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
	var out Voided
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		c, _, err := findChequier(tx.DB, number, "")
		if err != nil {
			return err
		}
		if c.Status == ledger.ChequierVoid {
			return passnum.Errorf(passnum.KindConflict, EChequierVoided, "Le chéquier %s est déjà annulé, depuis le %s.", c.Number, voucher.Today(*c.VoidedAt).French())
		}
		r := tx.Model(&ledger.Chequier{}).Where("id = ? AND status = ?", c.ID, c.Status).
			Updates(map[string]any{"status": ledger.ChequierVoid, "voided_at": now, "void_reason": reason})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return changedMeanwhile(c.Number)
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

// FindChequier reads a chéquier and its batch by its number as printed or
// typed ("78-2026-42" too), among the chéquiers of département dept ("" for
// all): another département's is not found, as if it did not exist, which
// is the API's scope (api/scope.go). Errors: invalid, not_found.
func (s *Service) FindChequier(ctx context.Context, number, dept string) (ledger.Chequier, ledger.Batch, error) {
	return findChequier(s.DB.Read(ctx), number, dept)
}

// findChequier is FindChequier on db, a transaction included.
func findChequier(db *gorm.DB, number, dept string) (ledger.Chequier, ledger.Batch, error) {
	var c ledger.Chequier
	var b ledger.Batch
	canonical, err := chequierNumber(number)
	if err != nil {
		return c, b, err
	}
	q := db.Where("number = ?", canonical)
	if dept != "" {
		q = q.Where("department_code = ?", dept)
	}
	err = q.Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, b, passnum.NotFound("Chéquier %s introuvable : vérifiez son numéro sur la couverture.", canonical)
	}
	if err != nil {
		return c, b, err
	}
	err = db.Where("id = ?", c.BatchID).Take(&b).Error
	return c, b, err
}

// chequierNumber reads a chéquier number as printed or typed and returns
// its canonical form, the one stored.
func chequierNumber(number string) (string, error) {
	dept, year, seq, err := voucher.ParseChequierNumber(number)
	if err != nil {
		return "", passnum.Invalid("Ce n'est pas un numéro de chéquier : il a la forme 78-2026-000042, comme sur la couverture.")
	}
	return voucher.FormatChequierNumber(dept, year, seq), nil
}

// ActivationNumber is the number of the chéquier whose activation code (the
// QR code on its cover) is code, read without checking the signature: to
// find the chéquier, for instance to check the caller's scope before
// ActivateCode, which checks the signature before it changes anything.
// Errors: invalid.
func ActivationNumber(code string) (string, error) {
	number, _, err := parseActivation(code)
	return number, err
}

// parseActivation reads an activation code unverified: its chéquier's
// number and the key it claims to be signed by.
func parseActivation(code string) (string, byte, error) {
	d, err := voucher.Parse(strings.TrimSpace(code))
	a, ok := d.Payload.(voucher.Activation)
	if err != nil || !ok {
		return "", 0, passnum.Invalid("Ce code n'est pas le code d'activation d'un chéquier : scannez le QR code de sa couverture, ou saisissez son numéro.")
	}
	return voucher.FormatChequierNumber(a.Department, a.Year, a.Seq), d.KeyID, nil
}

// ActivateCode is Activate for a scanned activation code (the QR code on a
// chéquier's cover): its signature is checked before its number is used.
// Errors: those of Activate; chequier_key_revoked also when the code's own
// key is revoked.
func (s *Service) ActivateCode(ctx context.Context, code string, h HandOver, actor string) (ledger.Chequier, error) {
	number, keyID, err := parseActivation(code)
	if err != nil {
		return ledger.Chequier{}, err
	}
	ks, err := s.DB.KeySet(ctx)
	if err != nil {
		return ledger.Chequier{}, err
	}
	if _, err := ks.Verify(strings.TrimSpace(code)); err != nil {
		// Said as for a typed number of the same chéquier, without reading
		// it: nothing is changed on the word of an unverified code.
		if errors.Is(err, voucher.ErrRevokedKey) {
			return ledger.Chequier{}, keyRevoked(number, int16(keyID))
		}
		return ledger.Chequier{}, passnum.Invalid("Ce code d'activation n'est pas authentique ou n'est plus valable : saisissez le numéro du chéquier, imprimé sur sa couverture.")
	}
	return s.ActivateBy(ctx, number, h, actor)
}

// parseVoucherNumber reads a voucher number as printed or typed, its check
// digit included.
func parseVoucherNumber(number string) (uint64, error) {
	serial, err := voucher.ParseNumber(number)
	if err != nil {
		return 0, passnum.Invalid("Ce n'est pas un numéro de chèque : il a 11 chiffres, dont le dernier de contrôle, comme 0000 0042 178 sous le QR code ; vérifiez la saisie.")
	}
	return serial, nil
}

// FindVoucher reads a voucher by its number as printed or typed, among the
// vouchers of département dept ("" for all): another département's is not
// found (api/scope.go). Errors: invalid, not_found.
func (s *Service) FindVoucher(ctx context.Context, number, dept string) (ledger.Voucher, error) {
	serial, err := parseVoucherNumber(number)
	if err != nil {
		return ledger.Voucher{}, err
	}
	return findVoucher(s.DB.Read(ctx), serial, dept)
}

// findVoucher reads a voucher by serial on db, a transaction included,
// among département dept's ("" for all).
func findVoucher(db *gorm.DB, serial uint64, dept string) (ledger.Voucher, error) {
	var v ledger.Voucher
	q := db.Where("serial = ?", serial)
	if dept != "" {
		q = q.Where("batch_id IN (SELECT id FROM batches WHERE department_code = ?)", dept)
	}
	err := q.Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return v, passnum.NotFound("Chèque %s introuvable : vérifiez son numéro, imprimé sous le QR code.", voucher.FormatNumber(serial))
	}
	return v, err
}

// VoidedVoucher is a voucher just voided, with what its chéquier is.
type VoidedVoucher struct {
	ledger.Voucher
	Chequier   string // its number
	Department string
}

// VoidVoucher cancels one voucher (its code leaked, or it was torn out and
// lost) while the rest of its chéquier stays usable. A redeemed voucher
// cannot be voided: undo its redemption instead.
// Errors: invalid, not_found, and the conflict voucher_not_voidable.
func (s *Service) VoidVoucher(ctx context.Context, number, reason, actor string) (VoidedVoucher, error) {
	reason, err := passnum.Reason("détaché et perdu").Check(reason)
	if err != nil {
		return VoidedVoucher{}, err
	}
	serial, err := parseVoucherNumber(number)
	if err != nil {
		return VoidedVoucher{}, err
	}
	var out VoidedVoucher
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		v, err := findVoucher(tx.DB, serial, "")
		if err != nil {
			return err
		}
		printed := voucher.FormatNumber(serial)
		switch v.Status {
		case ledger.VoucherRedeemed:
			return passnum.Errorf(passnum.KindConflict, EVoucherNotVoidable, "Le chèque %s a déjà été utilisé : seul un chèque qui n'a pas servi peut être annulé. Un encaissement fait par erreur s'annule par le lieu qui l'a fait, ou par un ajustement du département.", printed)
		case ledger.VoucherVoid:
			return passnum.Errorf(passnum.KindConflict, EVoucherNotVoidable, "Le chèque %s est déjà annulé.", printed)
		}
		var c ledger.Chequier
		if err := tx.Select("number", "department_code").Where("id = ?", v.ChequierID).Take(&c).Error; err != nil {
			return err
		}
		// Conditional on the status read above, like every spend: a
		// redemption that commits first makes this touch no row.
		r := tx.Model(&ledger.Voucher{}).Where("serial = ? AND status = ?", serial, v.Status).Update("status", ledger.VoucherVoid)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Conflict("Le chèque %s a changé pendant l'opération : relisez-le et réessayez.", printed)
		}
		before := v.Status
		v.Status = ledger.VoucherVoid
		out = VoidedVoucher{Voucher: v, Chequier: c.Number, Department: c.DepartmentCode}
		return tx.Append(ledger.Record{Entity: "voucher", EntityID: strconv.FormatInt(v.Serial, 10),
			Department: c.DepartmentCode, Actor: actor, At: tx.Now(), Data: ledger.VoucherVoided{
				Serial: v.Serial, ChequierID: v.ChequierID, Status: before, Reason: reason}})
	})
	return out, err
}
