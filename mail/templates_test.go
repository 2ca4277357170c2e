package mail_test

import (
	"strings"
	"testing"
	"time"

	"passnum/mail"
)

// now is a winter afternoon in Paris (UTC+1).
var now = time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)

// TestInvitationText: the invitation says who invites, to which
// organisation and role, the link alone on its line, until when it works
// (Paris time) and what to do when it was not expected.
func TestInvitationText(t *testing.T) {
	m, err := mail.Invitation{
		To: "Léa Dupont <lea.dupont@exemple.fr>", InvitedBy: "Claire Martin, Département des Yvelines",
		Organisation: "CCAS de Trappes", Role: "agent de distribution",
		Link: "https://pass.yvelines.fr/invitation/Zk3-_q9aB7xYt2Lm", Expires: now.Add(7 * 24 * time.Hour), Date: now,
	}.Message()
	if err != nil {
		t.Fatal(err)
	}
	want := `Bonjour,

Claire Martin, Département des Yvelines vous invite à rejoindre CCAS de Trappes sur Pass numérique.
Votre rôle : agent de distribution.

Pour créer votre compte, ouvrez ce lien :

https://pass.yvelines.fr/invitation/Zk3-_q9aB7xYt2Lm

Ce lien marche une seule fois, jusqu’au 9 décembre 2026 à 15 h 30.
Après, demandez une nouvelle invitation à Claire Martin, Département des Yvelines.

Vous n’attendiez pas ce message ?
N’ouvrez pas le lien. Sans réponse de votre part, l’invitation s’arrête toute seule.

Ce message est envoyé automatiquement. Merci de ne pas y répondre.
`
	if m.Text != want {
		t.Errorf("invitation text:\n%s\nwant:\n%s", m.Text, want)
	}
	if want := "Invitation : votre compte Pass numérique pour CCAS de Trappes"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if m.To != "Léa Dupont <lea.dupont@exemple.fr>" || m.Link != "https://pass.yvelines.fr/invitation/Zk3-_q9aB7xYt2Lm" || !m.Date.Equal(now) {
		t.Errorf("message %+v", m)
	}
}

// TestPasswordResetText: the reset message gives the link, how long it
// works (1 hour, until when) and tells to ignore it if nothing was asked.
func TestPasswordResetText(t *testing.T) {
	m, err := mail.PasswordReset{To: "lea.dupont@exemple.fr", Link: "https://pass.yvelines.fr/reinitialiser/T0k3n", Expires: now.Add(time.Hour), Date: now}.Message()
	if err != nil {
		t.Fatal(err)
	}
	want := `Bonjour,

Vous avez demandé un nouveau mot de passe pour votre compte Pass numérique.

Pour le choisir, ouvrez ce lien :

https://pass.yvelines.fr/reinitialiser/T0k3n

Ce lien marche une seule fois, pendant 1 heure : jusqu’au 2 décembre 2026 à 16 h 30.

Si vous n’avez rien demandé, ignorez ce message.
Votre mot de passe ne change pas.

Ce message est envoyé automatiquement. Merci de ne pas y répondre.
`
	if m.Text != want {
		t.Errorf("reset text:\n%s\nwant:\n%s", m.Text, want)
	}
	if want := "Choisir un nouveau mot de passe Pass numérique"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
}

// TestBankDetailsText: the notice names the venue, shows only the IBAN's
// last 4 characters, who asked and who approved, and whom to call.
func TestBankDetailsText(t *testing.T) {
	iban := "FR76 3000 6000 0112 3456 7890 189"
	m, err := mail.BankDetailsChanged{
		To: "tresorerie@yvelines.fr", Venue: "Médiathèque de Trappes", IBAN: iban,
		RequestedBy: "agent 17, Médiathèque de Trappes", ApprovedBy: "agent 4, Département des Yvelines",
		Contact: "le Département des Yvelines au 01 39 07 78 78", Date: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC),
	}.Message()
	if err != nil {
		t.Fatal(err)
	}
	want := `Bonjour,

Les coordonnées bancaires de Médiathèque de Trappes ont changé.

Nouveau compte : l’IBAN qui finit par 0189.
Les prochains remboursements seront versés sur ce compte.

Demande faite par : agent 17, Médiathèque de Trappes.
Accord donné par : agent 4, Département des Yvelines, le 1er novembre 2026 à 9 h.

Vous ne connaissez pas ce changement ?
Appelez tout de suite le Département des Yvelines au 01 39 07 78 78.

Ce message est envoyé automatiquement. Merci de ne pas y répondre.
`
	if m.Text != want {
		t.Errorf("notice text:\n%s\nwant:\n%s", m.Text, want)
	}
	if want := "Coordonnées bancaires changées : Médiathèque de Trappes"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	for _, part := range []string{"FR76", "3000", "7890 1", "78901"} {
		if strings.Contains(m.Text+m.Subject, part) {
			t.Errorf("the notice shows %q of the IBAN, want only its last 4 characters", part)
		}
	}
}

// TestTemplatesRefuseBadData: a message that would mislead (no link, a
// link that is not one, an expiry already past, an empty name, an IBAN
// that is not one) is not written.
func TestTemplatesRefuseBadData(t *testing.T) {
	ok := mail.Invitation{To: "a@exemple.fr", InvitedBy: "Claire Martin", Organisation: "CCAS de Trappes", Role: "agent",
		Link: "https://pass.yvelines.fr/i/x", Expires: now.Add(time.Hour), Date: now}
	if _, err := ok.Message(); err != nil {
		t.Fatalf("the valid invitation is refused: %v", err)
	}
	bad := map[string]func(*mail.Invitation){
		"no link":           func(d *mail.Invitation) { d.Link = "" },
		"relative link":     func(d *mail.Invitation) { d.Link = "/invitation/x" },
		"javascript link":   func(d *mail.Invitation) { d.Link = "javascript:alert(1)" },
		"link with a space": func(d *mail.Invitation) { d.Link = "https://pass.yvelines.fr/i/x y" },
		"expired":           func(d *mail.Invitation) { d.Expires = now },
		"no date":           func(d *mail.Invitation) { d.Date = time.Time{} },
		"no organisation":   func(d *mail.Invitation) { d.Organisation = " " },
	}
	for name, change := range bad {
		d := ok
		change(&d)
		if m, err := d.Message(); err == nil {
			t.Errorf("%s: written: %+v", name, m)
		}
	}
	if _, err := (mail.BankDetailsChanged{To: "a@exemple.fr", Venue: "V", IBAN: "0189", RequestedBy: "a", ApprovedBy: "b", Contact: "c", Date: now}).Message(); err == nil {
		t.Error("a notice with the IBAN 0189 is written")
	}
}

// TestFrenchDurations: the reset's lifetime in words.
func TestFrenchDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "pendant 1 heure :", 2 * time.Hour: "pendant 2 heures :", 30 * time.Minute: "pendant 30 minutes :",
		90 * time.Minute: "pendant 90 minutes :", 48 * time.Hour: "pendant 2 jours :", time.Minute: "pendant 1 minute :",
	} {
		m, err := mail.PasswordReset{To: "a@exemple.fr", Link: "https://p.fr/r/x", Expires: now.Add(d), Date: now}.Message()
		if err != nil || !strings.Contains(m.Text, want) {
			t.Errorf("%s: %v, text has no %q:\n%s", d, err, want, m.Text)
		}
	}
}
