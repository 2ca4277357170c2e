package printing

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ManifestName is the file RenderFiles writes beside the PDFs, last, and
// only when every file was written.
const ManifestName = "manifest.json"

// Manifest lists the files of a batch as RenderFiles wrote them, so that
// whoever sends them to the print shop (or receives them) can check that
// none is missing or altered. It is written as manifest.json.
type Manifest struct {
	BatchID     int64          `json:"batch_id"`
	Department  string         `json:"department"`    // "78"
	Layout      Layout         `json:"layout"`        // "a4" or "booklet"
	Chequiers   int            `json:"chequiers"`     // in all the files
	Vouchers    int            `json:"vouchers"`      // in all the files
	TotalCents  int64          `json:"total_cents"`   // face value of all those vouchers
	KeyID       int            `json:"key_id"`        // the batch's signing key, as on the summary sheets
	CodesSHA256 string         `json:"codes_sha256"`  // the batch's checksum of its codes, as on the summary sheets
	Date        string         `json:"document_date"` // the PDFs' creation date, RFC 3339
	PerFile     int            `json:"chequiers_per_file"`
	Files       []ManifestFile `json:"files"` // in order; part i is Files[i-1]
}

// ManifestFile describes one PDF.
type ManifestFile struct {
	Name          string `json:"name"` // base name, in the manifest's directory: "batch-12-0001.pdf"
	Part          int    `json:"part"` // 1-based, as printed on its summary sheet ("partie 1 sur 3")
	FirstChequier string `json:"first_chequier"`
	LastChequier  string `json:"last_chequier"`
	Chequiers     int    `json:"chequiers"`
	FirstVoucher  string `json:"first_voucher"` // printed numbers, with check digit
	LastVoucher   string `json:"last_voucher"`
	Vouchers      int    `json:"vouchers"`
	TotalCents    int64  `json:"total_cents"`
	Pages         int    `json:"pages"` // including the summary sheet
	Bytes         int64  `json:"bytes"`
	SHA256        string `json:"sha256"` // hex SHA-256 of the file's bytes, as sha256sum prints it
}

// FileName is the name of part part of batch id: "batch-12-0001.pdf".
func FileName(batchID int64, part int) string {
	return fmt.Sprintf("batch-%d-%04d.pdf", batchID, part)
}

// RenderFiles splits a batch into files of perFile chéquiers each, written
// into dir (which must exist) as batch-ID-NNNN.pdf, and then manifest.json
// listing them. It pulls chéquiers from the iterator as it goes and keeps
// at most about two files' worth of chéquier data and one file's PDF in
// memory, so memory stays flat whatever the batch size. The iterator must
// yield exactly b.Chequiers chéquiers, in print order.
//
// Each file is written under a temporary name and renamed once complete,
// so no partial file ever bears a final name. A stale manifest.json in dir
// is removed at the start, and the new one is only written when every file
// is. On error, the files completed so far stay in dir and are listed in
// the returned Manifest; the file being written is removed.
//
// progress, if not nil, is called from the calling goroutine with the
// number of chéquiers done, increasing, ending with b.Chequiers.
func RenderFiles(dir string, b Batch, chequiers iter.Seq2[Chequier, error], perFile int, opt Options, progress func(int)) (Manifest, error) {
	return defaultEngine.renderFiles(dir, b, chequiers, perFile, opt, progress)
}

func (e engine) renderFiles(dir string, b Batch, seq iter.Seq2[Chequier, error], perFile int, opt Options, progress func(int)) (Manifest, error) {
	if perFile < 1 {
		return Manifest{}, fmt.Errorf("printing: %d chéquiers per file: want at least 1", perFile)
	}
	if err := checkOptions(opt, b); err != nil {
		return Manifest{}, err
	}
	if b.Chequiers < 1 {
		return Manifest{}, fmt.Errorf("printing: batch %d has %d chéquiers", b.ID, b.Chequiers)
	}
	if seq == nil {
		return Manifest{}, errors.New("printing: no chéquier iterator")
	}
	opt = opt.withDefaults(b)
	parts := (b.Chequiers + perFile - 1) / perFile
	man := Manifest{BatchID: b.ID, Department: b.Department, Layout: opt.Layout, KeyID: b.KeyID,
		CodesSHA256: b.CodesSHA256, Date: opt.Date.Format(time.RFC3339), PerFile: perFile, Files: []ManifestFile{}}
	manifestPath := filepath.Join(dir, ManifestName)
	if err := os.Remove(manifestPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return man, fmt.Errorf("printing: removing the old manifest: %w", err)
	}

	pool := newQRPool(e.workers, e.encode)
	files := make(chan *filePlan, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(files)
		produceFiles(b, seq, perFile, opt, parts, pool, files)
	}()
	defer func() {
		pool.stop()
		for range files {
			// Unblock the producer if it is sending a plan.
		}
		wg.Wait()
	}()

	done := 0
	reported := 0
	report := func(n int) {
		if progress != nil && n > reported {
			reported = n
			progress(n)
		}
	}
	for fp := range files {
		if fp.err != nil {
			return man, fp.err
		}
		n := len(fp.chequiers)
		mf, err := e.writeFile(dir, b, fp, pool.next, func(pagesDone, pages int) {
			// Within a file, chéquiers are done in proportion to pages
			// (cut-and-stack spreads each one over the whole file); never
			// report the file's last chéquier before the file is closed.
			report(done + min(n*pagesDone/pages, n-1))
		})
		if err != nil {
			return man, err
		}
		done += n
		man.Files = append(man.Files, mf)
		man.Chequiers += mf.Chequiers
		man.Vouchers += mf.Vouchers
		man.TotalCents += mf.TotalCents
		report(done)
	}
	if err := writeManifest(manifestPath, man); err != nil {
		return man, err
	}
	return man, nil
}

