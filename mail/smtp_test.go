package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"passnum"
	"passnum/mail"
	"passnum/mail/mailtest"
)

const from = "Pass numérique 78 <ne-pas-repondre@yvelines.fr>"

// sender is an SMTP sender for srv; url is what follows "://" and the
// host:port (user@ goes before it with user).
func sender(t *testing.T, srv *mailtest.Server, scheme, user, password, query string) mail.Sender {
	t.Helper()
	if user != "" {
		user += "@"
	}
	s, err := mail.FromConfig(mail.Config{
		URL: scheme + "://" + user + srv.Addr() + query, Password: password, From: from,
		Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: srv.RootCAs},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func invitation(t *testing.T) mail.Message {
	t.Helper()
	m, err := mail.Invitation{
		To: "Léa Dupont <lea.dupont@exemple.fr>", InvitedBy: "Claire Martin, Département des Yvelines",
		Organisation: "CCAS de Trappes", Role: "agent de distribution",
		// A long token with = and _ : the characters quoted-printable
		// would have mangled or broken across lines.
		Link:    "https://pass.yvelines.fr/invitation/accepter?jeton=Zk3-_q9aB7xYt2Lm=Qw8rT5uV1wX4yZ0aB3cD6eF9gH2iJ5kL8mN1oP4qR7sT0uV3wX6yZ9",
		Expires: now.Add(7 * 24 * time.Hour), Date: now,
	}.Message()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSMTPSendsOverSTARTTLS: an invitation sent to a real server that
// offers STARTTLS and wants a login arrives over TLS, logged in, and reads
// as written: sender with its name, recipient, French subject and body,
// the link whole on its own line.
func TestSMTPSendsOverSTARTTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{User: "passnum", Password: "s3cret"})
	m := invitation(t)
	if err := sender(t, srv, "smtp", "passnum", "s3cret", "").Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := srv.Next(t, 5*time.Second)
	if !r.TLS || r.User != "passnum" {
		t.Errorf("received over TLS %v, logged in as %q; want TLS, passnum", r.TLS, r.User)
	}
	if r.From != "ne-pas-repondre@yvelines.fr" || len(r.To) != 1 || r.To[0] != "lea.dupont@exemple.fr" {
		t.Errorf("envelope from %q to %q", r.From, r.To)
	}
	got := r.Read(t)
	if got.From.Name != "Pass numérique 78" || got.From.Address != "ne-pas-repondre@yvelines.fr" {
		t.Errorf("From %v", got.From)
	}
	if len(got.To) != 1 || got.To[0].Name != "Léa Dupont" || got.To[0].Address != "lea.dupont@exemple.fr" {
		t.Errorf("To %v", got.To)
	}
	if got.Subject != m.Subject || !got.Date.Equal(now) {
		t.Errorf("Subject %q, Date %v; want %q, %v", got.Subject, got.Date, m.Subject, now)
	}
	if got.Text != m.Text {
		t.Errorf("body:\n%s\nwant:\n%s", got.Text, m.Text)
	}
	if links := got.Links(); len(links) != 1 || links[0] != m.Link {
		t.Errorf("links %q, want the link whole on its own line: %s", links, m.Link)
	}
	if id := got.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@yvelines.fr>") {
		t.Errorf("Message-ID %q", id)
	}
	if got.Header.Get("MIME-Version") != "1.0" || got.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers %v", got.Header)
	}
	for _, line := range strings.Split(string(r.Raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("raw line of %d characters: %q", len(line), line)
		}
	}
}

// TestSMTPS: smtps:// speaks TLS from the first byte.
func TestSMTPS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{ImplicitTLS: true})
	if err := sender(t, srv, "smtps", "", "", "").Send(context.Background(), invitation(t)); err != nil {
		t.Fatal(err)
	}
	if r := srv.Next(t, 5*time.Second); !r.TLS {
		t.Error("received without TLS")
	}
}

// TestSMTPLongSubject: a long French subject is encoded (RFC 2047) and
// folded, and reads back whole.
func TestSMTPLongSubject(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	m, err := mail.BankDetailsChanged{To: "tresorerie@yvelines.fr", Venue: "Médiathèque intercommunale « Les Écrivains » de Saint-Quentin-en-Yvelines, annexe de Trappes",
		IBAN: "FR7630006000011234567890189", RequestedBy: "agent 17", ApprovedBy: "agent 4", Contact: "le 01 39 07 78 78", Date: now}.Message()
	if err != nil {
		t.Fatal(err)
	}
	if err := sender(t, srv, "smtp", "", "", "").Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := srv.Next(t, 5*time.Second)
	if got := r.Read(t); got.Subject != m.Subject {
		t.Errorf("Subject %q, want %q", got.Subject, m.Subject)
	}
	for _, line := range strings.Split(string(r.Raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("raw line of %d characters: %q", len(line), line)
		}
	}
	if bytes.Contains(r.Raw, []byte("FR76")) || strings.Contains(r.Read(t).Text, "FR76") {
		t.Error("the message carries the IBAN's first characters")
	}
}

