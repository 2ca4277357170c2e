package main

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestHomePage: whoever opens the server's address on a phone gets a French
// page, not the API's JSON, whose ways in (the scanner, the staff pages,
// where to find the venues) are on the first screen and reached with the
// keyboard, in that order.
func TestHomePage(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "PASSNUM_VENUES_INFO=https://www.yvelines.fr/pass-numerique"}
	mustRun(t, env, "init")
	base := startServer(t, env)
	ctx := newBrowser(t)
	recordCSPViolations(t, ctx)
	adminDo(t, ctx, phone(), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if lang := adminValue(t, ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "fr" {
		t.Errorf("lang=%q", lang)
	}
	if title := adminValue(t, ctx, chromedp.Title()); title != "Accueil — Pass numérique" {
		t.Errorf("title %q", title)
	}
	screenshot(t, ctx, "home-phone")

	// inView is the link's text when all of it is in the viewport.
	const inView = `(() => { const a = document.activeElement; const r = a.getBoundingClientRect();
		return a.tagName === "A" && r.top >= 0 && r.bottom <= window.innerHeight ? a.getAttribute("href") + " " + a.textContent : ""; })()`
	want := []string{"/scanner/ Scanner les chèques", "/connexion Espace des départements et des auditeurs",
		"/lieux Où utiliser ses chèques", "https://www.yvelines.fr/pass-numerique https://www.yvelines.fr/pass-numerique"}
	for _, w := range want[:2] {
		href := strings.Fields(w)[0]
		if !adminValue(t, ctx, chromedp.Evaluate[bool](`(() => { const r = document.querySelector('a[href="`+href+`"]').getBoundingClientRect();
			return r.top >= 0 && r.bottom <= window.innerHeight; })()`)) {
			t.Errorf("%s is not on the first screen of a phone", href)
		}
	}
	// From the top: the skip link, the site's name, then the ways in.
	var reached []string
	for range 8 {
		adminDo(t, ctx, chromedp.KeyEvent(kb.Tab))
		if got := adminValue(t, ctx, chromedp.Evaluate[string](inView)); got != "" {
			reached = append(reached, got)
		}
	}
	var ways []string
	for _, r := range reached {
		for _, w := range want {
			if r == w {
				ways = append(ways, r)
			}
		}
	}
	if strings.Join(ways, "\n") != strings.Join(want, "\n") {
		t.Errorf("the keyboard reaches, in view:\n%s\nwant, in this order:\n%s", strings.Join(reached, "\n"), strings.Join(want, "\n"))
	}
	adminCheckPage(t, ctx, "home")

	// Enter on the staff link opens the login page.
	adminDo(t, ctx, phone(), chromedp.Focus(chromedp.CSS(`a[href="/connexion"]`)), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("key")))
}

// TestDirectoryPage: the public list of venues works with JavaScript off,
// as on the cheapest phone: the search is a plain form, its results a
// plain list; it passes axe-core and fits a phone.
func TestDirectoryPage(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "venue", "add", "Médiathèque François Mitterrand", "--department", "78", "--siret", "12345678900015",
		"--iban", "FR7630006000011234567890189", "--address", "1 place de la Médiathèque, 78190 Trappes")
	mustRun(t, env, "venue", "add", "Association Emmaüs Connect", "--department", "78", "--siret", "78210456700014",
		"--iban", "FR7610107001011234567890129", "--address", "3 rue des Lilas, 78000 Versailles")
	base := startServer(t, env)
	ctx := newBrowser(t)
	scripts := func(off bool) {
		t.Helper()
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off}); err != nil {
			t.Fatal(err)
		}
	}
	adminDo(t, ctx, phone(), chromedp.Navigate(base+"/"))
	scripts(true)
	adminDo(t, ctx, chromedp.Navigate(base+"/lieux"), chromedp.WaitVisible(chromedp.ID("q")))
	text := func(sel string) string {
		t.Helper()
		return adminValue(t, ctx, chromedp.Text(chromedp.CSS(sel)))
	}
	if got := text("#results-title"); got != "2 lieux" {
		t.Errorf("all venues: %q", got)
	}
	adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("q"), "78190"))
	if _, err := chromedp.RunResponse(ctx, chromedp.Submit(chromedp.ID("q"))); err != nil {
		t.Fatal(err)
	}
	if got := text("#results-title"); got != "1 lieu" {
		t.Errorf("by postal code: %q", got)
	}
	if got := text("ul.directory"); !strings.Contains(got, "Médiathèque François Mitterrand") || strings.Contains(got, "Emmaüs") {
		t.Errorf("results: %q", got)
	}
	scripts(false)
	recordCSPViolations(t, ctx)
	adminDo(t, ctx, chromedp.Reload())
	adminCheckPage(t, ctx, "lieux")
}
