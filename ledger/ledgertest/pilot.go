package ledgertest

import (
	"context"
	"testing"

	"passnum/ledger"
)

// Pilot builds, on PostgreSQL, a programme at national pilot scale for the
// benchmarks: 2 départements, 8 batches, 36,000 chéquiers, 360,000
// vouchers, 300 venues (with SIRET and IBAN), about 50,000 baskets over two
// years (July 2024 to mid-2026), and settlement closed up to April 2026.
// It uses set-based SQL, never row by row.
// Chéquier g belongs to batch (g-1)/4500+1 (batches 1-4 of 78, 5-8 of 92;
// batches 1 and 5 expired at the end of 2025); 85 % are handed over, 2 %
// voided, the rest waiting. A handed-over chéquier's vouchers are used by
// about 60 %, in baskets of up to 3 vouchers of the same chéquier; one
// basket in 20 was reversed.
func Pilot(tb testing.TB, db *ledger.DB) {
	tb.Helper()
	for _, q := range pilot {
		if err := db.Read(context.Background()).Exec(q).Error; err != nil {
			tb.Fatalf("%v\n%s", err, q)
		}
	}
}

var pilot = []string{
	`INSERT INTO departments (code, name, created_at) VALUES ('78', 'Yvelines', now()), ('92', 'Hauts-de-Seine', now())`,
	`INSERT INTO signing_keys (id, public_key, status, created_at) VALUES (1, decode(repeat('ab', 32), 'hex'), 'active', now())`,
	`INSERT INTO venues (id, name, status, created_at, siret, iban)
		SELECT g, 'Structure ' || g, 'labelled', now(), lpad(g::text, 14, '0'), 'FR7630006000011234567890189' FROM generate_series(1, 300) g`,
	`INSERT INTO venue_departments (venue_id, department_code)
		SELECT g, CASE WHEN g % 2 = 0 THEN '78' ELSE '92' END FROM generate_series(1, 300) g`,
	`INSERT INTO batches (id, department_code, year, chequier_count, vouchers_per_chequier, face_value_cents, total_cents,
			valid_from, valid_until, programme_end, requires_activation, key_id, first_chequier_seq, last_chequier_seq,
			first_serial, last_serial, codes_sha256, created_at)
		SELECT k, CASE WHEN k <= 4 THEN '78' ELSE '92' END, 2024, 4500, 10, 1000, 45000000,
			DATE '2024-07-01', CASE WHEN k IN (1, 5) THEN DATE '2025-12-31' ELSE DATE '2028-12-31' END,
			CASE WHEN k IN (1, 5) THEN DATE '2025-11-30' ELSE DATE '2028-11-30' END, true, 1,
			((k - 1) % 4) * 4500 + 1, ((k - 1) % 4) * 4500 + 4500, (k - 1) * 45000 + 1, k * 45000, '\x00', TIMESTAMPTZ '2024-07-01 08:00Z'
		FROM generate_series(1, 8) k`,
	`INSERT INTO chequiers (id, batch_id, department_code, year, seq, number, status, activated_at, voided_at)
		SELECT g, (g - 1) / 4500 + 1, CASE WHEN g <= 18000 THEN '78' ELSE '92' END, 2024, (g - 1) % 18000 + 1,
			CASE WHEN g <= 18000 THEN '78' ELSE '92' END || '-2024-' || lpad(((g - 1) % 18000 + 1)::text, 6, '0'),
			CASE WHEN g % 100 < 85 THEN 'active' WHEN g % 100 < 87 THEN 'void' ELSE 'issued' END,
			CASE WHEN g % 100 < 85 THEN TIMESTAMPTZ '2024-07-01 08:00Z' + ((g * 7919) % (700 * 86400)) * INTERVAL '1 second' END,
			CASE WHEN g % 100 BETWEEN 85 AND 86 THEN TIMESTAMPTZ '2025-01-01 08:00Z' END
		FROM generate_series(1, 36000) g`,
	`CREATE TEMP TABLE bench_plan AS
		SELECT s AS serial, (s - 1) / 10 + 1 AS chequier_id, (s - 1) / 45000 + 1 AS batch_id, ((s - 1) % 10 + 1)::smallint AS position,
			c.status AS chequier_status, c.activated_at,
			c.status = 'active' AND (s * 2654435761) % 100 < 60 AS used,
			((s - 1) / 10 + 1) * 4 + ((s - 1) % 10) / 3 AS rid
		FROM generate_series(1, 360000::bigint) s JOIN chequiers c ON c.id = (s - 1) / 10 + 1`,
	`INSERT INTO redemptions (id, venue_id, idempotency_key, status, total_cents, scanned_at, created_at, reversed_at)
		SELECT rid, (rid * 31) % 300 + 1, 'bench-' || rid, CASE WHEN rid % 20 = 0 THEN 'reversed' ELSE 'accepted' END, 1000 * COUNT(*),
			min(activated_at) + ((rid * 104729) % (30 * 86400)) * INTERVAL '1 second',
			min(activated_at) + ((rid * 104729) % (30 * 86400)) * INTERVAL '1 second',
			CASE WHEN rid % 20 = 0 THEN min(activated_at) + ((rid * 104729) % (30 * 86400) + 60) * INTERVAL '1 second' END
		FROM bench_plan WHERE used GROUP BY rid`,
	`INSERT INTO vouchers (serial, chequier_id, batch_id, position, status, redemption_id)
		SELECT serial, chequier_id, batch_id, position,
			CASE WHEN chequier_status = 'void' THEN 'void' WHEN chequier_status = 'issued' THEN 'inactive'
				WHEN used AND rid % 20 <> 0 THEN 'redeemed' ELSE 'active' END,
			CASE WHEN used AND rid % 20 <> 0 THEN rid END
		FROM bench_plan`,
	`INSERT INTO redemption_items (redemption_id, voucher_serial, value_cents) SELECT rid, serial, 1000 FROM bench_plan WHERE used`,
	`INSERT INTO settlement_periods (department_code, first_day, last_day, commission_basis_points, venues, gross_cents,
			reversed_cents, adjustment_cents, commission_cents, net_cents, closed_at, closed_by)
		SELECT d, m::date, (m + INTERVAL '1 month' - INTERVAL '1 day')::date, 0, 150, 1000000, 10000, 0, 0, 990000, m + INTERVAL '1 month 1 day', 'bench'
		FROM unnest(ARRAY['78', '92']) d, generate_series(TIMESTAMP '2024-07-01', TIMESTAMP '2026-04-01', INTERVAL '1 month') m`,
	`ANALYZE`,
}
