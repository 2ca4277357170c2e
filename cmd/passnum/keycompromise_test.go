package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"passnum/issuing"
	"passnum/keys"
	"passnum/ledger"
	"passnum/voucher"
)

// TestKeyCompromise runs the procedure of docs/operations.md, "When the
// keys folder leaked", with the real commands on SQLite and PostgreSQL: an
// attacker copies the keys folder; the operator makes a new key, revokes
// the old one, voids its chéquiers and issues a new batch. Then (a) the old
// key's vouchers are refused online, scanned and typed; (b) no secret the
// attacker can take from the copy gives the new batch's printed
// verification codes; (c) the new batch redeems by typed entry with the
// codes printed in its PDF.
func TestKeyCompromise(t *testing.T) {
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		year := time.Now().Year()
		venueKey := venueReady(t, env)
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "5",
			"--valid-until", nextYearEnd(), "--no-activation")
		old := batchVouchers(t, env) // key 1

		// The attacker's copy of the keys folder, taken before the procedure.
		stolen := t.TempDir()
		if out, err := exec.Command("cp", "-a", filepath.Join(dir, "keys")+"/.", stolen).CombinedOutput(); err != nil {
			t.Fatalf("copy the keys folder: %v\n%s", err, out)
		}
		url := startServer(t, append(slices.Clone(env), "PASSNUM_KEY_CACHE=0s"))
		if v := checkTyped(t, url, venueKey, old[0]); !v.Accepted {
			t.Fatalf("key 1's voucher typed before the procedure: %+v", v)
		}

		// The procedure.
		if out := mustRun(t, env, "keys", "new"); !strings.Contains(out, "signing key 2 is now active") {
			t.Fatalf("keys new: %s", out)
		}
		if out := mustRun(t, env, "keys", "revoke", "1"); !strings.Contains(out, "signing key 1 is revoked") {
			t.Fatalf("keys revoke: %s", out)
		}

		// (a) Key 1's vouchers pay nothing, however they are entered.
		for _, v := range old[1:3] {
			if got := checkOnline(t, url, venueKey, v.Code); got.Accepted || got.Reason != "revoked_key" {
				t.Fatalf("key 1's voucher %s scanned: %+v, want revoked_key", v.Number, got)
			}
			if got := checkTyped(t, url, venueKey, v); got.Accepted || got.Reason != "revoked_key" {
				t.Fatalf("key 1's voucher %s typed: %+v, want revoked_key", v.Number, got)
			}
		}
		if got := redeemTyped(t, url, venueKey, old[3]); got.Accepted || got.Items[0].Reason != "revoked_key" {
			t.Fatalf("a basket of key 1's voucher typed: %+v", got)
		}
		for n := 1; n <= 2; n++ {
			mustRun(t, env, "void", fmt.Sprintf("78-%d-%06d", year, n), "--reason", "clé 1 compromise")
		}

		// The new batch, printed.
		out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "5",
			"--valid-until", nextYearEnd(), "--no-activation")
		if !strings.Contains(out, "signed by key 2") {
			t.Fatalf("the new batch:\n%s", out)
		}
		fresh := chequierVouchers(t, env, fmt.Sprintf("78-%d-000003", year))
		pdfDir := t.TempDir()
		mustRun(t, env, "print", "--batch", "2", "--out", pdfDir)
		text, err := exec.Command("pdftotext", "-layout", filepath.Join(pdfDir, "batch-2-0001.pdf"), "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, text)
		}
		for _, v := range fresh {
			if !bytes.Contains(text, []byte(v.Number)) || !bytes.Contains(text, []byte(v.VerificationCode)) {
				t.Fatalf("the PDF does not show voucher %s with its code %s", v.Number, v.VerificationCode)
			}
		}

		// (b) Nothing in the copy computes those codes.
		candidates := attackerSecrets(t, stolen)
		for _, v := range fresh {
			for name, secret := range candidates {
				if voucher.VerificationCode(secret, uint64(v.Serial)) == v.VerificationCode {
					t.Fatalf("the copied %s gives voucher %s's printed code", name, v.Number)
				}
			}
		}
		// The copy did compute key 1's codes: the test would see a leak.
		found := false
		for _, secret := range candidates {
			found = found || voucher.VerificationCode(secret, uint64(old[0].Serial)) == old[0].VerificationCode
		}
		if !found {
			t.Fatalf("none of %d secrets of the copy gives key 1's printed codes: the attacker's view is incomplete", len(candidates))
		}

		// (c) The new batch redeems typed, with what is printed.
		for _, v := range fresh[:2] {
			if got := redeemTyped(t, url, venueKey, v); !got.Accepted {
				t.Fatalf("new voucher %s typed: %+v", v.Number, got)
			}
		}
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit verify:\n%s", out)
		}
	})
}

