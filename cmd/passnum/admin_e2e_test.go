package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"passnum/settlement"
	"passnum/voucher"
)

// TestAdminPages drives the département and auditor pages (docs/pages.md)
// of the real `passnum serve` on SQLite in headless Chromium: a département
// logs in, orders a batch, downloads its PDF, hands chéquiers over and
// suspends a venue; an auditor's dashboard shows what GET /api/v1/figures
// says. Every page passes axe-core and fits a phone and a 200 % zoom.
func TestAdminPages(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "venue", "add", "Médiathèque de Trappes", "--department", "78", "--siret", "73282932000074",
		"--iban", "FR7630006000011234567890189")
	mustRun(t, env, "venue", "add", "Association Emmaüs Connect", "--department", "78", "--siret", "78210456700014",
		"--iban", "FR7630001007941234567890185")
	key := func(args ...string) string {
		return strings.TrimSpace(mustRun(t, env, append([]string{"apikey", "create"}, args...)...))
	}
	deptKey := key("--role", "department", "--department", "78", "--name", "CCAS de Trappes")
	auditorKey := key("--role", "auditor", "--name", "Chambre régionale des comptes")
	venueKey := key("--role", "venue", "--venue", "2", "--name", "tablette")
	base := startServer(t, env)
	year := time.Now().Year()
	first, second := fmt.Sprintf("78-%d-000001", year), fmt.Sprintf("78-%d-000002", year)

	// The camera plays a video of the second chéquier's activation code,
	// written once the batch exists: Chromium opens the file only when the
	// page starts the camera.
	video := filepath.Join(t.TempDir(), "camera.y4m")
	ctx := newBrowser(t, fakeCamera(video)...)
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	recordCSPViolations(t, ctx)
	desktop := chromedp.EmulateViewport(1280, 900)
	adminDo(t, ctx, desktop)

	t.Run("Login", func(t *testing.T) {
		// A page asked for without a session leads to the login page, which
		// leads back to it.
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/commandes"), chromedp.WaitVisible(chromedp.ID("key")))
		if loc := adminValue(t, ctx, chromedp.Location()); loc != base+"/connexion?suite=%2Fdepartement%2Fcommandes" {
			t.Fatalf("without a session: at %s", loc)
		}
		adminCheckPage(t, ctx, "admin-connexion")
		// A venue key is refused, in French: venues use the scanner.
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("key"), venueKey), chromedp.Click(chromedp.CSS("#key-login button[type=submit]")))
		if msg := adminFieldError(t, ctx, "key"); !strings.Contains(msg, "scanner") {
			t.Errorf("venue key: %q", msg)
		}
		adminLogin(t, ctx, deptKey)
		adminWait(t, ctx, `location.pathname === "/departement/commandes" && document.querySelector("#batches") && "ok"`)
		// The key is in no storage and in no cookie the page can read.
		stored := adminValue(t, ctx, chromedp.Evaluate[string](`JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie`))
		if strings.Contains(stored, "pn_") || strings.Contains(stored, "session") {
			t.Errorf("the browser keeps %q", stored)
		}
	})

	t.Run("Batch", func(t *testing.T) {
		adminCheckPage(t, ctx, "admin-commandes")
		adminDo(t, ctx,
			chromedp.SetValue(chromedp.ID("b-chequiers"), "3"),
			chromedp.SetValue(chromedp.ID("b-vouchers"), "2"),
			chromedp.SetValue(chromedp.ID("b-value"), "10,00"),
			chromedp.SetValue(chromedp.ID("b-end"), fmt.Sprintf("%d-11-30", year+1)),
			chromedp.Click(chromedp.ID("b-review")))
		// Nothing is ordered before the recap is confirmed.
		recap := adminSeen(t, ctx, "#b-recap-text")
		if want := "Vous allez créer 3 chéquiers × 2 chèques × 10\u202f€ = 60\u202f€ pour le département Yvelines (78)."; recap != want {
			t.Errorf("recap %q, want %q", recap, want)
		}
		if cover := adminValue(t, ctx, chromedp.Evaluate[string](`document.getElementById("b-cover").innerText`)); !strings.Contains(cover, "2 chèques de 10\u202f€") ||
			!strings.Contains(cover, "Yvelines (78)") || !strings.Contains(cover, "soit 20\u202f€ pour apprendre le numérique.") ||
			!strings.Contains(cover, "Pour la structure qui le remet : non valable sans activation") {
			t.Errorf("cover preview %q", cover)
		}
		var batches struct{ Batches []any }
		adminGet(t, base+"/api/v1/batches", deptKey, &batches)
		if len(batches.Batches) != 0 {
			t.Fatalf("%d batches ordered before the recap was confirmed", len(batches.Batches))
		}
		screenshot(t, ctx, "admin-commandes-recap-desktop")
		adminDo(t, ctx, chromedp.Click(chromedp.ID("b-confirm")))
		msg := adminSeen(t, ctx, "#new-batch-messages p.ok")
		if !strings.Contains(msg, "Commande n° 1 enregistrée : 3 chéquiers") || !strings.Contains(msg, "60,00") {
			t.Errorf("after ordering: %q", msg)
		}
		// The new batch opens with its timeline and its file.
		stage := adminWait(t, ctx, `document.querySelector("#suivi-1 [aria-current=step]")?.textContent`)
		if !strings.Contains(stage, "Commande") {
			t.Errorf("current stage %q", stage)
		}
		link := adminWait(t, ctx, `document.querySelector('#suivi-1 a[download="batch-1-0001.pdf"]')?.textContent`)
		if page := adminValue(t, ctx, chromedp.Evaluate[string](`document.body.innerText`)); link != "Télécharger le fichier PDF" ||
			strings.Contains(page, "batch-1") || strings.Contains(page, "passnum print") || strings.Contains(page, "(s)") {
			t.Errorf("developer words on the page: the link reads %q; the page %q", link, page)
		}
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("commande-1").scrollIntoView()`))
		screenshot(t, ctx, "admin-commandes-desktop")
		adminDo(t, ctx, chromedp.Click(chromedp.CSS(`#suivi-1 a[download="batch-1-0001.pdf"]`)))
		pdf := adminDownload(t, filepath.Join(downloads, "batch-1-0001.pdf"))
		if !strings.HasPrefix(string(pdf), "%PDF-") || len(pdf) < 10000 {
			t.Errorf("the download is %d bytes starting %q, not a batch's PDF", len(pdf), pdf[:min(len(pdf), 8)])
		}
	})

	t.Run("HandOver", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/remise"), chromedp.WaitVisible(chromedp.ID("a-number")))
		adminCheckPage(t, ctx, "admin-remise")
		adminDo(t, ctx,
			chromedp.SendKeys(chromedp.ID("a-number"), first),
			chromedp.SendKeys(chromedp.ID("a-ref"), "CCAS-17-0193"),
			chromedp.Click(chromedp.CSS("#activate button[type=submit]")))
		if msg := adminSeen(t, ctx, "#activate-messages p.ok"); !strings.Contains(msg, first+" remis") {
			t.Errorf("after the hand-over: %q", msg)
		}
		var c struct {
			Status         string
			BeneficiaryRef string `json:"beneficiary_ref"`
		}
		adminGet(t, base+"/api/v1/chequiers/"+first, deptKey, &c)
		if c.Status != "active" || c.BeneficiaryRef != "CCAS-17-0193" {
			t.Errorf("chéquier %s is %s for %q after its hand-over", first, c.Status, c.BeneficiaryRef)
		}
		// The same reference on another chéquier: the warning by the field,
		// and a button that confirms a second chéquier for the same person.
		third := fmt.Sprintf("78-%d-000003", year)
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("a-number"), third), chromedp.SendKeys(chromedp.ID("a-ref"), "CCAS-17-0193"))
		click(t, ctx, "#activate button[type=submit]")
		if msg := adminFieldError(t, ctx, "a-ref"); !strings.HasPrefix(msg, "La référence CCAS-17-0193 est déjà utilisée pour le chéquier "+first+", remis le ") {
			t.Errorf("a reference used before: %q", msg)
		}
		click(t, ctx, "#a-same")
		if msg := adminSeen(t, ctx, "#activate-messages p.ok"); !strings.Contains(msg, third+" remis") {
			t.Errorf("after confirming the second chéquier: %q", msg)
		}
		if hidden := adminValue(t, ctx, chromedp.Evaluate[bool](`document.getElementById("a-same").hidden`)); !hidden {
			t.Error("the confirmation button stays after the hand-over")
		}
		// Again: refused with the API's French message.
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("a-number"), first), chromedp.Click(chromedp.CSS("#activate button[type=submit]")))
		if msg := adminSeen(t, ctx, "#activate-messages p.error"); !strings.Contains(msg, "remis") {
			t.Errorf("second hand-over: %q", msg)
		}
		// A reference with a space: the service's own words, by the field.
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("activate").reset()`),
			chromedp.SendKeys(chromedp.ID("a-number"), second), chromedp.SendKeys(chromedp.ID("a-ref"), "CCAS 17"), chromedp.Click(chromedp.CSS("#activate button[type=submit]")))
		if msg := adminFieldError(t, ctx, "a-ref"); !strings.HasPrefix(msg, "La référence du bénéficiaire est une référence de dossier") {
			t.Errorf("a reference with a space: %q", msg)
		}
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("activate").reset()`))
	})

	t.Run("HandOverByCamera", func(t *testing.T) {
		// As the scanner's tests show vouchers to the camera.
		code := adminActivationCode(t, env, second)
		if err := os.Rename(writeY4M(t, []image.Image{qrFrame(t, code)}, 5), video); err != nil {
			t.Fatal(err)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.ID("scan")))
		if msg := adminSeen(t, ctx, "#activate-messages p.ok"); !strings.Contains(msg, second+" remis") {
			t.Errorf("after the scan: %q", msg)
		}
		if hidden := adminValue(t, ctx, chromedp.Evaluate[bool](`document.getElementById("camera").hidden`)); !hidden {
			t.Error("the camera is still on after the code was read")
		}
		if n := adminValue(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#remis tbody tr").length`)); n != 3 {
			t.Errorf("%d hand-overs listed on the page, want 3 (the first, the same person's second, the scanned one)", n)
		}
		var c struct{ Status string }
		adminGet(t, base+"/api/v1/chequiers/"+second, deptKey, &c)
		if c.Status != "active" {
			t.Errorf("chéquier %s is %s after its scan", second, c.Status)
		}
	})

	t.Run("Venue", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/lieux"), chromedp.WaitVisible(chromedp.CSS(`button[data-venue="1"]`)))
		adminCheckPage(t, ctx, "admin-lieux")
		adminDo(t, ctx,
			chromedp.Click(chromedp.CSS(`button[data-venue="1"]`)),
			chromedp.SendKeys(chromedp.ID("s-reason"), "enquête en cours"),
			chromedp.Click(chromedp.CSS("#venue-status button[type=submit]")))
		if got := adminWait(t, ctx, `document.querySelector('[data-venue-status="1"]')?.textContent === "suspendu" && "suspendu"`); got != "suspendu" {
			t.Errorf("venue 1 shows %q", got)
		}
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("venues-title").scrollIntoView()`))
		screenshot(t, ctx, "admin-lieux-desktop")
		// On a phone each venue's status is in sight, not in a column
		// scrolled away.
		adminDo(t, ctx, phone())
		adminWait(t, ctx, `innerWidth === 360 && "ok"`)
		if out := adminValue(t, ctx, chromedp.Evaluate[string](`(() => {
			const r = document.querySelector('[data-venue-status="1"]').getBoundingClientRect();
			return r.width > 0 && r.left >= 0 && r.right <= innerWidth ? "" : JSON.stringify(r);
		})()`)); out != "" {
			t.Errorf("venue 1's status on a phone is out of sight: %s", out)
		}
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("venues-title").scrollIntoView()`))
		screenshot(t, ctx, "admin-lieux-phone")
		adminDo(t, ctx, desktop)
		var v struct{ Status string }
		adminGet(t, base+"/api/v1/venues/1", deptKey, &v)
		if v.Status != "suspended" {
			t.Errorf("venue 1 is %s", v.Status)
		}
	})

	t.Run("NewVenue", func(t *testing.T) {
		adminDo(t, ctx,
			chromedp.SendKeys(chromedp.ID("v-name"), "France Services de Mantes"),
			chromedp.SendKeys(chromedp.ID("v-siret"), "732 829 320 00074"), // already taken by venue 1
			chromedp.SendKeys(chromedp.ID("v-iban"), "FR76 3000 6000 0112 3456 7890 189"),
			chromedp.Click(chromedp.CSS("#new-venue button[type=submit]")))
		if msg := adminFieldError(t, ctx, "v-siret"); !strings.Contains(msg, "Un lieu de SIRET 73282932000074 est déjà enregistré") {
			t.Errorf("a SIRET already taken: %q", msg)
		}
		screenshot(t, ctx, "admin-lieux-erreur-desktop")
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("v-siret").value = "12345678900015"`),
			chromedp.Click(chromedp.CSS("#new-venue button[type=submit]")))
		if msg := adminSeen(t, ctx, "#new-venue-messages p.ok"); !strings.Contains(msg, "France Services de Mantes est labellisé") {
			t.Errorf("after labelling a venue: %q", msg)
		}
		if n := adminValue(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#new-venue [aria-invalid], #new-venue .field-error").length`)); n != 0 {
			t.Errorf("%d fields still marked wrong after the venue was labelled", n)
		}
		if n := adminValue(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#venue-table tbody tr").length`)); n != 3 {
			t.Errorf("%d venues listed, want 3", n)
		}
	})

	t.Run("Void", func(t *testing.T) {
		third := fmt.Sprintf("78-%d-000003", year)
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/annulation"), chromedp.WaitVisible(chromedp.ID("l-number")),
			chromedp.SendKeys(chromedp.ID("l-number"), third), chromedp.Click(chromedp.CSS("#lookup button[type=submit]")))
		if rows := adminWait(t, ctx, `document.querySelectorAll("#chequier tbody tr").length`); rows != "2" {
			t.Errorf("chéquier %s shows %s vouchers, want 2", third, rows)
		}
		adminDo(t, ctx,
			chromedp.SendKeys(chromedp.ID("vc-number"), third),
			chromedp.SendKeys(chromedp.ID("vc-reason"), "perdu"),
			chromedp.Click(chromedp.ID("vc-confirm")),
			chromedp.Click(chromedp.CSS("#void-chequier button[type=submit]")))
		if msg := adminSeen(t, ctx, "#void-chequier-messages p.ok"); msg != "Chéquier "+third+" annulé : 2 chèques ne peuvent plus être encaissés." {
			t.Errorf("after voiding: %q", msg)
		}
		var c struct{ Status string }
		adminGet(t, base+"/api/v1/chequiers/"+third, deptKey, &c)
		if c.Status != "void" {
			t.Errorf("chéquier %s is %s after voiding", third, c.Status)
		}
		// A single voucher, at the bottom of the page: the outcome is by
		// its form, in view, and so is the refusal of voiding it again.
		var ch struct{ Vouchers []struct{ Number string } }
		adminGet(t, base+"/api/v1/chequiers/"+second, deptKey, &ch)
		for i, want := range []string{"#void-voucher-messages p.ok", "#void-voucher-messages p.error"} {
			adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("void-voucher").reset()`),
				chromedp.SendKeys(chromedp.ID("vv-number"), ch.Vouchers[1].Number), chromedp.SendKeys(chromedp.ID("vv-reason"), "code photographié"),
				chromedp.Click(chromedp.ID("vv-confirm")), chromedp.Click(chromedp.CSS("#void-voucher button[type=submit]")))
			if msg := adminSeen(t, ctx, want); i == 0 && !strings.Contains(msg, "annulé : il ne peut plus être encaissé") {
				t.Errorf("after voiding a voucher: %q", msg)
			}
		}
		adminCheckPage(t, ctx, "admin-annulation")
	})

	t.Run("Settlement", func(t *testing.T) {
		// This month is open: shown, not closable yet, in French.
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/remboursements"), chromedp.WaitVisible(chromedp.ID("p-month")),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("p-month").value = "`+voucher.Today(time.Now()).String()[:7]+`"`),
			chromedp.Click(chromedp.CSS("#period-form button[type=submit]")))
		if title := adminWait(t, ctx, `document.getElementById("period-title").textContent`); !strings.Contains(title, "ouvert") {
			t.Errorf("month title %q", title)
		}
		// The page says when, from the server's rule, instead of offering
		// to close it.
		from := settlement.MonthAt(time.Now()).ClosableFrom()
		want := "Clôture possible à partir du " + voucher.Today(from).French() + " à " + from.Format("15:04") + " (heure de Paris)."
		if got := adminWait(t, ctx, `document.getElementById("closable-from")?.textContent`); got != want {
			t.Errorf("open month: %q, want %q", got, want)
		}
		if shown := adminValue(t, ctx, chromedp.Evaluate[bool](`!document.getElementById("close-form").hidden`)); shown {
			t.Error("this month, still open, offers to close it")
		}
		screenshot(t, ctx, "admin-remboursements-desktop")
		adminCheckPage(t, ctx, "admin-remboursements")

		// With four eyes on, last month's closing is asked, said in view,
		// and the same key cannot confirm it.
		mustRun(t, env, "department", "set", "78", "--close-four-eyes")
		last := settlement.MonthAt(time.Now()).Previous().String()
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("p-month").value = "`+last+`"`))
		click(t, ctx, "#period-form button[type=submit]")
		adminWait(t, ctx, `!document.getElementById("close-form").hidden && "ok"`)
		adminDo(t, ctx, chromedp.Click(chromedp.ID("c-confirm")))
		click(t, ctx, "#close-form button[type=submit]")
		if msg := adminSeen(t, ctx, "#period-body-messages p.ok"); !strings.Contains(msg, "une autre personne doit maintenant la confirmer") {
			t.Errorf("the closing asked: %q", msg)
		}
		if asked := adminWait(t, ctx, `document.getElementById("close-asked")?.textContent`); !strings.Contains(asked, "Une deuxième personne doit la confirmer") ||
			adminValue(t, ctx, chromedp.Evaluate[string](`document.getElementById("close-button").textContent`)) != "Confirmer la clôture" {
			t.Errorf("the month asked: %q", asked)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.ID("c-confirm")))
		click(t, ctx, "#close-form button[type=submit]")
		if msg := adminSeen(t, ctx, "#close-form-messages p.error"); !strings.Contains(msg, "une autre personne doit confirmer") {
			t.Errorf("the same key confirming: %q", msg)
		}
		mustRun(t, env, "settlement", "refuse-close", "--department", "78", "--month", last, "--reason", "essai")
		// Turning four eyes off takes two people too.
		mustRun(t, slices.Concat(env, []string{"USER=alice"}), "department", "set", "78", "--close-four-eyes=false")
		mustRun(t, slices.Concat(env, []string{"USER=bob"}), "department", "confirm", "78")
		if out := mustRun(t, env, "department", "list"); !strings.Contains(out, "false") {
			t.Fatalf("four eyes still on:\n%s", out)
		}
	})

	t.Run("ManualEntryLock", func(t *testing.T) {
		// Venue 2 types ten wrong verification codes: its manual entry is
		// locked, and the home page says so, with a link to act on the venue.
		for range 10 {
			req, _ := http.NewRequest("POST", base+"/api/v1/vouchers/check", strings.NewReader(`{"number":"0000 0001 952","verification_code":"ZZZZ-ZZZZ"}`))
			req.Header.Set("Authorization", "Bearer "+venueKey)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("check: %d", res.StatusCode)
			}
		}
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/"))
		notice := adminWait(t, ctx, `document.querySelector("#locks li")?.textContent`)
		if !strings.Contains(notice, "Association Emmaüs Connect") || !strings.Contains(notice, "bloqué en ce moment") {
			t.Errorf("lock notice: %q", notice)
		}
		adminDo(t, ctx, chromedp.Click(chromedp.CSS("#locks li a")))
		adminWait(t, ctx, `location.pathname === "/departement/lieux" && document.getElementById("s-venue")?.value === "2" && "ok"`)
	})

	t.Run("SecondPerson", func(t *testing.T) {
		// A paying office asked at the command line waits on the home page;
		// the département's key, another person, confirms it there.
		mustRun(t, env, "department", "set", "78", "--payer-name", "Paierie départementale des Yvelines", "--payer-iban", "FR76 3000 1007 9412 3456 7890 185")
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/"))
		item := adminWait(t, ctx, `document.querySelector("#second-person li")?.textContent`)
		if !strings.Contains(item, "Réglages d’argent pour Yvelines (78)") || !strings.Contains(item, "IBAN qui finit par 0185") {
			t.Errorf("waiting: %q", item)
		}
		click(t, ctx, "#second-person li button:not(.secondary)")
		if msg := adminSeen(t, ctx, "#second-person-messages p.ok"); !strings.Contains(msg, "sont confirmés") {
			t.Errorf("confirmed: %q", msg)
		}
		if out := mustRun(t, env, "department", "list"); !strings.Contains(out, "FR7630001007941234567890185") {
			t.Errorf("the paying office after the confirmation:\n%s", out)
		}
		adminWait(t, ctx, `document.getElementById("second-person").textContent.includes("Rien n’attend") && "ok"`)
	})

	t.Run("OtherPages", func(t *testing.T) {
		// A structure with stock: the dashboard shows its funnel.
		mustRun(t, env, "structure", "add", "--department", "78", "--name", "CCAS de Trappes", "--type", "ccas", "--commune", "Trappes")
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "1", "--valid-until", nextYearEnd())
		mustRun(t, env, "stock", "allocate", "--department", "78", "--to", "2", "--batch", "2", "--count", "2")
		for _, p := range []string{"/departement/", "/departement/chiffres"} {
			adminDo(t, ctx, chromedp.Navigate(base+p))
			adminWait(t, ctx, `document.readyState === "complete" && !document.querySelector("main")?.textContent.includes("Chargement") && "ok"`)
			adminCheckPage(t, ctx, "admin"+strings.ReplaceAll(strings.TrimSuffix(p, "/"), "/", "-"))
		}
		row := adminWait(t, ctx, `[...document.querySelectorAll("#structures tbody tr > *")].map(c => c.textContent).join("|")`)
		if row != "CCAS de Trappes (78)|Trappes|2|2|0|0|0|0|0|0" {
			t.Errorf("the structure's funnel on the dashboard: %q", row)
		}
		if row := adminWait(t, ctx, `[...document.querySelectorAll("#communes tbody tr > *")].map(c => c.textContent).join("|")`); row != "Trappes (78)|1|2|2|0|0|0|0|0|0" {
			t.Errorf("the commune's funnel: %q", row)
		}
		if row := adminWait(t, ctx, `[...document.querySelectorAll("#funnel-months tbody tr > *")].map(c => c.textContent).join("|")`); !strings.HasSuffix(row, "|2|2|0|0|0|0|0|0") {
			t.Errorf("the month's funnel: %q", row)
		}
		// The CSV link carries the same funnel.
		href := adminWait(t, ctx, `document.querySelector('#downloads a[href^="/api/v1/figures.csv"]')?.getAttribute("href")`)
		var csv string
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`fetch(`+strconv.Quote(href)+`).then(r => r.text()).then(t => { window.figuresCSV = t; })`))
		csv = adminWait(t, ctx, `window.figuresCSV`)
		if !strings.Contains(csv, "structure,") || !strings.Contains(csv, "CCAS de Trappes") || !strings.Contains(csv, "funnel_month,") {
			t.Errorf("the dashboard's CSV:\n%s", csv)
		}
	})

	// A redemption, so that the auditor sees a month and a venue; last
	// month, without activity, closed, so that they see a closed period
	// and its files.
	redeemFirstVoucher(t, env, base, venueKey)
	mustRun(t, env, "settlement", "close", "--department", "78", "--month", settlement.MonthAt(time.Now()).Previous().String())

	t.Run("Auditor", func(t *testing.T) {
		adminDo(t, ctx, desktop, chromedp.Navigate(base+"/departement/"), chromedp.WaitVisible(chromedp.ID("logout")),
			chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("key")))
		adminLogin(t, ctx, auditorKey)
		adminWait(t, ctx, `location.pathname === "/auditeur/" && document.querySelector("[data-figure]") && "ok"`)
		var api struct {
			AsOf   string           `json:"as_of"`
			Total  map[string]any   `json:"total"`
			Months []map[string]any `json:"months"`
			Venues []map[string]any `json:"venues"`
		}
		adminGet(t, base+"/api/v1/figures", auditorKey, &api)
		var shown struct {
			AsOf    string            `json:"asOf"`
			Figures map[string]string `json:"figures"`
			Months  []string          `json:"months"`
			Venues  []string          `json:"venues"`
		}
		raw := adminValue(t, ctx, chromedp.Evaluate[[]byte](`({
			asOf: document.getElementById("dashboard").dataset.asOf,
			figures: Object.fromEntries([...document.querySelectorAll("[data-figure]")].map(e => [e.dataset.figure, e.dataset.value])),
			months: [...document.querySelectorAll("#months tbody tr")].map(r => r.textContent),
			venues: [...document.querySelectorAll("#venues tbody tr")].map(r => r.textContent)})`))
		if err := json.Unmarshal(raw, &shown); err != nil {
			t.Fatal(err)
		}
		if shown.AsOf != api.AsOf || len(shown.Figures) < 14 {
			t.Fatalf("dashboard as of %q with %d figures; API as of %q", shown.AsOf, len(shown.Figures), api.AsOf)
		}
		if _, ok := shown.Figures["chequiers_untracked"]; !ok {
			t.Error("the dashboard does not say how many chéquiers have a hand-over not tracked (batches without activation)")
		}
		for k, v := range shown.Figures {
			if want := fmt.Sprint(api.Total[k]); v != want {
				t.Errorf("%s: the dashboard shows %s, the API says %s", k, v, want)
			}
		}
		if api.Total["vouchers_redeemed"] != float64(1) || api.Total["redeemed_cents"] != float64(1000) {
			t.Errorf("the API's figures miss the redemption: %v", api.Total)
		}
		if len(shown.Months) != len(api.Months) || len(shown.Venues) != len(api.Venues) || len(shown.Venues) != 1 {
			t.Errorf("months %q, venues %q; the API has %d months and %d venues", shown.Months, shown.Venues, len(api.Months), len(api.Venues))
		} else if !strings.Contains(shown.Venues[0], "Association Emmaüs Connect") || !strings.Contains(shown.Venues[0], "10,00\u202f€") {
			t.Errorf("venue row %q", shown.Venues[0])
		}
		// One voucher redeemed: nothing to look at, and the page says so.
		if got := adminWait(t, ctx, `document.querySelector("#signals p")?.innerText`); !strings.HasPrefix(got, "Aucun signal du ") {
			t.Errorf("signals: %q", got)
		}
		if n := adminValue(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart svg rect").length`)); n < 3 {
			t.Errorf("%d bars in the charts", n)
		}
		adminCheckPage(t, ctx, "admin-auditeur")
		screenshot(t, ctx, "admin-auditeur-desktop")
		adminDo(t, ctx, phone(), chromedp.Navigate(base+"/auditeur/"))
		adminWait(t, ctx, `document.querySelector("[data-figure]") && "ok"`)
		// Chart labels are as legible on a phone as the text around them.
		if px := adminValue(t, ctx, chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("figure.chart svg")].map(s =>
			12 * s.getBoundingClientRect().width / s.viewBox.baseVal.width))`)); px < 11.5 {
			t.Errorf("chart labels are %.1f px on a phone", px)
		}
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#dashboard h2").scrollIntoView()`))
		screenshot(t, ctx, "admin-auditeur-phone")
		// The ledger export is offered, and it downloads with the session.
		body := adminValue(t, ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[href="/api/v1/ledger/export"]').href).then(r => r.text())`,
			chromedp.EvalAwaitPromise))
		if !strings.HasPrefix(body, "{") || !strings.Contains(body, "header") {
			t.Errorf("ledger export: %.200s", body)
		}
	})

	// The hand-over page on a phone, for its screenshot.
	t.Run("Phone", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("key")))
		adminLogin(t, ctx, deptKey)
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/remise"), chromedp.WaitVisible(chromedp.ID("a-number")))
		screenshot(t, ctx, "admin-remise-phone")
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/commandes"))
		adminWait(t, ctx, `document.querySelector("#commande-1") && "ok"`)
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("batches-title").scrollIntoView()`))
		screenshot(t, ctx, "admin-commandes-phone")
	})
}

// adminDo runs actions or fails the test.
func adminDo(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 20*time.Second) // a query for a missing element waits forever
	defer cancel()
	if err := chromedp.Do(actx, actions...); err != nil {
		shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("%v\n--- the page shows:\n%s", err, shown)
	}
}

// adminValue runs one action and returns its value.
func adminValue[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(actx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// adminWait waits up to 10 s for a JavaScript expression to give a
// non-empty string, and returns it; on timeout it fails with the page's
// messages. It polls from Go, so that it outlives a navigation.
func adminWait(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	js := `(() => { try { const v = (` + expr + `); return v ? String(v) : ""; } catch (e) { return ""; } })()`
	var v string
	waitUntil(t, expr, func() (bool, string) {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var err error
		v, err = chromedp.Run(ectx, chromedp.Evaluate[string](js))
		cancel()
		if err == nil && v != "" {
			return true, ""
		}
		shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " — " + [...document.querySelectorAll(".messages, .field-error")].map(e => e.textContent).join(" | ")`))
		return false, fmt.Sprintf("%v (page: %s)", err, shown)
	})
	return v
}

