package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// FuzzJSONHandlers sends arbitrary bodies to the endpoints that take JSON,
// each as the role that may call it. No input yields a 5xx or an answer
// the OpenAPI document does not allow, and nothing is ever half written:
// every redeemed voucher belongs to a redemption whose items add up to its
// total. The seeds run in `make test`; `make fuzz` runs it longer.
func FuzzJSONHandlers(f *testing.F) {
	db := ledgertest.Open(f, ledger.SQLite)
	e := newEnv(f, db, 3)
	endpoints := []struct{ path, as string }{
		{"/api/v1/redemptions", "venue1"},
		{"/api/v1/vouchers/check", "venue1"},
		{"/api/v1/venues", "admin"},
		{"/api/v1/settlement/adjustments", "department"},
		{"/api/v1/chequiers/activation", "department"},
		{"/api/v1/batches", "department"},
	}
	code := e.vouchers[0].Code
	for _, seed := range []struct {
		endpoint uint8
		body     string
	}{
		{0, `{"items":[{"code":"` + code + `"}]}`},
		{0, `{"items":[{"number":"0000 0000 013","verification_code":"AAAA-AAAA"}],"scanned_at":"2026-11-26T09:00:00Z"}`},
		{0, `{"items":[]}`},
		{0, `{"items":[{"code":"` + code + `"},{"code":"` + code + `"}]}`},
		{0, `{"items":[{"code":"x"}],"unknown":1}`},
		{1, `{"code":"` + code + `"}`},
		{1, `{"code":"'; DROP TABLE vouchers; --"}`},
		{2, `{"name":"<script>alert(1)</script>","siret":"73282932000074","iban":"FR7630006000011234567890189","departments":["78"]}`},
		{3, `{"department":"78","venue_id":1,"amount_cents":-9223372036854775808,"reason":"x"}`},
		{4, `{"number":"78-2026-000004"}`},
		{5, `{"department":"78","chequiers":1e308,"vouchers_per_chequier":10}`},
		{0, `[`}, {0, `null`}, {0, `"\u0000"`}, {0, `{"items":[{"code":` + "\"\xff\xfe\"" + `}]}`},
	} {
		f.Add(seed.endpoint, seed.body)
	}
	keys := 0
	f.Fuzz(func(t *testing.T, endpoint uint8, body string) {
		ep := endpoints[int(endpoint)%len(endpoints)]
		keys++
		r := e.do(t, request{method: http.MethodPost, path: ep.path, as: ep.as, body: &body, offContract: true,
			header: map[string]string{"Idempotency-Key": fmt.Sprintf("fuzz-json-%08d", keys)}})
		if r.status >= 500 {
			t.Fatalf("POST %s %q: %d %s", ep.path, body, r.status, r.body)
		}
		var broken int64
		if err := db.Read(context.Background()).Raw(`SELECT
			(SELECT COUNT(*) FROM vouchers v WHERE v.status = 'redeemed' AND NOT EXISTS (
				SELECT 1 FROM redemption_items i JOIN redemptions r ON r.id = i.redemption_id
				WHERE i.voucher_serial = v.serial AND r.id = v.redemption_id AND r.status = 'accepted'))
			+ (SELECT COUNT(*) FROM redemptions r WHERE r.total_cents <>
				(SELECT COALESCE(SUM(value_cents), 0) FROM redemption_items i WHERE i.redemption_id = r.id))`).Scan(&broken).Error; err != nil {
			t.Fatal(err)
		}
		if broken != 0 {
			t.Fatalf("after POST %s %q: %d half-written rows", ep.path, body, broken)
		}
	})
}
