package settlement_test

import (
	"context"
	"io"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/sepa"
	"passnum/settlement"
)

// BenchmarkCloseMonth closes one month of one département of a programme
// at national pilot scale (ledgertest.Pilot) and writes all its files: the
// CSV, a PDF statement per venue and the SEPA file. Goal: under 10 s. The
// floor is the one query that reads the month's redeemed vouchers, as raw
// SQL; the rest is the closing's own work.
//
//	PASSNUM_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench CloseMonth -benchtime 1x ./settlement/
func BenchmarkCloseMonth(b *testing.B) {
	db := ledgertest.Open(b, ledger.Postgres) // skips without PASSNUM_TEST_DATABASE_URL
	ctx := context.Background()
	ledgertest.Pilot(b, db)
	name, iban := "Paierie départementale des Yvelines", "FR7630001007941234567890185"
	db.Read(ctx).Exec(`UPDATE departments SET payer_name = ?, payer_iban = ? WHERE code = '78'`, name, iban)
	months := []string{"2026-05", "2026-06"}
	if b.N > len(months) {
		b.Skip("the pilot has two open months: run with -benchtime 1x or 2x")
	}
	var floor, closing, files time.Duration
	b.ResetTimer()
	for i := range b.N {
		m, _ := settlement.ParseMonth(months[i])
		now := m.Next().FirstDay().Start().Add(2 * time.Hour)
		db.Clock = func() time.Time { return now } // set between runs, never during one
		svc := &settlement.Service{DB: db}

		t0 := time.Now()
		var rows []struct {
			VenueID    int64
			ValueCents int64
		}
		if err := db.Read(ctx).Raw(`SELECT r.venue_id, i.value_cents FROM redemptions r
			JOIN redemption_items i ON i.redemption_id = r.id JOIN vouchers v ON v.serial = i.voucher_serial
			JOIN batches b ON b.id = v.batch_id
			WHERE r.created_at >= ? AND r.created_at < ? AND b.department_code = '78'`, m.Start(), m.End()).Scan(&rows).Error; err != nil {
			b.Fatal(err)
		}
		floor += time.Since(t0)

		t1 := time.Now()
		p, err := svc.Close(ctx, "78", m, "bench")
		if err != nil {
			b.Fatal(err)
		}
		closing += time.Since(t1)

		t2 := time.Now()
		if err := settlement.WriteCSV(io.Discard, p); err != nil {
			b.Fatal(err)
		}
		if err := settlement.WriteStatementPDFs(p, func(settlement.Statement) (io.WriteCloser, error) {
			return nopCloser{io.Discard}, nil
		}); err != nil {
			b.Fatal(err)
		}
		pay, err := svc.Payment(p, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := sepa.Write(io.Discard, pay); err != nil {
			b.Fatal(err)
		}
		files += time.Since(t2)
		b.Logf("%s: %d redeemed vouchers read by raw SQL; closed %d statements, %d transfers, net %d cents",
			m, len(rows), len(p.Statements), len(pay.Transfers), p.NetCents)
	}
	n := time.Duration(b.N)
	b.ReportMetric((floor / n).Seconds(), "floor-s")
	b.ReportMetric((closing / n).Seconds(), "close-s")
	b.ReportMetric((files / n).Seconds(), "files-s")
	b.ReportMetric(((closing + files) / n).Seconds(), "total-s")
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
