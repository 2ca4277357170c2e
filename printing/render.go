package printing

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// engine holds what the tests and benchmarks vary; the package uses
// defaultEngine.
type engine struct {
	workers int                                              // QR encoders; 0 means GOMAXPROCS
	encode  func(code string, version int) (qrMatrix, error) // encodeQR, or precomputed matrices in benchmarks
	vectors bool                                             // QR codes as vector rectangles (benchmarks only)
}

var defaultEngine = engine{encode: encodeQR}

func (e engine) render(w io.Writer, b Batch, chequiers []Chequier, opt Options) error {
	if err := checkOptions(opt, b); err != nil {
		return err
	}
	opt = opt.withDefaults(b)
	if w == nil {
		return errors.New("printing: nil writer")
	}
	if len(chequiers) == 0 {
		return errors.New("printing: no chéquier to print")
	}
	for i := range chequiers {
		if err := checkChequier(b, &chequiers[i]); err != nil {
			return fmt.Errorf("printing: %w", err)
		}
	}
	fp := buildPlan(opt, chequiers)
	pool := newQRPool(e.workers, e.encode)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fp.submitAll(pool)
	}()
	defer func() {
		pool.stop()
		wg.Wait()
	}()
	d, err := e.draw(b, fp, pool.next, nil)
	if err != nil {
		return err
	}
	if err := d.Output(w); err != nil {
		return fmt.Errorf("printing: writing the PDF: %w", err)
	}
	return nil
}

// draw lays out every page of a file, taking QR matrices from next in plan
// order. onPage, if not nil, is told how many pages are drawn.
func (e engine) draw(b Batch, fp *filePlan, next func() (qrMatrix, error), onPage func(done, total int)) (*pdfDoc, error) {
	title := fmt.Sprintf("%s · lot %d", fp.opt.ProgrammeName, b.ID)
	if fp.opt.Parts > 0 {
		title += fmt.Sprintf(" · partie %d sur %d", fp.opt.Part, fp.opt.Parts)
	}
	d, err := newPDFDoc(title, fp.opt)
	if err != nil {
		return nil, err
	}
	d.vectors = e.vectors
	pc := &pageContext{b: b, opt: fp.opt, fp: fp, next: next}
	for i, pg := range fp.pages {
		if err := pc.drawPage(d, pg, i); err != nil {
			return nil, err
		}
		if onPage != nil {
			onPage(i+1, len(fp.pages))
		}
	}
	if err := d.Error(); err != nil {
		return nil, fmt.Errorf("printing: %w", err)
	}
	return d, nil
}
