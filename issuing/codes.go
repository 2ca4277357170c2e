package issuing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"iter"

	"gorm.io/gorm"

	"passnum"
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
	Department     ledger.Department // named on every page
	ActivationCode string            // for the social worker's scan at hand-over
	Vouchers       []PrintedVoucher
}

// signers re-creates codes, with the key each voucher was signed by: its
// batch's, or for a replacement the key active when it was made. The
// verification code printed beside the number is computed with that same
// key's secret, so that a typed entry is checked against the key, and
// refused with it once revoked.
type signers struct {
	svc  *Service
	byID map[int16]*voucher.Signer
	// loaded forbids reading more keys: inside a transaction, reading one
	// would wait for a second connection of the pool, which the other
	// transactions may all hold.
	loaded bool
}

func (s *Service) signers() *signers { return &signers{svc: s, byID: map[int16]*voucher.Signer{}} }

// signersOf loads, before a transaction, the keys that the codes of the
// chéquier of voucher serial need, and the active key.
func (s *Service) signersOf(ctx context.Context, serial int64, active *voucher.Signer) (*signers, error) {
	ss := s.signers()
	ss.byID[int16(active.KeyID())] = active
	var ids []int16
	if err := s.DB.Read(ctx).Raw(`SELECT key_id FROM batches WHERE id = (SELECT batch_id FROM vouchers WHERE serial = ?)
		UNION SELECT key_id FROM vouchers WHERE chequier_id = (SELECT chequier_id FROM vouchers WHERE serial = ?) AND key_id IS NOT NULL`,
		serial, serial).Scan(&ids).Error; err != nil {
		return nil, err
	}
	for _, id := range ids {
		// A revoked key is refused in the transaction, with what to do.
		if _, err := ss.get(ctx, id); err != nil && passnum.ErrorCode(err) == passnum.EInternal {
			return nil, err
		}
	}
	ss.loaded = true
	return ss, nil
}

func (ss *signers) get(ctx context.Context, id int16) (*voucher.Signer, error) {
	if sg, ok := ss.byID[id]; ok {
		return sg, nil
	}
	if ss.loaded {
		return nil, passnum.Conflict("Le chéquier a changé pendant l'opération (il faut maintenant la clé de signature %d) : réessayez.", id)
	}
	sg, err := ss.svc.Keys.SignerFor(ctx, id)
	if passnum.ErrorCode(err) == passnum.EConflict {
		// keys refuses a revoked key; what it means here is that codes
		// are not printed again.
		return nil, passnum.Conflict("La clé de signature %d est révoquée : les chèques qu'elle a signés ne sont plus valables et ne s'impriment plus.", id)
	}
	if err != nil {
		return nil, err
	}
	ss.byID[id] = sg
	return sg, nil
}

// printed fills in the codes of a voucher of batch b.
func (ss *signers) printed(ctx context.Context, b *ledger.Batch, v ledger.Voucher) (PrintedVoucher, error) {
	keyID := b.KeyID
	if v.KeyID != nil {
		keyID = *v.KeyID
	}
	sg, err := ss.get(ctx, keyID)
	if err != nil {
		return PrintedVoucher{}, err
	}
	code, err := sg.Sign(voucher.Voucher{Serial: uint64(v.Serial), Department: b.DepartmentCode,
		ValueCents: uint32(b.FaceValueCents), ValidFrom: b.ValidFrom.Day(), ValidUntil: b.ValidUntil.Day()})
	if err != nil {
		return PrintedVoucher{}, fmt.Errorf("sign voucher %d: %w", v.Serial, err)
	}
	secret, err := ss.svc.Keys.VerificationSecret(ctx, keyID)
	if err != nil {
		return PrintedVoucher{}, err
	}
	return PrintedVoucher{Voucher: v, Code: code, Number: voucher.FormatNumber(uint64(v.Serial)),
		VerificationCode: voucher.VerificationCode(secret, uint64(v.Serial))}, nil
}

// chequier assembles a printed chéquier from its vouchers, leaving out those
// replaced. If digest is not nil, the codes of the vouchers as issued
// (including those replaced since, excluding replacements) are added to it.
func (ss *signers) chequier(ctx context.Context, b *ledger.Batch, d *ledger.Department, c ledger.Chequier, vs []ledger.Voucher, digest hash.Hash) (PrintedChequier, error) {
	sg, err := ss.get(ctx, b.KeyID)
	if err != nil {
		return PrintedChequier{}, err
	}
	pc := PrintedChequier{Chequier: c, Batch: *b, Department: *d}
	if pc.ActivationCode, err = sg.Sign(voucher.Activation{Department: c.DepartmentCode, Year: uint16(c.Year), Seq: uint32(c.Seq)}); err != nil {
		return pc, err
	}
	for _, v := range vs {
		pv, err := ss.printed(ctx, b, v)
		if err != nil {
			return pc, err
		}
		if digest != nil && v.Serial >= b.FirstSerial && v.Serial <= b.LastSerial {
			digest.Write([]byte(pv.Code))
			digest.Write([]byte{'\n'})
		}
		if v.ReplacedBy == nil {
			pc.Vouchers = append(pc.Vouchers, pv)
		}
	}
	return pc, nil
}

