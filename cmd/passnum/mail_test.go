package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passnum/mail/mailtest"
)

// TestMailTest runs 'passnum mail test' as an operator checking the SMTP
// settings would: against a real server on loopback that wants STARTTLS and
// a login, whose certificate the binary trusts as any machine's (through
// SSL_CERT_FILE); then a wrong password, a missing sender, and no server
// at all, where the email is printed instead.
func TestMailTest(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{User: "passnum", Password: "s3cret"})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	url := "smtp://passnum@" + srv.Addr()
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir(), "SSL_CERT_FILE=" + ca, "PASSNUM_SMTP_URL=" + url,
		"PASSNUM_SMTP_PASSWORD=s3cret", "PASSNUM_MAIL_FROM=Pass numérique 78 <ne-pas-repondre@yvelines.fr>"}

	out := mustRun(t, env, "mail", "test", "--to", "lea.dupont@exemple.fr")
	if want := "sent a test email to lea.dupont@exemple.fr through " + url + "\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	r := srv.Next(t, 10*time.Second)
	m := r.Read(t)
	if !r.TLS || r.User != "passnum" || m.Subject != "Message d’essai de Pass numérique" || m.From.Name != "Pass numérique 78" ||
		!strings.Contains(m.Text, "Ce message vérifie que Pass numérique peut envoyer des e-mails.") {
		t.Errorf("received over TLS %v as %q: %+v", r.TLS, r.User, m)
	}

	if out := mustRun(t, env, "config"); strings.Contains(out, "s3cret") || !hasLine(out, "PASSNUM_SMTP_PASSWORD", "(secret)", "****", "environment", "demo, department confirm, mail test, serve, user invite, venue approve") {
		t.Errorf("config shows the SMTP password, or not that it is set:\n%s", out)
	}

	wrong := append(env, "PASSNUM_SMTP_PASSWORD=wrong")
	res := run(t, wrong, "mail", "test", "--to", "lea.dupont@exemple.fr")
	want := "passnum: mail: the SMTP server " + srv.Addr() + " refused the login of passnum (it answered 535 5.7.8 Authentication failed): check the user in the SMTP URL and its password (PASSNUM_SMTP_PASSWORD)\n"
	if res.code != 1 || res.stderr != want || res.stdout != "" {
		t.Errorf("wrong password: exit %d, stdout %q, stderr %q; want %q", res.code, res.stdout, res.stderr, want)
	}
	noFrom := append(env, "PASSNUM_MAIL_FROM=")
	res = run(t, noFrom, "mail", "test", "--to", "lea.dupont@exemple.fr")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "passnum: mail: an SMTP server needs a sender address (PASSNUM_MAIL_FROM)") {
		t.Errorf("no sender: exit %d, stderr %q", res.code, res.stderr)
	}
	res = run(t, env, "mail", "test", "--to", "lea.dupont\r\nBcc: x@y.fr")
	if res.code != 1 || res.stderr != "passnum: L’adresse e-mail « lea.dupont\uFFFD\uFFFDBcc: x@y.fr » n’est pas valide. Écrivez-la ainsi : prenom.nom@exemple.fr.\n" {
		t.Errorf("bad address: exit %d, stderr %q", res.code, res.stderr)
	}
	srv.None(t)

	out = mustRun(t, []string{"PASSNUM_DATA_DIR=" + t.TempDir()}, "mail", "test", "--to", "lea.dupont@exemple.fr")
	for _, want := range []string{
		"---- email not sent (no SMTP server is configured): pass it on to lea.dupont@exemple.fr ----\n",
		"Subject: Message d’essai de Pass numérique\n",
		"Ce message vérifie que Pass numérique peut envoyer des e-mails.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("without SMTP, mail test printed:\n%s\nwant in it %q", out, want)
		}
	}
}