// adminSeen waits for the element sel to show text, and checks that the
// person sees it where they are: in the viewport, and focused (a message
// takes the focus, so that it is read out and in view).
func adminSeen(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return adminInView(t, ctx, sel, `document.querySelector(`+strconv.Quote(sel)+`).contains(document.activeElement)`)
}

// adminFieldError waits for the field of that id to be marked wrong, and
// returns the message beside it: the field has the focus, the message is
// in view and tied to the field.
func adminFieldError(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	adminWait(t, ctx, `document.getElementById("`+id+`").getAttribute("aria-invalid") === "true" && "ok"`)
	return adminInView(t, ctx, "#"+id+"-error", `document.activeElement.id === "`+id+`" &&
		document.getElementById("`+id+`").getAttribute("aria-describedby").split(" ").includes("`+id+`-error")`)
}

// adminInView waits for sel to show text, checks that it is in the
// viewport and that cond holds, and returns the text.
func adminInView(t *testing.T, ctx context.Context, sel, cond string) string {
	t.Helper()
	text := adminWait(t, ctx, `document.querySelector(`+strconv.Quote(sel)+`)?.textContent`)
	if where := adminValue(t, ctx, chromedp.Evaluate[string](`(() => {
		const r = document.querySelector(`+strconv.Quote(sel)+`).getBoundingClientRect();
		if (r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) return "out of view at " + JSON.stringify(r);
		return (`+cond+`) ? "" : "not focused or not tied to its field; the focus is on " + document.activeElement.tagName + "#" + document.activeElement.id;
	})()`)); where != "" {
		t.Errorf("%s (%q): %s", sel, text, where)
	}
	return text
}