// TestSMTPWithoutSTARTTLS: a server that offers no TLS gets no password
// (even though it offers AUTH in clear text) and no message; the error
// says which server and what to change. With ?starttls=optional and no
// login, a relay without TLS gets the message.
func TestSMTPWithoutSTARTTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{NoTLS: true, User: "passnum", Password: "s3cret", InsecureAuth: true})
	err := sender(t, srv, "smtp", "passnum", "s3cret", "").Send(context.Background(), invitation(t))
	want := "mail: the SMTP server " + srv.Addr() + " offers no STARTTLS: the password of passnum is never sent in clear text"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q…", err, want)
	}
	if logins := srv.Logins(); len(logins) != 0 {
		t.Errorf("the client tried to log in over plain text: %q", logins)
	}
	srv.None(t)

	relay := mailtest.Start(t, mailtest.Options{NoTLS: true})
	err = sender(t, relay, "smtp", "", "", "").Send(context.Background(), invitation(t))
	if want := "mail: the SMTP server " + relay.Addr() + " offers no STARTTLS: no message is sent in clear text; add ?starttls=optional"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q…", err, want)
	}
	relay.None(t)
	if err := sender(t, relay, "smtp", "", "", "?starttls=optional").Send(context.Background(), invitation(t)); err != nil {
		t.Fatal(err)
	}
	if r := relay.Next(t, 5*time.Second); r.TLS {
		t.Error("received over TLS from a server without it")
	}
}

// TestSMTPWrongPassword: the server's refusal of the login is named, with
// its answer and what to check.
func TestSMTPWrongPassword(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{User: "passnum", Password: "s3cret"})
	err := sender(t, srv, "smtp", "passnum", "wrong", "").Send(context.Background(), invitation(t))
	want := "mail: the SMTP server " + srv.Addr() + " refused the login of passnum (it answered 535 5.7.8 Authentication failed): check the user in the SMTP URL and its password (PASSNUM_SMTP_PASSWORD)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
	var se *mail.SendError
	if !errors.As(err, &se) || se.Server != srv.Addr() {
		t.Errorf("error %#v is not a SendError naming the server", err)
	}
	srv.None(t)
}

// TestSMTPServerDown: nothing listening, or a server that never answers,
// is said within the timeout, naming the server.
func TestSMTPServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	mute, err := net.Listen("tcp", "127.0.0.1:0") // accepts, then says nothing
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, c := range []struct{ addr, want string }{
		{down, "mail: the SMTP server " + down + " cannot be reached (dial tcp " + down + ": connect: connection refused): check the host and port"},
		{mute.Addr().String(), "mail: the SMTP server " + mute.Addr().String() + " did not answer within 300ms: check that the host and port"},
	} {
		s, err := mail.FromConfig(mail.Config{URL: "smtp://" + c.addr, From: from, Timeout: 300 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = s.Send(context.Background(), invitation(t))
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: failed after %s, want within the 300ms timeout", c.addr, took)
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %v\nwant  %s…", err, c.want)
		}
	}
	// A cancelled request stops the exchange at once, timeout or not.
	s, _ := mail.FromConfig(mail.Config{URL: "smtp://" + mute.Addr().String(), From: from, Timeout: time.Minute}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if err := s.Send(ctx, invitation(t)); err == nil || !strings.HasPrefix(err.Error(), "mail: the SMTP server "+mute.Addr().String()+" was left before the message was accepted: sending was cancelled") || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled after %s: %v", time.Since(start), err)
	}
}

// TestSMTPUntrustedCertificate: a certificate this machine does not trust
// stops the message before anything is sent.
func TestSMTPUntrustedCertificate(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s, err := mail.FromConfig(mail.Config{URL: "smtp://" + srv.Addr(), From: from, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), invitation(t))
	if want := "mail: the SMTP server " + srv.Addr() + " refused TLS (STARTTLS)"; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "check the server's certificate") {
		t.Errorf("error %v, want %q…", err, want)
	}
	srv.None(t)
}

