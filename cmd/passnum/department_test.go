package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/settlement"
)

// TestDepartmentContactPhoneCLI: 'department set --contact-phone' stores
// the number in pairs, refuses a wrong one in French with nothing
// changed, and 'print' (a booklet by default) puts it on every cover;
// 'audit verify' finds the ledger agreeing.
func TestDepartmentContactPhoneCLI(t *testing.T) {
	for _, d := range []ledger.Dialect{ledger.SQLite, ledger.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + ledgertest.URL(t, d)}
			mustRun(t, env, "init")
			mustRun(t, env, "department", "add", "78", "Yvelines")
			if out := mustRun(t, env, "department", "set", "78", "--contact-phone", "0139077878"); !strings.Contains(out, "contact phone 01 39 07 78 78") {
				t.Fatal(out)
			}
			r := run(t, env, "department", "set", "78", "--contact-phone", "01 39 07")
			if r.code == 0 || !strings.Contains(r.stderr, "n’est pas un numéro de téléphone") {
				t.Fatalf("a wrong number: %+v", r)
			}
			if out := mustRun(t, env, "department", "list"); !strings.Contains(out, "01 39 07 78 78") {
				t.Fatalf("the refused number changed the département:\n%s", out)
			}
			mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "2", "--value", "10.00", "--valid-until", nextYearEnd())
			dir := t.TempDir()
			mustRun(t, env, "print", "--batch", "1", "--out", dir)
			text, err := exec.Command("pdftotext", "-layout", filepath.Join(dir, "batch-1-0001.pdf"), "-").Output()
			if err != nil {
				t.Fatalf("pdftotext (apt-get install -y poppler-utils): %v", err)
			}
			if n := strings.Count(strings.NewReplacer("\u00a0", " ").Replace(string(text)), "Appelez le 01 39 07 78 78."); n != 2 {
				t.Errorf("the number is on %d covers, want the 2 chéquiers'", n)
			}
			if !strings.Contains(string(text), "booklet") {
				t.Error("print did not make a booklet by default")
			}
			mustRun(t, env, "audit", "verify")
		})
	}
}

// TestFourEyesCLI: at the command line, a paying office asked by one
// operator waits, is refused to the same one and applied by another; with
// four eyes on closing, the first close asks (no files written), the same
// operator cannot confirm, another closes. 'audit verify' agrees.
func TestFourEyesCLI(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ ledger.Dialect, _ string, env []string) {
		alice, bob := slices.Concat(env, []string{"USER=alice"}), slices.Concat(env, []string{"USER=bob"})
		mustRun(t, alice, "init")
		mustRun(t, alice, "department", "add", "78", "Yvelines")
		out := mustRun(t, alice, "department", "set", "78", "--payer-name", "Paierie départementale des Yvelines", "--payer-iban", "FR76 3000 1007 9412 3456 7890 185", "--close-four-eyes")
		if !strings.Contains(out, "paid from - (-)") || !strings.Contains(out, "closing with four eyes true") || !strings.Contains(out, "passnum department confirm 78") {
			t.Fatalf("set: %s", out)
		}
		if r := run(t, alice, "department", "confirm", "78"); r.code == 0 || !strings.Contains(r.stderr, "une autre personne doit confirmer") {
			t.Fatalf("alice confirming her own: %+v", r)
		}
		if out := mustRun(t, bob, "department", "confirm", "78"); !strings.Contains(out, "closing with four eyes true; asked by cli:alice, confirmed by cli:bob") {
			t.Fatalf("bob confirming: %s", out)
		}
		if r := run(t, bob, "department", "refuse", "78", "--reason", "trop tard"); r.code == 0 || !strings.Contains(r.stderr, "Rien n’attend de confirmation") {
			t.Fatalf("refusing what is applied: %+v", r)
		}
		last := settlement.MonthAt(time.Now()).Previous().String()
		dir := t.TempDir()
		out = mustRun(t, alice, "settlement", "close", "--department", "78", "--month", last, "--out", dir)
		if !strings.Contains(out, "its closing asked by cli:alice") || !strings.Contains(out, "waiting for a second person") {
			t.Fatalf("the first close: %s", out)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
			t.Fatalf("files written before the closing: %v", files)
		}
		if r := run(t, alice, "settlement", "close", "--department", "78", "--month", last); r.code == 0 || !strings.Contains(r.stderr, "une autre personne doit confirmer") {
			t.Fatalf("alice confirming her closing: %+v", r)
		}
		if out := mustRun(t, bob, "settlement", "close", "--department", "78", "--month", last); !strings.Contains(out, "closed on") {
			t.Fatalf("bob's close: %s", out)
		}
		mustRun(t, alice, "audit", "verify")
	})
}
