package main

import (
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScannerOfflineLabelPerDepartment: a venue labelled for 78 and 92,
// suspended by 78 only. Offline, the scanner refuses 78's voucher and
// accepts 92's, as the server does: each département's label stops only
// its own vouchers.
func TestScannerOfflineLabelPerDepartment(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PASSNUM_DATA_DIR=" + dir}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "department", "add", "92", "Hauts-de-Seine")
	mustRun(t, env, "venue", "add", "Médiathèque François Mitterrand", "--department", "78,92",
		"--siret", "12345678900015", "--iban", "FR7630006000011234567890189")
	for _, d := range []string{"78", "92"} {
		mustRun(t, env, "issue", "--department", d, "--chequiers", "1", "--vouchers", "10", "--value", "10.00",
			"--valid-until", nextYearEnd(), "--no-activation")
	}
	mustRun(t, env, "venue", "suspend", "1", "--department", "78", "--reason", "enquête en cours")
	svc, _ := issuingOf(t, env)
	var cells []image.Image
	var numbers []string
	for batch, d := range []string{"78", "92"} {
		pc, err := svc.Chequier(t.Context(), fmt.Sprintf("%s-%d-000001", d, time.Now().Year()))
		if err != nil {
			t.Fatal(err)
		}
		cells = append(cells, printedBatch(t, env, batch+1, pc.Vouchers[:1])...)
		numbers = append(numbers, pc.Vouchers[0].Number)
	}
	p := &scannerProgramme{env: env, dir: dir}
	backend := startServer(t, env)
	proxy := newCutProxy(t, backend)
	profile := t.TempDir()
	{
		ctx := newBrowser(t, chromedp.UserDataDir(profile))
		pairByHand(t, ctx, proxy.url, p.pairingCode(t, 1))
		eval[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`)
		click(t, ctx, `#navigation button[data-ecran="appareil"]`)
		waitText(t, ctx, "#info-synchro", "Clés et liste des chèques utilisés reçues")
		chromedp.Cancel(ctx)
	}
	proxy.down.Store(true)
	ctx := newBrowser(t, append(fakeCamera(writeY4M(t, cells, 10)), chromedp.UserDataDir(profile))...)
	do(t, ctx, phone(), chromedp.Navigate(proxy.url+"/scanner/"))
	waitText(t, ctx, "#bandeau-hors-ligne", "Hors ligne")
	waitText(t, ctx, "#panier", numbers[0], "suspendue pour les chèques du département 78")
	waitText(t, ctx, "#panier", numbers[1], "VÉRIFIÉ HORS LIGNE")
	waitText(t, ctx, "#encaisser", "Encaisser 1 chèque — 10 €")
}
