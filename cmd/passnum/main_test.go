package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"passnum/issuing"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/migrations"
	"passnum/voucher"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "passnum-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "passnum")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func run(t testing.TB, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustRun runs a command that must succeed.
func mustRun(t testing.TB, env []string, args ...string) string {
	t.Helper()
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("passnum %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

var codeLine = regexp.MustCompile(`verify --keys (\S+) ([A-Z2-7]+)`)

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out := mustRun(t, nil, "demo", "--dir", dir)
	for _, want := range []string{"département 78 Yvelines", "batch 1: 500 chéquiers", "refused: bad_signature",
		"voided", "OK: ", "the tables agree with the events"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	m := codeLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo shows no code to verify:\n%s", out)
	}
	keysFile, code := m[1], m[2]

	t.Run("FilesListed", func(t *testing.T) {
		listed := demoFiles(t, out)
		var pdfs int
		for _, f := range listed {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("listed but not written: %v", err)
			}
			if strings.HasSuffix(f, ".pdf") {
				pdfs++
			}
		}
		// Every file the demo wrote is in the list: the five PDFs of the
		// print shop as much as the others.
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			if !slices.Contains(listed, rel) && !strings.HasPrefix(rel, "passnum.db-") { // SQLite's WAL files
				t.Errorf("written but not listed: %s", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if pdfs != 5+3+1 { // print shop, venue statements, programme report
			t.Errorf("%d PDF files listed", pdfs)
		}
	})
	t.Run("HintsRun", func(t *testing.T) {
		// The commands to try name the program as it was started, and run.
		hints := regexp.MustCompile(`(?m)^     (\S+) (.*)$`).FindAllStringSubmatch(out[strings.Index(out, "\n   try\n"):], -1)
		if len(hints) != 4 {
			t.Fatalf("%d commands to try:\n%s", len(hints), out)
		}
		for _, h := range hints {
			if h[1] != binary {
				t.Errorf("a hint runs %s, not the binary the demo was started as (%s)", h[1], binary)
			}
			mustRun(t, nil, strings.Fields(h[2])...)
		}
	})
	t.Run("VerifyOffline", func(t *testing.T) {
		// No data folder at all: only the exported public keys.
		elsewhere := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
		out := mustRun(t, elsewhere, "verify", "--keys", keysFile, code)
		if !strings.Contains(out, "VALID voucher") || !strings.Contains(out, "département  78") || !strings.Contains(out, "10.00 EUR") {
			t.Fatalf("verify output:\n%s", out)
		}
		tampered := []byte(code)
		tampered[30] = map[bool]byte{true: 'C', false: 'D'}[tampered[30] == 'D']
		r := run(t, elsewhere, "verify", "--keys", keysFile, string(tampered))
		if r.code != 1 || !strings.Contains(r.stdout, "INVALID (bad_signature)") {
			t.Fatalf("tampered code: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r = run(t, elsewhere, "verify", "--keys", keysFile, "NOT-A-CODE")
		if r.code != 1 || !strings.Contains(r.stdout, "INVALID (too_short)") {
			t.Fatalf("garbage: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("AuditAgain", func(t *testing.T) {
		out := mustRun(t, nil, "--data-dir", dir, "audit", "verify", "--keys", keysFile)
		if !strings.HasPrefix(out, "OK: ") {
			t.Fatalf("audit verify:\n%s", out)
		}
	})
}

// demoFiles are the files the demo's summary lists, relative to its folder.
func demoFiles(t *testing.T, out string) []string {
	t.Helper()
	i := strings.Index(out, "the demo wrote in ")
	j := strings.Index(out, "\n   try\n")
	if i < 0 || j < i {
		t.Fatalf("the demo lists no files:\n%s", out)
	}
	var files []string
	for _, line := range strings.Split(out[i:j], "\n")[1:] {
		files = append(files, strings.Fields(line)[0])
	}
	return files
}

// TestSession runs the CLI session of the README on SQLite and PostgreSQL,
// then tampers with the database and expects audit verify to say where.
func TestSession(t *testing.T) {
	for _, d := range []ledger.Dialect{ledger.SQLite, ledger.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + ledgertest.URL(t, d)}
			mustRun(t, env, "init")
			mustRun(t, env, "init") // safe to run again
			mustRun(t, env, "department", "add", "78", "Yvelines")
			out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "50", "--vouchers", "10",
				"--value", "10.00", "--valid-until", nextYearEnd())
			if !strings.Contains(out, "50 chéquiers of 10 vouchers of 10.00 EUR") {
				t.Fatalf("issue output:\n%s", out)
			}
			mustRun(t, env, "activate", firstChequier(t, out), "--beneficiary-ref", "CCAS-17-0193")
			r := run(t, env, "activate", firstChequier(t, out))
			if r.code != 1 || !strings.Contains(r.stderr, "a déjà été remis") || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("second activation: exit %d, stderr %q", r.code, r.stderr)
			}
			second := strings.Replace(firstChequier(t, out), "000001", "000002", 1)
			mustRun(t, env, "void", second, "--reason", "perdu")
			r = run(t, env, "activate", second)
			if r.code != 1 || !strings.Contains(r.stderr, "a été annulé") {
				t.Fatalf("activating a voided chéquier: exit %d, stderr %q", r.code, r.stderr)
			}
			r = run(t, env, "issue", "--department", "78", "--chequiers", "5", "--value", "ten", "--valid-until", nextYearEnd())
			if r.code != 1 || !strings.Contains(r.stderr, "not an amount in euros") {
				t.Fatalf("bad value: exit %d, stderr %q", r.code, r.stderr)
			}
			if out := mustRun(t, env, "audit", "verify"); !strings.Contains(out, "500 vouchers") {
				t.Fatalf("audit verify:\n%s", out)
			}
			db, err := ledger.Open(t.Context(), strings.TrimPrefix(env[1], "PASSNUM_DATABASE_URL="))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Read(t.Context()).Exec(`UPDATE vouchers SET status = 'active' WHERE serial = 12`).Error; err != nil {
				t.Fatal(err)
			}
			r = run(t, env, "audit", "verify")
			if r.code != 1 || !strings.Contains(r.stdout, "FAILED: voucher 0000 0000 12") {
				t.Fatalf("audit after tampering: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

var chequierNumber = regexp.MustCompile(`\d{2,3}-\d{4}-\d{6}`)

func firstChequier(t *testing.T, issueOutput string) string {
	t.Helper()
	n := chequierNumber.FindString(issueOutput)
	if n == "" {
		t.Fatalf("no chéquier number in:\n%s", issueOutput)
	}
	return n
}

func TestErrorsAreOneLine(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	r := run(t, env, "department", "list")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "passnum init") {
		t.Fatalf("on a missing database: exit %d, stderr %q", r.code, r.stderr)
	}
	mustRun(t, env, "init")
	r = run(t, env, "department", "add", "7", "Nowhere")
	if r.code != 1 || !strings.Contains(r.stderr, "n'est pas un code de département") {
		t.Fatalf("bad département: exit %d, stderr %q", r.code, r.stderr)
	}
	mustRun(t, env, "department", "add", "78", "Yvelines")
	for _, m := range []string{"0000-01", "2150-01"} {
		r = run(t, env, "settlement", "close", "--department", "78", "--month", m)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "« "+m+" » n'est pas un mois possible") {
			t.Fatalf("month %s: exit %d, stderr %q", m, r.code, r.stderr)
		}
	}
	if out := mustRun(t, env, "settlement", "list"); strings.Contains(out, "1970") {
		t.Fatalf("a refused month was closed:\n%s", out)
	}
	r = run(t, append(env, "PASSNUM_TRUSTED_PROXIES=10.0.0.1, 10.0.0.0/33"), "serve", "--listen", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, `"10.0.0.0/33" is neither an IP address nor a CIDR block`) {
		t.Fatalf("bad trusted proxy: exit %d, stderr %q", r.code, r.stderr)
	}
}

// nextYearEnd is a validity date that stays valid whenever the test runs.
func nextYearEnd() string { return fmt.Sprintf("%d-12-31", time.Now().Year()+1) }

func TestAPIKeyCommands(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "venue", "add", "Médiathèque", "--department", "78", "--siret", "73282932000074", "--iban", "FR7630006000011234567890189")
	r := run(t, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "tablette")
	secret := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(secret, "pn_") || strings.Count(secret, "\n") != 0 || !strings.Contains(r.stderr, "shown this once") {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	prefix := secret[:strings.LastIndex(secret, "_")]
	list := mustRun(t, env, "apikey", "list")
	if !strings.Contains(list, prefix) || strings.Contains(list, secret) || !strings.Contains(list, "venue 1") {
		t.Fatalf("list:\n%s", list)
	}
	if r := run(t, env, "apikey", "create", "--role", "venue", "--venue", "x", "--name", "n"); r.code != 1 || !strings.Contains(r.stderr, "not a venue id") {
		t.Fatalf("bad venue: %q", r.stderr)
	}
	r = run(t, env, "apikey", "pair", "--venue", "1", "--name", "téléphone")
	if code := strings.TrimSpace(r.stdout); r.code != 0 || len(code) != 151 || !strings.Contains(r.stderr, "valid until") {
		t.Fatalf("pair: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if out := mustRun(t, env, "verify", strings.TrimSpace(r.stdout)); !strings.Contains(out, "VALID device pairing code") {
		t.Fatalf("verify of a pairing code: %s", out)
	}
	mustRun(t, env, "apikey", "revoke", prefix)
	if list := mustRun(t, env, "apikey", "list"); !strings.Contains(list, "revoked") {
		t.Fatalf("list after revoke:\n%s", list)
	}
	// The service's French message, then the command line's hint.
	if r := run(t, env, "apikey", "revoke", "pn_nothing"); r.code != 1 ||
		r.stderr != "passnum: Il n'y a pas de clé d'accès pn_nothing.\npassnum: hint: see the keys with 'passnum apikey list'\n" {
		t.Fatalf("revoke of an unknown key: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, env, "apikey", "create", "--role", "department", "--name", "CCAS"); r.code != 1 ||
		r.stderr != "passnum: Une clé de département se rattache à un département, par son code (par exemple 78), et à aucun lieu.\n" {
		t.Fatalf("department key without a département: exit %d, stderr %q", r.code, r.stderr)
	}
	if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Fatal(out)
	}
}

// startServer runs `passnum serve` on a free port and returns its URL; the
// process is stopped (SIGTERM, graceful) when the test ends.
func startServer(t testing.TB, env []string) string {
	t.Helper()
	return startServerWith(t, binary, env)
}

// startServerWith starts the serve command of a given passnum binary.
func startServerWith(t testing.TB, bin string, env []string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--seal-every", "50ms")
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr := startLong(t, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("serve said %q (%v)\n%s", line, err, stderr.String())
	}
	return url
}

// startLong starts a command that runs until the test ends, then is
// stopped with SIGTERM and must exit cleanly.
func startLong(t testing.TB, cmd *exec.Cmd) (io.Reader, *bytes.Buffer) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s did not stop cleanly: %v\n%s", strings.Join(cmd.Args[1:], " "), err, stderr.String())
		}
	})
	return stdout, &stderr
}

// TestServeReplicas runs two server processes on one PostgreSQL database and
// sends 64 concurrent redemptions of one voucher, alternating between them:
// exactly one is accepted, and the ledger they share verifies.
func TestServeReplicas(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + ledgertest.URL(t, ledger.Postgres)}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "venue", "add", "Médiathèque", "--department", "78", "--siret", "73282932000074", "--iban", "FR7630006000011234567890189")
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "5", "--valid-until", nextYearEnd(), "--no-activation")
	key := strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "tablette"))
	ks := keySetOf(t, mustRun(t, env, "keys", "export"))
	code := firstCode(t, env, ks)
	urls := []string{startServer(t, env), startServer(t, env)}
	for _, u := range urls {
		resp, err := http.Get(u + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s not ready: %v %v", u, resp, err)
		}
		resp.Body.Close()
	}
	const n = 64
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"items":[{"code":%q}]}`, code)
			req, _ := http.NewRequest("POST", urls[i%2]+"/api/v1/redemptions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("replica-test-%03d", i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[422] != n-1 {
		t.Fatalf("statuses %v: want one 201 and %d × 422", count, n-1)
	}
	// The ledger the two processes share verifies.
	if out := mustRun(t, env, "audit", "verify"); !strings.Contains(out, "OK") {
		t.Fatal(out)
	}
}

func keySetOf(t testing.TB, exported string) *voucher.KeySet {
	ks := voucher.NewKeySet()
	if err := ks.UnmarshalJSON([]byte(exported)); err != nil {
		t.Fatal(err)
	}
	return ks
}

// issuingOf opens, in this process, the programme a test's environment
// names (PASSNUM_DATA_DIR, PASSNUM_DATABASE_URL), for what the tests need
// that no command prints: voucher codes, re-created as printing does.
func issuingOf(t testing.TB, env []string) (*issuing.Service, *ledger.DB) {
	t.Helper()
	a := &app{now: time.Now, out: io.Discard, errOut: io.Discard}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PASSNUM_DATA_DIR":
			a.cfg.DataDir = v
		case "PASSNUM_DATABASE_URL":
			a.cfg.DatabaseURL = v
		}
	}
	if a.cfg.DatabaseURL == "" {
		a.cfg.DatabaseURL = filepath.Join(a.cfg.DataDir, "passnum.db")
	}
	db, err := a.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return a.issuing(db), db
}

// batchVouchers re-creates every voucher of the first batch, in order.
func batchVouchers(t testing.TB, env []string) []issuing.PrintedVoucher {
	t.Helper()
	svc, db := issuingOf(t, env)
	var batch ledger.Batch
	if err := db.Read(context.Background()).Order("id").Take(&batch).Error; err != nil {
		t.Fatal(err)
	}
	var vs []issuing.PrintedVoucher
	for pc, err := range svc.BatchChequiers(context.Background(), batch) {
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, pc.Vouchers...)
	}
	return vs
}

// firstCode re-creates the first voucher's code of the data dir's first
// batch and checks it against the exported keys.
func firstCode(t *testing.T, env []string, ks *voucher.KeySet) string {
	t.Helper()
	code := batchVouchers(t, env)[0].Code
	if _, err := ks.Verify(code); err != nil {
		t.Fatal(err)
	}
	return code
}

// TestPrintAndReprint prints a batch twice (byte-identical files), reprints
// a damaged chéquier, and replaces a leaked voucher, whose old code then
// fails verify against the ledger.
func TestPrintAndReprint(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "3", "--vouchers", "5", "--valid-until", nextYearEnd())
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		out := mustRun(t, env, "print", "--batch", "1", "--out", d, "--per-file", "2")
		if !strings.Contains(out, "3 chéquiers, 15 vouchers in 2 files") {
			t.Fatalf("print: %s", out)
		}
	}
	for _, name := range []string{"batch-1-0001.pdf", "batch-1-0002.pdf", "manifest.json"} {
		a, errA := os.ReadFile(filepath.Join(dirs[0], name))
		b, errB := os.ReadFile(filepath.Join(dirs[1], name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between two prints (%v %v)", name, errA, errB)
		}
	}
	if r := run(t, env, "print", "--batch", "9", "--out", dirs[0]); r.code != 1 || !strings.Contains(r.stderr, "Le lot 9 est introuvable") {
		t.Fatalf("unknown batch: %q", r.stderr)
	}
	if r := run(t, env, "print", "--batch", "1", "--out", dirs[0], "--layout", "poster"); r.code != 1 || !strings.Contains(r.stderr, "s'impriment en a4") {
		t.Fatalf("bad layout: %q", r.stderr)
	}

	year := fmt.Sprint(time.Now().Year())
	out := mustRun(t, env, "reprint", "--chequier", "78-"+year+"-000002", "--reason", "abîmé", "--out", dirs[0])
	if !strings.Contains(out, "reprint-78-"+year+"-000002.pdf") {
		t.Fatalf("reprint: %s", out)
	}
	ks := keySetOf(t, mustRun(t, env, "keys", "export"))
	old := firstCode(t, env, ks)
	mustRun(t, env, "activate", "78-"+year+"-000001")
	if r := run(t, env, "reprint", "--chequier", "78-"+year+"-000001", "--reason", "abîmé", "--out", dirs[0]); r.code != 1 ||
		!strings.Contains(r.stderr, "a été remis le") || !strings.Contains(r.stderr, "hint: replace a damaged voucher: passnum reprint --voucher") {
		t.Fatalf("reprint of a handed-over chéquier: %q", r.stderr)
	}
	if out := mustRun(t, env, "verify", old); !strings.Contains(out, "active: can be redeemed") {
		t.Fatalf("verify before replacement: %s", out)
	}
	out = mustRun(t, env, "reprint", "--voucher", voucherNumber(1), "--reason", "code photographié", "--out", dirs[0])
	if !strings.Contains(out, "replaces it") || !strings.Contains(out, "replacement-") {
		t.Fatalf("replace: %s", out)
	}
	r := run(t, env, "verify", old)
	if r.code != 1 || !strings.Contains(r.stdout, "VOID: replaced by voucher") {
		t.Fatalf("the replaced code still verifies against the ledger: exit %d\n%s", r.code, r.stdout)
	}
	if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Fatal(out)
	}
}

// TestServeRefusesOldSchema: a server never starts on a database whose
// schema is behind its migrations.
func TestServeRefusesOldSchema(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PASSNUM_DATA_DIR=" + dir}
	mustRun(t, env, "init")
	// Undo the last migration, as a database restored from before an
	// upgrade would be.
	sqlDB, err := sql.Open("sqlite", filepath.Join(dir, "passnum.db"))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := migrations.FS("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, sqlDB, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	sqlDB.Close()
	r := run(t, env, "serve", "--listen", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "run 'passnum migrate'") {
		t.Fatalf("serve on an old schema: exit %d, stderr %q", r.code, r.stderr)
	}
	mustRun(t, env, "migrate")
	url := startServer(t, env)
	resp, err := http.Get(url + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after migrate: %v %v", resp, err)
	}
	resp.Body.Close()
}

// programmeReport is what the tests read of 'passnum report --format json'.
type programmeReport struct {
	Total struct {
		VouchersIssued   int64 `json:"vouchers_issued"`
		VouchersRedeemed int64 `json:"vouchers_redeemed"`
		VouchersVoided   int64 `json:"vouchers_voided"`
		InvariantHolds   bool  `json:"invariant_holds"`
	} `json:"total"`
	Batches []struct {
		ProgrammeEnd string `json:"programme_end"`
	} `json:"batches"`
}

func reportOf(t testing.TB, env []string) programmeReport {
	t.Helper()
	var r programmeReport
	if err := json.Unmarshal([]byte(mustRun(t, env, "report", "--format", "json")), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// eachDialect runs f on SQLite, the database file in the data folder dir as
// a user has it, and on a fresh PostgreSQL database; env is what passnum
// needs to find them.
func eachDialect(t *testing.T, f func(t *testing.T, d ledger.Dialect, dir string, env []string)) {
	for _, d := range []ledger.Dialect{ledger.SQLite, ledger.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PASSNUM_DATA_DIR=" + dir}
			if d == ledger.Postgres {
				env = append(env, "PASSNUM_DATABASE_URL="+ledgertest.URL(t, d))
			}
			f(t, d, dir, env)
		})
	}
}

// TestPrintedFilesArePrivate: every file that holds valid codes (the batch's
// PDF files, a reprinted chéquier, a replacement voucher) and the manifest
// beside them is readable by its owner only: they are bearer instruments.
func TestPrintedFilesArePrivate(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "2", "--valid-until", nextYearEnd())
	out := t.TempDir()
	mustRun(t, env, "print", "--batch", "1", "--out", out, "--per-file", "1")
	mustRun(t, env, "reprint", "--chequier", fmt.Sprintf("78-%d-000002", time.Now().Year()), "--reason", "abîmé", "--out", out)
	mustRun(t, env, "reprint", "--voucher", voucherNumber(1), "--reason", "code photographié", "--out", out)
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 { // two parts, the manifest, the reprint, the replacement
		t.Fatalf("%d files in the print folder: %v", len(entries), entries)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s is %v, want -rw-------", e.Name(), mode)
		}
	}
}

// TestConfigMasksSecrets: `passnum config` never prints a database password,
// whichever way the URL gives it.
func TestConfigMasksSecrets(t *testing.T) {
	for _, url := range []string{
		"postgres://passnum:s3cr3t-pw@db.example:5432/passnum?sslmode=require",
		"postgres://passnum@db.example/passnum?sslmode=require&password=s3cr3t-pw",
		"postgres://passnum@db1.example,db2.example/passnum?Password=s3cr3t-pw&target_session_attrs=read-write",
		"host=db.example user=passnum password=s3cr3t-pw dbname=passnum",
		"host=db.example user=passnum password = 's3cr3t-pw with spaces' dbname=passnum",
	} {
		env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + url,
			"PASSNUM_VERIFICATION_SECRET=c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
		out := mustRun(t, env, "config")
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "c2VjcmV0") {
			t.Errorf("config shows a secret for %s:\n%s", url, out)
		}
		if !strings.Contains(out, "db") || !strings.Contains(out, "****") {
			t.Errorf("config hides the whole URL %s:\n%s", url, out)
		}
	}
}

// TestDemoServe runs what `make run` runs, `demo --serve`, and does what its
// last lines tell a newcomer to do: the printed curl line redeems a voucher.
func TestDemoServe(t *testing.T) {
	stdout, stderr := startLong(t, exec.Command(binary, "demo", "--serve", "--listen", "127.0.0.1:0", "--dir", filepath.Join(t.TempDir(), "demo")))
	var printed strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "  -d '") {
		printed.WriteString(lines.Text() + "\n")
	}
	printed.WriteString(lines.Text() + "\n")
	go io.Copy(io.Discard, stdout)
	curl := regexp.MustCompile(`curl -s -X POST (\S+) \\\n\s+-H 'Authorization: Bearer (\S+)' \\\n\s+-H 'Idempotency-Key: (\S+)' .*\n\s+-d '(.*)'`).
		FindStringSubmatch(printed.String())
	if curl == nil {
		t.Fatalf("demo --serve printed no curl line to try:\n%s\n%s", printed.String(), stderr.String())
	}
	req, err := http.NewRequest("POST", curl[1], strings.NewReader(curl[4]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+curl[2])
	req.Header.Set("Idempotency-Key", curl[3])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"accepted":true`) {
		t.Fatalf("the demo's curl line: %d %s", res.StatusCode, body)
	}

	// Each staff key printed opens the staff pages, where it lands.
	origin := strings.TrimSuffix(curl[1], "/api/v1/redemptions")
	for label, home := range map[string]string{"admin (every département)": "/departement/", "département 78": "/departement/", "auditor": "/auditeur/"} {
		key := regexp.MustCompile(`(?m)^   ` + regexp.QuoteMeta(label) + ` key +(\S+)$`).FindStringSubmatch(printed.String())
		if key == nil {
			t.Errorf("demo --serve printed no %s key:\n%s", label, printed.String())
			continue
		}
		res, err := http.Post(origin+"/session", "application/json", strings.NewReader(`{"key":"`+key[1]+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"home":"`+home+`"`) {
			t.Errorf("logging in with the %s key: %d %s", label, res.StatusCode, body)
		}
	}
	// The people printed log in with the printed password: the agent at
	// its hand-over page, the manager at its second factor first.
	password := regexp.MustCompile(`password "([^"]+)"`).FindStringSubmatch(printed.String())
	if password == nil {
		t.Fatalf("demo --serve printed no password for its people:\n%s", printed.String())
	}
	for email, home := range map[string]string{"agent@ccas-trappes.example": "/departement/remise", "responsable@yvelines.example": "/compte"} {
		if !strings.Contains(printed.String(), email) {
			t.Errorf("demo --serve does not print %s", email)
		}
		login, _ := json.Marshal(map[string]string{"email": email, "password": password[1]})
		res, err := http.Post(origin+"/session", "application/json", bytes.NewReader(login))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"home":"`+home+`"`) {
			t.Errorf("logging in as %s: %d %s", email, res.StatusCode, body)
		}
	}
}
