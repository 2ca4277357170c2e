package api_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"passnum/api"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/metrics"
)

// scrape reads the metrics as Prometheus would, in its text format.
func scrape(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics is not in the text format: %v", err)
	}
	return fams
}

// value is the value of the family's series with exactly these labels
// (name, value, …); 0 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// TestMetricsCountWhatWasSent: many venues' devices at once send baskets,
// live and offline, accepted and refused, and replays; the counters the
// operator scrapes equal what was sent, and the sealer's lag shows the
// events until they are sealed.
func TestMetricsCountWhatWasSent(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		m := metrics.New(db)
		e := newEnv(t, db, 4, func(cfg *api.Config) { cfg.Metrics = m }) // 40 vouchers handed over
		send := func(key string, scannedOffline bool, item map[string]string, want int) {
			body := map[string]any{"items": []map[string]string{item}}
			if scannedOffline {
				body["scanned_at"] = e.Clock.T.Add(-time.Hour).Format(time.RFC3339)
			}
			r := e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: "venue1", json: body,
				header: map[string]string{"Idempotency-Key": key}})
			if r.status != want {
				t.Errorf("basket %s: %d, want %d: %s", key, r.status, want, r.body)
			}
		}
		parallel := func(n int, fn func(i int)) {
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { fn(i) })
			}
			wg.Wait()
		}
		before := scrape(t, m)
		if value(before, "passnum_ledger_unsealed_events") == 0 {
			t.Error("the programme's events are not sealed yet, but the metrics say none waits")
		}

		// 24 live baskets, scanned or typed, and 3 sent back from offline.
		item := func(i int) map[string]string {
			if i%2 == 1 {
				return e.typed(i)
			}
			return e.code(i)
		}
		parallel(27, func(i int) { send(keyOf(i), i >= 24, item(i), http.StatusCreated) })
		// Then 6 of them sent again (replays), 5 vouchers already used sent
		// live and 2 offline (the offline conflicts).
		parallel(13, func(i int) {
			switch {
			case i < 6:
				send(keyOf(i), false, item(i), http.StatusCreated)
			default:
				send(newKey(), i >= 11, e.code(i), http.StatusUnprocessableEntity)
			}
		})

		got := scrape(t, m)
		for _, c := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"passnum_baskets_total", []string{"scanned", "live", "outcome", "accepted"}, 24},
			{"passnum_baskets_total", []string{"scanned", "offline", "outcome", "accepted"}, 3},
			{"passnum_baskets_total", []string{"scanned", "live", "outcome", "refused"}, 5},
			{"passnum_baskets_total", []string{"scanned", "offline", "outcome", "refused"}, 2},
			{"passnum_voucher_refusals_total", []string{"reason", "already_redeemed"}, 7},
			{"passnum_idempotent_replays_total", nil, 6},
			{"passnum_redemption_duration_seconds", nil, 40},
			{"passnum_http_requests_total", []string{"route", "/api/v1/redemptions", "method", "POST", "status", "201"}, 33},
			{"passnum_http_requests_total", []string{"route", "/api/v1/redemptions", "method", "POST", "status", "422"}, 7},
		} {
			if v := value(got, c.name, c.labels...); v != c.want {
				t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
			}
		}
		if value(got, "passnum_ledger_unsealed_events") <= value(before, "passnum_ledger_unsealed_events") {
			t.Error("27 redemptions later, the unsealed events did not grow")
		}
		for _, name := range []string{"go_goroutines", "go_sql_open_connections", "go_sql_wait_count_total"} {
			if got[name] == nil {
				t.Errorf("%s is missing from the metrics", name)
			}
		}

		e.Seal(t)
		sealed := scrape(t, m)
		if v := value(sealed, "passnum_ledger_unsealed_events"); v != 0 {
			t.Errorf("after sealing, %v events still unsealed", v)
		}
		if sealed["passnum_ledger_seconds_since_checkpoint"] == nil {
			t.Error("after a checkpoint, its age is not in the metrics")
		}
		if v := value(sealed, "passnum_ledger_lag_read_errors"); v != 0 {
			t.Errorf("reading the sealer's lag failed (%v)", v)
		}
	})
}

func keyOf(i int) string { return "metrics-basket-" + itoa(int64(i)) }

// TestMetricsCountRateLimits: a basket held back by its venue's limit is
// counted under that limit, and an unknown path under one series, not its
// own.
func TestMetricsCountRateLimits(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		m := metrics.New(db)
		limits := unlimited
		limits.RedemptionsPerVenue = api.Limit{Burst: 1, Every: time.Hour}
		e := newEnv(t, db, 1, func(cfg *api.Config) { cfg.Metrics = m; cfg.RateLimits = &limits })
		e.redeem(t, "venue1", e.code(0)).expect(t, http.StatusCreated, "")
		e.redeem(t, "venue1", e.code(1)).expect(t, http.StatusTooManyRequests, "rate_limited")
		for _, p := range []string{"/wp-login.php", "/.env"} {
			e.do(t, request{method: "GET", path: p, unrouted: true}).expect(t, http.StatusNotFound, "not_found")
		}
		got := scrape(t, m)
		if v := value(got, "passnum_rate_limited_total", "limit", "baskets_by_venue"); v != 1 {
			t.Errorf("baskets held back: %v, want 1", v)
		}
		if v := value(got, "passnum_baskets_total", "scanned", "live", "outcome", "accepted"); v != 1 {
			t.Errorf("a basket held back was judged: %v accepted, want 1", v)
		}
		if v := value(got, "passnum_http_requests_total", "route", "unmatched", "method", "GET", "status", "404"); v != 2 {
			t.Errorf("unknown paths: %v in the unmatched series, want 2", v)
		}
	})
}