// venueReady makes a programme in env's data folder: the Yvelines and
// venue 1 labelled for them, with its API key, which it returns.
func venueReady(t *testing.T, env []string) string {
	t.Helper()
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "venue", "add", "Médiathèque François Mitterrand", "--department", "78",
		"--siret", "12345678900015", "--iban", "FR7630006000011234567890189")
	return strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "tablette"))
}

// attackerSecrets is every secret the copied keys folder gives: each
// file's bytes and their base64 decoding, and for each private key its
// seed, the key itself and the verification secret derived from it as
// docs/voucher-format.md publishes.
func attackerSecrets(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil {
			out[e.Name()+" (base64)"] = b
		}
		var id byte
		if _, err := fmt.Sscanf(e.Name(), "signing-%d.pem", &id); err != nil {
			continue
		}
		priv, err := keys.Store{Dir: dir}.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := voucher.NewSigner(id, priv)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()+" seed"] = priv.Seed()
		out[e.Name()+" key"] = []byte(priv)
		out[e.Name()+" public key"] = []byte(priv.Public().(ed25519.PublicKey))
		out[e.Name()+" derived secret"] = signer.VerificationSecret()
	}
	if len(out) == 0 {
		t.Fatal("the copied keys folder is empty")
	}
	return out
}

// checkTyped asks the server, as the venue, about a voucher typed by hand.
func checkTyped(t *testing.T, url, key string, v issuing.PrintedVoucher) checkVerdict {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"number": v.Number, "verification_code": v.VerificationCode})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/vouchers/check", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got checkVerdict
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("check: status %d, %v", resp.StatusCode, err)
	}
	return got
}

// basketVerdict is the part of a redemption answer the tests read.
type basketVerdict struct {
	Accepted bool           `json:"accepted"`
	Items    []checkVerdict `json:"items"`
	Receipt  string         `json:"receipt"`
}

// redeemTyped sends a basket of one voucher typed by hand, as the venue.
func redeemTyped(t *testing.T, url, key string, v issuing.PrintedVoucher) basketVerdict {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"items": []map[string]string{{"number": v.Number, "verification_code": v.VerificationCode}}})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/redemptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("typed-%d-%d", v.Serial, time.Now().UnixNano()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Accepted, the basket is the body; refused (422), its "result".
	var answer struct {
		basketVerdict
		Result *basketVerdict `json:"result"`
	}
	err = json.NewDecoder(resp.Body).Decode(&answer)
	got := answer.basketVerdict
	if resp.StatusCode == http.StatusUnprocessableEntity && answer.Result != nil {
		got = *answer.Result
	}
	if err != nil || len(got.Items) != 1 {
		t.Fatalf("redeem: status %d, %+v %v", resp.StatusCode, got, err)
	}
	return got
}

// TestServeKeySecrets: typed vouchers need the verification secret of
// their key, so serve refuses to start without the file of a key that is
// not revoked, a retired one's too; a key given by PASSNUM_SIGNING_KEY
// brings its secret, and both keys' vouchers then redeem typed.
func TestServeKeySecrets(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PASSNUM_DATA_DIR=" + dir}
	year := time.Now().Year()
	venueKey := venueReady(t, env)
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "2", "--valid-until", nextYearEnd(), "--no-activation")
	mustRun(t, env, "keys", "new")
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "2", "--valid-until", nextYearEnd(), "--no-activation")
	one := chequierVouchers(t, env, fmt.Sprintf("78-%d-000001", year))
	two := chequierVouchers(t, env, fmt.Sprintf("78-%d-000002", year))

	retired := filepath.Join(dir, "keys", "signing-1.pem")
	if err := os.Rename(retired, retired+".away"); err != nil {
		t.Fatal(err)
	}
	if stderr := serveRefuses(t, env); !strings.Contains(stderr, retired+" does not exist") {
		t.Fatalf("serve without retired key 1's file: %q", stderr)
	}
	if err := os.Rename(retired+".away", retired); err != nil {
		t.Fatal(err)
	}

	active := filepath.Join(dir, "keys", "signing-2.pem")
	priv, err := keys.Store{Dir: filepath.Dir(active)}.Load(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(active); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, append(slices.Clone(env), "PASSNUM_SIGNING_KEY=2:"+base64.StdEncoding.EncodeToString(priv.Seed())))
	for _, v := range []issuing.PrintedVoucher{one[0], two[0]} {
		if got := redeemTyped(t, url, venueKey, v); !got.Accepted {
			t.Fatalf("voucher %s typed: %+v", v.Number, got)
		}
	}
}
