package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestServeMetrics: with --metrics-listen, serve says where its metrics
// are and serves them there, in the Prometheus text format, counting the
// requests it answered; the public address has no /metrics.
func TestServeMetrics(t *testing.T) {
	p := newScannerProgramme(t)
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), p.env...)
	stdout, _ := startWatched(t, cmd)
	base, ok := strings.CutPrefix(<-stdout, "listening on ")
	if !ok {
		t.Fatalf("serve said %q", base)
	}
	at := regexp.MustCompile(`^metrics on (http://\S+/metrics)$`).FindStringSubmatch(<-stdout)
	if at == nil {
		t.Fatal("serve says nowhere where its metrics are")
	}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for range 3 {
		if code, _ := get(base + "/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz: %d", code)
		}
	}
	if code, _ := get(base + "/metrics"); code != http.StatusNotFound {
		t.Errorf("the public address serves /metrics: %d", code)
	}
	code, body := get(at[1])
	if code != http.StatusOK {
		t.Fatalf("%s: %d", at[1], code)
	}
	for _, want := range []string{
		`passnum_http_requests_total{method="GET",route="/healthz",status="200"} 3`,
		`passnum_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		"# TYPE passnum_ledger_unsealed_events gauge",
		"# TYPE passnum_redemption_duration_seconds histogram",
		`go_sql_open_connections{db_name="sqlite"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the metrics lack %q", want)
		}
	}
}
