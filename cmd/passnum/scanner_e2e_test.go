package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/image/draw"

	"passnum/issuing"
	"passnum/ledger"
	"passnum/qrcode"
)

// The venue scanner, end to end: the real `passnum serve` on SQLite, the
// page in headless Chromium at phone size, its camera fed with a rasterized
// printed chéquier, and the ledger checked afterwards.

// scannerProgramme is a programme ready for a venue: the Yvelines, two
// labelled venues, and a batch whose vouchers need no hand-over.
type scannerProgramme struct {
	env      []string
	dir      string
	vouchers []issuing.PrintedVoucher // the first chéquier's ten vouchers of 10.00 EUR
}

func newScannerProgramme(t *testing.T) *scannerProgramme {
	t.Helper()
	dir := t.TempDir()
	env := []string{"PASSNUM_DATA_DIR=" + dir}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "venue", "add", "Médiathèque François Mitterrand", "--department", "78",
		"--siret", "12345678900015", "--iban", "FR7630006000011234567890189")
	mustRun(t, env, "venue", "add", "Association Emmaüs Connect", "--department", "78",
		"--siret", "78210456700014", "--iban", "FR7610107001011234567890129")
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "10", "--value", "10.00",
		"--valid-until", nextYearEnd(), "--no-activation")
	p := &scannerProgramme{env: env, dir: dir}
	svc, _ := issuingOf(t, env)
	pc, err := svc.Chequier(t.Context(), fmt.Sprintf("78-%d-000001", time.Now().Year()))
	if err != nil {
		t.Fatal(err)
	}
	p.vouchers = pc.Vouchers
	return p
}

// pairingCode is what an administrator gives the venue (apikey pair).
func (p *scannerProgramme) pairingCode(t *testing.T, venue int) string {
	t.Helper()
	return strings.TrimSpace(mustRun(t, p.env, "apikey", "pair", "--venue", fmt.Sprint(venue), "--name", "téléphone de l'accueil"))
}

// spends lists who spent a voucher: one "venue/status" per redemption.
func (p *scannerProgramme) spends(t *testing.T, serial int64) []string {
	t.Helper()
	db, err := ledger.Open(t.Context(), filepath.Join(p.dir, "passnum.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []struct {
		VenueID int64
		Status  string
	}
	err = db.Read(t.Context()).Raw(`SELECT r.venue_id, r.status FROM redemption_items i JOIN redemptions r ON r.id = i.redemption_id
		WHERE i.voucher_serial = ? ORDER BY r.id`, serial).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d/%s", r.VenueID, r.Status))
	}
	return out
}

// ---- The camera ----

// fakeCamera makes Chromium's camera play a Y4M file, and grants it
// without asking.
func fakeCamera(video string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
}

const frameW, frameH = 960, 540

// printedVouchers prints the programme's first chéquier with `passnum
// print`, rasterizes its pages with pdftoppm, and cuts out the vouchers of
// the first row of its voucher sheet, as a camera held over them would see
// them. It checks that each shows the QR code of the voucher printed there.
func printedVouchers(t *testing.T, p *scannerProgramme, n int) []image.Image {
	t.Helper()
	return printedBatch(t, p.env, 1, p.vouchers[:n])
}

// printedBatch does the same for the first vouchers of a batch's first
// chéquier.
func printedBatch(t *testing.T, env []string, batch int, vouchers []issuing.PrintedVoucher) []image.Image {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Fatal("pdftoppm is missing: install poppler-utils (make test-tools)")
	}
	out := t.TempDir()
	// The A4 layout, ten vouchers to a sheet, is cut into cells below; the
	// booklet's QR codes are decoded by printing's TestRoundTrip.
	mustRun(t, env, "print", "--batch", fmt.Sprint(batch), "--out", out, "--per-file", "1", "--layout", "a4")
	cmd := exec.Command("pdftoppm", "-r", "200", "-png", filepath.Join(out, fmt.Sprintf("batch-%d-0001.pdf", batch)), filepath.Join(out, "page"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, msg)
	}
	pages, _ := filepath.Glob(filepath.Join(out, "page-*.png"))
	slices.Sort(pages)
	sheet := readPNG(t, pages[len(pages)-1]) // the cover comes first, then the vouchers
	b := sheet.Bounds()
	cellW, cellH := b.Dx()/2, b.Dy()/5 // ten vouchers per A4 sheet, two by five
	var cells []image.Image
	for i, v := range vouchers {
		r := image.Rect(i*cellW, 0, (i+1)*cellW, cellH).Add(b.Min)
		cell := sheet.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(r)
		if got := decodeQR(t, cell); got != v.Code {
			t.Fatalf("voucher %d of the printed sheet holds %.20s…, want %.20s…", i+1, got, v.Code)
		}
		cells = append(cells, fitFrame(cell))
	}
	return cells
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// decodeQR reads the QR code of a printed voucher's cell. gozxing's
// detector now and then misses it at 200 dpi, depending on the code's
// modules (1 cell in 160 over 80 fresh chéquiers, enough to fail a browser
// test now and then); that cell decoded at half the size, which is tried
// second. What is decoded must still be the voucher's code.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	b := img.Bounds()
	half := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	draw.CatmullRom.Scale(half, half.Bounds(), img, b, draw.Src, nil)
	var errs []error
	for _, candidate := range []image.Image{img, half} {
		bmp, err := gozxing.NewBinaryBitmapFromImage(candidate)
		if err != nil {
			t.Fatal(err)
		}
		res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
		if err == nil {
			return res.GetText()
		}
		errs = append(errs, err)
	}
	t.Fatalf("no QR code in the printed voucher, at full and half size: %v", errs)
	return ""
}

