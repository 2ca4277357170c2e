package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
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
