// Package issuing creates batches of chéquiers, signs their vouchers, and
// records their hand-over (activation) and voiding.
package issuing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strconv"

	"gorm.io/gorm"

	"passnum"
	"passnum/keys"
	"passnum/ledger"
	"passnum/voucher"
)

// Limits of one batch. A whole département's programme fits in one batch;
// larger orders are split so that one transaction stays reasonable.
const (
	// MaxChequiers and MaxFaceValueCents are written out in Validate's
	// messages ("100 000", "1 000,00 €"), as French readers expect them:
	// change the messages with them (TestBatchMessages pins both).
	MaxChequiers       = 100_000
	MaxVouchers        = 50
	MaxFaceValueCents  = 100_000       // 1 000,00 €: far above any real voucher
	maxSerial          = 9_999_999_999 // the printed number has 10 digits
	vouchersPerChunk   = 1024          // codes signed per job; bounds memory
	chunksInFlightPerW = 16            // lets signing run ahead of a slow COPY: ~2 MB per worker
)

// Service issues batches and changes chéquiers.
type Service struct {
	DB *ledger.DB
	// Keys signs the codes and gives each key's verification secret, behind
	// the printed verification codes (design decision 4).
	Keys *keys.Manager
	// Workers sign codes in parallel; 0 means one per CPU.
	Workers int
}

// BatchRequest orders N chéquiers of M vouchers for one département.
type BatchRequest struct {
	Department          string
	Chequiers           int
	VouchersPerChequier int
	FaceValueCents      int64
	ValidFrom           voucher.Day // zero: the day of issue
	// ProgrammeEnd is the programme's last day (zero: ValidUntil, no grace
	// period). Distribution stops DistributionStopDays before it.
	ProgrammeEnd voucher.Day
	// ValidUntil is the vouchers' last valid day, signed in their codes
	// (zero: one calendar month after ProgrammeEnd, the default grace period).
	ValidUntil         voucher.Day
	RequiresActivation bool
	Actor              string
}

// settle fills in the programme end and validity from each other.
func (r *BatchRequest) settle() {
	switch {
	case r.ProgrammeEnd == 0:
		r.ProgrammeEnd = r.ValidUntil
	case r.ValidUntil == 0:
		r.ValidUntil = DefaultGrace(r.ProgrammeEnd)
	}
}

// Validate checks the request against today's date (Europe/Paris): its
// sizes here, its dates against the programme timeline (checkDates, in
// timeline.go).
func (r *BatchRequest) Validate(today voucher.Day) error {
	r.settle()
	if _, err := passnum.DepartmentCode(r.Department); err != nil {
		return err
	}
	switch {
	case r.Chequiers < 1 || r.Chequiers > MaxChequiers:
		return passnum.Invalid("Un lot compte de 1 à 100 000 chéquiers, pas %d.", r.Chequiers)
	case r.VouchersPerChequier < 1 || r.VouchersPerChequier > MaxVouchers:
		return passnum.Invalid("Un chéquier compte de 1 à %d chèques, pas %d.", MaxVouchers, r.VouchersPerChequier)
	case r.FaceValueCents < 1 || r.FaceValueCents > MaxFaceValueCents:
		return passnum.Invalid("Un chèque vaut de 0,01 € à 1 000,00 €.")
	}
	return r.checkDates(today)
}

// Issued is a batch just created, with its number ranges for people.
type Issued struct {
	Batch         ledger.Batch
	FirstChequier string
	LastChequier  string
	FirstVoucher  string // printed number, with check digit
	LastVoucher   string
}