// fitFrame scales an image into a white camera frame.
func fitFrame(img image.Image) image.Image {
	frame := image.NewRGBA(image.Rect(0, 0, frameW, frameH))
	draw.Draw(frame, frame.Bounds(), image.White, image.Point{}, draw.Src)
	b := img.Bounds()
	scale := min(float64(frameW)/float64(b.Dx()), float64(frameH)/float64(b.Dy()))
	w, h := int(float64(b.Dx())*scale), int(float64(b.Dy())*scale)
	dst := image.Rect((frameW-w)/2, (frameH-h)/2, (frameW+w)/2, (frameH+h)/2)
	draw.CatmullRom.Scale(frame, dst, img, b, draw.Src, nil)
	return frame
}

// qrFrame draws a QR code as a screen would show it: 8 pixels a module,
// with its quiet zone.
func qrFrame(t *testing.T, text string) image.Image {
	t.Helper()
	var m *qrcode.Matrix
	for v := 1; v <= 40 && m == nil; v++ {
		m, _ = qrcode.Encode(text, v, qrcode.M)
	}
	const px = 8
	size := (m.Size() + 8) * px
	frame := image.NewRGBA(image.Rect(0, 0, frameW, frameH))
	draw.Draw(frame, frame.Bounds(), image.White, image.Point{}, draw.Src)
	x0, y0 := (frameW-size)/2+4*px, (frameH-size)/2+4*px
	for y := range m.Size() {
		for x := range m.Size() {
			if m.Dark(x, y) {
				draw.Draw(frame, image.Rect(x0+x*px, y0+y*px, x0+(x+1)*px, y0+(y+1)*px), image.Black, image.Point{}, draw.Src)
			}
		}
	}
	return frame
}

// writeY4M writes a YUV4MPEG2 video (4:2:0, 5 frames a second) that shows
// each image for `each` frames, in turn; Chromium plays it in a loop.
func writeY4M(t *testing.T, images []image.Image, each int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "camera.y4m")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "YUV4MPEG2 W%d H%d F5:1 Ip A1:1 C420jpeg\n", frameW, frameH)
	for _, img := range images {
		planes := yuv420(img)
		for range each {
			w.WriteString("FRAME\n")
			w.Write(planes)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// yuv420 converts a frame to the Y plane then the subsampled Cb and Cr
// planes (full range, as JPEG).
func yuv420(img image.Image) []byte {
	ys := make([]byte, frameW*frameH)
	cb := make([]int, frameW*frameH/4)
	cr := make([]int, frameW*frameH/4)
	for y := range frameH {
		for x := range frameW {
			r, g, b, _ := img.At(x, y).RGBA()
			yy, u, v := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(b>>8))
			ys[y*frameW+x] = yy
			i := (y/2)*(frameW/2) + x/2
			cb[i] += int(u)
			cr[i] += int(v)
		}
	}
	out := ys
	for _, plane := range [][]int{cb, cr} {
		for _, s := range plane {
			out = append(out, byte(s/4))
		}
	}
	return out
}

// ---- Driving the page ----

// textOf is the text a person sees in the first element matching sel: ""
// when it is hidden. No-break spaces read as spaces.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		return !el || el.closest("[hidden]") ? "" : el.innerText; })()`, sel)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
}

// waitText waits until the element shows every one of want.
func waitText(t *testing.T, ctx context.Context, sel string, want ...string) string {
	t.Helper()
	var got string
	waitUntil(t, fmt.Sprintf("%q in %s", want, sel), func() (bool, string) {
		got = textOf(t, ctx, sel)
		ok := got != ""
		for _, w := range want {
			ok = ok && strings.Contains(got, w)
		}
		return ok, fmt.Sprintf("%s shows %q\n--- the page shows:\n%s", sel, got, textOf(t, ctx, "body"))
	})
	return got
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%v\n--- the page shows:\n%s", err, textOf(t, ctx, "body"))
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// pairByHand opens the scanner on a new device and pastes a pairing code.
func pairByHand(t *testing.T, ctx context.Context, base, code string) {
	t.Helper()
	do(t, ctx, phone(), chromedp.Navigate(base+"/scanner/"))
	waitText(t, ctx, "#ecran-association h1", "Associer cet appareil")
	cameraSettled(t, ctx, "#camera-association")
	// Pasted, as from a message: typing 151 characters key by key is slow.
	do(t, ctx, chromedp.SetValue(chromedp.ID("code-association"), code))
	click(t, ctx, "#form-association button")
	waitText(t, ctx, "#ecran-scanner h1", "Encaisser des chèques")
	waitText(t, ctx, "#nom-lieu", "Médiathèque François Mitterrand")
}

// cameraSettled waits until a camera has started or said why not, so that
// the page no longer moves under a click.
func cameraSettled(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitUntil(t, "camera started or failed", func() (bool, string) {
		s := textOf(t, ctx, sel+" .etat-camera")
		return s != "" && !strings.HasPrefix(s, "Démarrage"), fmt.Sprintf("the camera says %q", s)
	})
}

// enter types a voucher's number and verification code by hand.
func enter(t *testing.T, ctx context.Context, v issuing.PrintedVoucher) {
	t.Helper()
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("numero"), v.Number),
		chromedp.SetValue(chromedp.ID("verification"), v.VerificationCode))
	click(t, ctx, "#form-saisie button")
}

