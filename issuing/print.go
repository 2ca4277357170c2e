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
	pb := printing.Batch{ID: b.ID, Department: b.DepartmentCode, DepartmentName: d.Name,
		Chequiers: b.ChequierCount, VouchersPerChequier: b.VouchersPerChequier,
		ValueCents: b.FaceValueCents, TotalCents: b.TotalCents,
		ValidFrom: b.ValidFrom.Day(), ValidUntil: b.ValidUntil.Day(),
		FirstChequier: voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.FirstChequierSeq)),
		LastChequier:  voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.LastChequierSeq)),
		FirstVoucher:  voucher.FormatNumber(uint64(b.FirstSerial)), LastVoucher: voucher.FormatNumber(uint64(b.LastSerial)),
		KeyID: int(b.KeyID), CodesSHA256: fmt.Sprintf("%x", b.CodesSHA256), RequiresActivation: b.RequiresActivation}
	if d.ContactPhone != nil {
		pb.ContactPhone = *d.ContactPhone
	}
	return pb
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
	b, d, err := s.Batch(ctx, batchID, "")
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

// parts is how many files printing.RenderFiles splits a batch of n
// chéquiers into, perFile each.
func parts(n, perFile int) int { return (n + perFile - 1) / perFile }

// BatchFile is one PDF file of a batch, as printing.RenderFiles splits it
// and names it, known from the batch's numbering without rendering it.
type BatchFile struct {
	Part                        int // 1-based
	Name                        string
	FirstChequier, LastChequier string
	Chequiers, Vouchers         int
	TotalCents                  int64
}

// Files lists the files of batch b printed perFile chéquiers a file: the
// chéquiers are printed in number order, perFile a file, the last file
// taking the rest.
func Files(b ledger.Batch, perFile int) []BatchFile {
	out := make([]BatchFile, parts(b.ChequierCount, perFile))
	for i := range out {
		first := b.FirstChequierSeq + int64(i*perFile)
		n := min(perFile, b.ChequierCount-i*perFile)
		out[i] = BatchFile{Part: i + 1, Name: printing.FileName(b.ID, i+1),
			FirstChequier: voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(first)),
			LastChequier:  voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(first+int64(n)-1)),
			Chequiers:     n, Vouchers: n * b.VouchersPerChequier, TotalCents: int64(n*b.VouchersPerChequier) * b.FaceValueCents}
	}
	return out
}

// BatchPart is one file of a batch to render: its summary sheet, its
// chéquiers, and which part of how many it is (printing.Options' Part and
// Parts).
type BatchPart struct {
	Summary     printing.Batch
	Chequiers   []printing.Chequier
	Part, Parts int
}

// PrintBatchPart returns the part-th file (1-based) of a batch of
// département dept ("" for all; another's is not found) when it is split
// perFile chéquiers a file, as printing.RenderFiles splits it: rendered
// with the same options and Part/Parts set, the file has the same bytes.
// Only that part is read and signed, so that any part of a large batch is
// as quick as the first.
//
// The batch's checksum covers every code of the batch and cannot be
// checked on one part (PrintBatch checks it); each code is still signed by
// the key whose public half the database records (keys.Manager.SignerFor
// checks the pair), and printing checks each code against its number,
// value and validity. Errors: not_found (no such batch or part), conflict
// (its key is revoked).
func (s *Service) PrintBatchPart(ctx context.Context, batchID int64, part, perFile int, dept string) (BatchPart, error) {
	if perFile < 1 {
		return BatchPart{}, fmt.Errorf("print batch %d: %d chéquiers per file", batchID, perFile)
	}
	b, d, err := s.Batch(ctx, batchID, dept)
	if err != nil {
		return BatchPart{}, err
	}
	out := BatchPart{Summary: PrintingBatch(b, d), Part: part, Parts: parts(b.ChequierCount, perFile)}
	if part < 1 || part > out.Parts {
		return BatchPart{}, passnum.NotFound("Le lot %d s'imprime en %d %s de %d chéquiers au plus : il n'a pas de partie %d.",
			batchID, out.Parts, passnum.Plural(out.Parts, "fichier", "fichiers"), perFile, part)
	}
	db := s.DB.Read(ctx)
	var cs []ledger.Chequier
	if err := db.Where("batch_id = ?", b.ID).Order("id").Offset((part - 1) * perFile).Limit(perFile).Find(&cs).Error; err != nil {
		return BatchPart{}, err
	}
	if len(cs) == 0 {
		return BatchPart{}, fmt.Errorf("batch %d has no chéquier in part %d", b.ID, part)
	}
	var vs []ledger.Voucher
	if err := db.Where("chequier_id BETWEEN ? AND ?", cs[0].ID, cs[len(cs)-1].ID).Order("chequier_id, position, serial").Find(&vs).Error; err != nil {
		return BatchPart{}, err
	}
	ss := s.signers()
	out.Chequiers = make([]printing.Chequier, 0, len(cs))
	for _, c := range cs {
		var mine []ledger.Voucher
		for len(vs) > 0 && vs[0].ChequierID == c.ID {
			mine, vs = append(mine, vs[0]), vs[1:]
		}
		pc, err := ss.chequier(ctx, &b, &d, c, mine, nil)
		if err != nil {
			return BatchPart{}, err
		}
		out.Chequiers = append(out.Chequiers, PrintingChequier(pc))
	}
	return out, nil
}

// PrintReprint is what printing a chéquier again takes (Reprint): the
// summary sheet of its batch narrowed to it, and the chéquier as its
// batch's file prints it.
func PrintReprint(pc PrintedChequier) (printing.Batch, []printing.Chequier) {
	return printAlone(pc, pc.Vouchers, 0)
}

// PrintReplacement is what printing a replacement voucher takes (Replace):
// the new voucher alone, at its position in its chéquier and without the
// cover, since the rest of the chéquier is in the beneficiary's hands.
func PrintReplacement(r Replaced) (printing.Batch, []printing.Chequier) {
	return printAlone(r.Chequier, []PrintedVoucher{r.New}, len(r.Chequier.Vouchers))
}

// printAlone prints vouchers vs of chéquier pc on their own, after the
// summary sheet of the batch's files narrowed to them; size is the number
// of vouchers of the whole chéquier when vs are only some, else 0.
func printAlone(pc PrintedChequier, vs []PrintedVoucher, size int) (printing.Batch, []printing.Chequier) {
	pc.Vouchers = vs
	sum := PrintingBatch(pc.Batch, pc.Department)
	sum.Chequiers, sum.VouchersPerChequier = 1, len(vs)
	sum.TotalCents = pc.Batch.FaceValueCents * int64(len(vs))
	sum.FirstChequier, sum.LastChequier = pc.Chequier.Number, pc.Chequier.Number
	sum.FirstVoucher, sum.LastVoucher = vs[0].Number, vs[len(vs)-1].Number
	c := PrintingChequier(pc)
	c.Size = size
	return sum, []printing.Chequier{c}
}

// Layout reads the name of a print layout, as 'passnum print --layout' and
// the API's ?layout= give it.
func Layout(name string) (printing.Layout, error) {
	if l := printing.Layout(name); l == printing.A4Sheets || l == printing.Booklet {
		return l, nil
	}
	return "", passnum.Invalid("Les chèques s'impriment en a4 (dix chèques par feuille A4, avec traits de coupe) ou en booklet (un chèque par page A6).")
}