// produceFiles reads the iterator, checks each chéquier, groups them into
// files and queues each file's QR codes, a file ahead of the drawer at
// most (the channel and the pool bound it). Errors go down the same
// channel, after the files that precede them.
func produceFiles(b Batch, seq iter.Seq2[Chequier, error], perFile int, opt Options, parts int, pool *qrPool, files chan<- *filePlan) {
	send := func(fp *filePlan) bool {
		select {
		case files <- fp:
			return true
		case <-pool.done:
			return false
		}
	}
	fail := func(err error) { send(&filePlan{err: err}) }
	defer func() {
		// The caller's iterator runs on this goroutine: a panic in it must
		// become an error, not end the program.
		if r := recover(); r != nil {
			fail(fmt.Errorf("printing: reading chéquiers: %v", r))
		}
	}()
	group := make([]Chequier, 0, min(perFile, 1024))
	part, n := 0, 0
	flush := func() bool {
		part++
		o := opt
		o.Part, o.Parts = part, parts
		fp := buildPlan(o, group)
		group = make([]Chequier, 0, min(perFile, 1024))
		return send(fp) && fp.submitAll(pool)
	}
	for c, err := range seq {
		select {
		case <-pool.done:
			return // the drawer failed: stop reading at once
		default:
		}
		if err != nil {
			fail(fmt.Errorf("printing: reading chéquier %d of batch %d: %w", n+1, b.ID, err))
			return
		}
		n++
		if n > b.Chequiers {
			fail(fmt.Errorf("printing: batch %d has %d chéquiers, but more were given", b.ID, b.Chequiers))
			return
		}
		if err := checkChequier(b, &c); err != nil {
			fail(fmt.Errorf("printing: %w", err))
			return
		}
		group = append(group, c)
		if len(group) == perFile && !flush() {
			return
		}
	}
	if n != b.Chequiers {
		fail(fmt.Errorf("printing: batch %d has %d chéquiers, but %d were given", b.ID, b.Chequiers, n))
		return
	}
	if len(group) > 0 {
		flush()
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// writeFile draws one file and writes it under a temporary name, renamed
// when complete and synced.
func (e engine) writeFile(dir string, b Batch, fp *filePlan, next func() (qrMatrix, error), onPage func(int, int)) (mf ManifestFile, err error) {
	name := FileName(b.ID, fp.opt.Part)
	d, err := e.draw(b, fp, next, onPage)
	if err != nil {
		return mf, err
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return mf, fmt.Errorf("printing: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	var cw countWriter
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h, &cw), 1<<16)
	if err = d.Output(bw); err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(PrivateFile)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		return mf, fmt.Errorf("printing: writing %s: %w", name, err)
	}
	first, last := &fp.chequiers[0], &fp.chequiers[len(fp.chequiers)-1]
	mf = ManifestFile{Name: name, Part: fp.opt.Part,
		FirstChequier: first.Number, LastChequier: last.Number, Chequiers: len(fp.chequiers),
		FirstVoucher: first.Vouchers[0].Number, LastVoucher: last.Vouchers[len(last.Vouchers)-1].Number,
		Vouchers: fp.vouchers, Pages: len(fp.pages), Bytes: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}
	for i := range fp.chequiers {
		mf.TotalCents += fp.chequiers[i].ValueCents * int64(len(fp.chequiers[i].Vouchers))
	}
	return mf, nil
}

// PrivateFile is the mode of every file holding valid codes, and of the
// manifest beside them: printed vouchers are bearer instruments, so only
// the operator who printed them may read the files (the print shop gets them
// from that operator, not from a shared folder).
const PrivateFile os.FileMode = 0o600

// writePrivate writes data to path with mode PrivateFile, even over an older
// file of another mode (os.WriteFile keeps an existing file's mode).
func writePrivate(path string, data []byte) error {
	if err := os.WriteFile(path, data, PrivateFile); err != nil {
		return err
	}
	return os.Chmod(path, PrivateFile)
}

func writeManifest(path string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("printing: manifest: %w", err)
	}
	data = append(data, '\n')
	tmp := path + ".tmp"
	if err := writePrivate(tmp, data); err != nil {
		return fmt.Errorf("printing: writing the manifest: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("printing: writing the manifest: %w", err)
	}
	return nil
}