func clickID(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	click(t, ctx, "#"+id)
}

// ---- The tests ----

// TestScannerServesPage: the page and its files come with their types, a
// strict policy and revalidation; nothing else is served under /scanner/.
func TestScannerServesPage(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, header ...string) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get("/scanner"); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/scanner/" {
		t.Fatalf("/scanner: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	for path, ctype := range map[string]string{
		"/scanner/":                                  "text/html; charset=utf-8",
		"/scanner/app.js":                            "text/javascript; charset=utf-8",
		"/scanner/scanner.css":                       "text/css; charset=utf-8",
		"/scanner/sw.js":                             "text/javascript; charset=utf-8",
		"/scanner/manifest.webmanifest":              "application/manifest+json",
		"/scanner/vendor/jsqr/jsQR.js":               "text/javascript; charset=utf-8",
		"/scanner/vendor/tweetnacl/nacl-fast.min.js": "text/javascript; charset=utf-8",
	} {
		res := get(path)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		if res.StatusCode != 200 || h.Get("Content-Type") != ctype || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" ||
			!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: %d, headers %v", path, res.StatusCode, h)
		}
		if again := get(path, "If-None-Match", h.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Errorf("%s again with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	for _, path := range []string{"/scanner/vendor/README.md", "/scanner/vendor/jsqr/LICENSE", "/scanner/nothing.js", "/scanner/../go.mod"} {
		if res := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
	// No inline script or style: the policy would block them.
	page, err := os.ReadFile(filepath.Join("..", "..", "api", "web", "scanner", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>[^<]*</script>`).FindAll(page, -1) {
		if !bytes.Contains(tag, []byte(` src="`)) || !bytes.HasSuffix(tag, []byte("></script>")) {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<style`), regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`)} {
		if m := bad.Find(page); m != nil {
			t.Errorf("index.html has inline code: %s", m)
		}
	}
}

// TestScannerVendoredFiles: each vendored library is the file its README
// line names, byte for byte, with its licence beside it.
func TestScannerVendoredFiles(t *testing.T) {
	for _, readme := range []string{filepath.Join("..", "..", "api", "web", "vendor", "README.md"), filepath.Join("testdata", "axe-core", "README.md")} {
		text, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		line := regexp.MustCompile("(?m)^\\| `([^`]+)`.*\\| `([0-9a-f]{64})` \\|$")
		found := line.FindAllSubmatch(text, -1)
		if len(found) == 0 {
			t.Fatalf("%s lists no file", readme)
		}
		for _, m := range found {
			path := filepath.Join(filepath.Dir(readme), string(m[1]))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != string(m[2]) {
				t.Errorf("%s: SHA-256 %x, the README says %s", path, sum, m[2])
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), "LICENSE")); err != nil {
				t.Errorf("%s has no LICENSE beside it", path)
			}
		}
	}
}

