package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"passnum/issuing"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// loadStats is what one load level measured.
type loadStats struct {
	clients    int
	requests   int
	errors     int // anything but the expected status
	elapsed    time.Duration
	p50, p99   time.Duration
	throughput float64
}

func (s loadStats) String() string {
	return fmt.Sprintf("%3d clients: %6d requests, %7.0f/s, p50 %5.1f ms, p99 %5.1f ms, %d errors",
		s.clients, s.requests, s.throughput, ms(s.p50), ms(s.p99), s.errors)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// load runs `requests` calls of do from `clients` goroutines; do gets the
// call's index and reports whether it got the expected answer.
func load(clients, requests int, do func(i int) bool) loadStats {
	lat := make([]time.Duration, requests)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= requests {
					return
				}
				t0 := time.Now()
				if !do(i) {
					errs.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return loadStats{clients: clients, requests: requests, errors: int(errs.Load()), elapsed: elapsed,
		p50: lat[requests/2], p99: lat[requests*99/100], throughput: float64(requests) / elapsed.Seconds()}
}

// benchProgramme prepares a data dir with n redeemable vouchers, a venue key
// and their codes.
func benchProgramme(b testing.TB, dbURL string, n int) (env []string, key string, vouchers []issuing.PrintedVoucher) {
	// One venue sends every basket: its limit would measure itself.
	env = []string{"PASSNUM_DATA_DIR=" + b.TempDir(), "PASSNUM_DATABASE_URL=" + dbURL, "PASSNUM_VENUE_BASKET_EVERY=1ns"}
	mustRun(b, env, "init")
	mustRun(b, env, "department", "add", "78", "Yvelines")
	mustRun(b, env, "venue", "add", "Médiathèque", "--department", "78", "--siret", "73282932000074", "--iban", "FR7630006000011234567890189")
	mustRun(b, env, "issue", "--department", "78", "--chequiers", fmt.Sprint(n/10), "--vouchers", "10", "--valid-until", nextYearEnd(), "--no-activation")
	key = strings.TrimSpace(mustRun(b, env, "apikey", "create", "--role", "venue", "--venue", "1", "--name", "bench"))
	return env, key, batchVouchers(b, env)
}

func codesOf(vs []issuing.PrintedVoucher) []string {
	codes := make([]string, len(vs))
	for i, v := range vs {
		codes[i] = v.Code
	}
	return codes
}

// httpRedeem redeems one code per request through the real server.
func httpRedeem(url, key string, codes []string, offset int, client *http.Client) func(int) bool {
	return func(i int) bool {
		body := `{"items":[{"code":"` + codes[offset+i] + `"}]}`
		req, _ := http.NewRequest("POST", url+"/api/v1/redemptions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%08d", offset+i))
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusCreated
	}
}

// BenchmarkRedeemHTTP starts the real server and redeems distinct vouchers
// over HTTP from 1, 8, 32 and 64 clients on PostgreSQL, and from 8 on
// SQLite; in the same run it measures the floor: the same work (idempotency
// row, voucher read, redemption, conditional update, item, event) as one
// raw pgx transaction per redemption, at the same concurrency.
// Run it with `make bench`.
func BenchmarkRedeemHTTP(b *testing.B) {
	if os.Getenv("PASSNUM_TEST_DATABASE_URL") == "" {
		b.Skip("needs PostgreSQL: set PASSNUM_TEST_DATABASE_URL (make bench does)")
	}
	levels := []struct{ clients, requests int }{{1, 500}, {8, 3000}, {32, 5000}, {64, 5000}}
	total := 0
	for _, l := range levels {
		total += 2 * l.requests
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	for range b.N {
		pgURL := ledgertest.URL(b, ledger.Postgres)
		env, key, vouchers := benchProgramme(b, pgURL, total+10)
		codes := codesOf(vouchers)
		url := startServer(b, env)
		offset := 0
		for _, l := range levels {
			api := load(l.clients, l.requests, httpRedeem(url, key, codes, offset, client))
			offset += l.requests
			floor := floorRedeem(b, pgURL, l.clients, l.requests, offset)
			offset += l.requests
			ratio := api.throughput / floor.throughput
			b.Logf("PostgreSQL API   %s", api)
			b.Logf("PostgreSQL floor %s   API/floor %.0f%%", floor, 100*ratio)
			b.ReportMetric(api.throughput, fmt.Sprintf("pg_api_%dc_req/s", l.clients))
			b.ReportMetric(ms(api.p99), fmt.Sprintf("pg_api_%dc_p99_ms", l.clients))
			b.ReportMetric(floor.throughput, fmt.Sprintf("pg_floor_%dc_req/s", l.clients))
			b.ReportMetric(100*ratio, fmt.Sprintf("pg_%dc_pct_of_floor", l.clients))
			b.ReportMetric(float64(api.errors), fmt.Sprintf("pg_api_%dc_errors", l.clients))
		}

		sqliteEnv, sqliteKey, sqliteVouchers := benchProgramme(b, ledgertest.URL(b, ledger.SQLite), 3010)
		sqliteCodes := codesOf(sqliteVouchers)
		logFile := b.TempDir() + "/serve.log"
		sqliteURL, stop := startServerLogging(b, sqliteEnv, logFile)
		lite := load(8, 3000, httpRedeem(sqliteURL, sqliteKey, sqliteCodes, 0, client))
		stop()
		logged, _ := os.ReadFile(logFile)
		locked := strings.Count(string(logged), "database is locked")
		b.Logf("SQLite API       %s, %d \"database is locked\"", lite, locked)
		b.ReportMetric(lite.throughput, "sqlite_api_8c_req/s")
		b.ReportMetric(ms(lite.p99), "sqlite_api_8c_p99_ms")
		b.ReportMetric(float64(lite.errors), "sqlite_api_8c_errors")
		b.ReportMetric(float64(locked), "sqlite_locked")
	}
}

// startServerLogging is startServer keeping the server's log in a file,
// with a stop function that ends it gracefully.
func startServerLogging(b *testing.B, env []string, logFile string) (string, func()) {
	f, err := os.Create(logFile)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = f
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256)
	n, _ := out.Read(buf)
	url, ok := strings.CutPrefix(strings.TrimSpace(string(buf[:n])), "listening on ")
	if !ok {
		b.Fatalf("serve said %q", buf[:n])
	}
	return url, func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		f.Close()
	}
}

