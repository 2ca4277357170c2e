package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestScannerModules: every module the scanner's page imports, directly or
// through another, is served, preloaded by the page and kept by its service
// worker, so that the page opens offline; and the worker keeps no file that
// is not served.
func TestScannerModules(t *testing.T) {
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	anon := &browser{e: e}
	get := func(path string) string {
		t.Helper()
		r := anon.send(t, "GET", path, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.status)
		}
		return string(r.body)
	}
	page, worker := get("/scanner/"), get("/scanner/sw.js")
	// The page names its files under the release's hash, and its modules
	// import each other relatively, under the same hash.
	app := regexp.MustCompile(`<script type="module" src="(h/[0-9a-f]+/)app.js"></script>`).FindStringSubmatch(page)
	if app == nil {
		t.Fatal("index.html loads no app.js under a hash")
	}
	dir := app[1]

	imports := regexp.MustCompile(`(?m)^import .* from "\./([^"]+)";$`)
	modules := map[string]bool{}
	for next := []string{"app.js"}; len(next) > 0; next = next[1:] {
		if modules[next[0]] {
			continue
		}
		modules[next[0]] = true
		for _, m := range imports.FindAllStringSubmatch(get("/scanner/"+dir+next[0]), -1) {
			next = append(next, m[1])
		}
	}
	if len(modules) < 10 {
		t.Fatalf("app.js reaches only %v", modules)
	}
	files := regexp.MustCompile(`(?s)const FILES = \[(.*?)\];`).FindStringSubmatch(worker)
	if files == nil {
		t.Fatal("sw.js has no FILES")
	}
	kept := map[string]bool{}
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(files[1], -1) {
		kept[m[1]] = true
		get("/scanner/" + strings.TrimPrefix(m[1], "./"))
	}
	for m := range modules {
		if !kept[dir+m] {
			t.Errorf("sw.js does not keep %s: the page would not open offline", dir+m)
		}
		if m != "app.js" && !strings.Contains(page, `<link rel="modulepreload" href="`+dir+m+`">`) {
			t.Errorf("index.html does not preload %s", m)
		}
	}
}