// TestScannerCodecVectors: the page's offline verifier gives every test
// vector of docs/voucher-format.md its documented answer, with the
// browser's WebCrypto and with the tweetnacl fallback.
func TestScannerCodecVectors(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "voucher-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	keyset := regexp.MustCompile("(?s)```json keyset\n(.*?)```").FindSubmatch(doc)[1]
	type vector struct {
		Name  string `json:"name"`
		Code  string `json:"code"`
		Want  string `json:"want"` // "type:serial" or the rejection
		Kind  string `json:"kind"`
		Numbr string `json:"number"`
	}
	var vectors []vector
	for _, block := range regexp.MustCompile("(?s)```vector\n(.*?)```").FindAllSubmatch(doc, -1) {
		f := map[string]string{}
		for _, line := range strings.Split(string(block[1]), "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok {
				f[k] = v
			}
		}
		switch f["kind"] {
		case "code":
			want := map[string]string{"voucher": "1", "activation": "2", "pairing": "3", "checkpoint": "4", "receipt": "5"}[f["type"]]
			if f["serial"] != "" {
				want += ":" + f["serial"]
			}
			vectors = append(vectors, vector{Name: f["name"], Code: f["code"], Want: want, Kind: "code"})
		case "reject":
			vectors = append(vectors, vector{Name: f["name"], Code: f["code"], Want: f["error"], Kind: "code"})
		case "number":
			vectors = append(vectors, vector{Name: "number " + f["serial"], Code: f["serial"], Want: f["number"], Kind: "number"})
		}
	}
	// A signature whose S is not reduced (S + L): a lax Ed25519 verifier
	// accepts it, RFC 8032 does not.
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(vectors[0].Code)
	carry := 0
	l := []int{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	s := raw[len(raw)-32:]
	for i := range s {
		sum := int(s[i]) + l[i] + carry
		s[i], carry = byte(sum), sum>>8
	}
	vectors = append(vectors, vector{Name: "non-canonical S", Code: base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw),
		Want: "bad_signature", Kind: "code"})
	if len(vectors) < 20 {
		t.Fatalf("only %d vectors read", len(vectors))
	}
	input, _ := json.Marshal(vectors)

	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	ctx := newBrowser(t)
	run := `(async () => {
		const m = await import("/scanner/codec.js");
		const out = [];
		for (const v of VECTORS) {
			if (v.kind === "number") { out.push(m.formatNumber(Number(v.code))); continue; }
			try {
				const r = await m.verify(v.code, KEYSET);
				out.push(r.type + (r.fields.serial ? ":" + r.fields.serial : ""));
			} catch (e) { out.push(e.reason || String(e)); }
		}
		return {engine: await m.verifierName(), out};
	})()`
	run = strings.NewReplacer("VECTORS", string(input), "KEYSET", string(keyset)).Replace(run)
	type result struct {
		Engine string   `json:"engine"`
		Out    []string `json:"out"`
	}
	for _, engine := range []string{"webcrypto", "tweetnacl"} {
		do(t, ctx, chromedp.Navigate(base+"/scanner/"))
		waitText(t, ctx, "#ecran-association h1", "Associer")
		if engine == "tweetnacl" {
			// A browser without Ed25519 in WebCrypto, as Chrome before 137.
			eval[bool](t, ctx, `crypto.subtle.importKey = () => Promise.reject(new DOMException("Ed25519", "NotSupportedError")), true`)
		}
		got := eval[result](t, ctx, run)
		if got.Engine != engine {
			t.Errorf("verified with %q, want %q", got.Engine, engine)
		}
		for i, v := range vectors {
			if i >= len(got.Out) || got.Out[i] != v.Want {
				t.Errorf("%s, %s: got %q, want %q", engine, v.Name, got.Out[i], v.Want)
			}
		}
	}
	bad := eval[[]string](t, ctx, `import("/scanner/codec.js").then(m => ["0000 0000 428", "0000 0000 472", "0000 0000 00", "0000 0000 000", "0000-0000-427"].map(n => {
		try { return m.readNumber(n); } catch (e) { return e.reason; } }))`)
	if want := []string{"check_digit", "check_digit", "number_format", "number_format", "0000 0000 427"}; !slices.Equal(bad, want) {
		t.Errorf("typed numbers: %q, want %q", bad, want)
	}
}

// TestScannerCamera: the camera sees a printed voucher; the venue accepts
// it; scanned again, it is refused in French; the ledger has it once.
func TestScannerCamera(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	vouchers := printedVouchers(t, p, 1)
	ctx := newBrowser(t, fakeCamera(writeY4M(t, vouchers, 2))...)
	pairByHand(t, ctx, base, p.pairingCode(t, 1))

	v := p.vouchers[0]
	waitText(t, ctx, "#panier", "Chèque valable : 10,00 €", v.Number)
	waitText(t, ctx, "#encaisser", "Encaisser 1 chèque — 10 €")
	screenshot(t, ctx, "scanner-panier")
	checkAccessibility(t, ctx)

	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Accepté — 10 €")
	waitText(t, ctx, "#detail-resultat", "1 chèque encaissé le")
	screenshot(t, ctx, "scanner-accepte")
	checkAccessibility(t, ctx)

	clickID(t, ctx, "nouveau-panier")
	got := waitText(t, ctx, "#panier", "Ce chèque a déjà été utilisé le", "dans votre structure")
	if strings.Count(got, "Retirer") != 1 {
		t.Errorf("the voucher in view was taken more than once:\n%s", got)
	}
	if d := textOf(t, ctx, "#actions-panier"); d != "" {
		t.Errorf("a basket of a spent voucher can be sent: %q", d)
	}
	screenshot(t, ctx, "scanner-deja-utilise")

	if s := p.spends(t, v.Serial); !slices.Equal(s, []string{"1/accepted"}) {
		t.Fatalf("voucher %s spent by %v, want once by venue 1", v.Number, s)
	}
}

