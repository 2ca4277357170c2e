package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the pages that passnum serves in headless
// Chromium, as a person on a phone would use them. They need Debian's
// chromium (`make test-tools` installs it); they never skip without it, so
// that a machine that cannot run them says so.

var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite the screenshots in docs/screenshots/")

const chromiumPath = "/usr/bin/chromium"

// patience is how long a browser test waits for what a person would see
// before it fails. Every wait polls a condition, so a page that works ends
// the wait at once; the budget only decides how long a broken page takes to
// fail. It is generous because CI's 2-core machine runs another package's
// tests beside these: there, Chromium starting, a camera's first frame or
// an answer from `passnum serve` on SQLite can take many seconds (the
// 10 and 20 s budgets each wait had before were one cause of
// TestScannerCamera failing by chance in a full run).
const patience = 2 * time.Minute

// waitUntil polls cond until it holds, and fails after patience with what
// cond last saw and what was wanted.
func waitUntil(t testing.TB, want string, cond func() (ok bool, seen string)) string {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		ok, seen := cond()
		if ok {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still no %s; seen: %s", patience, want, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click clicks the first element matching sel as a finger would, at its
// centre, once it can be hit there: shown, enabled, scrolled into view,
// still between two frames, and the topmost element at that point. A bare
// chromedp.Click computes the point once and taps it even if the element
// moved or something covers it, so on a busy machine a click on a page
// still laying out landed beside its button and the test waited in vain.
// A button that stays covered is a bug a person would meet: the wait fails
// and says what covers it.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	js := fmt.Sprintf(`new Promise((resolve) => {
		const el = document.querySelector(%q);
		if (!el) return resolve({why: "no element"});
		if (el.closest("[hidden]") || el.getClientRects().length === 0) return resolve({why: "hidden"});
		if (el.disabled) return resolve({why: "disabled"});
		el.scrollIntoViewIfNeeded(true);
		const before = el.getBoundingClientRect();
		requestAnimationFrame(() => requestAnimationFrame(() => {
			const r = el.getBoundingClientRect();
			if (r.x !== before.x || r.y !== before.y || r.width !== before.width || r.height !== before.height) return resolve({why: "moving"});
			const x = r.left + r.width / 2, y = r.top + r.height / 2;
			const top = document.elementFromPoint(x, y);
			if (!top || !(el === top || el.contains(top) || (el.labels && [...el.labels].some((l) => l.contains(top))))) {
				return resolve({why: "covered by " + (top ? top.tagName.toLowerCase() + (top.id ? "#" + top.id : "") : "nothing")});
			}
			resolve({x, y});
		}));
	})`, sel)
	type point struct {
		X   float64 `json:"x"`
		Y   float64 `json:"y"`
		Why string  `json:"why"`
	}
	var at point
	waitUntil(t, sel+" ready to be clicked", func() (bool, string) {
		at = eval[point](t, ctx, js)
		return at.Why == "", sel + ": " + at.Why
	})
	do(t, ctx, chromedp.MouseClickXY(at.X, at.Y))
}

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
		chromedp.WSURLReadTimeout(patience), // a first start on a busy machine builds caches
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

// TestClickWaitsUntilHittable: a button under a notice that goes away a
// moment later (as a page still laying out) is clicked once it can be hit,
// not the notice over it.
func TestClickWaitsUntilHittable(t *testing.T) {
	ctx := newBrowser(t)
	page := `<!doctype html><button id="b" onclick="document.title='button'">OK</button>
		<div id="notice" onclick="document.title='notice'" style="position:fixed;inset:0;background:#fff">…</div>
		<script>setTimeout(() => document.getElementById("notice").remove(), 500)</script>`
	do(t, ctx, phone(), chromedp.Navigate("data:text/html,"+url.PathEscape(page)))
	click(t, ctx, "#b")
	if got := eval[string](t, ctx, `document.title`); got != "button" {
		t.Errorf("the click reached %q, want the button", got)
	}
}
