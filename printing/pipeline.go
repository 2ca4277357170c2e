package printing

import (
	"fmt"
	"runtime"
	"sync"
)

// QR encoding runs on every core while one goroutine draws, in order. With
// passnum/qrcode encoding a code costs a fraction of drawing it (with skip2,
// used before, many times more), but it still belongs off the drawing
// goroutine, the one part that cannot be split: one goroutine doing
// everything would be slower than the pipeline (docs/BENCHMARKS.md,
// "Printing"). The pool keeps results in submission order with one buffered
// channel per job, queued on a bounded channel: the producer blocks once
// maxInFlight codes are encoded or being encoded and not yet drawn, so
// memory stays bounded whatever the batch size. A matrix is ~250 bytes, so
// the bound can be generous enough to keep the workers busy across the
// pauses of the drawer (fpdf compressing and writing a whole file at the end
// of each file).
const maxInFlight = 4096

type qrJob struct {
	code    string
	version int
	res     chan qrResult
}

type qrResult struct {
	m   qrMatrix
	err error
}

type qrPool struct {
	encode func(code string, version int) (qrMatrix, error)
	jobs   chan qrJob
	order  chan chan qrResult
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

func newQRPool(workers int, encode func(string, int) (qrMatrix, error)) *qrPool {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &qrPool{
		encode: encode,
		jobs:   make(chan qrJob, workers),
		order:  make(chan chan qrResult, maxInFlight),
		done:   make(chan struct{}),
	}
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

func (p *qrPool) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.done:
			return
		case j := <-p.jobs:
			var r qrResult
			func() {
				defer func() {
					if v := recover(); v != nil {
						r.err = fmt.Errorf("QR encoder failed: %v", v)
					}
				}()
				r.m, r.err = p.encode(j.code, j.version)
			}()
			j.res <- r // buffered: never blocks
		}
	}
}

// submit queues a code; it blocks while maxInFlight results are pending and
// returns false once the pool is stopped.
func (p *qrPool) submit(code string, version int) bool {
	res := make(chan qrResult, 1)
	select {
	case p.order <- res:
	case <-p.done:
		return false
	}
	select {
	case p.jobs <- qrJob{code, version, res}:
		return true
	case <-p.done:
		return false
	}
}

// next returns the result of the oldest submitted code not yet taken. It
// must be called once per successful submit, from one goroutine.
func (p *qrPool) next() (qrMatrix, error) {
	select {
	case res := <-p.order:
		select {
		case r := <-res:
			return r.m, r.err
		case <-p.done:
			return qrMatrix{}, errStopped
		}
	case <-p.done:
		return qrMatrix{}, errStopped
	}
}

// stop ends the workers and unblocks the producer; it is safe to call more
// than once, and waits until no worker runs.
func (p *qrPool) stop() {
	p.once.Do(func() { close(p.done) })
	p.wg.Wait()
}