// TestScannerManualEntry: without a camera the volunteer types the
// vouchers; a basket of three is accepted and undone, then redeemed again
// in part; the day and the month add up; a suspended venue is refused.
func TestScannerManualEntry(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	ctx := newBrowser(t) // no camera at all
	do(t, ctx, phone(), chromedp.Navigate(base+"/scanner/"))
	waitText(t, ctx, "#ecran-association", "Associer cet appareil", "Aucune caméra")
	screenshot(t, ctx, "scanner-association")
	checkAccessibility(t, ctx)

	do(t, ctx, chromedp.SetValue(chromedp.ID("code-association"), p.vouchers[0].Code))
	click(t, ctx, "#form-association button")
	waitText(t, ctx, "#message-association", "Ce QR code n'est pas un code d'association")
	pairByHand(t, ctx, base, p.pairingCode(t, 1))
	waitText(t, ctx, "#camera-scanner", "Aucune caméra", "Saisissez le chèque à la main")
	if !eval[bool](t, ctx, `document.getElementById("saisie").open`) {
		t.Error("without a camera, the manual entry is not open")
	}

	// A mistyped digit is caught on the device, before any request.
	typo := []byte(p.vouchers[0].Number)
	typo[3] = '0' + (typo[3]-'0'+1)%10
	do(t, ctx, chromedp.SendKeys(chromedp.ID("numero"), string(typo)), chromedp.SendKeys(chromedp.ID("verification"), "ABCD-EFGH"))
	click(t, ctx, "#form-saisie button")
	waitText(t, ctx, "#message-saisie", "erreur de frappe")
	do(t, ctx, chromedp.Clear(chromedp.ID("numero")), chromedp.Clear(chromedp.ID("verification")))

	for _, v := range p.vouchers[1:4] {
		enter(t, ctx, v)
		waitText(t, ctx, "#panier", v.Number)
	}
	waitText(t, ctx, "#titre-panier", "Panier : 3 chèques")
	waitText(t, ctx, "#encaisser", "Encaisser 3 chèques — 30 €")
	screenshot(t, ctx, "scanner-saisie")
	checkAccessibility(t, ctx)

	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Accepté — 30 €")
	waitText(t, ctx, "#detail-resultat", "3 chèques encaissés")

	// Undo: a reason from the list, then the redemption is reversed.
	clickID(t, ctx, "annuler-resultat")
	waitText(t, ctx, "#texte-annulation", "30,00 €", "3 chèques")
	click(t, ctx, "#form-annulation button[type=submit]")
	waitText(t, ctx, "#message-annulation", "Choisissez pourquoi")
	click(t, ctx, `input[value="Chèque scanné par erreur"]`)
	screenshot(t, ctx, "scanner-annulation")
	checkAccessibility(t, ctx)
	click(t, ctx, "#form-annulation button[type=submit]")
	waitText(t, ctx, "#titre-resultat", "Encaissement annulé")
	for _, v := range p.vouchers[1:4] {
		if s := p.spends(t, v.Serial); !slices.Equal(s, []string{"1/reversed"}) {
			t.Fatalf("voucher %s after the undo: %v", v.Number, s)
		}
	}

	// The undone vouchers can be used again.
	clickID(t, ctx, "nouveau-panier")
	enter(t, ctx, p.vouchers[1])
	waitText(t, ctx, "#panier", "Chèque valable : 10,00 €")
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Accepté — 10 €")

	click(t, ctx, `#navigation button[data-ecran="journee"]`)
	waitText(t, ctx, "#total-journee", "10,00 € encaissés en 1 panier")
	waitText(t, ctx, "#liste-journee", "30,00 € — annulé", "10,00 € — encaissé")
	waitText(t, ctx, "#total-mois", "Remboursement prévu pour", "10,00 €")
	// The receipts kept on the device, the undone basket's too, as one
	// file that the operator's audit finds in the ledger.
	waitText(t, ctx, "#total-recus", "2 reçus gardés sur cet appareil")
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	clickID(t, ctx, "telecharger-recus")
	file := filepath.Join(downloads, "recus-passnum-"+time.Now().UTC().Format("2006-01-02")+".txt")
	receipts := string(adminDownload(t, file))
	if out := mustRun(t, p.env, "audit", "receipts", file); !strings.Contains(out, "2 receipts, 0 not backed by the ledger") ||
		!strings.Contains(out, "30.00 EUR, reversed by the venue") {
		t.Errorf("the scanner's receipts:\n%s\n%s", receipts, out)
	}
	screenshot(t, ctx, "scanner-aujourdhui")
	checkAccessibility(t, ctx)

	// At 200% zoom the phone is 180 CSS pixels wide: nothing scrolls sideways.
	do(t, ctx, chromedp.EmulateViewport(180, 320, chromedp.EmulateScale(4), chromedp.EmulateMobile, chromedp.EmulateTouch))
	for _, screen := range []string{"journee", "scanner", "appareil"} {
		click(t, ctx, `#navigation button[data-ecran="`+screen+`"]`)
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 180 {
			t.Errorf("screen %s at 200%% zoom is %d CSS pixels wide", screen, w)
		}
	}
	do(t, ctx, phone())

	// A voucher checked, then the venue suspended before the basket is sent:
	// the red screen says why.
	click(t, ctx, `#navigation button[data-ecran="scanner"]`)
	enter(t, ctx, p.vouchers[4])
	waitText(t, ctx, "#panier", "Chèque valable : 10,00 €")
	mustRun(t, p.env, "venue", "suspend", "1", "--reason", "enquête en cours")
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Refusé")
	waitText(t, ctx, "#ecran-resultat", "Votre structure est suspendue", "appelez le département Yvelines (78)")
	screenshot(t, ctx, "scanner-refuse")
	checkAccessibility(t, ctx)
	clickID(t, ctx, "retour-panier")
	waitText(t, ctx, "#panier", "REFUSÉ", "Votre structure est suspendue")
	enter(t, ctx, p.vouchers[5])
	waitText(t, ctx, "#panier", p.vouchers[5].Number, "Votre structure est suspendue")
	if s := p.spends(t, p.vouchers[4].Serial); len(s) != 0 {
		t.Fatalf("a suspended venue redeemed voucher %s: %v", p.vouchers[4].Number, s)
	}
}

