package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"passnum/accounts/accountstest"
	"passnum/sso/ssotest"
)

// TestSingleSignOnPages drives single sign-on in headless Chromium against
// the real `passnum serve` configured with a real OpenID Connect provider
// on loopback: an agent invited by email accepts with the provider (no
// password at passnum) and lands on the département's pages; logs out and
// back in with the button; a finance role added later makes passnum ask
// for its own second factor after the provider, on its field; a person the
// provider knows but no invitation bound is told so, in view, with the
// focus on the message.
func TestSingleSignOnPages(t *testing.T) {
	idp := ssotest.Start(t)
	const pw = "mot de passe du fournisseur"
	idp.AddUser("agent", pw, "sub-agent-5d1e", "agent@yvelines.fr", true)
	idp.AddUser("inconnu", pw, "sub-inconnu-77", "inconnu@yvelines.fr", true)
	smtp, env, base := peopleServer(t, "PASSNUM_OIDC_ISSUER="+idp.Issuer, "PASSNUM_OIDC_NAME=ProConnect",
		"PASSNUM_OIDC_CLIENT_ID="+ssotest.ClientID, "PASSNUM_OIDC_CLIENT_SECRET="+ssotest.ClientSecret)
	idp.Register(base + "/connexion/sso")
	invite := func(role string) string {
		t.Helper()
		mustRun(t, env, "user", "invite", "agent@yvelines.fr", "--role", role, "--department", "78", "--public-url", base)
		m := smtp.Next(t, patience).Read(t)
		if len(m.Links()) != 1 {
			t.Fatalf("invitation:\n%s", m.Text)
		}
		return m.Links()[0]
	}
	ctx := newBrowser(t)
	recordCSPViolations(t, ctx)
	adminDo(t, ctx, chromedp.EmulateViewport(1280, 900))
	// atProvider signs in on the provider's own form, which sends the
	// browser back to passnum.
	atProvider := func(username string) {
		t.Helper()
		adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("username")), chromedp.SendKeys(chromedp.ID("username"), username),
			chromedp.SendKeys(chromedp.ID("password"), pw))
		if _, err := chromedp.RunResponse(ctx, chromedp.Submit(chromedp.ID("password"))); err != nil {
			t.Fatalf("the provider's form: %v", err)
		}
	}
	const who = `document.querySelector("header .who p")?.innerText`

	t.Run("AcceptWithProvider", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Navigate(invite("department_reader")), chromedp.WaitVisible(chromedp.ID("accept-sso")))
		adminCheckPage(t, ctx, "invitation avec ProConnect")
		click(t, ctx, "#accept-sso button[type=submit]")
		atProvider("agent")
		adminWait(t, ctx, `location.pathname === "/departement/" && document.readyState === "complete" && "ok"`)
		if got := adminWait(t, ctx, who); got != "Connecté : agent@yvelines.fr, pour Yvelines (78) (lecture du département)" {
			t.Errorf("header %q", got)
		}
	})

	t.Run("LoginWithProvider", func(t *testing.T) {
		click(t, ctx, "#logout")
		adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("sso")))
		adminCheckPage(t, ctx, "connexion avec ProConnect")
		click(t, ctx, "#sso button[type=submit]")
		atProvider("agent")
		adminWait(t, ctx, `location.pathname === "/departement/" && document.readyState === "complete" && "ok"`)
		// The provider's code left the address bar and the history.
		if loc := adminValue(t, ctx, chromedp.Evaluate[string](`history.length + " " + document.referrer`)); strings.Contains(loc, "code=") {
			t.Errorf("the provider's code stayed: %s", loc)
		}
	})

	t.Run("SecondFactorAfterProvider", func(t *testing.T) {
		adminDo(t, ctx, chromedp.Navigate(invite("department_finance")), chromedp.WaitVisible(chromedp.ID("accept-sso")))
		click(t, ctx, "#accept-sso button[type=submit]")
		atProvider("agent")
		// Finance moves money: passnum's own second factor comes first.
		need := adminInView(t, ctx, "#sf-needed", `document.activeElement.id === "sf-needed"`)
		if !strings.Contains(need, "ajoutez un second facteur") {
			t.Errorf("enrolment message %q", need)
		}
		secret := strings.ReplaceAll(adminWait(t, ctx, `document.getElementById("sf-secret").textContent`), " ", "")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("totp"), accountstest.TOTP(secret, time.Now())))
		click(t, ctx, "#sf-confirm button[type=submit]")
		adminWait(t, ctx, `location.pathname === "/departement/" && document.readyState === "complete" && "ok"`)

		click(t, ctx, "#logout")
		adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("sso")))
		click(t, ctx, "#sso button[type=submit]")
		atProvider("agent")
		if msg := adminFieldError(t, ctx, "sso-totp"); !strings.Contains(msg, "code à 6 chiffres") {
			t.Errorf("code asked: %q", msg)
		}
		adminCheckPage(t, ctx, "connexion avec ProConnect, code")
		adminDo(t, ctx, chromedp.SendKeys(chromedp.ID("sso-totp"), "000000"))
		click(t, ctx, "#sso button[type=submit]")
		if msg := adminFieldError(t, ctx, "sso-totp"); !strings.Contains(msg, "Ce code ne convient pas") {
			t.Errorf("wrong code: %q", msg)
		}
		// The enrolling code is spent; the next step's passes.
		adminDo(t, ctx, chromedp.SetValue(chromedp.ID("sso-totp"), accountstest.TOTP(secret, time.Now().Add(30*time.Second))))
		click(t, ctx, "#sso button[type=submit]")
		adminWait(t, ctx, `location.pathname === "/departement/" && document.readyState === "complete" && "ok"`)
		if got := adminWait(t, ctx, who); !strings.Contains(got, "agent@yvelines.fr") {
			t.Errorf("header %q", got)
		}
	})

	t.Run("UnknownIdentity", func(t *testing.T) {
		click(t, ctx, "#logout")
		adminDo(t, ctx, chromedp.WaitVisible(chromedp.ID("sso")))
		click(t, ctx, "#sso button[type=submit]")
		atProvider("inconnu")
		if msg := adminSeen(t, ctx, "#sso-messages p.error"); !strings.Contains(msg, "Aucun compte du Pass numérique n’est lié à cette identité") {
			t.Errorf("unknown identity: %q", msg)
		}
		if loc := adminValue(t, ctx, chromedp.Location()); loc != base+"/connexion" {
			t.Errorf("at %s", loc)
		}
	})
}
