package audit_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"passnum/audit"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// countingWriter counts bytes and samples the heap as the export streams.
type countingWriter struct {
	n        atomic.Int64
	peakHeap uint64
	calls    int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	if w.calls++; w.calls%64 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.peakHeap = max(w.peakHeap, m.HeapInuse)
	}
	return len(p), nil
}

// BenchmarkExport streams the ledger export of one million sealed events
// (about what 360,000 vouchers, their hand-overs and two years of
// redemptions write) and reports its speed and the heap in use while it
// runs, sampled every 64 writes: it must stay flat, not grow with the
// ledger. The floor is the same rows read by one raw query, discarded.
//
//	PASSNUM_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench Export -benchtime 1x ./audit/
func BenchmarkExport(b *testing.B) {
	db := ledgertest.Open(b, ledger.Postgres) // skips without PASSNUM_TEST_DATABASE_URL
	ctx := context.Background()
	for _, n := range []int{100_000, 1_000_000} {
		db.Read(ctx).Exec(`TRUNCATE events`)
		// Events need not chain for the export, which copies them as they are.
		if err := db.Read(ctx).Exec(`INSERT INTO events (seq, hash, type, entity, entity_id, actor, data, created_at)
			SELECT g, sha256(g::text::bytea), 'redemption.accepted', 'redemption', g::text, 'apikey:pn_benchmark',
				'{"id":' || g || ',"venue_id":' || (g % 300 + 1) || ',"scanned_at":"2026-10-03T12:00:00Z","received_at":"2026-10-03T12:00:01Z","total_cents":3000,"items":[{"serial":' || g || ',"value_cents":1000}]}',
				TIMESTAMPTZ '2025-01-01 00:00Z' + g * INTERVAL '1 second'
			FROM generate_series(1, ?::bigint) g`, n).Error; err != nil {
			b.Fatal(err)
		}
		db.Read(ctx).Exec(`ANALYZE events`)
		b.Run(fmt.Sprintf("%dk-events", n/1000), func(b *testing.B) {
			for b.Loop() {
				t0 := time.Now()
				rows, err := db.Read(ctx).Raw(`SELECT seq, hash, type, entity, entity_id, department_code, actor, data, created_at FROM events ORDER BY seq`).Rows()
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
				floor := time.Since(t0)

				runtime.GC()
				w := &countingWriter{}
				t1 := time.Now()
				sum, err := audit.Export(ctx, db, w)
				if err != nil || sum.Events != int64(n) {
					b.Fatalf("exported %d of %d events: %v", sum.Events, n, err)
				}
				took := time.Since(t1)
				b.ReportMetric(float64(n)/took.Seconds(), "events/s")
				b.ReportMetric(float64(w.n.Load())/took.Seconds()/1e6, "MB/s")
				b.ReportMetric(float64(w.peakHeap)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(floor.Seconds()/took.Seconds(), "floor/export")
			}
		})
	}
}
