package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"passnum/accounts/accountstest"
	"passnum/mail/mailtest"
)

// peopleServer starts `passnum serve` for the Yvelines (78), with its
// emails going to a real SMTP server on loopback, and more settings in
// extra; it returns the server, the environment of its commands and its
// address.
func peopleServer(t *testing.T, extra ...string) (*mailtest.Server, []string, string) {
	smtp := mailtest.Start(t, mailtest.Options{})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, smtp.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PASSNUM_DATA_DIR=" + t.TempDir(), "SSL_CERT_FILE=" + ca, "PASSNUM_SMTP_URL=smtp://" + smtp.Addr(),
		"PASSNUM_MAIL_FROM=Pass numérique 78 <ne-pas-repondre@yvelines.fr>"}, extra...)
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	return smtp, env, startServer(t, env)
}

// TestAccountPages drives a person's way in, in headless Chromium against
// the real `passnum serve` sending its emails to a real SMTP server on
// loopback: a département manager invited by `passnum user invite`
// (emailed) opens the link, chooses a password (a short one is marked on
// its field), is asked for a second factor before anything else, adds it
// from the page's secret, lands on the département's pages; logs out and
// back in with the code; forgets the password, gets the link by email,
// sets a new one, which ends the old session. Each page passes axe-core.
func TestAccountPages(t *testing.T) {
	smtp, env, base := peopleServer(t)
	const email = "responsable@yvelines.fr"
	if out := mustRun(t, env, "user", "invite", email, "--role", "department_manager", "--department", "78", "--public-url", base); !strings.Contains(out, "emailed to "+email) {
		t.Fatalf("invite: %q", out)
	}
	invitation := smtp.Next(t, patience).Read(t)
	if invitation.Subject != "Invitation : votre compte Pass numérique pour Yvelines (78)" || len(invitation.Links()) != 1 ||
		!strings.HasPrefix(invitation.Links()[0], base+"/invitation#") || !strings.Contains(invitation.Text, "Votre rôle : responsable du département.") {
		t.Fatalf("invitation email %q:\n%s", invitation.Subject, invitation.Text)
	}

	ctx := newBrowser(t)
	recordCSPViolations(t, ctx)
	adminDo(t, ctx, chromedp.EmulateViewport(1280, 900))
	var secret string

	t.Run("Invitation", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Navigate(invitation.Links()[0]), chromedp.WaitVisible(chromedp.ID("password")))
		// The token leaves the address bar at once.
		if loc := adminValue(t, ctx, chromedp.Location()); loc != base+"/invitation" {
			t.Errorf("at %s", loc)
		}
		adminCheckPage(t, ctx, "invitation")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("password"), "trop court"))
		click(t, ctx, "#accept button[type=submit]")
		if msg := adminFieldError(t, ctx, "password"); !strings.Contains(msg, "au moins 12 caractères") {
			t.Errorf("short password: %q", msg)
		}
		adminDo(t, ctx, chromedp.SetValue(chromedp.ID("password"), accountstest.Password))
		click(t, ctx, "#accept button[type=submit]")
		// The roles move money: the second factor comes first, said where
		// the focus is.
		need := adminInView(t, ctx, "#sf-needed", `document.activeElement.id === "sf-needed"`)
		if !strings.Contains(need, "ajoutez un second facteur") {
			t.Errorf("enrolment message %q", need)
		}
		adminWait(t, ctx, `document.querySelector("#sf-qr svg path")?.getAttribute("d").length > 100 && "ok"`)
		adminCheckPage(t, ctx, "compte-second-facteur")
		secret = strings.ReplaceAll(adminWait(t, ctx, `document.getElementById("sf-secret").textContent`), " ", "")
		if len(secret) != 32 {
			t.Fatalf("secret %q", secret)
		}
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("totp"), "000000"))
		click(t, ctx, "#sf-confirm button[type=submit]")
		if msg := adminFieldError(t, ctx, "totp"); !strings.Contains(msg, "Ce code ne convient pas") {
			t.Errorf("wrong code: %q", msg)
		}
		adminDo(t, ctx, chromedp.SetValue(chromedp.ID("totp"), accountstest.TOTP(secret, time.Now())))
		click(t, ctx, "#sf-confirm button[type=submit]")
		adminWait(t, ctx, `location.pathname === "/departement/" && document.readyState === "complete" && "ok"`)
		if who := adminWait(t, ctx, `document.querySelector("header .who p")?.innerText`); who != "Connecté : "+email+", pour Yvelines (78) (responsable du département)" {
			t.Errorf("header %q", who)
		}
	})

	t.Run("Account", func(t *testing.T) {
		click(t, ctx, `header a[href="/compte"]`)
		list := adminWait(t, ctx, `document.querySelector("#sessions li")?.innerText`)
		if !strings.Contains(list, "Chrome sur Linux") || !strings.Contains(list, "cette session") {
			t.Errorf("sessions %q", list)
		}
		if orgs := adminWait(t, ctx, `document.querySelector("#organisations li")?.innerText`); !strings.Contains(orgs, "Yvelines (78)") ||
			!strings.Contains(orgs, "vous agissez pour elle") {
			t.Errorf("organisations %q", orgs)
		}
		adminCheckPage(t, ctx, "compte")
	})

	t.Run("People", func(t *testing.T) {
		// The manager adds a structure, invites its agent (a wrong address
		// is marked on its field), the invitation is accepted, and the
		// manager takes the role back, confirming in place.
		chooseOrganisation := func(label string) {
			adminWait(t, ctx, `[...document.getElementById("organisation").options].some(o => o.text === `+strconv.Quote(label)+`) && "ok"`)
			adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("organisation");
				s.value = [...s.options].find(o => o.text === `+strconv.Quote(label)+`).value; s.dispatchEvent(new Event("change")); })()`))
		}
		click(t, ctx, `header a[href="/personnes"]`)
		if row := adminWait(t, ctx, `document.querySelector("#people-table tbody tr")?.innerText`); !strings.Contains(row, email+" (vous)") {
			t.Errorf("the manager's row: %q", row)
		}
		adminCheckPage(t, ctx, "personnes")
		click(t, ctx, "#add-structure button[type=submit]")
		if msg := adminFieldError(t, ctx, "s-name"); !strings.Contains(msg, "Le nom de la structure") {
			t.Errorf("no name: %q", msg)
		}
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("s-name"), "Association Numérique 78"), chromedp.SetValue(chromedp.ID("s-type"), "association"),
			chromedp.SendKeys(chromedp.ID("s-commune"), "Mantes-la-Jolie"))
		click(t, ctx, "#add-structure button[type=submit]")
		if msg := adminSeen(t, ctx, "#add-structure-messages p.ok"); !strings.Contains(msg, "Association Numérique 78 est ajoutée") {
			t.Errorf("structure added: %q", msg)
		}
		adminWait(t, ctx, `document.querySelector("#structures-table")?.innerText.includes("Mantes-la-Jolie") && "ok"`)
		chooseOrganisation("Association Numérique 78")
		adminWait(t, ctx, `document.getElementById("i-role").value === "structure_agent" && document.getElementById("structures").hidden && "ok"`)
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("i-email"), "pas une adresse"))
		click(t, ctx, "#invite button[type=submit]")
		if msg := adminFieldError(t, ctx, "i-email"); !strings.Contains(msg, "n’est pas une adresse e-mail") {
			t.Errorf("a wrong address: %q", msg)
		}
		adminDo(t, ctx, chromedp.SetValue(chromedp.ID("i-email"), "mediation@asso78.fr"))
		click(t, ctx, "#invite button[type=submit]")
		if msg := adminSeen(t, ctx, "#invite-messages p.ok"); !strings.Contains(msg, "Invitation envoyée à mediation@asso78.fr (agent de la structure)") {
			t.Errorf("invited: %q", msg)
		}
		if inv := adminWait(t, ctx, `document.getElementById("pending").innerText`); !strings.Contains(inv, "mediation@asso78.fr, agent de la structure") {
			t.Errorf("pending: %q", inv)
		}
		mail := smtp.Next(t, patience).Read(t)
		if !strings.Contains(mail.Text, email) || len(mail.Links()) != 1 {
			t.Fatalf("the invitation by the manager:\n%s", mail.Text)
		}
		_, token, _ := strings.Cut(mail.Links()[0], "#")
		if code, body := postJSON(t, base+"/invitation", `{"token":"`+token+`","password":"`+accountstest.Password+`"}`); code != 200 {
			t.Fatalf("accept: %d %s", code, body)
		}
		adminDo(t, ctx, chromedp.Reload())
		chooseOrganisation("Association Numérique 78")
		adminWait(t, ctx, `document.querySelector("#people-table")?.innerText.includes("mediation@asso78.fr") && "ok"`)
		click(t, ctx, "#people-table tbody tr button.secondary")
		if q := adminInView(t, ctx, "#people-table .row-actions p", `document.activeElement.matches("#people-table .row-actions p")`); !strings.Contains(q, "Retirer le rôle « agent de la structure » à mediation@asso78.fr ?") {
			t.Errorf("the question: %q", q)
		}
		click(t, ctx, "#people-table .row-actions button.danger")
		if msg := adminSeen(t, ctx, "#people-messages p.ok"); !strings.Contains(msg, "est retiré à mediation@asso78.fr") {
			t.Errorf("role taken: %q", msg)
		}
		adminWait(t, ctx, `!document.querySelector("#people-table") && "ok"`)

		// An invitation to a mistyped address is cancelled from the list.
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("i-email"), "mediation@asso-78.fr"))
		click(t, ctx, "#invite button[type=submit]")
		adminSeen(t, ctx, "#invite-messages p.ok")
		smtp.Next(t, patience).Read(t)
		click(t, ctx, `#pending button[aria-label="Annuler l’invitation de mediation@asso-78.fr"]`)
		if msg := adminSeen(t, ctx, "#pending-messages p.ok"); !strings.Contains(msg, "est annulée : son lien ne marche plus") {
			t.Errorf("cancelled: %q", msg)
		}
		adminWait(t, ctx, `document.getElementById("pending").textContent.includes("Aucune invitation en attente") && "ok"`)
	})

	t.Run("LoginWithCode", func(t *testing.T) {
		click(t, ctx, "#logout")
		adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("email")))
		adminCheckPage(t, ctx, "connexion")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), accountstest.Password))
		click(t, ctx, "#login button[type=submit]")
		// The password is right: the code is asked for, on its field.
		if msg := adminFieldError(t, ctx, "totp"); !strings.Contains(msg, "code à 6 chiffres") {
			t.Errorf("code asked: %q", msg)
		}
		// The confirming code is spent; the next step's passes.
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("totp"), accountstest.TOTP(secret, time.Now().Add(30*time.Second))))
		click(t, ctx, "#login button[type=submit]")
		adminWait(t, ctx, `location.pathname === "/departement/" && document.readyState === "complete" && "ok"`)
	})

	t.Run("Reset", func(t *testing.T) {
		// Another tab of the same browser keeps the session open; the reset
		// must end it.
		adminDo(t, ctx, chromedp.Navigate(base+"/connexion"))
		adminWait(t, ctx, `location.pathname === "/departement/" && "ok"`)
		adminDo(t, ctx, chromedp.Navigate(base+"/mot-de-passe-oublie"), chromedp.WaitVisible(chromedp.ID("email")))
		adminCheckPage(t, ctx, "mot-de-passe-oublie")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("email"), email))
		click(t, ctx, "#forgot button[type=submit]")
		if msg := adminSeen(t, ctx, "#forgot-messages p.ok"); !strings.HasPrefix(msg, "Si un compte a cette adresse") {
			t.Errorf("after the request: %q", msg)
		}
		reset := smtp.Next(t, patience).Read(t)
		if reset.Subject != "Choisir un nouveau mot de passe Pass numérique" || len(reset.Links()) != 1 || !strings.HasPrefix(reset.Links()[0], base+"/mot-de-passe#") {
			t.Fatalf("reset email %q:\n%s", reset.Subject, reset.Text)
		}
		adminDo(t, ctx, chromedp.Navigate(reset.Links()[0]), chromedp.WaitVisible(chromedp.ID("password")))
		adminCheckPage(t, ctx, "mot-de-passe")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("password"), "une toute nouvelle phrase"))
		click(t, ctx, "#reset button[type=submit]")
		if msg := adminSeen(t, ctx, "#reset-messages p.ok"); !strings.Contains(msg, "Votre mot de passe est changé") {
			t.Errorf("after the reset: %q", msg)
		}
		// The session the browser had is over.
		adminDo(t, ctx, chromedp.Navigate(base+"/departement/"))
		adminWait(t, ctx, `location.pathname === "/connexion" && "ok"`)
		adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), accountstest.Password))
		click(t, ctx, "#login button[type=submit]")
		if msg := adminFieldError(t, ctx, "password"); msg != "Adresse e-mail ou mot de passe incorrect." {
			t.Errorf("the old password: %q", msg)
		}
	})
	t.Run("StructureAgent", func(t *testing.T) {
		// A CCAS with 2 chéquiers, and an MDS with 1; the CCAS's agent is
		// invited, opens the link on a phone and lands on the hand-over page.
		added := regexp.MustCompile(`added structure (\d+)`)
		ccas := added.FindStringSubmatch(mustRun(t, env, "structure", "add", "--department", "78", "--name", "CCAS de Trappes", "--type", "ccas", "--commune", "Trappes"))[1]
		mdsID := added.FindStringSubmatch(mustRun(t, env, "structure", "add", "--department", "78", "--name", "MDS de Versailles", "--type", "mds", "--commune", "Versailles"))[1]
		out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "3", "--vouchers", "2", "--valid-until", nextYearEnd())
		numbers := regexp.MustCompile(`78-\d{4}-\d{6}`).FindAllString(out, -1)
		if len(numbers) < 2 {
			t.Fatalf("issue printed %q", out)
		}
		first := numbers[0]
		mds := strings.Replace(first, "000001", "000003", 1)
		mustRun(t, env, "stock", "allocate", "--department", "78", "--to", ccas, "--batch", "1", "--count", "2")
		mustRun(t, env, "stock", "allocate", "--department", "78", "--to", mdsID, "--batch", "1", "--count", "1")
		mustRun(t, env, "user", "invite", "agent@ccas-trappes.fr", "--role", "structure_agent", "--structure", ccas, "--public-url", base)
		link := smtp.Next(t, patience).Read(t).Links()[0]
		adminDo(t, ctx, phone(), chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("password"), accountstest.Password))
		click(t, ctx, "#accept button[type=submit]")
		adminWait(t, ctx, `location.pathname === "/departement/remise" && document.querySelector("#stock-table") && "ok"`)
		stock := adminWait(t, ctx, `[...document.querySelectorAll("#stock-table tbody tr")].map(r => r.innerText.replace(/\s+/g, " ")).join(" / ")`)
		if !strings.HasPrefix(stock, "CCAS de Trappes") || !strings.Contains(stock, " 2 ") || strings.Contains(stock, "Versailles") {
			t.Errorf("the agent's stock: %q", stock)
		}
		adminCheckPage(t, ctx, "remise-agent")
		// Another structure's chéquier is refused, in French, in view.
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("a-number"), mds))
		click(t, ctx, "#activate button[type=submit]")
		if msg := adminSeen(t, ctx, "#activate-messages p.error"); !strings.Contains(msg, "n'est pas dans le stock de votre structure") {
			t.Errorf("another structure's chéquier: %q", msg)
		}
		adminDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("activate").reset()`), chromedp.SendKeys(chromedp.ID("a-number"), first))
		click(t, ctx, "#activate button[type=submit]")
		if msg := adminSeen(t, ctx, "#activate-messages p.ok"); !strings.Contains(msg, first+" remis") {
			t.Errorf("the agent's hand-over: %q", msg)
		}
		adminWait(t, ctx, `[...document.querySelectorAll("#stock-table tbody tr td")].some(c => c.textContent === "1") && "ok"`)
	})
	smtp.None(t)
}

// postJSON posts body as a program would (no browser headers), and
// returns the status and the answer.
func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}