// Issue creates a batch atomically: every chéquier and voucher exists, with
// its ledger event, or nothing does. Numbers come from counters locked in the
// transaction, so concurrent batches never share a serial or a chéquier
// number. Codes are signed on all cores while the rows stream into the
// database; only their SHA-256 is kept (the batch's codes_sha256).
// progress, if not nil, is called with the number of vouchers written so far.
// Errors: invalid, not_found (unknown département), conflict (no active key).
func (s *Service) Issue(ctx context.Context, req BatchRequest, progress func(done int)) (Issued, error) {
	today := voucher.Today(s.DB.Now())
	if err := req.Validate(today); err != nil {
		return Issued{}, err
	}
	if req.ValidFrom == 0 {
		req.ValidFrom = today
	}
	signer, err := s.Keys.Signer(ctx)
	if err != nil {
		return Issued{}, err
	}
	total := req.Chequiers * req.VouchersPerChequier
	year := today.Start().Year()
	var out Issued
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if err := checkIssuable(tx, req.Department, signer.KeyID()); err != nil {
			return err
		}
		firstSeq, err := tx.Reserve(fmt.Sprintf("chequier_seq/%s/%d", req.Department, year), int64(req.Chequiers))
		if err != nil {
			return err
		}
		firstID, err := tx.Reserve("chequier_id", int64(req.Chequiers))
		if err != nil {
			return err
		}
		firstSerial, err := tx.Reserve("voucher_serial", int64(total))
		if err != nil {
			return err
		}
		lastSerial := firstSerial + int64(total) - 1
		lastSeq := firstSeq + int64(req.Chequiers) - 1
		if lastSerial > maxSerial || lastSeq > 999_999 {
			return passnum.Conflict("La numérotation est épuisée : ce lot irait jusqu'au chèque n° %d et au chéquier n° %d, au-delà des numéros qui s'impriment. Rien n'a été créé.", lastSerial, lastSeq)
		}
		b := ledger.Batch{
			DepartmentCode: req.Department, Year: year,
			ChequierCount: req.Chequiers, VouchersPerChequier: req.VouchersPerChequier,
			FaceValueCents: req.FaceValueCents, TotalCents: req.FaceValueCents * int64(total),
			ValidFrom: ledger.Date(req.ValidFrom), ValidUntil: ledger.Date(req.ValidUntil),
			ProgrammeEnd: ledger.Date(req.ProgrammeEnd), RequiresActivation: req.RequiresActivation, KeyID: int16(signer.KeyID()),
			FirstChequierSeq: firstSeq, LastChequierSeq: lastSeq,
			FirstSerial: firstSerial, LastSerial: lastSerial,
			CodesSHA256: []byte{}, CreatedAt: now,
		}
		if err := tx.Create(&b).Error; err != nil {
			return fmt.Errorf("create the batch: %w", err)
		}
		if err := insertChequiers(ctx, tx, &b, firstID); err != nil {
			return err
		}
		digest, err := s.insertVouchers(ctx, tx, signer, &b, firstID, progress)
		if err != nil {
			return err
		}
		b.CodesSHA256 = digest
		if err := tx.Model(&b).Update("codes_sha256", digest).Error; err != nil {
			return err
		}
		out = Issued{Batch: b,
			FirstChequier: voucher.FormatChequierNumber(b.DepartmentCode, uint16(year), uint32(firstSeq)),
			LastChequier:  voucher.FormatChequierNumber(b.DepartmentCode, uint16(year), uint32(lastSeq)),
			FirstVoucher:  voucher.FormatNumber(uint64(firstSerial)),
			LastVoucher:   voucher.FormatNumber(uint64(lastSerial)),
		}
		return tx.Append(ledger.Record{Entity: "batch", EntityID: strconv.FormatInt(b.ID, 10),
			Department: b.DepartmentCode, Actor: req.Actor, At: now, Data: ledger.BatchIssued{
				ID: b.ID, Department: b.DepartmentCode, Year: year,
				Chequiers: b.ChequierCount, VouchersPerChequier: b.VouchersPerChequier,
				FaceValueCents: b.FaceValueCents, TotalCents: b.TotalCents,
				ValidFrom: req.ValidFrom.String(), ValidUntil: req.ValidUntil.String(),
				ProgrammeEnd: req.ProgrammeEnd.String(), RequiresActivation: b.RequiresActivation, KeyID: b.KeyID,
				FirstChequierID: firstID, FirstChequierSeq: firstSeq, LastChequierSeq: lastSeq,
				FirstSerial: firstSerial, LastSerial: lastSerial, CodesSHA256: hex.EncodeToString(digest),
			}})
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}

func checkIssuable(tx *ledger.Tx, dept string, keyID byte) error {
	var d ledger.Department
	err := tx.Where("code = ?", dept).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return passnum.NotFound("Le département %s ne fait pas partie du programme : il doit y être ajouté avant sa première commande.", dept)
	}
	if err != nil {
		return err
	}
	var k ledger.SigningKey
	if err := tx.Where("id = ?", keyID).Take(&k).Error; err != nil {
		return fmt.Errorf("read signing key %d: %w", keyID, err)
	}
	if voucher.KeyStatus(k.Status) != voucher.KeyActive {
		return passnum.Conflict("La clé de signature %d vient d'être retirée ou révoquée : un nouveau lot se signe avec la clé active. Rien n'a été créé ; recommencez.", keyID)
	}
	return nil
}

