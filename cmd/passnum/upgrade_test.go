package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passnum/keys"
	"passnum/ledger"
	"passnum/voucher"
)

// TestUpgradeFromPreviousRelease builds the previous release (the commit in
// testdata/previous-release: the last main that landed before the schema
// changed; update it when a release adds a migration), lets it run a
// programme with redemptions on SQLite and on PostgreSQL, then migrates
// that database with this binary: the audit must pass and the programme
// must still read and redeem, typed vouchers of the keys made before
// per-key verification secrets included.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	commit, err := os.ReadFile("testdata/previous-release")
	if err != nil {
		t.Fatal(err)
	}
	old := buildRelease(t, strings.TrimSpace(string(commit)))
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		runWith(t, old, env, "init")
		runWith(t, old, env, "department", "add", "78", "Yvelines")
		runWith(t, old, env, "venue", "add", "Médiathèque", "--department", "78")
		runWith(t, old, env, "issue", "--department", "78", "--chequiers", "3", "--vouchers", "2", "--valid-until", nextYearEnd())
		runWith(t, old, env, "activate", thisYearsChequier(1))
		runWith(t, old, env, "void", thisYearsChequier(2), "--reason", "perdu")
		runWith(t, old, env, "reprint", "--chequier", thisYearsChequier(3), "--reason", "abîmé", "--out", filepath.Join(dir, "reprint"))
		key := strings.TrimSpace(runWith(t, old, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "tablette"))
		redeem(t, startServerWith(t, old, env), key, voucherCode(t, dir, 1))

		// This binary refuses to serve the old schema, migrates it, and
		// finds the ledger whole.
		if r := run(t, env, "serve", "--listen", "127.0.0.1:0"); r.code == 0 || !strings.Contains(r.stderr, "passnum migrate") {
			t.Fatalf("serve on the old schema: exit %d, %s", r.code, r.stderr)
		}
		mustRun(t, env, "migrate")
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit after the upgrade: %s", out)
		}
		fig := reportOf(t, env)
		if fig.Total.VouchersIssued != 6 || fig.Total.VouchersRedeemed != 1 || fig.Total.VouchersVoided != 2 || !fig.Total.InvariantHolds {
			t.Fatalf("figures after the upgrade: %+v", fig.Total)
		}
		if len(fig.Batches) != 1 || fig.Batches[0].ProgrammeEnd != nextYearEnd() {
			t.Fatalf("an old batch's programme ends with its validity: %+v", fig.Batches)
		}
		// A venue from before SIRETs exists without one until it is given.
		if out := mustRun(t, env, "venue", "list"); !strings.Contains(out, "Médiathèque") {
			t.Fatalf("venue list: %s", out)
		}
		// And the upgraded programme keeps running: the old key redeems,
		// scanned, and typed with the verification codes printed with the
		// installation's secret, which its reprints still show.
		url := startServer(t, env)
		redeem(t, url, key, voucherCode(t, dir, 2))
		mustRun(t, env, "activate", thisYearsChequier(3))
		legacy, err := keys.Store{Dir: filepath.Join(dir, "keys")}.Secret()
		if err != nil {
			t.Fatal(err)
		}
		third := chequierVouchers(t, env, thisYearsChequier(3))
		if third[0].VerificationCode != voucher.VerificationCode(legacy, uint64(third[0].Serial)) {
			t.Fatalf("voucher %s is reprinted with code %s, not the one printed before the upgrade", third[0].Number, third[0].VerificationCode)
		}
		if got := redeemTyped(t, url, key, third[0]); !got.Accepted {
			t.Fatalf("a voucher of the old key typed with its old code: %+v", got)
		}
		// A key made after the upgrade prints codes of its own.
		mustRun(t, env, "keys", "new")
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "2", "--valid-until", nextYearEnd(), "--no-activation")
		fresh := chequierVouchers(t, env, thisYearsChequier(4))
		if fresh[0].VerificationCode == voucher.VerificationCode(legacy, uint64(fresh[0].Serial)) {
			t.Fatalf("key 2's voucher %s is printed with the installation's secret", fresh[0].Number)
		}
		if got := redeemTyped(t, url, key, fresh[0]); !got.Accepted {
			t.Fatalf("key 2's voucher typed: %+v", got)
		}
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit after the new key: %s", out)
		}
	})
}

// buildRelease builds the binary of an earlier commit from this repository.
func buildRelease(t *testing.T, commit string) string {
	t.Helper()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the upgrade test needs the repository's history (git): %v", err)
	}
	src := t.TempDir()
	archive := exec.Command("sh", "-c", "git -C \"$1\" archive \"$2\" | tar -x -C \"$3\"", "sh", strings.TrimSpace(string(root)), commit, src)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("extract release %s (a shallow clone lacks it: fetch the history): %v\n%s", commit, err, out)
	}
	bin := filepath.Join(t.TempDir(), "passnum-previous")
	build := exec.Command("go", "build", "-o", bin, "./cmd/passnum")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build release %s: %v\n%s", commit, err, out)
	}
	return bin
}