// adminLogin types a key on the login page, which must be open.
func adminLogin(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	// The page empties the field after each try (SetValue cannot set "").
	adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Click(chromedp.CSS("#key-login button[type=submit]")))
	adminWait(t, ctx, `!location.pathname.startsWith("/connexion") && document.readyState === "complete" && "ok"`)
}

// recordCSPViolations has every page the browser opens record its CSP
// violations (an inline style or script, another origin), which
// adminCheckPage fails on: every page runs under a strict CSP.
func recordCSPViolations(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = []; document.addEventListener("securitypolicyviolation",
			(e) => window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || e.sample)));`}); err != nil {
		t.Fatal(err)
	}
}

// adminCheckPage runs axe-core on the page, checks that it does not scroll
// sideways on a phone nor at 200 % zoom (a 1280 px window at 200 % lays
// out like a 640 px one), and puts the desktop viewport back.
func adminCheckPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if v := adminValue(t, ctx, chromedp.Evaluate[[]string](`window.cspViolations || ["no CSP listener"]`)); len(v) > 0 {
		t.Errorf("%s breaks its Content-Security-Policy: %q", name, v)
	}
	checkAccessibility(t, ctx)
	// Plain French: a count agrees with its noun.
	if w := adminValue(t, ctx, chromedp.Evaluate[string](`(document.body.innerText.match(/\S*\((s|x)\)/g) || []).join(", ")`)); w != "" {
		t.Errorf("%s writes %s", name, w)
	}
	for _, vp := range []struct {
		name  string
		width int // in CSS pixels
		act   chromedp.Action[chromedp.Void]
	}{{"phone", 360, phone()}, {"200% zoom", 640, chromedp.EmulateViewport(640, 450, chromedp.EmulateScale(2))}} {
		adminDo(t, ctx, vp.act)
		// The page and the viewport must fit the width the person has, in
		// CSS pixels, whatever the layout makes of clientWidth.
		wide := adminValue(t, ctx, chromedp.Evaluate[string](`(() => {
			const w = `+strconv.Itoa(vp.width)+`;
			const over = [...document.querySelectorAll("body *")].filter(e => !e.closest(".table-wrap") && e.getBoundingClientRect().right > w + 1);
			const width = Math.max(document.documentElement.scrollWidth, innerWidth);
			return width > w ? width + " px wide: " + (over.slice(0, 3).map(e => e.tagName + "#" + e.id + "." + e.className).join(", ") || "the page") : "";
		})()`))
		if wide != "" {
			t.Errorf("%s scrolls sideways at %s: %s", name, vp.name, wide)
		}
	}
	adminDo(t, ctx, chromedp.EmulateViewport(1280, 900))
}

// adminDownload waits for a file the browser downloads, and returns it.
func adminDownload(t *testing.T, path string) []byte {
	t.Helper()
	var b []byte
	waitUntil(t, filepath.Base(path)+" downloaded", func() (bool, string) {
		var err error
		if b, err = os.ReadFile(path); err == nil && len(b) > 0 {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return true, ""
			}
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		return false, fmt.Sprintf("folder: %v", entries)
	})
	return b
}

// adminGet reads an API answer with a bearer key.
func adminGet(t *testing.T, url, key string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatal(err)
	}
}

// adminActivationCode re-creates the activation code printed on a
// chéquier's cover, through the issuing service as printing does.
func adminActivationCode(t *testing.T, env []string, number string) string {
	t.Helper()
	svc, _ := issuingOf(t, env)
	pc, err := svc.Chequier(t.Context(), number)
	if err != nil {
		t.Fatal(err)
	}
	return pc.ActivationCode
}

// redeemFirstVoucher redeems the first voucher of the first chéquier with
// the venue key.
func redeemFirstVoucher(t *testing.T, env []string, base, venueKey string) {
	t.Helper()
	code := firstCode(t, env, keySetOf(t, mustRun(t, env, "keys", "export")))
	req, _ := http.NewRequest("POST", base+"/api/v1/redemptions", strings.NewReader(fmt.Sprintf(`{"items":[{"code":%q}]}`, code)))
	req.Header.Set("Authorization", "Bearer "+venueKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "admin-e2e-0001")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("redeem: %d %s", res.StatusCode, body)
	}
}
