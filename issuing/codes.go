package issuing

import (
	"context"

	"passnum/ledger"
	"passnum/voucher"
)

// PrintedVoucher is everything printed for one voucher.
type PrintedVoucher struct {
	ledger.Voucher
	Number           string // with check digit, for manual entry
	VerificationCode string // read aloud with the number
	Code             string // what the QR code holds
}

// PrintedChequier is a chéquier with all its codes, re-created from the
// ledger: Ed25519 is deterministic, so the codes are those first issued
// (their SHA-256 is in the batch) without the database ever storing them.
type PrintedChequier struct {
	Chequier       ledger.Chequier
	Batch          ledger.Batch
	ActivationCode string // for the social worker's scan at hand-over
	Vouchers       []PrintedVoucher
}

// Chequier returns the codes of one chéquier by its number.
// Errors: invalid, not_found, conflict (its key was revoked).
func (s *Service) Chequier(ctx context.Context, number string) (PrintedChequier, error) {
	var out PrintedChequier
	db := s.DB.Read(ctx)
	var err error
	if out.Chequier, out.Batch, err = findChequier(db, number); err != nil {
		return out, err
	}
	var vs []ledger.Voucher
	if err := db.Where("chequier_id = ?", out.Chequier.ID).Order("position").Find(&vs).Error; err != nil {
		return out, err
	}
	out.Vouchers = make([]PrintedVoucher, len(vs))
	for i, v := range vs {
		out.Vouchers[i].Voucher = v
	}
	signer, err := s.Keys.SignerFor(ctx, out.Batch.KeyID)
	if err != nil {
		return out, err
	}
	c, b := &out.Chequier, &out.Batch
	if out.ActivationCode, err = signer.Sign(voucher.Activation{Department: c.DepartmentCode, Year: uint16(c.Year), Seq: uint32(c.Seq)}); err != nil {
		return out, err
	}
	tmpl := voucher.Voucher{Department: b.DepartmentCode, ValueCents: uint32(b.FaceValueCents),
		ValidFrom: b.ValidFrom.Day(), ValidUntil: b.ValidUntil.Day()}
	for i := range out.Vouchers {
		pv := &out.Vouchers[i]
		tmpl.Serial = uint64(pv.Serial)
		if pv.Code, err = signer.Sign(tmpl); err != nil {
			return out, err
		}
		pv.Number = voucher.FormatNumber(uint64(pv.Serial))
		pv.VerificationCode = voucher.VerificationCode(s.Secret, uint64(pv.Serial))
	}
	return out, nil
}
