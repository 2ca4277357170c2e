package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"passnum/ledger"
)

// TestReceiptCommands: a venue's receipts, as the scanner got them from
// passnum serve, are checked offline by passnum verify with the exported
// public keys and the vouchers' serials (other serials are refused), and
// found in the ledger by passnum audit receipts, which names a line that
// is not a receipt and exits 1; the venue's archive from passnum venue
// archive is checked offline by passnum audit archive, which refuses a
// damaged file.
func TestReceiptCommands(t *testing.T) {
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		venueKey := venueReady(t, env)
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "5",
			"--valid-until", nextYearEnd(), "--no-activation")
		vs := batchVouchers(t, env)
		url := startServer(t, env)
		first, second := redeemTyped(t, url, venueKey, vs[0]), redeemTyped(t, url, venueKey, vs[1])
		if !first.Accepted || first.Receipt == "" || second.Receipt == "" {
			t.Fatalf("answers %+v %+v", first, second)
		}
		keys := filepath.Join(dir, "public-keys.json")
		mustRun(t, env, "keys", "export", "--out", keys)

		// Offline: no database in this environment, only the keys file.
		offline := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
		out := mustRun(t, offline, "verify", first.Receipt, "--keys", keys, "--serials", strconv.FormatInt(vs[0].Serial, 10))
		for _, want := range []string{"VALID redemption receipt", "venue        1", "total        10.00 EUR, 1 voucher", "vouchers     these 1"} {
			if !strings.Contains(out, want) {
				t.Errorf("verify lacks %q:\n%s", want, out)
			}
		}
		r := run(t, offline, "verify", first.Receipt, "--keys", keys, "--serials", strconv.FormatInt(vs[1].Serial, 10))
		if r.code != 1 || !strings.Contains(r.stdout, "NOT THESE") {
			t.Errorf("other serials: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}

		file := filepath.Join(dir, "receipts.txt")
		if err := os.WriteFile(file, []byte(first.Receipt+"\n\n"+second.Receipt+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out := mustRun(t, env, "audit", "receipts", file, "--keys", keys); !strings.Contains(out, "2 receipts, 0 not backed by the ledger") ||
			!strings.Contains(out, "1: ok, redemption 1 of venue 1, 10.00 EUR") {
			t.Errorf("audit receipts:\n%s", out)
		}
		if err := os.WriteFile(file, []byte(first.Receipt+"\n"+vs[2].Code+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r = run(t, env, "audit", "receipts", file)
		if r.code != 1 || !strings.Contains(r.stdout, "2: NOT BACKED: a genuine code, but a voucher, not a receipt") ||
			!strings.Contains(r.stdout, "2 receipts, 1 not backed") {
			t.Errorf("a voucher among receipts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}

		zip := filepath.Join(dir, "dossier.zip")
		mustRun(t, env, "venue", "archive", "1", "--out", zip)
		if out := mustRun(t, offline, "audit", "archive", zip, "--keys", keys); !strings.Contains(out, "OK: venue 1, 2 receipts for 20.00 EUR, all genuine") {
			t.Errorf("audit archive:\n%s", out)
		}
		data, err := os.ReadFile(zip)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(zip, data[:len(data)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		r = run(t, offline, "audit", "archive", zip, "--keys", keys)
		if r.code != 1 || !strings.Contains(r.stdout, "FAILED: not a venue's archive") {
			t.Errorf("a damaged archive: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestAuditSignals: a whole chéquier redeemed in one basket through passnum
// serve is the one signal passnum audit signals prints, with its evidence,
// and passnum report's PDF shows; none for another département; a bad day
// is refused.
func TestAuditSignals(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	venueKey := venueReady(t, env)
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "5", "--valid-until", nextYearEnd(), "--no-activation")
	url := startServer(t, env)
	var items []map[string]string
	for _, v := range batchVouchers(t, env) {
		items = append(items, map[string]string{"code": v.Code})
	}
	body, _ := json.Marshal(map[string]any{"items": items})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/redemptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+venueKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "signals-whole-chequier")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("redeem: %v %v", res, err)
	}
	res.Body.Close()
	out := mustRun(t, env, "audit", "signals")
	if !strings.Contains(out, "whole_chequier  venue 1 (Médiathèque François Mitterrand)") || !strings.Contains(out, "Les 5 chèques d’un même chéquier") ||
		!strings.Contains(out, "1 signal from") {
		t.Errorf("audit signals:\n%s", out)
	}
	if out := mustRun(t, env, "audit", "signals", "--department", "92"); !strings.Contains(out, "0 signals from") {
		t.Errorf("another département:\n%s", out)
	}
	// The funders' report says it too.
	pdf := filepath.Join(t.TempDir(), "rapport.pdf")
	mustRun(t, env, "report", "--pdf", pdf)
	text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install -y poppler-utils): %v", err)
	}
	if !strings.Contains(string(text), "Signaux à examiner") || !strings.Contains(string(text), "Chéquier entier d’un coup") {
		t.Errorf("the report's signals:\n%s", text)
	}
	if r := run(t, env, "audit", "signals", "--from", "hier"); r.code != 1 || !strings.Contains(r.stderr, `--from "hier" is not a date`) {
		t.Errorf("a bad day: exit %d %s", r.code, r.stderr)
	}
}