// TestScannerPairingAndUnpairing: the device scans the pairing QR code an
// administrator shows, then is unpaired, and its key no longer works.
func TestScannerPairingAndUnpairing(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	ctx := newBrowser(t, fakeCamera(writeY4M(t, []image.Image{qrFrame(t, p.pairingCode(t, 1))}, 2))...)
	do(t, ctx, phone(), chromedp.Navigate(base+"/scanner/"))
	waitText(t, ctx, "#ecran-scanner h1", "Encaisser des chèques")
	waitText(t, ctx, "#nom-lieu", "Médiathèque François Mitterrand")

	click(t, ctx, `#navigation button[data-ecran="appareil"]`)
	waitText(t, ctx, "#info-departements", "78")
	waitText(t, ctx, "#info-synchro", "Signatures vérifiées par le navigateur")
	screenshot(t, ctx, "scanner-appareil")
	checkAccessibility(t, ctx)

	key := eval[string](t, ctx, `JSON.parse(localStorage.getItem("passnum.scanner.device")).key`)
	clickID(t, ctx, "dissocier")
	clickID(t, ctx, "oui-dissocier")
	waitText(t, ctx, "#message-association", "Appareil dissocié")
	if n := eval[int](t, ctx, `Object.keys(localStorage).filter(k => k.startsWith("passnum.scanner.device")).length`); n != 0 {
		t.Error("the device still keeps its key")
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/redemptions", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the unpaired device's key still works: %d", res.StatusCode)
	}
}

// cutProxy stands between the browser and the server: cut, it drops every
// connection without an answer, as a dead network does, whatever
// navigator.onLine says; holding, it answers checks and redemptions 429, as
// the server does to a key or address over a limit.
type cutProxy struct {
	down, hold atomic.Bool
	url        string
	mu         sync.Mutex
	baskets    []string // bodies of the redemptions that reached the server
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	t.Helper()
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &cutProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			panic(http.ErrAbortHandler)
		}
		if p.hold.Load() && r.Method == "POST" && (r.URL.Path == "/api/v1/vouchers/check" || r.URL.Path == "/api/v1/redemptions") {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"rate_limited","message":"Trop de vérifications de chèques en peu de temps. Réessayez dans 30 secondes."}}`)
			return
		}
		if r.Method == "POST" && r.URL.Path == "/api/v1/redemptions" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			p.mu.Lock()
			p.baskets = append(p.baskets, string(body))
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// TestScannerOffline: with the network gone, the page opens from its
// service worker, checks two scanned vouchers on the device and keeps the
// basket; meanwhile another venue spends one of them; when the network
// returns the basket is sent, the conflict is shown, and the other voucher
// is redeemed.
// pairOnline pairs a scanner in a browser profile while the network works,
// and waits until its service worker is installed and it has received the
// keys and the list of spent and voided vouchers.
func pairOnline(t *testing.T, url, profile, code string) context.Context {
	t.Helper()
	ctx := newBrowser(t, chromedp.UserDataDir(profile))
	pairByHand(t, ctx, url, code)
	eval[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`)
	click(t, ctx, `#navigation button[data-ecran="appareil"]`)
	waitText(t, ctx, "#info-synchro", "Clés et liste des chèques utilisés reçues")
	return ctx
}

