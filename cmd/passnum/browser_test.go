package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the pages that passnum serves in headless
// Chromium, as a person on a phone would use them. They need Debian's
// chromium (`make test-tools` installs it); they never skip without it, so
// that a machine that cannot run them says so.

var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite the screenshots in docs/screenshots/")

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium (/usr/bin/chromium, flags --headless
// --no-sandbox --disable-gpu --disable-background-networking, plus opts)
// and returns a chromedp context cancelled at test end. If chromium is
// missing it fails with "install chromium (apt-get install -y chromium)" —
// never skips. An uncaught JavaScript exception in the page fails the test:
// it is a bug a user would meet.
func newBrowser(t testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("no browser at %s: install chromium (apt-get install -y chromium)", chromiumPath)
	}
	all := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // tests run as root, as CI does
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(all, opts...)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens its tab
		cancel()
		cancelAlloc()
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	var (
		mu         sync.Mutex
		stopped    bool
		exceptions []string
		console    []string
	)
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			exceptions = append(exceptions, text+" at "+d.URL)
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			console = append(console, string(ev.Type)+": "+strings.Join(args, " "))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		cancel()
		cancelAlloc()
		for _, e := range exceptions {
			t.Errorf("uncaught JavaScript exception: %s", e)
		}
		if t.Failed() {
			for _, c := range console {
				t.Logf("console.%s", c)
			}
		}
	})
	return ctx
}

// phone sets a 360×640 mobile viewport with touch.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
}

var axe = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	return string(b), err
})

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAccessibility runs the vendored axe-core on the current page and
// fails on any serious or critical violation, listing them.
func checkAccessibility(t *testing.T, ctx context.Context) {
	t.Helper()
	src, err := axe()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	// Injected through the DevTools protocol, which the page's CSP does not
	// govern: the page itself never loads it.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		t.Fatal(err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src+"\n;0")); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + " — " + n.failureSummary)})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	for _, v := range found {
		t.Errorf("accessibility (%s) %s: %s\n\t%s", v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// screenshot saves a PNG of the viewport to docs/screenshots/NAME.png when
// -update-screenshots is given.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
