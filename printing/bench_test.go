package printing

import (
	"bufio"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"passnum/voucher"
)

// Benchmarks render a whole batch once per iteration; run them with
// -benchtime 1x. The batch size comes from the environment:
//
//	PASSNUM_BENCH_CHEQUIERS   chéquiers in the batch (default 1000)
//	PASSNUM_BENCH_PER_FILE    chéquiers per file (default 250)
//
// so 10,000 chéquiers of 10 vouchers (100,000 vouchers) is
// PASSNUM_BENCH_CHEQUIERS=10000 go test -run '^$' -bench Render -benchtime 1x ./printing/
//
// Reported: vouchers/s, B/voucher (PDF bytes), peak-RSS-MB (VmHWM, reset
// before each sub-benchmark through /proc/self/clear_refs).

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const benchPerChequier = 10

// benchBatch makes its chéquiers on the fly, so that the benchmark's own
// data does not grow with the batch and peak RSS is the renderer's. The
// codes carry a constant fake signature: printing parses codes to check
// their fields against what it prints, but has no key set and does not
// verify signatures; signing the codes on the fly would add signing to the
// time measured, and keeping them signed in advance would add every code
// to the RSS (docs/BENCHMARKS.md, "Printing").
type benchBatch struct {
	b    Batch
	spec batchSpec
}

func newBenchBatch(tb testing.TB) *benchBatch {
	n := envInt("PASSNUM_BENCH_CHEQUIERS", 1000)
	spec := batchSpec{id: 77, chequiers: n, perChequier: benchPerChequier, valueCents: 1000, activation: true}
	return &benchBatch{b: testBatch(tb, spec), spec: spec}
}

var benchB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// fakeCode appends a stand-in signature, random-looking like a real one
// so that the PDF compresses as it would.
func fakeCode(payload []byte) string {
	sig := sha512.Sum512(payload)
	return benchB32.EncodeToString(append(payload, sig[:]...))
}

func (bb *benchBatch) chequier(i int) Chequier {
	seq := uint32(i + 1)
	act := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint16([]byte{2, 1, '7', '8', ' '}, 2026), seq)
	c := Chequier{Number: voucher.FormatChequierNumber("78", 2026, seq), ValueCents: 1000,
		ValidUntil: bb.b.ValidUntil, RequiresActivation: true, ActivationCode: fakeCode(act)}
	c.Vouchers = make([]Voucher, benchPerChequier)
	for v := range c.Vouchers {
		serial := uint64(i*benchPerChequier + v + 1)
		p := binary.BigEndian.AppendUint64([]byte{1, 1}, serial)
		p = append(p, '7', '8', ' ')
		p = binary.BigEndian.AppendUint32(p, 1000)
		p = binary.BigEndian.AppendUint16(p, uint16(bb.b.ValidFrom))
		p = binary.BigEndian.AppendUint16(p, uint16(bb.b.ValidUntil))
		c.Vouchers[v] = Voucher{Position: v + 1, Number: voucher.FormatNumber(serial),
			VerificationCode: voucher.VerificationCode(testSecret, serial), Code: fakeCode(p)}
	}
	return c
}