func runWith(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// voucherCode re-creates the code of a voucher of the test's batch from
// its signing key: Ed25519 signatures are deterministic, which printing
// relies on too.
func voucherCode(t *testing.T, dataDir string, serial uint64) string {
	t.Helper()
	priv, err := keys.Store{Dir: filepath.Join(dataDir, "keys")}.Load(1)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := voucher.NewSigner(1, priv)
	if err != nil {
		t.Fatal(err)
	}
	until, _ := voucher.ParseDay(nextYearEnd())
	code, err := signer.Sign(voucher.Voucher{Serial: serial, Department: "78", ValueCents: 1000,
		ValidFrom: voucher.Today(time.Now()), ValidUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// redeem redeems one voucher as the venue and expects it accepted.
func redeem(t *testing.T, url, key, code string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"items": []map[string]string{{"code": code}}})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/redemptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "upgrade-test-"+code[len(code)-12:])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct{ Accepted bool }
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || !res.Accepted {
		t.Fatalf("redeem: status %d, %+v %v", resp.StatusCode, res, err)
	}
}

// thisYearsChequier is the number of the n-th chéquier of this year's first
// batch of the Yvelines.
func thisYearsChequier(n int) string { return fmt.Sprintf("78-%d-%06d", time.Now().Year(), n) }

// TestUpgradeFromAccountsRelease upgrades a database of the last release
// with people and stock (testdata/accounts-release: the main that landed
// before four eyes on the département's decisions; update it when a
// release adds a migration): a structure, its stock and its agent,
// invited and accepted with that release, log in and hand over with this
// one, and the audit passes.
func TestUpgradeFromAccountsRelease(t *testing.T) {
	commit, err := os.ReadFile("testdata/accounts-release")
	if err != nil {
		t.Fatal(err)
	}
	old := buildRelease(t, strings.TrimSpace(string(commit)))
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		runWith(t, old, env, "init")
		runWith(t, old, env, "department", "add", "78", "Yvelines")
		runWith(t, old, env, "structure", "add", "--department", "78", "--name", "CCAS de Trappes", "--type", "ccas", "--commune", "Trappes")
		runWith(t, old, env, "issue", "--department", "78", "--chequiers", "3", "--vouchers", "2", "--valid-until", nextYearEnd())
		runWith(t, old, env, "stock", "allocate", "--department", "78", "--to", "2", "--batch", "1", "--count", "2")
		oldURL := startServerWith(t, old, env)
		link := strings.TrimSpace(runWith(t, old, env, "user", "invite", "agent@ccas-trappes.fr", "--role", "structure_agent", "--structure", "2", "--public-url", oldURL))
		_, token, _ := strings.Cut(link, "#")
		if code, body := postJSON(t, oldURL+"/invitation", `{"token":"`+token+`","password":"une longue phrase de passe"}`); code != http.StatusOK {
			t.Fatalf("accept with the old release: %d %s", code, body)
		}

		mustRun(t, env, "migrate")
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit after the upgrade: %s", out)
		}
		url := startServer(t, env)
		res, err := http.Post(url+"/session", "application/json", strings.NewReader(`{"email":"agent@ccas-trappes.fr","password":"une longue phrase de passe"}`))
		if err != nil {
			t.Fatal(err)
		}
		var ses struct {
			CSRF string `json:"csrf_token"`
			Home string `json:"home"`
		}
		json.NewDecoder(res.Body).Decode(&ses)
		res.Body.Close()
		cookies := res.Cookies()
		if res.StatusCode != http.StatusOK || len(cookies) != 1 || ses.Home != "/departement/remise" {
			t.Fatalf("the agent's login after the upgrade: %d %+v", res.StatusCode, ses)
		}
		call := func(method, path, body string) (int, string) {
			req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
			req.AddCookie(cookies[0])
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", ses.CSRF)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			return res.StatusCode, b.String()
		}
		if code, body := call("GET", "/api/v1/stock", ""); code != http.StatusOK || !strings.Contains(body, `"count":2`) {
			t.Fatalf("the agent's stock after the upgrade: %d %s", code, body)
		}
		if code, body := call("POST", "/api/v1/chequiers/activation", `{"number":"`+thisYearsChequier(1)+`"}`); code != http.StatusOK {
			t.Fatalf("the agent's hand-over after the upgrade: %d %s", code, body)
		}
		if code, body := call("POST", "/api/v1/chequiers/activation", `{"number":"`+thisYearsChequier(3)+`"}`); code != http.StatusForbidden || !strings.Contains(body, "not_in_stock") {
			t.Fatalf("another holder's chéquier after the upgrade: %d %s", code, body)
		}
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit after the hand-over: %s", out)
		}
	})
}
