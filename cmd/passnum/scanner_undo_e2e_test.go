package main

import (
	"fmt"
	"image"
	"testing"
)

// The undo screen, the camera button and the messages that say what to do
// next, as a volunteer holding the phone sees them (issue #16, items 4, 5
// and 7).

// inView is a JS expression: the element is on screen, wholly, and above
// the navigation bar fixed at the bottom.
func inView(sel string) string {
	return fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		const nav = document.getElementById("navigation");
		const bottom = nav.hidden ? window.innerHeight : nav.getBoundingClientRect().top;
		return r.height > 0 && r.top >= 0 && r.bottom <= bottom; })()`, sel)
}

// TestScannerUndoScreen: each reason's radio button sits on the line of its
// text; an undo sent without a reason says so by the form, in view above
// the navigation bar, and the message takes the focus.
func TestScannerUndoScreen(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	ctx := newBrowser(t)
	pairByHand(t, ctx, base, p.pairingCode(t, 1))
	enter(t, ctx, p.vouchers[0])
	waitText(t, ctx, "#panier", "Chèque valable : 10,00 €")
	clickID(t, ctx, "encaisser")
	waitText(t, ctx, "#titre-resultat", "Accepté — 10 €")
	clickID(t, ctx, "annuler-resultat")
	waitText(t, ctx, "#texte-annulation", "10,00 €", "1 chèque")

	// The radio's middle is within its text's line, and left of it.
	beside := eval[[]bool](t, ctx, `[...document.querySelectorAll("#form-annulation .choix")].map((label) => {
		const box = label.querySelector("input").getBoundingClientRect();
		const range = document.createRange();
		range.selectNodeContents(label.lastChild);
		const text = range.getBoundingClientRect();
		const middle = (box.top + box.bottom) / 2;
		return middle > text.top && middle < text.bottom && box.right <= text.left;
	})`)
	if len(beside) != 4 {
		t.Fatalf("%d reasons, want 4", len(beside))
	}
	for i, ok := range beside {
		if !ok {
			t.Errorf("reason %d: its radio button is not beside its text", i+1)
		}
	}

	click(t, ctx, "#form-annulation button[type=submit]")
	waitText(t, ctx, "#message-annulation", "Choisissez pourquoi vous annulez cet encaissement.")
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "message-annulation" {
		t.Errorf("the focus is on %q, not on the message", id)
	}
	if !eval[bool](t, ctx, inView("#message-annulation")) {
		t.Error("the message is not in view above the navigation bar")
	}
	if !eval[bool](t, ctx, `document.querySelector("#form-annulation").contains(document.getElementById("message-annulation"))`) {
		t.Error("the message is not by the form")
	}
	click(t, ctx, `input[value="Chèque scanné par erreur"]`)
	checkAccessibility(t, ctx)
	click(t, ctx, "#form-annulation button[type=submit]")
	waitText(t, ctx, "#titre-resultat", "Encaissement annulé")
}

// TestScannerCameraButton: the button under the basket says what a tap
// does to the camera as it is: stop it while it runs, start it once
// stopped, try again when there is none.
func TestScannerCameraButton(t *testing.T) {
	t.Run("Camera", func(t *testing.T) {
		p := newScannerProgramme(t)
		base := startServer(t, p.env)
		blank := image.NewGray(image.Rect(0, 0, 8, 8)) // nothing to read
		ctx := newBrowser(t, fakeCamera(writeY4M(t, []image.Image{fitFrame(blank)}, 2))...)
		pairByHand(t, ctx, base, p.pairingCode(t, 1))
		waitText(t, ctx, "#camera-scanner", "Visez le QR code du chèque.")
		waitText(t, ctx, "#bouton-camera", "Arrêter la caméra")
		clickID(t, ctx, "bouton-camera")
		waitText(t, ctx, "#camera-scanner", "Caméra arrêtée.")
		waitText(t, ctx, "#bouton-camera", "Démarrer la caméra")
		clickID(t, ctx, "bouton-camera")
		waitText(t, ctx, "#camera-scanner", "Visez le QR code du chèque.")
		waitText(t, ctx, "#bouton-camera", "Arrêter la caméra")
	})
	t.Run("NoCamera", func(t *testing.T) {
		p := newScannerProgramme(t)
		base := startServer(t, p.env)
		ctx := newBrowser(t)
		pairByHand(t, ctx, base, p.pairingCode(t, 1))
		waitText(t, ctx, "#camera-scanner", "Aucune caméra")
		waitText(t, ctx, "#bouton-camera", "Réessayer la caméra")
		clickID(t, ctx, "bouton-camera")
		cameraSettled(t, ctx, "#camera-scanner")
		waitText(t, ctx, "#camera-scanner", "Aucune caméra")
		waitText(t, ctx, "#bouton-camera", "Réessayer la caméra")
	})
}

// TestScannerLockoutWait: once ten wrong codes have locked the venue's
// manual entry, a typed voucher is refused with the real wait, in
// minutes, not "a few minutes".
func TestScannerLockoutWait(t *testing.T) {
	p := newScannerProgramme(t)
	base := startServer(t, p.env)
	ctx := newBrowser(t)
	pairByHand(t, ctx, base, p.pairingCode(t, 1))
	for _, v := range p.vouchers {
		v.VerificationCode = "ZZZZ-ZZZZ"
		enter(t, ctx, v)
		waitText(t, ctx, "#panier", v.Number)
	}
	waitText(t, ctx, "#refuses", "10 refusés, à rendre à la personne") // none to redeem
	clickID(t, ctx, "vider")
	waitText(t, ctx, "#vider", "Confirmer")
	clickID(t, ctx, "vider")
	waitText(t, ctx, "#titre-panier", "Panier")
	enter(t, ctx, p.vouchers[0])
	waitText(t, ctx, "#panier", "Trop de saisies incorrectes", "Réessayez dans 15 minutes", "scannez le QR code")
}
