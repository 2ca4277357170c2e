package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"passnum/issuing"
)

// The basket as a volunteer holds it, at phone size: where a typed
// voucher's verdict appears, what the basket counts, what a voucher typed
// offline is worth, and where the screens start (issue #16, items 1, 2, 3
// and 6).

// onScreen tells whether the element matching sel is wholly in the
// viewport, above the navigation bar fixed at the bottom and clear of the
// basket's sticky button when that is shown.
func onScreen(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return eval[bool](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		const nav = document.getElementById("navigation").getBoundingClientRect();
		const bar = document.getElementById("actions-panier").getBoundingClientRect();
		const covered = bar.height > 0 && r.bottom > bar.top && r.top < bar.bottom;
		return r.height > 0 && r.top >= 0 && r.bottom <= Math.min(window.innerHeight, nav.top) && !covered; })()`, sel))
}

// waitFocus waits until the focus is on the element with that id.
func waitFocus(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	waitUntil(t, "focus on #"+id, func() (bool, string) {
		return eval[bool](t, ctx, fmt.Sprintf(`document.activeElement && document.activeElement.id === %q`, id)),
			"the focus is on " + eval[string](t, ctx, `document.activeElement ? document.activeElement.outerHTML.slice(0, 80) : ""`)
	})
}

// clearOfStickyBar checks that each voucher's "Retirer", reached with the
// keyboard, is scrolled clear of the sticky button and of the navigation.
func clearOfStickyBar(t *testing.T, ctx context.Context) {
	t.Helper()
	n := eval[int](t, ctx, `document.querySelectorAll("#panier button[data-item]").length`)
	for i := range n {
		covered := eval[bool](t, ctx, fmt.Sprintf(`(() => { const b = document.querySelectorAll("#panier button[data-item]")[%d];
			b.focus(); const r = b.getBoundingClientRect();
			const bar = document.getElementById("actions-panier").getBoundingClientRect();
			return r.bottom > bar.top && r.top < bar.bottom; })()`, i))
		if covered {
			t.Errorf("the sticky button (%q) covers voucher %d of the basket once focused", textOf(t, ctx, "#encaisser"), i+1)
		}
	}
}

// TestScannerTypedVerdict: a voucher typed by hand gets its verdict under
// the form, in view, focused and announced, accepted or refused; the basket
// lists the newest first, counts only what will be redeemed, and groups the
// refused vouchers to hand back, with no "…" for an amount never known.
func TestScannerTypedVerdict(t *testing.T) {
	p := newScannerProgramme(t)
	mustRun(t, p.env, "void", p.vouchers[2].Number, "--reason", "perdu")
	base := startServer(t, p.env)
	ctx := newBrowser(t) // no camera: the form is open
	pairByHand(t, ctx, base, p.pairingCode(t, 1))
	cameraSettled(t, ctx, "#camera-scanner")

	wrong := p.vouchers[3]
	wrong.VerificationCode = "ABCD-EFGH" // a well-formed code, but not this voucher's
	for _, c := range []struct {
		v       issuing.PrintedVoucher
		refused bool
		says    string
	}{
		{p.vouchers[0], false, "Chèque valable : 10,00 €"},
		{p.vouchers[2], true, "annulé"},
		{wrong, true, "code de vérification"},
		{p.vouchers[1], false, "Chèque valable : 10,00 €"},
	} {
		enter(t, ctx, c.v)
		waitText(t, ctx, "#verdict", c.v.Number, c.says)
		if !onScreen(t, ctx, "#verdict") {
			t.Errorf("the verdict on typed voucher %s is out of view: %s", c.v.Number, eval[string](t, ctx, `JSON.stringify([document.getElementById("verdict").getBoundingClientRect(), document.getElementById("actions-panier").getBoundingClientRect(), document.getElementById("navigation").getBoundingClientRect(), window.innerHeight, window.scrollY])`))
		}
		waitFocus(t, ctx, "verdict")
		waitText(t, ctx, "#annonce", c.v.Number, c.says)
		if got := eval[bool](t, ctx, `document.getElementById("verdict").classList.contains("refused")`); got != c.refused {
			t.Errorf("typed voucher %s shown refused: %v, want %v", c.v.Number, got, c.refused)
		}
		if !eval[bool](t, ctx, `document.getElementById("verdict").previousElementSibling.id === "form-saisie"`) {
			t.Error("the verdict on a typed voucher is not under the form")
		}
	}
	first := textOf(t, ctx, "#liste-panier li")
	if !strings.Contains(first, p.vouchers[1].Number) {
		t.Errorf("the basket's first item is not the newest voucher %s:\n%s", p.vouchers[1].Number, first)
	}
	waitText(t, ctx, "#titre-panier", "Panier : 2 chèques")
	waitText(t, ctx, "#encaisser", "Encaisser 2 chèques — 20 €")
	refused := waitText(t, ctx, "#refuses", "2 refusés, à rendre à la personne", p.vouchers[2].Number, wrong.Number)
	if strings.Contains(refused, "…") || strings.Contains(textOf(t, ctx, "#verdict"), "…") {
		t.Errorf("a refused voucher shows \"…\" for its amount:\n%s", refused)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#liste-panier li.refused").length`); n != 0 {
		t.Errorf("%d refused vouchers among those to redeem", n)
	}
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("refuses").scrollIntoView({block: "start"})`))
	screenshot(t, ctx, "scanner-saisie-refus")
	checkAccessibility(t, ctx)
}

// TestScannerOfflineTypedAmount: a voucher typed while the server holds
// the device back is judged on the device, without its value: the button,
// the result and the day's list of waiting baskets say it is to be
// confirmed, never "0 €".
func TestScannerOfflineTypedAmount(t *testing.T) {
	p := newScannerProgramme(t)
	proxy := newCutProxy(t, startServer(t, p.env))
	ctx := newBrowser(t)
	pairByHand(t, ctx, proxy.url, p.pairingCode(t, 1))
	cameraSettled(t, ctx, "#camera-scanner")
	proxy.hold.Store(true)

	const toConfirm = "1 chèque à confirmer (montant vérifié au retour du réseau)"
	v := p.vouchers[0]
	enter(t, ctx, v)
	waitText(t, ctx, "#verdict", v.Number, "Saisi hors ligne", "Montant à confirmer")
	for sel, want := range map[string]string{"#encaisser": "Encaisser " + toConfirm, "#panier": "Montant à confirmer"} {
		if got := waitText(t, ctx, sel, want); strings.Contains(got, "0 €") || strings.Contains(got, "0,00 €") {
			t.Errorf("%s says 0 € for a typed voucher of unknown value: %q", sel, got)
		}
	}
	// More of them: the button's longer text takes more room, still
	// clear of the basket.
	for _, v := range p.vouchers[1:6] {
		enter(t, ctx, v)
		waitText(t, ctx, "#verdict", v.Number, "Saisi hors ligne")
	}
	waitText(t, ctx, "#encaisser", "Encaisser 6 chèques à confirmer")
	clearOfStickyBar(t, ctx)

	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Enregistré hors ligne")
	if got := waitText(t, ctx, "#ecran-resultat", "6 chèques à confirmer (montant vérifié au retour du réseau)"); strings.Contains(got, "0 €") {
		t.Errorf("the result says 0 €: %q", got)
	}
	clickID(t, ctx, "nouveau-panier")
	click(t, ctx, `#navigation button[data-ecran="journee"]`)
	if got := waitText(t, ctx, "#liste-attente", "6 chèques à confirmer (montant vérifié au retour du réseau)"); strings.Contains(got, "0,00 €") {
		t.Errorf("the waiting basket says 0 €: %q", got)
	}
}

// TestScannerResultScreens: the answer to a long basket, sent from the
// bottom of the page, starts at the top of the page with its header; in
// the basket, the sticky button never covers a voucher brought into view.
func TestScannerResultScreens(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	ctx := newBrowser(t)
	pairByHand(t, ctx, base, p.pairingCode(t, 1))
	cameraSettled(t, ctx, "#camera-scanner")
	for _, v := range p.vouchers[:6] {
		enter(t, ctx, v)
		waitText(t, ctx, "#verdict", v.Number, "Chèque valable")
	}
	waitText(t, ctx, "#encaisser", "Encaisser 6 chèques — 60 €")

	clearOfStickyBar(t, ctx)

	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`))
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Accepté — 60 €")
	waitFocus(t, ctx, "titre-resultat")
	if y := eval[float64](t, ctx, `window.scrollY`); y != 0 {
		t.Errorf("the result screen opens scrolled by %v px: its header is cut", y)
	}
	if !onScreen(t, ctx, ".entete") || !onScreen(t, ctx, "#titre-resultat") {
		t.Error("the result screen's header or title is out of view")
	}
}
