package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Config is how the installation sends email, as cmd/passnum reads it.
type Config struct {
	// URL names the SMTP server: smtp://[USER@]HOST[:PORT] (port 587,
	// STARTTLS required), smtps://[USER@]HOST[:PORT] (port 465, TLS from
	// the first byte), with ?starttls=optional for a relay that offers no
	// TLS (then no password is sent). Empty: no server, messages go to the
	// operator's outbox.
	URL string
	// Password is USER's, for AUTH PLAIN; never in the URL, which shows in
	// process lists and configuration dumps.
	Password string
	// From is the sender, with a display name: "Pass numérique 78
	// <ne-pas-repondre@yvelines.fr>".
	From string
	// Timeout bounds one message's whole exchange with the server.
	Timeout time.Duration
	// TLS, if not nil, is the TLS configuration to start from (tests trust
	// their server's certificate with it); nil trusts the system's roots.
	TLS *tls.Config
}

// FromConfig returns the SMTP sender c describes or, when c names no
// server, the operator's outbox writing to operator: wiring mail into a
// command is one call.
func FromConfig(c Config, operator io.Writer) (Sender, error) {
	switch {
	case c.URL == "" && c.Password != "":
		return nil, errors.New("mail: an SMTP password is given (PASSNUM_SMTP_PASSWORD) but no SMTP URL: give the URL, or remove the password")
	case c.URL == "":
		return &Outbox{W: operator}, nil
	}
	return NewSMTP(c)
}

// server is an SMTP URL, read.
type server struct {
	addr, host string
	user       string
	implicit   bool // smtps: TLS from the start
	optional   bool // starttls=optional: plain text if the server has no STARTTLS
}

// CheckURL says what is wrong with an SMTP URL and how to write it; the
// empty URL (no server) is right.
func CheckURL(s string) error {
	if s == "" {
		return nil
	}
	_, err := parseURL(s)
	return err
}

const urlForm = "write it as smtp://USER@HOST:587 (STARTTLS), smtps://USER@HOST:465 (TLS), or smtp://HOST:25?starttls=optional for a relay without TLS"

func parseURL(s string) (server, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return server{}, fmt.Errorf("%q is not an SMTP URL: %s", maskURL(s), urlForm)
	}
	var srv server
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		srv.implicit, port = true, "465"
	default:
		return server{}, fmt.Errorf("%q: the scheme is smtp:// or smtps://: %s", maskURL(s), urlForm)
	}
	if _, set := u.User.Password(); set {
		return server{}, fmt.Errorf("%q has a password: give it in PASSNUM_SMTP_PASSWORD instead, the URL shows in process lists", maskURL(s))
	}
	srv.user = u.User.Username()
	srv.host = u.Hostname()
	if p := u.Port(); p != "" {
		port = p
	}
	srv.addr = net.JoinHostPort(srv.host, port)
	for k, v := range u.Query() {
		switch {
		case k == "starttls" && len(v) == 1 && v[0] == "optional" && !srv.implicit:
			srv.optional = true
		default:
			return server{}, fmt.Errorf("%q: the only setting is ?starttls=optional, with smtp://: %s", maskURL(s), urlForm)
		}
	}
	return srv, nil
}

// maskURL hides a password written in an SMTP URL, for the error that
// refuses it.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, set := u.User.Password(); set {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return strings.Replace(u.String(), ":%2A%2A%2A%2A@", ":****@", 1)
}

// SMTP sends messages to one SMTP server, one connection per message.
type SMTP struct {
	srv      server
	password string
	from     *mail.Address
	timeout  time.Duration
	tls      *tls.Config
}

// NewSMTP checks c and returns its sender.
func NewSMTP(c Config) (*SMTP, error) {
	srv, err := parseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	switch {
	case c.From == "":
		return nil, errors.New("mail: an SMTP server needs a sender address (PASSNUM_MAIL_FROM), such as \"Pass numérique 78 <ne-pas-repondre@yvelines.fr>\"")
	case c.Password != "" && srv.user == "":
		return nil, fmt.Errorf("mail: a password is given but %s has no user: write smtp://USER@HOST:PORT", c.URL)
	case c.Password == "" && srv.user != "":
		return nil, fmt.Errorf("mail: %s names the user %s but no password is given (PASSNUM_SMTP_PASSWORD)", c.URL, srv.user)
	case c.Password != "" && srv.optional:
		return nil, errors.New("mail: ?starttls=optional would send the password in clear text to a server without TLS: remove it, or the password")
	case c.Timeout <= 0:
		return nil, fmt.Errorf("mail: the timeout %s is too short: give a duration of more than 0, such as 30s", c.Timeout)
	}
	from, err := CheckFrom(c.From)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{}
	if c.TLS != nil {
		cfg = c.TLS.Clone()
	}
	cfg.ServerName = srv.host
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return &SMTP{srv: srv, password: c.Password, from: from, timeout: c.Timeout, tls: cfg}, nil
}