// Chequier returns the codes of one chéquier by its number.
// Errors: invalid, not_found, conflict (its key was revoked).
func (s *Service) Chequier(ctx context.Context, number string) (PrintedChequier, error) {
	return s.chequierIn(ctx, s.DB.Read(ctx), s.signers(), number)
}

// chequierIn is Chequier as db sees it, a transaction included, with the
// keys of ss.
func (s *Service) chequierIn(ctx context.Context, db *gorm.DB, ss *signers, number string) (PrintedChequier, error) {
	c, b, err := findChequier(db, number, "")
	if err != nil {
		return PrintedChequier{}, err
	}
	var d ledger.Department
	if err := db.Where("code = ?", c.DepartmentCode).Take(&d).Error; err != nil {
		return PrintedChequier{}, err
	}
	var vs []ledger.Voucher
	if err := db.Where("chequier_id = ?", c.ID).Order("position, serial").Find(&vs).Error; err != nil {
		return PrintedChequier{}, err
	}
	return ss.chequier(ctx, &b, &d, c, vs, nil)
}

// Batch returns a batch and its département, among the batches of
// département dept ("" for all): another département's is not found, as
// if it did not exist (api/scope.go). Errors: not_found.
func (s *Service) Batch(ctx context.Context, id int64, dept string) (ledger.Batch, ledger.Department, error) {
	var b ledger.Batch
	var d ledger.Department
	db := s.DB.Read(ctx)
	q := db.Where("id = ?", id)
	if dept != "" {
		q = q.Where("department_code = ?", dept)
	}
	err := q.Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return b, d, passnum.NotFound("Le lot %d est introuvable.", id)
	}
	if err != nil {
		return b, d, err
	}
	err = db.Where("code = ?", b.DepartmentCode).Take(&d).Error
	return b, d, err
}

// chequiersPerPage bounds how many chéquiers BatchChequiers reads at once.
const chequiersPerPage = 256

// BatchChequiers yields every chéquier of batch b in number order with its
// current codes, reading the database page by page so that memory stays flat.
// After the last chéquier it checks the re-created codes against the batch's
// codes_sha256 and yields an error if they differ: what is printed is then
// provably what was issued.
func (s *Service) BatchChequiers(ctx context.Context, b ledger.Batch) iter.Seq2[PrintedChequier, error] {
	return func(yield func(PrintedChequier, error) bool) {
		ss := s.signers()
		digest := sha256.New()
		db := s.DB.Read(ctx)
		var d ledger.Department
		if err := db.Where("code = ?", b.DepartmentCode).Take(&d).Error; err != nil {
			yield(PrintedChequier{}, err)
			return
		}
		var after int64
		for {
			var cs []ledger.Chequier
			if err := db.Where("batch_id = ? AND id > ?", b.ID, after).Order("id").Limit(chequiersPerPage).Find(&cs).Error; err != nil {
				yield(PrintedChequier{}, err)
				return
			}
			if len(cs) == 0 {
				break
			}
			after = cs[len(cs)-1].ID
			var vs []ledger.Voucher
			if err := db.Where("chequier_id BETWEEN ? AND ?", cs[0].ID, after).Order("chequier_id, position, serial").Find(&vs).Error; err != nil {
				yield(PrintedChequier{}, err)
				return
			}
			for _, c := range cs {
				var mine []ledger.Voucher
				for len(vs) > 0 && vs[0].ChequierID == c.ID {
					mine, vs = append(mine, vs[0]), vs[1:]
				}
				pc, err := ss.chequier(ctx, &b, &d, c, mine, digest)
				if !yield(pc, err) || err != nil {
					return
				}
			}
		}
		if got := digest.Sum(nil); !bytes.Equal(got, b.CodesSHA256) {
			yield(PrintedChequier{}, fmt.Errorf("the re-created codes of batch %d hash to %x, not to %x recorded at issue: check the signing key files before printing", b.ID, got, b.CodesSHA256))
		}
	}
}

// Voucher returns the ledger's record of a voucher. Errors: not_found.
func (s *Service) Voucher(ctx context.Context, serial uint64) (ledger.Voucher, error) {
	return findVoucher(s.DB.Read(ctx), serial, "")
}