func insertChequiers(ctx context.Context, tx *ledger.Tx, b *ledger.Batch, firstID int64) error {
	status := ledger.ChequierIssued
	rows := func(yield func([]any) bool) {
		row := make([]any, 7)
		for i := range int64(b.ChequierCount) {
			seq := b.FirstChequierSeq + i
			row[0], row[1], row[2], row[3], row[4] = firstID+i, b.ID, b.DepartmentCode, b.Year, seq
			row[5] = voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(seq))
			row[6] = status
			if !yield(row) {
				return
			}
		}
	}
	_, err := tx.BulkInsert(ctx, "chequiers",
		[]string{"id", "batch_id", "department_code", "year", "seq", "number", "status"}, rows)
	return err
}

// insertVouchers streams the voucher rows into the database while workers
// sign their codes, and returns the SHA-256 of all codes in serial order.
func (s *Service) insertVouchers(ctx context.Context, tx *ledger.Tx, signer *voucher.Signer, b *ledger.Batch, firstChequierID int64, progress func(int)) ([]byte, error) {
	status := ledger.VoucherActive
	if b.RequiresActivation {
		status = ledger.VoucherInactive
	}
	tmpl := voucher.Voucher{Department: b.DepartmentCode, ValueCents: uint32(b.FaceValueCents),
		ValidFrom: b.ValidFrom.Day(), ValidUntil: b.ValidUntil.Day()}
	total := int(b.LastSerial - b.FirstSerial + 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the signers if the insert fails midway
	chunks := s.signChunks(ctx, signer, tmpl, b.FirstSerial, total)
	digest := sha256.New()
	var signErr error
	perChequier := int64(b.VouchersPerChequier)
	rows := func(yield func([]any) bool) {
		row := make([]any, 5)
		serial := b.FirstSerial
		for c := range chunks {
			if c.err != nil {
				signErr = c.err
				return
			}
			digest.Write(c.codes)
			for range c.n {
				k := serial - b.FirstSerial
				row[0], row[1], row[2] = serial, firstChequierID+k/perChequier, b.ID
				row[3], row[4] = int16(k%perChequier+1), status
				if !yield(row) {
					return
				}
				serial++
			}
			if progress != nil {
				progress(int(serial - b.FirstSerial))
			}
		}
	}
	n, err := tx.BulkInsert(ctx, "vouchers", []string{"serial", "chequier_id", "batch_id", "position", "status"}, rows)
	if signErr != nil {
		return nil, signErr
	}
	if err != nil {
		return nil, err
	}
	if n != int64(total) {
		return nil, fmt.Errorf("wrote %d vouchers instead of %d", n, total)
	}
	return digest.Sum(nil), nil
}

type signedChunk struct {
	codes []byte // the chunk's codes, each followed by '\n'
	n     int
	err   error
}

// signChunks signs vouchers first..first+total-1 on several goroutines and
// yields the chunks in serial order. At most a few chunks per worker are in
// flight, so memory stays flat whatever the batch size.
func (s *Service) signChunks(ctx context.Context, signer *voucher.Signer, tmpl voucher.Voucher, first int64, total int) iter.Seq[signedChunk] {
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		first int64
		n     int
		out   chan signedChunk
	}
	jobs := make(chan job)
	futures := make(chan chan signedChunk, workers*chunksInFlightPerW)
	for range workers {
		go func() {
			for j := range jobs {
				buf := make([]byte, 0, j.n*140) // a voucher code is 136 characters, plus "\n"
				var err error
				v := tmpl
				for i := range j.n {
					v.Serial = uint64(j.first + int64(i))
					if buf, err = signer.AppendCode(buf, v); err != nil {
						break
					}
					buf = append(buf, '\n')
				}
				j.out <- signedChunk{codes: buf, n: j.n, err: err}
			}
		}()
	}
	go func() {
		defer close(futures)
		defer close(jobs)
		for off := 0; off < total; off += vouchersPerChunk {
			j := job{first: first + int64(off), n: min(vouchersPerChunk, total-off), out: make(chan signedChunk, 1)}
			select {
			case futures <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	return func(yield func(signedChunk) bool) {
		for f := range futures {
			var c signedChunk
			select {
			case c = <-f:
			case <-ctx.Done():
				yield(signedChunk{err: ctx.Err()})
				return
			}
			if !yield(c) || c.err != nil {
				return
			}
		}
	}
}
