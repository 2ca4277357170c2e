package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

var exportSeq = regexp.MustCompile(`"seq":(\d+)`)

// TestAuditExport exports a small programme's ledger, verifies the file on
// "another machine" (no data folder, no database), then tampers with it.
func TestAuditExport(t *testing.T) {
	for _, d := range []ledger.Dialect{ledger.SQLite, ledger.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + ledgertest.URL(t, d)}
			mustRun(t, env, "init")
			mustRun(t, env, "department", "add", "78", "Yvelines")
			out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "5", "--vouchers", "2", "--valid-until", nextYearEnd())
			first := firstChequier(t, out)
			mustRun(t, env, "activate", first, "--beneficiary-ref", "CCAS-17-0193")
			mustRun(t, env, "void", strings.Replace(first, "000001", "000002", 1), "--reason", "perdu")

			dir := t.TempDir()
			file, keys := filepath.Join(dir, "ledger.jsonl"), filepath.Join(dir, "keys.json")
			r := run(t, env, "audit", "export", "--out", file)
			if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "exported 5 events and 5 checkpoints (the chain up to #5) to "+file) {
				t.Fatalf("export: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			mustRun(t, env, "keys", "export", "--out", keys)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			// To standard output, the same file but for the time in the header.
			stdout := strings.Split(strings.TrimSuffix(mustRun(t, env, "audit", "export"), "\n"), "\n")
			if strings.Join(stdout[1:], "\n") != strings.Join(lines[1:], "\n") {
				t.Fatalf("export to standard output differs:\n%s", strings.Join(stdout, "\n"))
			}

			// Another machine: an empty data folder and a database that cannot exist.
			elsewhere := t.TempDir()
			offline := []string{"PASSNUM_DATA_DIR=" + elsewhere, "PASSNUM_DATABASE_URL=" + filepath.Join(elsewhere, "nowhere", "passnum.db")}
			out = mustRun(t, offline, "audit", "verify", "--export", file)
			if !strings.HasPrefix(out, "OK: export of ") || !strings.Contains(out, "5 events chained, 5 checkpoints verified (signed up to #5)") ||
				!strings.Contains(out, "1 batches, 5 chéquiers, 10 vouchers") || !strings.Contains(out, "keys taken from the file itself") {
				t.Fatalf("verify --export:\n%s", out)
			}
			out = mustRun(t, offline, "audit", "verify", "--export", file, "--keys", keys)
			if !strings.HasPrefix(out, "OK: ") || strings.Contains(out, "warning") {
				t.Fatalf("verify --export --keys:\n%s", out)
			}
			if entries, err := os.ReadDir(elsewhere); err != nil || len(entries) != 0 {
				t.Fatalf("offline verification wrote to its data folder: %v %v", entries, err)
			}

			// Someone changes the beneficiary reference of the hand-over.
			i := 0
			for ; i < len(lines) && !strings.Contains(lines[i], `"type":"chequier.activated"`); i++ {
			}
			if i == len(lines) {
				t.Fatalf("no hand-over in the export:\n%s", data)
			}
			lines[i] = strings.Replace(lines[i], "CCAS-17-0193", "CCAS-17-0194", 1)
			tampered := filepath.Join(dir, "tampered.jsonl")
			if err := os.WriteFile(tampered, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r = run(t, offline, "audit", "verify", "--export", tampered, "--keys", keys)
			want := fmt.Sprintf("FAILED: line %d: event seq %s (chequier.activated): hash does not match the chain", i+1, exportSeq.FindStringSubmatch(lines[i])[1])
			if r.code != 1 || !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("tampered export: exit %d, stdout %q, want %q…", r.code, r.stdout, want)
			}

			r = run(t, offline, "audit", "verify", "--export", filepath.Join(dir, "missing.jsonl"))
			if r.code != 1 || !strings.Contains(r.stderr, "open the export") || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("missing file: exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}