// floorRedeem does a redemption's essential writes as one raw pgx
// transaction per voucher: what the hardware and PostgreSQL allow, with no
// HTTP, JSON, ORM, authentication or signature check.
func floorRedeem(b *testing.B, dbURL string, clients, requests, offset int) loadStats {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = int32(clients)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	var firstSerial int64
	if err := pool.QueryRow(ctx, "SELECT MIN(serial) FROM vouchers").Scan(&firstSerial); err != nil {
		b.Fatal(err)
	}
	return load(clients, requests, func(i int) bool {
		serial := firstSerial + int64(offset+i)
		now := time.Now().UTC()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (venue_id, key, request_sha256, state, created_at, updated_at)
				VALUES (1, $1, '\x00', 'in_progress', $2, $2)`, fmt.Sprintf("floor-%d", serial), now); err != nil {
				return err
			}
			var value int64
			if err := tx.QueryRow(ctx, `SELECT b.face_value_cents FROM vouchers v JOIN batches b ON b.id = v.batch_id
				WHERE v.serial = $1`, serial).Scan(&value); err != nil {
				return err
			}
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO redemptions (venue_id, idempotency_key, status, total_cents, scanned_at, created_at)
				VALUES (1, $1, 'accepted', $2, $3, $3) RETURNING id`, fmt.Sprintf("floor-%d", serial), value, now).Scan(&id); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE vouchers SET status = 'redeemed', redemption_id = $1 WHERE serial = $2 AND status = 'active'`, id, serial)
			if err != nil || tag.RowsAffected() != 1 {
				return fmt.Errorf("update: %v, %d rows", err, tag.RowsAffected())
			}
			if _, err := tx.Exec(ctx, `INSERT INTO redemption_items (redemption_id, voucher_serial, value_cents) VALUES ($1, $2, $3)`, id, serial, value); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO events (type, entity, entity_id, actor, data, created_at) VALUES ('redemption.accepted', 'redemption', $1, 'bench', '{}', $2)`, fmt.Sprint(id), now)
			return err
		})
		return err == nil
	})
}

// BenchmarkScannerFirstLoad opens the scanner for the first time in a new
// browser with the CPU slowed down four times, on Chrome's Slow 3G and 3G
// presets, over HTTP/1.1 (as `passnum serve` answers without TLS) and over
// HTTP/2 (as a phone meets it behind TLS), and reports the bytes received
// and the time to the pairing screen (docs/BENCHMARKS.md). Needs no
// database.
func BenchmarkScannerFirstLoad(b *testing.B) {
	env := []string{"PASSNUM_DATA_DIR=" + b.TempDir()}
	mustRun(b, env, "init")
	base := startServer(b, env)
	for range b.N {
		for _, n := range []struct {
			name       string
			conditions network.Conditions
		}{{"slow3g", slow3G}, {"3g", fast3G}} {
			for _, h2 := range []bool{false, true} {
				protocol := "h1"
				if h2 {
					protocol = "h2"
				}
				f := firstLoad(b, base, n.conditions, h2)
				b.Logf("%s %s: %d bytes for the page, %d in all, pairing screen after %v",
					n.name, protocol, f.page, f.all, f.toPairing.Round(time.Millisecond))
				b.ReportMetric(float64(f.toPairing.Milliseconds()), n.name+"_"+protocol+"_ms_to_pairing")
				b.ReportMetric(float64(f.all), n.name+"_"+protocol+"_bytes")
			}
		}
	}
}
