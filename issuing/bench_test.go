package issuing_test

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

// The whole programme of the Yvelines and the Hauts-de-Seine: 36,000
// chéquiers of 10 vouchers.
const (
	benchChequiersPerDept = 18_000
	benchVouchers         = 10
)

// BenchmarkIssueProgramme issues the whole programme into PostgreSQL and,
// in the same run, measures the floor the hardware allows: raw Ed25519
// signing of the same payloads on all cores, then a raw pgx COPY of the same
// chéquier and voucher rows. It reports both and their ratio, and the
// process's peak RSS. Run it with `make bench`.
func BenchmarkIssueProgramme(b *testing.B) {
	if os.Getenv("PASSNUM_TEST_DATABASE_URL") == "" {
		b.Skip("needs PostgreSQL: set PASSNUM_TEST_DATABASE_URL (make bench does)")
	}
	total := 2 * benchChequiersPerDept * benchVouchers
	for range b.N {
		// The real thing first, so that peak RSS is its own.
		db := ledgertest.Open(b, ledger.Postgres)
		f := issuingtest.New(b, db)
		start := time.Now()
		for _, dept := range []string{"78", "92"} {
			f.Issue(b, issuingtest.Request(dept, benchChequiersPerDept, benchVouchers))
		}
		issue := time.Since(start)
		peak := peakRSS(b)

		sign := floorSign(b, total)
		cp := floorCopy(b, total, false)
		bare := floorCopy(b, total, true)
		floor, bareFloor := sign+cp, sign+bare
		b.ReportMetric(issue.Seconds(), "issue_s")
		b.ReportMetric(float64(total)/issue.Seconds(), "vouchers/s")
		b.ReportMetric(sign.Seconds(), "floor_sign_s")
		b.ReportMetric(cp.Seconds(), "floor_copy_s")
		b.ReportMetric(bare.Seconds(), "floor_copy_bare_s")
		b.ReportMetric(issue.Seconds()/floor.Seconds(), "x_floor")
		b.ReportMetric(issue.Seconds()/bareFloor.Seconds(), "x_bare_floor")
		b.ReportMetric(float64(peak)/(1<<20), "peak_rss_MB")
		b.Logf("%d vouchers: issue %.2fs; floor %.2fs (sign %.2fs + COPY %.2fs), ratio %.2f; "+
			"bare-table floor %.2fs (COPY %.2fs), ratio %.2f; peak RSS %d MB; GOMAXPROCS %d",
			total, issue.Seconds(), floor.Seconds(), sign.Seconds(), cp.Seconds(), issue.Seconds()/floor.Seconds(),
			bareFloor.Seconds(), bare.Seconds(), issue.Seconds()/bareFloor.Seconds(), peak>>20, runtime.GOMAXPROCS(0))
	}
}

// floorSign signs the same 21-byte voucher payloads with crypto/ed25519 on
// every core, keeping nothing.
func floorSign(b *testing.B, total int) time.Duration {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	workers := runtime.GOMAXPROCS(0)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			p := make([]byte, 21)
			p[0], p[1] = byte(voucher.TypeVoucher), 1
			copy(p[10:13], "78 ")
			binary.BigEndian.PutUint32(p[13:], 1000)
			for s := w; s < total; s += workers {
				binary.BigEndian.PutUint64(p[2:], uint64(s+1))
				_ = ed25519.Sign(priv, p)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// floorCopy copies the same chéquier and voucher rows with pgx alone, in one
// transaction, into a fresh migrated database: into the real tables, or
// with bare into copies of them without keys, indexes or foreign keys (what
// the constraints cost).
func floorCopy(b *testing.B, total int, bare bool) time.Duration {
	ctx := context.Background()
	db := ledgertest.Open(b, ledger.Postgres)
	f := issuingtest.New(b, db)
	batch := f.Issue(b, issuingtest.Request("78", 1, 1)).Batch // a batch row for the foreign keys
	url := ledgertestURL(b, db)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	chequiers := total / benchVouchers
	prefix := ""
	if bare {
		prefix = "bare_"
		for _, t := range []string{"chequiers", "vouchers"} {
			if _, err := conn.Exec(ctx, "CREATE TABLE bare_"+t+" (LIKE "+t+")"); err != nil {
				b.Fatal(err)
			}
		}
	}
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	const base = 1_000_000
	_, err = tx.CopyFrom(ctx, pgx.Identifier{prefix + "chequiers"}, []string{"id", "batch_id", "department_code", "year", "seq", "number", "status"},
		pgx.CopyFromSlice(chequiers, func(i int) ([]any, error) {
			return []any{int64(base + i), batch.ID, "78", 2026, int64(base + i), "78-2026-" + strconv.Itoa(base+i), "issued"}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{prefix + "vouchers"}, []string{"serial", "chequier_id", "batch_id", "position", "status"},
		pgx.CopyFromSlice(total, func(i int) ([]any, error) {
			return []any{int64(base + i), int64(base + i/benchVouchers), batch.ID, int16(i%benchVouchers + 1), "inactive"}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// ledgertestURL recovers the URL of a test database from its name.
func ledgertestURL(b *testing.B, db *ledger.DB) string {
	var name string
	if err := db.Read(context.Background()).Raw("SELECT current_database()").Scan(&name).Error; err != nil {
		b.Fatal(err)
	}
	base := os.Getenv("PASSNUM_TEST_DATABASE_URL")
	i := strings.LastIndex(base, "/")
	rest := ""
	if q := strings.IndexByte(base[i:], '?'); q >= 0 {
		rest = base[i+q:]
	}
	return base[:i+1] + name + rest
}

// peakRSS reads the process's peak resident memory (Linux).
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Logf("peak RSS unknown: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
