package issuing

import (
	"context"
	"fmt"
	"iter"

	"passnum"
	"passnum/ledger"
	"passnum/printing"
	"passnum/voucher"
)

// PrintingBatch is what the summary sheet of every file of batch b, of
// département d, says.
func PrintingBatch(b ledger.Batch, d ledger.Department) printing.Batch {
	return printing.Batch{ID: b.ID, Department: b.DepartmentCode, DepartmentName: d.Name,
		Chequiers: b.ChequierCount, VouchersPerChequier: b.VouchersPerChequier,
		ValueCents: b.FaceValueCents, TotalCents: b.TotalCents,
		ValidFrom: b.ValidFrom.Day(), ValidUntil: b.ValidUntil.Day(),
		FirstChequier: voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.FirstChequierSeq)),
		LastChequier:  voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.LastChequierSeq)),
		FirstVoucher:  voucher.FormatNumber(uint64(b.FirstSerial)), LastVoucher: voucher.FormatNumber(uint64(b.LastSerial)),
		KeyID: int(b.KeyID), CodesSHA256: fmt.Sprintf("%x", b.CodesSHA256), RequiresActivation: b.RequiresActivation}
}

// PrintingChequier turns a chéquier with its codes into what the printer
// draws.
func PrintingChequier(pc PrintedChequier) printing.Chequier {
	c := printing.Chequier{Number: pc.Chequier.Number, ValueCents: pc.Batch.FaceValueCents,
		ValidUntil: pc.Batch.ValidUntil.Day(), RequiresActivation: pc.Batch.RequiresActivation,
		ActivationCode: pc.ActivationCode, Vouchers: make([]printing.Voucher, len(pc.Vouchers))}
	for i, v := range pc.Vouchers {
		c.Vouchers[i] = printing.Voucher{Position: int(v.Position), Number: v.Number, VerificationCode: v.VerificationCode, Code: v.Code}
		if v.KeyID != nil {
			c.Vouchers[i].KeyID = int(*v.KeyID)
		}
	}
	return c
}

// PrintBatch returns what printing a whole batch takes: its summary sheet
// and its chéquiers in print order, read page by page as the printer pulls
// them (BatchChequiers: the codes are checked against the batch's checksum
// after the last one). Errors: not_found.
func (s *Service) PrintBatch(ctx context.Context, batchID int64) (printing.Batch, iter.Seq2[printing.Chequier, error], error) {
	b, d, err := s.Batch(ctx, batchID)
	if err != nil {
		return printing.Batch{}, nil, err
	}
	chequiers := func(yield func(printing.Chequier, error) bool) {
		for pc, err := range s.BatchChequiers(ctx, b) {
			if !yield(PrintingChequier(pc), err) || err != nil {
				return
			}
		}
	}
	return PrintingBatch(b, d), chequiers, nil
}

// DefaultPerFile is how many chéquiers one PDF file holds unless told
// otherwise ('passnum print --per-file', the API's batch files): about a
// second of rendering and a few megabytes of memory per file.
const DefaultPerFile = 500

// Parts is how many files printing.RenderFiles splits a batch of n
// chéquiers into, perFile each.
func Parts(n, perFile int) int { return (n + perFile - 1) / perFile }

// PrintBatchPart returns the summary sheet of a batch and the chéquiers of
// its part-th file (1-based) when it is split perFile chéquiers a file, as
// printing.RenderFiles splits it: rendered with the same options and
// Part/Parts set, the file has the same bytes. Only that part is read and
// signed, so that any part of a large batch is as quick as the first.
//
// The batch's checksum covers every code of the batch and cannot be
// checked on one part (PrintBatch checks it); each code is still signed by
// the key whose public half the database records (keys.Manager.SignerFor
// checks the pair), and printing checks each code against its number,
// value and validity. Errors: not_found (no such batch or part).
func (s *Service) PrintBatchPart(ctx context.Context, batchID int64, part, perFile int) (printing.Batch, []printing.Chequier, error) {
	if perFile < 1 {
		return printing.Batch{}, nil, fmt.Errorf("print batch %d: %d chéquiers per file", batchID, perFile)
	}
	b, d, err := s.Batch(ctx, batchID)
	if err != nil {
		return printing.Batch{}, nil, err
	}
	if parts := Parts(b.ChequierCount, perFile); part < 1 || part > parts {
		return printing.Batch{}, nil, passnum.NotFound("batch %d is printed in %d files of %d chéquiers: there is no part %d", batchID, parts, perFile, part)
	}
	db := s.DB.Read(ctx)
	var cs []ledger.Chequier
	if err := db.Where("batch_id = ?", b.ID).Order("id").Offset((part - 1) * perFile).Limit(perFile).Find(&cs).Error; err != nil {
		return printing.Batch{}, nil, err
	}
	if len(cs) == 0 {
		return printing.Batch{}, nil, fmt.Errorf("batch %d has no chéquier in part %d", b.ID, part)
	}
	var vs []ledger.Voucher
	if err := db.Where("chequier_id BETWEEN ? AND ?", cs[0].ID, cs[len(cs)-1].ID).Order("chequier_id, position, serial").Find(&vs).Error; err != nil {
		return printing.Batch{}, nil, err
	}
	ss := s.signers()
	out := make([]printing.Chequier, 0, len(cs))
	for _, c := range cs {
		var mine []ledger.Voucher
		for len(vs) > 0 && vs[0].ChequierID == c.ID {
			mine, vs = append(mine, vs[0]), vs[1:]
		}
		pc, err := ss.chequier(ctx, &b, c, mine, nil)
		if err != nil {
			return printing.Batch{}, nil, err
		}
		out = append(out, PrintingChequier(pc))
	}
	return PrintingBatch(b, d), out, nil
}