// CheckFrom reads a sender address; the error is for the operator who
// configured it.
func CheckFrom(s string) (*mail.Address, error) {
	a, err := CheckAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an email address: write it as \"Pass numérique 78 <ne-pas-repondre@yvelines.fr>\"", printable(s))
	}
	return a, nil
}

// Send delivers m over one connection within the timeout: TLS first
// (STARTTLS, unless the URL made it optional and the server has none), the
// login if there is one, never a password over plain text. An error names
// the server, the step that failed and what to check.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	env, err := compose(s.from, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.srv.addr)
	if err != nil {
		return s.fail(ctx, "cannot be reached", err, "check the host and port of the SMTP URL and that the server accepts connections from this machine")
	}
	defer conn.Close()
	// One deadline for the whole exchange, and an end to it as soon as
	// ctx is cancelled: net/smtp takes no context.
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if s.srv.implicit {
		conn = tls.Client(conn, s.tls)
	}
	c, err := smtp.NewClient(conn, s.srv.host)
	if err != nil {
		return s.fail(ctx, "did not greet", err, "check that the URL names an SMTP server, and smtps:// for a port that speaks TLS from the start (465)")
	}
	defer c.Close()
	secure := s.srv.implicit
	if ok, _ := c.Extension("STARTTLS"); ok && !secure {
		if err := c.StartTLS(s.tls); err != nil {
			return s.fail(ctx, "refused TLS (STARTTLS)", err, "check the server's certificate: it must be valid for "+s.srv.host+" and signed by an authority this machine trusts")
		}
		secure = true
	}
	switch {
	case !secure && s.srv.user != "":
		return s.fail(ctx, "offers no STARTTLS", nil, "the password of "+s.srv.user+" is never sent in clear text: turn STARTTLS on at the server, or use smtps://")
	case !secure && !s.srv.optional:
		return s.fail(ctx, "offers no STARTTLS", nil, "no message is sent in clear text; add ?starttls=optional to the URL only for a relay on a network you trust, and without a login")
	}
	if s.srv.user != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return s.fail(ctx, "offers no login (AUTH)", nil, "remove the user from the SMTP URL if the server takes mail without login, or turn AUTH on at the server")
		}
		if err := c.Auth(smtp.PlainAuth("", s.srv.user, s.password, s.srv.host)); err != nil {
			return s.fail(ctx, "refused the login of "+s.srv.user, err, "check the user in the SMTP URL and its password (PASSNUM_SMTP_PASSWORD)")
		}
	}
	if err := c.Mail(env.from); err != nil {
		return s.fail(ctx, "refused the sender "+env.from, err, "check the sender address (PASSNUM_MAIL_FROM): the server must let this login send as it")
	}
	if err := c.Rcpt(env.to); err != nil {
		return s.fail(ctx, "refused the recipient "+env.to, err, "check the address; a server that relays only for its own domains needs a login (USER@ in the SMTP URL)")
	}
	w, err := c.Data()
	if err != nil {
		return s.fail(ctx, "refused the message", err, "see the server's answer")
	}
	if _, err := w.Write(env.raw); err != nil {
		return s.fail(ctx, "stopped while receiving the message", err, "see the server's log")
	}
	if err := w.Close(); err != nil {
		return s.fail(ctx, "refused the message", err, "see the server's answer")
	}
	// The message is accepted: a failed QUIT changes nothing for it.
	c.Quit()
	return nil
}

// fail words an error for the operator: which server, what it did, what it
// answered and what to check.
func (s *SMTP) fail(ctx context.Context, did string, err error, check string) error {
	var answer string
	var reply *textproto.Error
	var netErr net.Error
	switch {
	case err == nil:
	case errors.As(err, &reply):
		// A reply of several lines stays one line of the error.
		answer = fmt.Sprintf(" (it answered %d %s)", reply.Code, strings.ReplaceAll(reply.Msg, "\n", " "))
	case errors.Is(context.Cause(ctx), context.Canceled):
		did, check = "was left before the message was accepted", "sending was cancelled (the request or the command ended)"
	case ctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		did = "did not answer within " + s.timeout.String()
		check = "check that the host and port of the SMTP URL are an SMTP server's, and that it is up"
	default:
		answer = " (" + err.Error() + ")"
	}
	return &SendError{Server: s.srv.addr, msg: fmt.Sprintf("mail: the SMTP server %s %s%s: %s", s.srv.addr, did, answer, check), err: err}
}

// SendError is a message the SMTP server did not take.
type SendError struct {
	Server string // host:port
	msg    string
	err    error
}

func (e *SendError) Error() string { return e.msg }
func (e *SendError) Unwrap() error { return e.err }
