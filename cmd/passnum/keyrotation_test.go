package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"passnum/issuing"
	"passnum/ledger"
)

// TestKeyRotation runs the procedure of docs/operations.md, "Rotating and
// revoking signing keys", on SQLite and PostgreSQL, and checks what an
// operator would: after 'keys new' the old batch keeps verifying and
// redeeming while the new batch carries the new key id; after 'keys revoke'
// the server refuses the old key's codes at once, an offline verifier only
// after its next key sync; what was redeemed stays redeemed, the affected
// vouchers can be replaced or voided, and the ledger verifies.
func TestKeyRotation(t *testing.T) {
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		year := time.Now().Year()
		chequier := func(n int) string { return fmt.Sprintf("78-%d-%06d", year, n) }
		mustRun(t, env, "init")
		mustRun(t, env, "department", "add", "78", "Yvelines")
		// The scanner helpers expect this venue's name.
		mustRun(t, env, "venue", "add", "Médiathèque François Mitterrand", "--department", "78",
			"--siret", "12345678900015", "--iban", "FR7630006000011234567890189")
		venueKey := strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "tablette"))

		// Batch A, signed by key 1: chéquier 1 handed over, chéquier 2 not.
		out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "5",
			"--valid-until", nextYearEnd())
		if !strings.Contains(out, "signed by key 1") {
			t.Fatalf("batch A:\n%s", out)
		}
		mustRun(t, env, "activate", chequier(1))
		a := batchVouchers(t, env) // serials 1-5 in chéquier 1, 6-10 in chéquier 2

		// The server reads the public keys from the database on every
		// request (--key-cache 0, here PASSNUM_KEY_CACHE=0s), so that a
		// revocation made by the CLI, another process, is refused at once
		// rather than up to the default 2 s later; and it writes a
		// checkpoint after every sealing pass (PASSNUM_CHECKPOINT_EVERY=0s),
		// so that the test sees which key it signs them with.
		url := startServer(t, append(slices.Clone(env), "PASSNUM_KEY_CACHE=0s", "PASSNUM_CHECKPOINT_EVERY=0s"))
		var device *rotationDevice
		if d == ledger.SQLite { // the browser tests run on SQLite, as the scanner's own
			device = pairRotationDevice(t, env, url)
		}

		// Routine rotation: key 2 signs from now on, key 1 is retired.
		if out := mustRun(t, env, "keys", "new"); !strings.Contains(out, "signing key 2 is now active") {
			t.Fatalf("keys new: %s", out)
		}
		list := mustRun(t, env, "keys", "list")
		if !regexp.MustCompile(`(?m)^1\s+retired\s`).MatchString(list) || !regexp.MustCompile(`(?m)^2\s+active\s`).MatchString(list) {
			t.Fatalf("keys list after keys new:\n%s", list)
		}
		out = mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "5",
			"--valid-until", nextYearEnd(), "--no-activation")
		if !strings.Contains(out, "signed by key 2") {
			t.Fatalf("batch B:\n%s", out)
		}
		b := chequierVouchers(t, env, chequier(3))

		// The keys as an offline device holds them before the revocation.
		old := filepath.Join(t.TempDir(), "old.json")
		mustRun(t, env, "keys", "export", "--out", old)
		if out := mustRun(t, env, "verify", "--keys", old, b[0].Code); !strings.Contains(out, "VALID voucher") || !strings.Contains(out, "key          2 (active)") {
			t.Fatalf("batch B offline:\n%s", out)
		}
		if out := mustRun(t, env, "verify", "--keys", old, a[1].Code); !strings.Contains(out, "VALID voucher") || !strings.Contains(out, "key          1 (retired)") {
			t.Fatalf("batch A offline after keys new:\n%s", out)
		}
		if v := checkOnline(t, url, venueKey, a[1].Code); !v.Accepted {
			t.Fatalf("batch A online after keys new: %+v", v)
		}
		redeem(t, url, venueKey, a[0].Code) // paid before the revocation

		// Compromise: key 1 is revoked.
		if out := mustRun(t, env, "keys", "revoke", "1"); !strings.Contains(out, "signing key 1 is revoked") {
			t.Fatalf("keys revoke: %s", out)
		}
		if v := checkOnline(t, url, venueKey, a[1].Code); v.Accepted || v.Reason != "revoked_key" {
			t.Fatalf("batch A online after the revocation: %+v, want revoked_key", v)
		}
		// The window: a device that has not synced its keys still accepts.
		if out := mustRun(t, env, "verify", "--keys", old, a[1].Code); !strings.Contains(out, "VALID voucher") {
			t.Fatalf("batch A against the keys of before the revocation:\n%s", out)
		}
		// The next key sync closes it.
		fresh := filepath.Join(t.TempDir(), "new.json")
		resp := fetchKeys(t, url, fresh)
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
			t.Errorf("GET /api/v1/keys: Cache-Control %q; docs/operations.md counts on one minute", cc)
		}
		r := run(t, env, "verify", "--keys", fresh, a[1].Code)
		if r.code != 1 || !strings.Contains(r.stdout, "INVALID (revoked_key)") {
			t.Fatalf("batch A after the key sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if out := mustRun(t, env, "verify", "--keys", fresh, b[1].Code); !strings.Contains(out, "key          2 (active)") {
			t.Fatalf("batch B after the revocation:\n%s", out)
		}
		if device != nil {
			device.refusesOfflineAfterSync(t, a[2].Code)
		}
		if v := checkOnline(t, url, venueKey, b[1].Code); !v.Accepted {
			t.Fatalf("batch B online after the revocation: %+v", v)
		}
		redeem(t, url, venueKey, b[1].Code)

		// What was paid stays paid: voucher a[0] is still redeemed.
		svc, db := issuingOf(t, env)
		if v, err := svc.Voucher(t.Context(), uint64(a[0].Serial)); err != nil || v.Status != ledger.VoucherRedeemed {
			t.Fatalf("voucher redeemed before the revocation: %+v %v", v, err)
		}

		// Reissuing: a chéquier of the revoked key cannot have its vouchers
		// replaced one by one (its printout would need codes key 1 no
		// longer signs); the command says so before writing anything,
		// and voiding the chéquiers is the way.
		r = run(t, env, "reprint", "--voucher", a[3].Number, "--reason", "clé 1 compromise", "--out", t.TempDir())
		if r.code != 1 || !strings.Contains(r.stderr, "clé retirée pour raison de sécurité (la clé 1)") || !strings.Contains(r.stderr, "hint: void it: passnum void") {
			t.Fatalf("reprint --voucher of a revoked key's chéquier: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if v, err := svc.Voucher(t.Context(), uint64(a[3].Serial)); err != nil || v.Status != ledger.VoucherActive || v.ReplacedBy != nil {
			t.Fatalf("a refused replacement changed the voucher: %+v %v", v, err)
		}
		for _, n := range []string{chequier(1), chequier(2)} {
			mustRun(t, env, "void", n, "--reason", "clé 1 compromise")
		}

		// The report: two vouchers paid (one of each batch), the other
		// nine of batch A voided, the invariant holds.
		if f := reportOf(t, env).Total; f.VouchersIssued != 15 || f.VouchersRedeemed != 2 || f.VouchersVoided != 9 || !f.InvariantHolds {
			t.Fatalf("figures after the revocation: %+v", f)
		}
		if v, err := svc.Voucher(t.Context(), uint64(a[0].Serial)); err != nil || v.Status != ledger.VoucherRedeemed {
			t.Fatalf("voucher redeemed before the revocation, after its chéquier was voided: %+v %v", v, err)
		}

		// The ledger: checkpoints signed by key 1 now prove nothing
		// (a warning, docs/ledger.md), later ones by key 2 cover the
		// whole chain. The running server signed none with key 1 once
		// key 2 was active: its sealer reads the active key every pass.
		mustRun(t, env, "audit", "seal")
		out = mustRun(t, env, "audit", "verify")
		m := regexp.MustCompile(`^OK: (\d+) events chained, \d+ checkpoints verified \(signed up to #(\d+)\)`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] || !strings.Contains(out, "is signed by revoked key 1 and proves nothing") || strings.Contains(out, "not yet covered") {
			t.Fatalf("audit verify:\n%s", out)
		}
		var key2 ledger.SigningKey
		if err := db.Read(t.Context()).Where("id = 2").Take(&key2).Error; err != nil {
			t.Fatal(err)
		}
		var cps []ledger.Checkpoint
		if err := db.Read(t.Context()).Order("seq").Find(&cps).Error; err != nil {
			t.Fatal(err)
		}
		for _, cp := range cps {
			if cp.KeyID == 1 && !cp.CreatedAt.Before(key2.CreatedAt) {
				t.Errorf("checkpoint #%d was signed by key 1 at %s, after key 2 replaced it at %s", cp.Seq, cp.CreatedAt, key2.CreatedAt)
			}
		}
	})
}

