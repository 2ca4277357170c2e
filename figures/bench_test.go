package figures_test

import (
	"context"
	"testing"
	"time"

	"passnum/figures"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// BenchmarkFiguresDepartment reads the figures of one département of a
// programme at national pilot scale on PostgreSQL (ledgertest.Pilot). The
// goal is well under a second.
//
//	PASSNUM_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench FiguresDepartment ./figures/
func BenchmarkFiguresDepartment(b *testing.B) {
	db := ledgertest.Open(b, ledger.Postgres) // skips without PASSNUM_TEST_DATABASE_URL
	ctx := context.Background()
	start := time.Now()
	ledgertest.Pilot(b, db)
	var n struct{ Vouchers, Items int64 }
	db.Read(ctx).Raw(`SELECT (SELECT COUNT(*) FROM vouchers) AS vouchers, (SELECT COUNT(*) FROM redemption_items) AS items`).Scan(&n)
	b.Logf("%d vouchers, %d redemption items generated in %s", n.Vouchers, n.Items, time.Since(start).Round(time.Millisecond))

	svc := &figures.Service{DB: db}
	asOf := day(b, "2026-06-30")
	check := func(f figures.Figures) {
		if !f.Total.InvariantHolds || f.Total.VouchersIssued == 0 || len(f.Venues) == 0 || len(f.Months) < 20 {
			b.Fatalf("figures: %+v venues %d months %d", f.Total, len(f.Venues), len(f.Months))
		}
	}
	t0 := time.Now()
	all, err := svc.Compute(ctx, figures.Filter{AsOf: asOf})
	if err != nil {
		b.Fatal(err)
	}
	check(all)
	b.Logf("all départements once: %s", time.Since(t0).Round(time.Millisecond))
	b.ResetTimer()
	for b.Loop() {
		f, err := svc.Compute(ctx, figures.Filter{Department: "78", AsOf: asOf})
		if err != nil {
			b.Fatal(err)
		}
		check(f)
	}
}