func (bb *benchBatch) seq() iter.Seq2[Chequier, error] {
	return func(yield func(Chequier, error) bool) {
		for i := 0; i < bb.spec.chequiers; i++ {
			if !yield(bb.chequier(i), nil) {
				return
			}
		}
	}
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// cpuTime is the process's user and system CPU time: with other work on
// the machine, CPU per voucher varies less than wall time, and it counts
// the work of every goroutine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func qrMethods() []string { return []string{"image", "vectors"} }

// BenchmarkRender is the whole job: RenderFiles of a batch, QR encoding
// included.
func BenchmarkRender(b *testing.B) {
	bb := newBenchBatch(b)
	runRenderBench(b, bb, nil)
}

// BenchmarkRenderDrawing is RenderFiles with the QR matrices looked up
// instead of encoded: the package's own drawing cost, to compare with
// BenchmarkRenderFloor.
func BenchmarkRenderDrawing(b *testing.B) {
	bb := newBenchBatch(b)
	runRenderBench(b, bb, precompute(b, bb))
}

var precomputed struct {
	sync.Mutex
	n  int
	ms map[string]qrMatrix
}

// precompute encodes the batch's QR codes once per process, so that
// repeated runs (-count) compare drawing with drawing.
func precompute(b *testing.B, bb *benchBatch) map[string]qrMatrix {
	precomputed.Lock()
	defer precomputed.Unlock()
	if precomputed.n == bb.spec.chequiers {
		return precomputed.ms
	}
	precomputed.n, precomputed.ms = bb.spec.chequiers, encodeAll(b, bb)
	return precomputed.ms
}

func encodeAll(b *testing.B, bb *benchBatch) map[string]qrMatrix {
	ms := make(map[string]qrMatrix, bb.spec.chequiers*(benchPerChequier+1))
	for i := 0; i < bb.spec.chequiers; i++ {
		c := bb.chequier(i)
		m, err := encodeQR(c.ActivationCode, activationQRVersion)
		if err != nil {
			b.Fatal(err)
		}
		ms[c.ActivationCode] = m
		for _, v := range c.Vouchers {
			if ms[v.Code], err = encodeQR(v.Code, voucherQRVersion); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ms
}

func runRenderBench(b *testing.B, bb *benchBatch, pre map[string]qrMatrix) {
	perFile := envInt("PASSNUM_BENCH_PER_FILE", 250)
	vouchers := bb.spec.chequiers * benchPerChequier
	for _, layout := range []Layout{A4Sheets, Booklet} {
		for _, method := range qrMethods() {
			b.Run(string(layout)+"/"+method, func(b *testing.B) {
				e := defaultEngine
				e.vectors = method == "vectors"
				if pre != nil {
					e.encode = func(code string, _ int) (qrMatrix, error) { return pre[code], nil }
				}
				runtime.GC()
				resetPeakRSS()
				var bytes int64
				cpu0 := cpuTime()
				b.ResetTimer()
				for range b.N {
					dir := b.TempDir()
					man, err := e.renderFiles(dir, bb.b, bb.seq(), perFile, testOptions(layout), nil)
					if err != nil {
						b.Fatal(err)
					}
					bytes = 0
					for _, f := range man.Files {
						bytes += f.Bytes
					}
					b.StopTimer()
					os.RemoveAll(dir)
					b.StartTimer()
				}
				b.ReportMetric(float64(vouchers*b.N)/b.Elapsed().Seconds(), "vouchers/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(vouchers*b.N), "cpu-µs/voucher")
				b.ReportMetric(float64(bytes)/float64(vouchers), "B/voucher")
				b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkRenderFloor is the floor for BenchmarkRenderDrawing: the same
// pages (the same texts, lines and QR codes at the same places, with the
// same fonts) written by straight-line fpdf calls, with the QR matrices
// precomputed, the file split and output the same, and none of the
// package's checks, layout logic or pipeline.
func BenchmarkRenderFloor(b *testing.B) {
	bb := newBenchBatch(b)
	pre := precompute(b, bb)
	perFile := envInt("PASSNUM_BENCH_PER_FILE", 250)
	vouchers := bb.spec.chequiers * benchPerChequier
	for _, layout := range []Layout{A4Sheets, Booklet} {
		for _, method := range qrMethods() {
			b.Run(string(layout)+"/"+method, func(b *testing.B) {
				runtime.GC()
				resetPeakRSS()
				var bytes int64
				cpu0 := cpuTime()
				b.ResetTimer()
				for range b.N {
					dir := b.TempDir()
					bytes = 0
					for start := 0; start < bb.spec.chequiers; start += perFile {
						n, err := floorFile(filepath.Join(dir, FileName(bb.b.ID, start/perFile+1)), bb, pre, start, min(start+perFile, bb.spec.chequiers), layout, method == "vectors")
						if err != nil {
							b.Fatal(err)
						}
						bytes += n
					}
					b.StopTimer()
					os.RemoveAll(dir)
					b.StartTimer()
				}
				b.ReportMetric(float64(vouchers*b.N)/b.Elapsed().Seconds(), "vouchers/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(vouchers*b.N), "cpu-µs/voucher")
				b.ReportMetric(float64(bytes)/float64(vouchers), "B/voucher")
				b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// floorFile writes chéquiers [from, to) as one PDF with plain fpdf calls.
func floorFile(path string, bb *benchBatch, pre map[string]qrMatrix, from, to int, layout Layout, vectors bool) (int64, error) {
	regular, bold, err := fontBytes()
	if err != nil {
		return 0, err
	}
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	f.SetCompression(true)
	f.SetCatalogSort(true)
	f.SetCreationDate(time.Unix(0, 0))
	f.SetModificationDate(time.Unix(0, 0))
	f.SetAutoPageBreak(false, 0)
	f.AddUTF8FontFromBytes(fontFamily, "", regular)
	f.AddUTF8FontFromBytes(fontFamily, "B", bold)
	var raw []byte
	qr := func(m qrMatrix, x, y float64, dots int) {
		if vectors {
			raw = appendQRVectors(raw[:0], m, x, y, a4H, dots)
		} else {
			raw = appendQR(raw[:0], m, x, y, a4H, dots)
		}
		f.RawWriteStr(string(raw))
	}
	txt := func(style string, size float64, x, y float64, s string) {
		f.SetFont(fontFamily, style, size)
		f.Text(x, y, s)
	}
	summary := func() {
		f.AddPage()
		for i := 0; i < 40; i++ {
			txt("", 9.5, 20, 50+float64(i)*5, "Ligne du récapitulatif de ce lot, 1 000 chéquiers, 10 000 chèques")
		}
	}
	// The cover texts, as one of them prints.
	cover := func(c *Chequier, x, y float64) {
		f.SetFillColor(0, 0, 145)
		f.Rect(x+11, y+7, 80, 13, "F")
		f.SetTextColor(255, 255, 255)
		txt("B", 13, x+30, y+13, "Pass numérique")
		txt("", 8.5, x+40, y+17.5, "Yvelines (78)")
		f.SetTextColor(0, 0, 0)
		txt("B", 15, x+11, y+27, "Votre chéquier")
		txt("B", 13, x+11, y+33.5, "10 chèques de 10 €")
		txt("", 9, x+11, y+38.5, "soit 100 € pour vous former au numérique.")
		txt("B", 9.5, x+11, y+43.5, "Valable jusqu'au 31/12/2027")
		txt("", 8.5, x+11, y+48, "Chéquier n° "+c.Number)
		txt("B", 10, x+11, y+55, "Comment faire ?")
		for i, s := range []string{"1.", "Trouvez un lieu labellisé « Pass numérique » près de", "chez vous.", "2.", "Inscrivez-vous à un atelier pour apprendre le", "numérique.", "3.", "Donnez vos chèques sur place. Le lieu les scanne."} {
			txt("", 9, x+11, y+60+float64(i)*2.5, s)
		}
		txt("B", 10, x+11, y+84, "Où aller ?")
		txt("", 9, x+11, y+88, "Liste des lieux labellisés :")
		txt("", 9, x+11, y+92, "www.yvelines.fr/pass-numerique ou au 01 39 07 78 78")
		f.SetDrawColor(0, 0, 145)
		f.Rect(x+11, y+98, 80, 43, "D")
		txt("B", 8.5, x+13, y+102.5, "À remplir par le travailleur social")
		qr(pre[c.ActivationCode], x+12.5, y+104.5, activationModule)
		for i, s := range []string{"Activez ce chéquier au moment de la", "remise : scannez ce code. Sans", "activation, les chèques sont refusés."} {
			txt("", 7, x+48, y+108+float64(i)*3.2, s)
		}
		txt("B", 7.5, x+48, y+119, "N° "+c.Number)
		txt("", 7, x+48, y+125, "Remis le : ___ / ___ / ______")
		txt("", 7, x+48, y+131, "Par (structure) :")
		f.Line(x+48, y+137, x+89, y+137)
	}
	a4Voucher := func(c *Chequier, v *Voucher, x, y float64) {
		qr(pre[v.Code], x+2, y+2, a4VoucherModule)
		txt("B", 8.5, x+8, y+44, "Chèque "+strconv.Itoa(v.Position)+" sur 10")
		f.SetTextColor(80, 80, 80)
		txt("", 7, x+4, y+48.5, "Chéquier n° "+c.Number)
		f.SetTextColor(0, 0, 145)
		txt("B", 8, x+41, y+6.5, "Pass numérique · Yvelines (78)")
		f.SetTextColor(0, 0, 0)
		txt("B", 30, x+41, y+17.5, "10 €")
		txt("", 8.5, x+41, y+23, "Valable jusqu'au 31/12/2027")
		f.SetTextColor(80, 80, 80)
		txt("", 7, x+41, y+28, "N° du chèque")
		txt("", 7, x+41, y+38, "Code de vérification")
		f.SetTextColor(0, 0, 0)
		txt("B", 14, x+41, y+33.5, v.Number)
		txt("B", 14, x+41, y+43.5, v.VerificationCode)
		txt("", 6.5, x+41, y+48, "Ne peut être ni échangé ni remboursé.")
		txt("B", 6.5, x+41, y+51.5, "Non valable sans activation.")
	}
	a6Voucher := func(c *Chequier, v *Voucher, x, y float64) {
		f.SetTextColor(0, 0, 145)
		txt("B", 11, x+45, y+12, "Pass numérique")
		f.SetTextColor(0, 0, 0)
		txt("", 9.5, x+47, y+17, "Yvelines (78)")
		txt("B", 42, x+40, y+32, "10 €")
		txt("", 10, x+33, y+38.5, "Valable jusqu'au 31/12/2027")
		qr(pre[v.Code], x+34, y+42, a6VoucherModule)
		f.SetTextColor(80, 80, 80)
		txt("", 8, x+50, y+96, "N° du chèque")
		txt("", 8, x+45, y+110, "Code de vérification")
		f.SetTextColor(0, 0, 0)
		txt("B", 20, x+30, y+104, v.Number)
		txt("B", 20, x+35, y+118, v.VerificationCode)
		txt("", 8.5, x+24, y+126, "Chéquier n° "+c.Number+" · chèque "+strconv.Itoa(v.Position)+" sur 10")
		txt("", 8.5, x+30, y+132, "Ne peut être ni échangé ni remboursé.")
		txt("B", 8.5, x+35, y+136.5, "Non valable sans activation.")
	}
	stub := func(c *Chequier, x, y float64, tear bool) {
		if tear {
			f.SetDashPattern([]float64{1.5, 1.5}, 0)
			f.Line(x+13, y+6, x+13, y+142.5)
			f.SetDashPattern(nil, 0)
		}
		f.TransformBegin()
		f.TransformRotate(90, x+8, y+140.5)
		txt("", 6.5, x+8, y+140.5, "Chèque 1/10 · chéquier n° "+c.Number)
		txt("", 5.5, x+110, y+140.5, "A · feuille 1 · page 1")
		f.TransformEnd()
	}
	cutMarks := func() {
		for i := 0; i < 14; i++ {
			f.Line(float64(i), 0, float64(i), 5)
		}
	}

	summary()
	cs := make([]Chequier, 0, to-from)
	for i := from; i < to; i++ {
		cs = append(cs, bb.chequier(i))
	}
	switch layout {
	case A4Sheets:
		for ci := range cs {
			c := &cs[ci]
			f.AddPage()
			f.TransformBegin()
			f.TransformScale(200, 200, 0, 0)
			cover(c, 0, 0)
			f.TransformEnd()
			f.AddPage()
			cutMarks()
			txt("", 6, 22, 6.5, "Lot 77 · chéquier "+c.Number+" · chèques 1 à 10 sur 10 · page 3")
			for vi := range c.Vouchers {
				x, y := cellOrigin(vi)
				a4Voucher(c, &c.Vouchers[vi], x, y)
			}
		}
	case Booklet:
		fp := buildPlan(Options{Layout: Booklet}, cs)
		for _, pg := range fp.pages[1:] {
			f.AddPage()
			cutMarks()
			for q, it := range pg.items {
				x, y := slotOrigin(q)
				switch it.kind {
				case itemCover:
					cover(&cs[it.ch], x+7, y)
					stub(&cs[it.ch], x, y, false)
				case itemVoucher:
					a6Voucher(&cs[it.ch], &cs[it.ch].Vouchers[it.v], x, y)
					stub(&cs[it.ch], x, y, true)
				}
			}
		}
	}
	out, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	h := sha256.New()
	var cw countWriter
	bw := bufio.NewWriterSize(io.MultiWriter(out, h, &cw), 1<<16)
	if err := f.Output(bw); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return cw.n, out.Sync()
}

// BenchmarkQREncode is encodeQR's cost per voucher code (passnum/qrcode,
// plus the character check and the conversion), on one core.
func BenchmarkQREncode(b *testing.B) {
	bb := newBenchBatchSmall(b)
	c := bb.chequier(0)
	for i := 0; b.Loop(); i++ {
		if _, err := encodeQR(c.Vouchers[i%benchPerChequier].Code, voucherQRVersion); err != nil {
			b.Fatal(err)
		}
	}
}

func newBenchBatchSmall(b *testing.B) *benchBatch {
	b.Setenv("PASSNUM_BENCH_CHEQUIERS", "1")
	return newBenchBatch(b)
}
