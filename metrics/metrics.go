// Package metrics is what an operator watches of a running passnum: the
// Prometheus text format on its own address (passnum serve
// --metrics-listen), never on the public one. The API counts requests,
// baskets, refusals, replays and rate-limit refusals as they happen; the
// ledger's sealer lag and the database pool are read when Prometheus
// scrapes, so they are never stale.
//
// Labels take few values, each from a closed list (a route template, a
// refusal reason code, a limit's name), never a voucher, a venue or a key:
// a label per venue would make thousands of series and tell the metrics
// reader who redeemed where, which the ledger, not the monitoring, records.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"passnum/ledger"
	"passnum/redemption"
)

// Metrics holds the installation's collectors. A nil *Metrics counts
// nothing: the API and its tests run without one.
type Metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	redemptions prometheus.Histogram
	baskets     *prometheus.CounterVec
	refusals    *prometheus.CounterVec
	replays     prometheus.Counter
	rateLimited *prometheus.CounterVec
}

// New makes the collectors and registers, beside them, the Go runtime's,
// the process's, the database pool's and the sealer's, read from db at
// each scrape.
func New(db *ledger.DB) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passnum_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		redemptions: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "passnum_redemption_duration_seconds",
			Help: "Time to judge and record a basket (accepted or refused), replays included.",
			// A volunteer waits for this: the interesting range is 1 ms to a
			// few seconds (SQLite behind a writer waits up to its busy timeout).
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		baskets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passnum_baskets_total",
			Help: "Baskets judged, replays excluded: scanned live or offline (sent later with their scan time), accepted or refused. Offline and refused are the offline conflicts: a venue that will not be paid for them.",
		}, []string{"scanned", "outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passnum_voucher_refusals_total",
			Help: "Vouchers refused in a basket, by reason code (the API's items[].reason), replays excluded.",
		}, []string{"reason"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passnum_idempotent_replays_total",
			Help: "Baskets sent again with an Idempotency-Key already answered: the first answer was sent back.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passnum_rate_limited_total",
			Help: "Requests refused with 429 by a rate limit, by limit.",
		}, []string{"limit"}),
	}
	m.registry.MustRegister(m.requests, m.redemptions, m.baskets, m.refusals, m.replays, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), string(db.Dialect())), &sealerLag{db: db})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Request counts an answered request; route is the route template
// ("/api/v1/redemptions"), "" for a path no route matched.
func (m *Metrics) Request(route, method string, status int) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched" // any path a scanner of the internet tries: one series
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
}

// Basket records a basket's judgment: offline when the device sent it
// later with the time it was scanned.
func (m *Metrics) Basket(res redemption.Result, offline bool, took time.Duration) {
	if m == nil {
		return
	}
	m.redemptions.Observe(took.Seconds())
	if res.Replayed {
		m.replays.Inc()
		return
	}
	scanned, outcome := "live", "accepted"
	if offline {
		scanned = "offline"
	}
	if !res.Accepted {
		outcome = "refused"
	}
	m.baskets.WithLabelValues(scanned, outcome).Inc()
	for _, it := range res.Items {
		if !it.Accepted {
			m.refusals.WithLabelValues(it.Reason).Inc()
		}
	}
}

// RateLimited counts a request a limit refused.
func (m *Metrics) RateLimited(limit string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(limit).Inc()
}

// sealerLag reads, at each scrape, how far the sealer is behind: events
// written but not yet numbered and chained, and the age of the last signed
// checkpoint. Both grow without bound when no replica seals (a signing key
// missing, the sealer failing): the first thing to alert on.
type sealerLag struct{ db *ledger.DB }

var (
	unsealedDesc = prometheus.NewDesc("passnum_ledger_unsealed_events",
		"Ledger events not yet sealed (numbered, chained and covered by a checkpoint to come).", nil, nil)
	checkpointAgeDesc = prometheus.NewDesc("passnum_ledger_seconds_since_checkpoint",
		"Seconds since the last signed checkpoint of the ledger (absent before the first).", nil, nil)
	lagErrorDesc = prometheus.NewDesc("passnum_ledger_lag_read_errors",
		"1 when the last scrape could not read the sealer's lag from the database.", nil, nil)
)

func (s *sealerLag) Describe(ch chan<- *prometheus.Desc) {
	ch <- unsealedDesc
	ch <- checkpointAgeDesc
	ch <- lagErrorDesc
}

func (s *sealerLag) Collect(ch chan<- prometheus.Metric) {
	// A scrape must not hang on a database that is down: the pool's own
	// metrics and the error gauge say so instead.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lag, err := s.db.SealerLag(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(unsealedDesc, prometheus.GaugeValue, float64(lag.Unsealed))
		if !lag.LastCheckpoint.IsZero() {
			ch <- prometheus.MustNewConstMetric(checkpointAgeDesc, prometheus.GaugeValue, s.db.Now().Sub(lag.LastCheckpoint).Seconds())
		}
	}
	ch <- prometheus.MustNewConstMetric(lagErrorDesc, prometheus.GaugeValue, failed)
}