// TestHeaderInjection: a line break in the subject or an address, or an
// address that is not one, is refused and nothing is sent; the outbox
// refuses the same.
func TestHeaderInjection(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	smtp := sender(t, srv, "smtp", "", "", "")
	var printed bytes.Buffer
	outbox, _ := mail.FromConfig(mail.Config{}, &printed)
	for name, m := range map[string]mail.Message{
		"CRLF in the subject":       {To: "a@exemple.fr", Subject: "Bonjour\r\nBcc: victime@exemple.org", Text: "x", Date: now},
		"LF in the subject":         {To: "a@exemple.fr", Subject: "Bonjour\nBcc: victime@exemple.org", Text: "x", Date: now},
		"empty subject":             {To: "a@exemple.fr", Subject: " ", Text: "x", Date: now},
		"CRLF in the address":       {To: "a@exemple.fr\r\nBcc: victime@exemple.org", Subject: "Bonjour", Text: "x", Date: now},
		"CRLF in the name":          {To: "\"Léa\r\nBcc: victime@exemple.org\" <a@exemple.fr>", Subject: "Bonjour", Text: "x", Date: now},
		"two addresses":             {To: "a@exemple.fr, victime@exemple.org", Subject: "Bonjour", Text: "x", Date: now},
		"not an address":            {To: "lea.dupont", Subject: "Bonjour", Text: "x", Date: now},
		"no date":                   {To: "a@exemple.fr", Subject: "Bonjour", Text: "x"},
		"control character in name": {To: "\"L\x00éa\" <a@exemple.fr>", Subject: "Bonjour", Text: "x", Date: now},
	} {
		for _, s := range []mail.Sender{smtp, outbox} {
			if err := s.Send(context.Background(), m); err == nil {
				t.Errorf("%s: sent by %T", name, s)
			}
		}
	}
	srv.None(t)
	if printed.Len() != 0 {
		t.Errorf("the outbox printed:\n%s", printed.String())
	}
	// The address's refusal is a user's error, in French.
	err := smtp.Send(context.Background(), mail.Message{To: "lea.dupont\r\nBcc: x@y.fr", Subject: "Bonjour", Text: "x", Date: now})
	if passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != "L’adresse e-mail « lea.dupont\uFFFD\uFFFDBcc: x@y.fr » n’est pas valide. Écrivez-la ainsi : prenom.nom@exemple.fr." {
		t.Errorf("error %q (%s)", err, passnum.ErrorCode(err))
	}
}

// TestOutbox: without SMTP, the message is printed for the operator, its
// link on a line of its own.
func TestOutbox(t *testing.T) {
	var printed bytes.Buffer
	s, err := mail.FromConfig(mail.Config{}, &printed)
	if err != nil {
		t.Fatal(err)
	}
	m := invitation(t)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	out := printed.String()
	for _, want := range []string{
		"---- email not sent (no SMTP server is configured): pass it on to lea.dupont@exemple.fr ----\n",
		"To: Léa Dupont <lea.dupont@exemple.fr>\nSubject: " + m.Subject + "\nLink: " + m.Link + "\n\n" + m.Text + "---- end of the email to lea.dupont@exemple.fr ----\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the outbox printed:\n%s\nwant in it:\n%s", out, want)
		}
	}
}

// TestConfigRefused: settings that cannot work are refused when the
// sender is made, each saying what to write.
func TestConfigRefused(t *testing.T) {
	for _, c := range []struct {
		cfg  mail.Config
		want string
	}{
		{mail.Config{URL: "smtp://mail.yvelines.fr", Timeout: time.Second}, "mail: an SMTP server needs a sender address (PASSNUM_MAIL_FROM)"},
		{mail.Config{URL: "smtp://mail.yvelines.fr", From: "ne-pas-repondre", Timeout: time.Second}, `"ne-pas-repondre" is not an email address: write it as "Pass numérique 78 <ne-pas-repondre@yvelines.fr>"`},
		{mail.Config{URL: "smtp://mail.yvelines.fr", From: "a@b.fr\r\nBcc: c@d.fr", Timeout: time.Second}, "\"a@b.fr\uFFFD\uFFFDBcc: c@d.fr\" is not an email address"},
		{mail.Config{URL: "http://mail.yvelines.fr", From: from, Timeout: time.Second}, `mail: "http://mail.yvelines.fr": the scheme is smtp:// or smtps://`},
		{mail.Config{URL: "smtp://u:hunter2@mail.yvelines.fr", From: from, Timeout: time.Second}, `mail: "smtp://u:****@mail.yvelines.fr" has a password: give it in PASSNUM_SMTP_PASSWORD instead`},
		{mail.Config{URL: "smtp://mail.yvelines.fr?tls=no", From: from, Timeout: time.Second}, `mail: "smtp://mail.yvelines.fr?tls=no": the only setting is ?starttls=optional, with smtp://`},
		{mail.Config{URL: "smtps://mail.yvelines.fr?starttls=optional", From: from, Timeout: time.Second}, `the only setting is ?starttls=optional, with smtp://`},
		{mail.Config{URL: "smtp://mail.yvelines.fr", Password: "x", From: from, Timeout: time.Second}, "mail: a password is given but smtp://mail.yvelines.fr has no user"},
		{mail.Config{URL: "smtp://u@mail.yvelines.fr", From: from, Timeout: time.Second}, "mail: smtp://u@mail.yvelines.fr names the user u but no password is given (PASSNUM_SMTP_PASSWORD)"},
		{mail.Config{URL: "smtp://u@mail.yvelines.fr?starttls=optional", Password: "x", From: from, Timeout: time.Second}, "mail: ?starttls=optional would send the password in clear text"},
		{mail.Config{URL: "smtp://mail.yvelines.fr", From: from}, "mail: the timeout 0s is too short"},
		{mail.Config{URL: "smtp:///no-host", From: from, Timeout: time.Second}, `mail: "smtp:///no-host" is not an SMTP URL`},
		{mail.Config{Password: "x"}, "mail: an SMTP password is given (PASSNUM_SMTP_PASSWORD) but no SMTP URL"},
	} {
		_, err := mail.FromConfig(c.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
