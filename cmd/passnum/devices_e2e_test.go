package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"passnum/accounts/accountstest"
	"passnum/archive"
	"passnum/voucher"
)

// TestVenueDevicesPage: a venue's manager, invited by email, associates a
// device from the page /appareils (an empty name is marked on its field),
// the code is shown as a QR code with its text; the volunteer's phone
// pairs with it and redeems a voucher; the page lists the device with its
// last use; the archive downloaded from the page holds its receipt; the
// manager dissociates it, confirming in place, and the phone
// can no longer redeem. Each state of the page passes axe-core and fits a
// phone.
func TestVenueDevicesPage(t *testing.T) {
	smtp, env, base := peopleServer(t)
	mustRun(t, env, "venue", "add", "Médiathèque François Mitterrand", "--department", "78",
		"--siret", "12345678900015", "--iban", "FR7630006000011234567890189")
	mustRun(t, env, "issue", "--department", "78", "--chequiers", "1", "--vouchers", "5", "--value", "10.00",
		"--valid-until", nextYearEnd(), "--no-activation")
	vouchers := batchVouchers(t, env)
	const email = "responsable@mediatheque.fr"
	mustRun(t, env, "user", "invite", email, "--role", "venue_manager", "--venue", "1", "--public-url", base)
	mail := smtp.Next(t, patience).Read(t)
	_, token, _ := strings.Cut(mail.Links()[0], "#")
	if code, body := postJSON(t, base+"/invitation", `{"token":"`+token+`","password":"`+accountstest.Password+`"}`); code != 200 {
		t.Fatalf("accept: %d %s", code, body)
	}

	ctx := newBrowser(t)
	recordCSPViolations(t, ctx)
	adminDo(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/connexion"), chromedp.WaitVisible(chromedp.ID("email")))
	adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), accountstest.Password))
	click(t, ctx, "#login button[type=submit]")
	// A venue's manager lands on its redemptions and statements.
	adminWait(t, ctx, `location.pathname === "/encaissements" && document.readyState === "complete" && "ok"`)
	adminWait(t, ctx, `document.getElementById("history-total").innerText.includes("Aucun encaissement") && "ok"`)
	click(t, ctx, `header a[href="/appareils"]`)
	if got := adminWait(t, ctx, `document.getElementById("venue-one")?.innerText`); got != "Les appareils de Médiathèque François Mitterrand." {
		t.Errorf("the venue: %q", got)
	}
	adminWait(t, ctx, `document.querySelector("#devices p")?.innerText.includes("Aucun appareil") && "ok"`)
	adminCheckPage(t, ctx, "appareils")

	click(t, ctx, "#pair button[type=submit]")
	if msg := adminFieldError(t, ctx, "d-name"); !strings.Contains(msg, "Le nom de l'appareil") {
		t.Errorf("no name: %q", msg)
	}
	adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("d-name"), "téléphone de l’atelier"))
	click(t, ctx, "#pair button[type=submit]")
	if msg := adminSeen(t, ctx, "#pair-messages p.ok"); !strings.Contains(msg, "Code prêt pour « téléphone de l’atelier »") {
		t.Errorf("code made: %q", msg)
	}
	adminWait(t, ctx, `document.querySelector("#code-qr svg path")?.getAttribute("d").length > 1000 && "ok"`)
	code := adminWait(t, ctx, `document.getElementById("code-text").textContent`)
	if !strings.Contains(adminWait(t, ctx, `document.getElementById("pending").innerText`), "« téléphone de l’atelier »") {
		t.Error("the open code is not listed")
	}
	adminCheckPage(t, ctx, "appareils-code")

	// The volunteer's phone, in another tab, pairs with the code and redeems.
	phoneTab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	pairByHand(t, phoneTab, base, code)
	enter(t, phoneTab, vouchers[0])
	waitText(t, phoneTab, "#panier", "Chèque valable : 10,00 €")
	clickID(t, phoneTab, "encaisser")
	waitText(t, phoneTab, "#titre-resultat", "Accepté — 10 €")

	// The venue's archive, downloaded from the page, holds that
	// redemption's receipt, genuine by the programme's keys.
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, "#archive-link a")
	zip := adminDownload(t, filepath.Join(downloads, "dossier-lieu-1.zip"))
	_, db := issuingOf(t, env)
	ks, err := db.KeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := archive.Check(bytes.NewReader(zip), int64(len(zip)), ks); err != nil || rep.Receipts != 1 || rep.AcceptedCents != 1000 {
		t.Errorf("the page's archive: %+v %v", rep, err)
	}

	// The redemption on the manager's page, its statement of the month
	// still open, with its lines as CSV; a filter that leaves nothing says so.
	click(t, ctx, `header a[href="/encaissements"]`)
	if row := adminWait(t, ctx, `document.querySelector("#history-table tbody tr")?.innerText`); !strings.Contains(row, "10,00") || !strings.Contains(row, "encaissé") {
		t.Errorf("the history: %q", row)
	}
	if total := adminWait(t, ctx, `document.getElementById("history-total").innerText`); total != "1 encaissement, 10,00\u202f€ encaissés." {
		t.Errorf("the total: %q", total)
	}
	if st := adminWait(t, ctx, `document.getElementById("statement-items")?.innerText`); !strings.Contains(st, "Département 78 : 10,00") ||
		!strings.Contains(st, "mois en cours") || strings.Contains(st, "Relevé PDF") {
		t.Errorf("the statement: %q", st)
	}
	adminCheckPage(t, ctx, "encaissements")
	click(t, ctx, `#statement-items a`)
	lines := string(adminDownload(t, filepath.Join(downloads, "settlement-78-"+time.Now().In(voucher.Paris()).Format("2006-01")+"-venue-1.csv")))
	if !strings.Contains(lines, "Médiathèque François Mitterrand") || !strings.Contains(lines, ",1000,10.00") {
		t.Errorf("the statement's CSV:\n%s", lines)
	}
	adminDo(t, ctx, chromedp.SetValue(chromedp.ID("h-status"), "reversed"))
	click(t, ctx, "#history button[type=submit]")
	adminWait(t, ctx, `document.getElementById("history-total").innerText === "Aucun encaissement pour ces jours." && "ok"`)
	adminDo(t, ctx, chromedp.SetValue(chromedp.ID("h-to"), "2020-01-01"))
	click(t, ctx, "#history button[type=submit]")
	if msg := adminFieldError(t, ctx, "h-to"); !strings.Contains(msg, "avant le premier") {
		t.Errorf("a day before the first: %q", msg)
	}

	adminDo(t, ctx, chromedp.Navigate(base+"/appareils"))
	row := adminWait(t, ctx, `document.querySelector("#devices-table tbody tr")?.innerText`)
	if !strings.Contains(row, "téléphone de l’atelier") || !strings.Contains(row, "associé") || strings.Contains(row, "jamais") ||
		!strings.Contains(row, "aucun (le ") || strings.Contains(row, "inconnu") {
		t.Errorf("the device's row: %q", row)
	}
	click(t, ctx, "#devices-table tbody tr button.danger")
	if q := adminInView(t, ctx, "#devices-table .row-actions p", `document.activeElement.matches("#devices-table .row-actions p")`); !strings.Contains(q, "Dissocier « téléphone de l’atelier » ?") {
		t.Errorf("the question: %q", q)
	}
	click(t, ctx, "#devices-table .row-actions button.danger")
	if msg := adminSeen(t, ctx, "#devices-messages p.ok"); !strings.Contains(msg, "est dissocié") {
		t.Errorf("dissociated: %q", msg)
	}
	if row := adminWait(t, ctx, `document.querySelector("#devices-table tbody tr")?.innerText`); !strings.Contains(row, "dissocié le") {
		t.Errorf("after: %q", row)
	}

	// The phone's key no longer works.
	clickID(t, phoneTab, "nouveau-panier")
	enter(t, phoneTab, vouchers[1])
	waitText(t, phoneTab, "#message-association", "Cet appareil a été dissocié du lieu")
}
