package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestBackupAndRestore backs up a running programme, restores it into an
// empty database with the same keys folder, and checks what an operator
// would: the audit passes and the figures are those of before the backup.
func TestBackupAndRestore(t *testing.T) {
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		mustRun(t, env, "init")
		mustRun(t, env, "department", "add", "78", "Yvelines")
		mustRun(t, env, "venue", "add", "Médiathèque", "--department", "78", "--siret", "73282932000074", "--iban", "FR7630006000011234567890189")
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "3", "--vouchers", "2", "--valid-until", nextYearEnd(), "--no-activation")
		mustRun(t, env, "void", thisYearsChequier(3), "--reason", "perdu")
		key := strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "tablette"))
		url := startServer(t, env)
		redeem(t, url, key, voucherCode(t, dir, 1))
		redeem(t, url, key, voucherCode(t, dir, 3))

		// While the server runs: back up, then take the figures.
		backup := filepath.Join(t.TempDir(), "backup")
		if r := run(t, env, "backup", "--out", backup); r.code != 0 {
			t.Fatalf("backup: %s%s", r.stdout, r.stderr)
		}
		if r := run(t, env, "backup", "--out", backup); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
			t.Fatalf("a second backup over the first: exit %d, %s", r.code, r.stderr)
		}
		before := mustRun(t, env, "report", "--format", "json")

		// Restore into an empty database, with the keys folder copied.
		dir2 := t.TempDir()
		copyDir(t, filepath.Join(dir, "keys"), filepath.Join(dir2, "keys"))
		env2 := []string{"PASSNUM_DATA_DIR=" + dir2}
		if d == ledger.Postgres {
			target := ledgertest.URL(t, d)
			restore := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "-d", target, backup)
			if out, err := restore.CombinedOutput(); err != nil {
				t.Fatalf("pg_restore: %v\n%s", err, out)
			}
			env2 = append(env2, "PASSNUM_DATABASE_URL="+target)
		} else {
			copyFile(t, backup, filepath.Join(dir2, "passnum.db"))
		}
		if out := mustRun(t, env2, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatalf("audit of the restored database: %s", out)
		}
		if after := mustRun(t, env2, "report", "--format", "json"); after != before {
			t.Fatalf("figures differ after the restore:\nbefore %s\nafter  %s", before, after)
		}
		// The restored programme runs: the same key redeems the next voucher.
		redeem(t, startServer(t, env2), key, voucherCode(t, dir2, 2))
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupKeepsThePasswordOffTheCommandLine: the database password goes
// to pg_dump in its environment, never in its arguments, which any user of
// the machine can read while it runs; written either way in the URL.
func TestBackupKeepsThePasswordOffTheCommandLine(t *testing.T) {
	bin := t.TempDir()
	seen := filepath.Join(t.TempDir(), "seen")
	// A pg_dump that says what it was given and writes an empty dump.
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + seen + "\necho \"PGPASSWORD=$PGPASSWORD\" >> " + seen + "\n: > \"$4\"\n"
	if err := os.WriteFile(filepath.Join(bin, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dbURL := range []string{
		"postgres://passnum:s3cr%C3%A8t@db.example:5432/passnum?sslmode=require",
		"postgres://passnum@db.example:5432/passnum?password=s3cr%C3%A8t&sslmode=require",
	} {
		env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_DATABASE_URL=" + dbURL}
		mustRun(t, env, "backup", "--out", filepath.Join(t.TempDir(), "backup.dump"))
		b, err := os.ReadFile(seen)
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
		if strings.Contains(got, "s3cr") && !strings.Contains(got, "PGPASSWORD=s3crèt\n") || strings.Count(got, "s3cr") != 1 {
			t.Errorf("%s: pg_dump was given\n%s\nwant the password in PGPASSWORD only", dbURL, got)
		}
		if !strings.Contains(got, "postgres://passnum@db.example:5432/passnum?sslmode=require\n") {
			t.Errorf("%s: pg_dump did not get the URL without its password:\n%s", dbURL, got)
		}
	}
}
