// Package ledgertest opens a fresh, migrated database for each test, on
// SQLite always and on PostgreSQL when PASSNUM_TEST_DATABASE_URL names a
// server. With PASSNUM_TEST_REQUIRE_POSTGRES=1 (as in CI) a missing server
// fails the test instead of skipping it.
package ledgertest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for admin statements

	"passnum/ledger"
)

// dialects lists the databases the suite runs on.
var dialects = []ledger.Dialect{ledger.SQLite, ledger.Postgres}

// Each runs fn as a subtest on each dialect with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *ledger.DB)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of the dialect, removed when the
// test ends.
func Open(tb testing.TB, d ledger.Dialect) *ledger.DB {
	tb.Helper()
	u := URL(tb, d)
	db, err := ledger.Open(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// URL creates an empty database of the dialect and returns its URL: an
// SQLite file in the test's temporary folder, or a new PostgreSQL database
// dropped when the test ends.
func URL(tb testing.TB, d ledger.Dialect) string {
	tb.Helper()
	if d == ledger.SQLite {
		return filepath.Join(tb.TempDir(), "passnum.db")
	}
	base := os.Getenv("PASSNUM_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("PASSNUM_TEST_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("PASSNUM_TEST_REQUIRE_POSTGRES=1 but PASSNUM_TEST_DATABASE_URL is not set")
		}
		tb.Skip("PostgreSQL tests need PASSNUM_TEST_DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/postgres)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "passnum_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create test database on %s: %v", base, err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	pu.Path = "/" + name
	return pu.String()
}

// Count returns how many rows of model's table match where (a condition
// and its arguments; none for all), so that a test can check that a
// refusal wrote nothing.
func Count(t testing.TB, db *ledger.DB, model any, where ...any) int64 {
	t.Helper()
	var n int64
	q := db.Read(context.Background()).Model(model)
	if len(where) > 0 {
		q = q.Where(where[0], where[1:]...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