// checkVerdict is the part of POST /api/v1/vouchers/check the test reads.
type checkVerdict struct {
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason"`
}

// checkOnline asks the server, as the venue, whether a code can be redeemed.
func checkOnline(t *testing.T, url, key, code string) checkVerdict {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"code": code})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/vouchers/check", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v checkVerdict
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("check: status %d, %v", resp.StatusCode, err)
	}
	return v
}

// fetchKeys saves GET /api/v1/keys to a file, as a device syncing its keys.
func fetchKeys(t *testing.T, url, file string) *http.Response {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/keys: %d %v", resp.StatusCode, err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return resp
}

// chequierVouchers re-creates a chéquier's vouchers, as printing does.
func chequierVouchers(t *testing.T, env []string, number string) []issuing.PrintedVoucher {
	t.Helper()
	svc, _ := issuingOf(t, env)
	pc, err := svc.Chequier(t.Context(), number)
	if err != nil {
		t.Fatal(err)
	}
	return pc.Vouchers
}

// rotationDevice is a venue's scanner, paired before the rotation, in a
// browser profile kept between page openings.
type rotationDevice struct {
	profile string
	proxy   *cutProxy
}

func pairRotationDevice(t *testing.T, env []string, url string) *rotationDevice {
	t.Helper()
	dev := &rotationDevice{profile: t.TempDir(), proxy: newCutProxy(t, url)}
	code := strings.TrimSpace(mustRun(t, env, "apikey", "pair", "--venue", "1", "--name", "téléphone de l'accueil"))
	ctx := newBrowser(t, chromedp.UserDataDir(dev.profile))
	pairByHand(t, ctx, dev.proxy.url, code)
	eval[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`)
	chromedp.Cancel(ctx)
	return dev
}

// refusesOfflineAfterSync opens the page with the network (it syncs the
// keys), then without it, with the camera over a code of the revoked key:
// the device refuses it on its own.
func (dev *rotationDevice) refusesOfflineAfterSync(t *testing.T, code string) {
	t.Helper()
	ctx := newBrowser(t, chromedp.UserDataDir(dev.profile))
	do(t, ctx, phone(), chromedp.Navigate(dev.proxy.url+"/scanner/"))
	waitUntil(t, "the scanner's keys synced when opened with the network", func() (bool, string) {
		return eval[bool](t, ctx, `(JSON.parse(localStorage.getItem("passnum.scanner.keys")) || {keys: []}).keys.some(k => k.id === 1 && k.status === "revoked")`),
			"key 1 not yet revoked on the device"
	})
	chromedp.Cancel(ctx)

	dev.proxy.down.Store(true)
	defer dev.proxy.down.Store(false)
	video := writeY4M(t, []image.Image{qrFrame(t, code)}, 2)
	ctx = newBrowser(t, append(fakeCamera(video), chromedp.UserDataDir(dev.profile))...)
	do(t, ctx, phone(), chromedp.Navigate(dev.proxy.url+"/scanner/"))
	waitText(t, ctx, "#bandeau-hors-ligne", "Hors ligne")
	waitText(t, ctx, "#panier", "clé retirée pour raison de sécurité")
	chromedp.Cancel(ctx)
}

// TestKeyRotationNoActiveKey: revoking the only active key leaves nothing
// to sign with; issuing and serving then refuse in one line that says what
// to run, and 'keys new' restores both.
func TestKeyRotationNoActiveKey(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	r := run(t, env, "keys", "retire", "1")
	if r.code != 1 || r.stderr != "passnum: La clé de signature 1 est la clé active : elle part à la retraite quand une nouvelle clé la remplace.\npassnum: hint: run 'passnum keys new', which retires it\n" {
		t.Fatalf("retiring the active key: exit %d, %q", r.code, r.stderr)
	}
	r = run(t, env, "keys", "revoke", "1")
	if r.code != 0 || !strings.Contains(r.stderr, "Il n'y a pas de clé de signature active") {
		t.Fatalf("revoking the only key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	const want = "Il n'y a pas de clé de signature active : rien ne peut être signé tant qu'une nouvelle clé n'est pas créée.\npassnum: hint: make one: passnum keys new"
	r = run(t, env, "issue", "--department", "78", "--chequiers", "1", "--valid-until", nextYearEnd())
	if r.code != 1 || r.stderr != "passnum: "+want+"\n" {
		t.Fatalf("issue without an active key: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if stderr := serveRefuses(t, env); stderr != "passnum: "+want+"\n" {
		t.Fatalf("serve without an active key: %q", stderr)
	}
	mustRun(t, env, "keys", "new")
	if out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--valid-until", nextYearEnd()); !strings.Contains(out, "signed by key 2") {
		t.Fatalf("issue after keys new: %s", out)
	}
	if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Fatal(out)
	}
}

// TestKeyRotationKeyFilePermissions: a private key file others can read is
// refused by serve at start, before it listens, be it the active key's or a
// retired one's (what a retired key signs still verifies), and by issue.
func TestKeyRotationKeyFilePermissions(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PASSNUM_DATA_DIR=" + dir}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "keys", "new")
	for _, id := range []int{2, 1} { // the active key, then the retired one
		path := filepath.Join(dir, "keys", fmt.Sprintf("signing-%d.pem", id))
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s is readable by others (mode 0644): run 'chmod 600 %s'", path, path)
		if stderr := serveRefuses(t, env); !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("serve with key %d's file readable by others: %q", id, stderr)
		}
		if id == 2 {
			r := run(t, env, "issue", "--department", "78", "--chequiers", "1", "--valid-until", nextYearEnd())
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Fatalf("issue with the active key's file readable by others: exit %d, %q", r.code, r.stderr)
			}
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	url := startServer(t, env)
	if resp, err := http.Get(url + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("serve after chmod 600: %v %v", resp, err)
	}
}

// serveRefuses runs 'passnum serve', which must exit with status 1 before
// it listens, and returns its standard error. A server that starts instead
// is stopped after ten seconds and fails the test.
func serveRefuses(t *testing.T, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if ctx.Err() != nil || !errors.As(err, &ee) || ee.ExitCode() != 1 || strings.Contains(stdout.String(), "listening") {
		t.Fatalf("serve did not refuse to start: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	return stderr.String()
}