func TestScannerOffline(t *testing.T) {
	p := newScannerProgramme(t)
	backend := startServer(t, p.env)
	proxy := newCutProxy(t, backend)
	profile := t.TempDir()
	a, b := p.vouchers[0], p.vouchers[1]
	video := writeY4M(t, printedVouchers(t, p, 2), 10) // two seconds on each voucher, in turn

	// First, online and without a camera: pair, receive the keys and the
	// list of spent vouchers, install the service worker.
	{
		ctx := pairOnline(t, proxy.url, profile, p.pairingCode(t, 1))
		// The browser says it is offline: the banner shows at once.
		if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, "#bandeau-hors-ligne", "Hors ligne")
		if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: false, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "offline banner gone after the network returned", func() (bool, string) {
			b := textOf(t, ctx, "#bandeau-hors-ligne")
			return b == "", "the banner says " + b
		})
		chromedp.Cancel(ctx)
	}

	// Then the network dies (the browser still believes it is online), and
	// the page is opened again, with the camera over two vouchers.
	proxy.down.Store(true)
	ctx := newBrowser(t, append(fakeCamera(video), chromedp.UserDataDir(profile))...)
	do(t, ctx, phone(), chromedp.Navigate(proxy.url+"/scanner/"))
	waitText(t, ctx, "#bandeau-hors-ligne", "Hors ligne")
	waitText(t, ctx, "#panier", a.Number, b.Number)
	waitText(t, ctx, "#encaisser", "Encaisser 2 chèques — 20 €")
	waitText(t, ctx, "#panier", "VÉRIFIÉ HORS LIGNE", "Signature vérifiée sur l'appareil")
	screenshot(t, ctx, "scanner-hors-ligne")
	checkAccessibility(t, ctx)
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Enregistré hors ligne — 20 €")
	waitText(t, ctx, "#bandeau-hors-ligne", "1 panier attend d'être envoyé")

	// Meanwhile another venue redeems voucher a, online.
	other := strings.TrimSpace(mustRun(t, p.env, "apikey", "create", "--role", "venue", "--venue", "2", "--name", "tablette"))
	body := fmt.Sprintf(`{"items":[{"code":%q}]}`, a.Code)
	req, _ := http.NewRequest("POST", backend+"/api/v1/redemptions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+other)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "autre-structure-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("the other venue's redemption: %d", res.StatusCode)
	}

	// The network returns: the page notices by itself and sends the basket.
	clickID(t, ctx, "nouveau-panier")
	proxy.down.Store(false)
	// The server's words: the venue will not be paid, and what to tell the person.
	report := waitText(t, ctx, "#rapport-envoi", "pendant que votre appareil était hors ligne", "ne sera pas remboursée",
		"Dites à la personne", "accepté — 10 €")
	if !strings.Contains(report, a.Number) {
		t.Errorf("the conflict does not name voucher %s:\n%s", a.Number, report)
	}
	if textOf(t, ctx, "#bandeau-hors-ligne") != "" {
		t.Error("the offline banner stays once the basket is sent")
	}
	screenshot(t, ctx, "scanner-synchronise")
	checkAccessibility(t, ctx)

	// The basket carried the device's evidence of an offline scan: the
	// cursor of the revocation feed it held when it scanned.
	proxy.mu.Lock()
	for _, body := range proxy.baskets {
		var sent struct {
			RevocationCursor *int64 `json:"revocation_cursor"`
		}
		if err := json.Unmarshal([]byte(body), &sent); err != nil || sent.RevocationCursor == nil {
			t.Errorf("an offline basket was sent without the device's revocation cursor: %s", body)
		}
	}
	proxy.mu.Unlock()
	if s := p.spends(t, a.Serial); !slices.Equal(s, []string{"2/accepted"}) {
		t.Errorf("voucher a spent by %v, want once by venue 2", s)
	}
	if s := p.spends(t, b.Serial); !slices.Equal(s, []string{"1/accepted"}) {
		t.Errorf("voucher b spent by %v, want once by venue 1", s)
	}
	if out := mustRun(t, p.env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Fatal(out)
	}
}

// TestScannerOfflineVoidedVoucher: a voucher voided on its own (its code
// leaked) is refused by a scanner offline, which learnt it from the
// revocation feed; the voucher beside it on the sheet is accepted.
func TestScannerOfflineVoidedVoucher(t *testing.T) {
	p := newScannerProgramme(t)
	a, b := p.vouchers[0], p.vouchers[1]
	mustRun(t, p.env, "void", b.Number, "--reason", "code divulgué")
	proxy := newCutProxy(t, startServer(t, p.env))
	profile := t.TempDir()
	video := writeY4M(t, printedVouchers(t, p, 2), 10)
	chromedp.Cancel(pairOnline(t, proxy.url, profile, p.pairingCode(t, 1)))

	proxy.down.Store(true)
	ctx := newBrowser(t, append(fakeCamera(video), chromedp.UserDataDir(profile))...)
	do(t, ctx, phone(), chromedp.Navigate(proxy.url+"/scanner/"))
	waitText(t, ctx, "#bandeau-hors-ligne", "Hors ligne")
	basket := waitText(t, ctx, "#panier", a.Number, b.Number, "Signature vérifiée sur l'appareil", "Ce chèque a été annulé")
	waitText(t, ctx, "#encaisser", "Encaisser 1 chèque — 10 €")
	if i := strings.Index(basket, b.Number); i < 0 || !strings.Contains(basket[i:], "annulé") {
		t.Fatalf("voucher %s is not the one refused as voided:\n%s", b.Number, basket)
	}
}

// TestScannerHeldBack: when the server holds the device back (429), a
// voucher is checked on the device instead of shown refused, and the basket
// is kept and sent once the server takes requests again, never dropped.
func TestScannerHeldBack(t *testing.T) {
	p := newScannerProgramme(t)
	proxy := newCutProxy(t, startServer(t, p.env))
	v := p.vouchers[0]
	ctx := newBrowser(t)
	pairByHand(t, ctx, proxy.url, p.pairingCode(t, 1))

	proxy.hold.Store(true)
	enter(t, ctx, v)
	waitText(t, ctx, "#panier", v.Number, "Saisi hors ligne")
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Enregistré hors ligne")
	if s := p.spends(t, v.Serial); len(s) != 0 {
		t.Fatalf("redeemed while held back: %v", s)
	}

	proxy.hold.Store(false)
	clickID(t, ctx, "nouveau-panier")
	do(t, ctx, chromedp.Navigate(proxy.url+"/scanner/")) // a page opened with the network sends what waits
	waitText(t, ctx, "#rapport-envoi", "accepté — 10 €")
	if s := p.spends(t, v.Serial); len(s) != 1 {
		t.Fatalf("after the hold: spends %v, want one", s)
	}
}

// TestScannerBasketLimit: the real server's limit on a venue's baskets
// (here 1 at once, then one per 2 s) holds the second basket back; the
// scanner keeps it and sends it once the limit lets it through.
func TestScannerBasketLimit(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, append(slices.Clone(p.env), "PASSNUM_VENUE_BASKET_BURST=1", "PASSNUM_VENUE_BASKET_EVERY=2s"))
	ctx := newBrowser(t)
	pairByHand(t, ctx, base, p.pairingCode(t, 1))
	first, second := p.vouchers[0], p.vouchers[1]
	enter(t, ctx, first)
	waitText(t, ctx, "#panier", first.Number)
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Accepté — 10 €")
	clickID(t, ctx, "nouveau-panier")
	enter(t, ctx, second)
	waitText(t, ctx, "#panier", second.Number)
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Enregistré hors ligne")
	if s := p.spends(t, second.Serial); len(s) != 0 {
		t.Fatalf("redeemed while held back: %v", s)
	}
	// A page opened sends what waits; too early, the server holds it back
	// again and it keeps waiting.
	waitUntil(t, "the held-back basket sent", func() (bool, string) {
		if strings.Contains(textOf(t, ctx, "#rapport-envoi"), "accepté — 10 €") {
			return true, ""
		}
		seen := textOf(t, ctx, "body")
		do(t, ctx, chromedp.Navigate(base+"/scanner/"))
		return false, "the page shows " + seen
	})
	if s := p.spends(t, second.Serial); len(s) != 1 {
		t.Fatalf("after the wait: spends %v, want one", s)
	}
}

// TestScannerOfflineRevokedKeyTyped: offline, a voucher typed by hand whose
// signing key was revoked, be it its batch's key or a replacement's own, is
// refused on the device with the server's message, from the serials the
// keys feed lists for each revoked key; a typed voucher of a retired key is
// still taken, to be confirmed when the network returns.
func TestScannerOfflineRevokedKeyTyped(t *testing.T) {
	p := newScannerProgramme(t) // batch 1, key 1
	year := time.Now().Year()
	mustRun(t, p.env, "keys", "new")
	// The service, not 'reprint --voucher': printing a replacement signed
	// by another key than its batch's is issue #12, item 12.
	svc, _ := issuingOf(t, p.env)
	replaced, err := svc.Replace(t.Context(), p.vouchers[0].Number, "code photographié", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	repl := replaced.New
	if repl.KeyID == nil || *repl.KeyID != 2 {
		t.Fatalf("the replacement: %+v", repl.Voucher)
	}
	mustRun(t, p.env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "2", "--value", "10.00",
		"--valid-until", nextYearEnd(), "--no-activation")
	b := chequierVouchers(t, p.env, fmt.Sprintf("78-%d-000003", year)) // batch 2, key 2
	mustRun(t, p.env, "keys", "new")
	mustRun(t, p.env, "keys", "revoke", "2")
	proxy := newCutProxy(t, startServer(t, p.env))
	profile := t.TempDir()
	{
		ctx := newBrowser(t, chromedp.UserDataDir(profile))
		pairByHand(t, ctx, proxy.url, p.pairingCode(t, 1))
		eval[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`)
		click(t, ctx, `#navigation button[data-ecran="appareil"]`)
		waitText(t, ctx, "#info-synchro", "Clés et liste des chèques utilisés reçues")
		chromedp.Cancel(ctx)
	}

	proxy.down.Store(true)
	ctx := newBrowser(t, chromedp.UserDataDir(profile))
	do(t, ctx, phone(), chromedp.Navigate(proxy.url+"/scanner/"))
	waitText(t, ctx, "#bandeau-hors-ligne", "Hors ligne")
	cameraSettled(t, ctx, "#camera-scanner") // no camera: the typing form opens, the page stops moving
	const revoked = "Ce chèque a été émis avec une clé retirée pour raison de sécurité. Il doit être remplacé par le département."
	for _, v := range []issuing.PrintedVoucher{b[0], repl} {
		enter(t, ctx, v)
		waitText(t, ctx, "#verdict", v.Number, revoked)
		if !eval[bool](t, ctx, `document.getElementById("verdict").classList.contains("refused")`) {
			t.Fatalf("voucher %s of revoked key 2, typed offline, is not shown refused", v.Number)
		}
	}
	enter(t, ctx, p.vouchers[1]) // key 1, retired
	waitText(t, ctx, "#verdict", p.vouchers[1].Number, "Saisi hors ligne")
	if n := eval[int](t, ctx, `document.querySelectorAll("#panier li.refused").length`); n != 2 {
		t.Fatalf("%d vouchers refused in the basket, want 2", n)
	}
}
