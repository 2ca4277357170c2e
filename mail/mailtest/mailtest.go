// Package mailtest runs a real SMTP server on loopback for tests: it offers
// STARTTLS with a certificate made for the test, may require AUTH PLAIN, and
// keeps every message it accepts, raw and decoded, so that a test reads the
// mails a person would get (the invitation link, the reset link).
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options say what the server offers. The zero value offers STARTTLS and
// accepts mail without login.
type Options struct {
	// NoTLS makes the server offer no TLS, as a relay without it.
	NoTLS bool
	// ImplicitTLS speaks TLS from the first byte, as on port 465
	// (smtps://), instead of offering STARTTLS.
	ImplicitTLS bool
	// User and Password, when User is set, are the only login AUTH PLAIN
	// accepts, and mail is refused without it.
	User, Password string
	// InsecureAuth offers AUTH before STARTTLS too (or without TLS at
	// all), as a badly set up server would: the client must still not
	// send its password in clear text.
	InsecureAuth bool
}

// Server is a running SMTP server; Start stops it when the test ends.
type Server struct {
	// Host and Port are where it listens: 127.0.0.1 and a free port.
	Host, Port string
	// RootCAs trusts the server's certificate (valid for 127.0.0.1 and
	// localhost): give it to the client's TLS configuration.
	RootCAs *x509.CertPool
	// CertPEM is the same certificate in PEM, for another process (the
	// passnum binary) to trust it through SSL_CERT_FILE.
	CertPEM []byte

	opts     Options
	received chan Received
	mu       sync.Mutex
	logins   []string // every AUTH attempt's user name, accepted or not
}

// Received is one message the server accepted.
type Received struct {
	From string   // the envelope's MAIL FROM
	To   []string // the envelope's RCPT TO
	Raw  []byte   // the message as sent, headers and body
	// TLS says whether the message came over TLS (STARTTLS done).
	TLS bool
	// User is the login the client authenticated with, if any.
	User string
}

// Addr is Host:Port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, s.Port) }

// Start runs a server on 127.0.0.1 with a free port until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{opts: opts, received: make(chan Received, 100)}
	s.Host, s.Port, _ = net.SplitHostPort(l.Addr().String())
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{server: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = opts.InsecureAuth
	log := &testLog{tb: tb}
	srv.ErrorLog = log
	if !opts.NoTLS {
		cert, pool := certificate(tb)
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.RootCAs = pool
		s.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
		if opts.ImplicitTLS {
			l = tls.NewListener(l, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	go srv.Serve(l)
	tb.Cleanup(func() {
		log.end()
		srv.Close()
	})
	return s
}

// Next waits for the next message the server accepts, at most timeout.
func (s *Server) Next(tb testing.TB, timeout time.Duration) Received {
	tb.Helper()
	select {
	case m := <-s.received:
		return m
	case <-time.After(timeout):
		tb.Fatalf("mailtest: no message reached %s within %s", s.Addr(), timeout)
		return Received{}
	}
}

// None fails the test if a message was accepted and not read by Next.
func (s *Server) None(tb testing.TB) {
	tb.Helper()
	select {
	case m := <-s.received:
		tb.Errorf("mailtest: a message was accepted, want none:\n%s", m.Raw)
	default:
	}
}

// Logins are the user names of every AUTH attempt, accepted or not: a
// client that must not log in leaves it empty.
func (s *Server) Logins() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

// Mail is a received message read as a mail client shows it.
type Mail struct {
	From    *mail.Address
	To      []*mail.Address
	Subject string // decoded (RFC 2047)
	Date    time.Time
	Header  mail.Header
	Text    string // the text/plain body, decoded, with \n line ends
}

// Read parses the message with the standard library's net/mail and mime,
// as an independent reader of what the sender wrote: a header or body it
// cannot read fails the test.
func (r Received) Read(tb testing.TB) Mail {
	tb.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(r.Raw)))
	if err != nil {
		tb.Fatalf("mailtest: the message does not parse: %v\n%s", err, r.Raw)
	}
	var m Mail
	m.Header = msg.Header
	if m.From, err = mail.ParseAddress(msg.Header.Get("From")); err != nil {
		tb.Fatalf("mailtest: From: %v", err)
	}
	if m.To, err = msg.Header.AddressList("To"); err != nil {
		tb.Fatalf("mailtest: To: %v", err)
	}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		tb.Fatalf("mailtest: Subject: %v", err)
	}
	if m.Date, err = msg.Header.Date(); err != nil {
		tb.Fatalf("mailtest: Date: %v", err)
	}
	typ, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || typ != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		tb.Fatalf("mailtest: Content-Type %q, want text/plain; charset=utf-8", msg.Header.Get("Content-Type"))
	}
	body := msg.Body
	switch cte := strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")); cte {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // it skips the line ends
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "", "7bit", "8bit":
	default:
		tb.Fatalf("mailtest: unknown Content-Transfer-Encoding %q", cte)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		tb.Fatalf("mailtest: the body does not decode: %v", err)
	}
	m.Text = strings.ReplaceAll(string(text), "\r\n", "\n")
	return m
}

// Links are the body's lines that are a link alone, as a person clicks
// them: an end-to-end test opens the invitation's or the reset's.
func (m Mail) Links() []string {
	var links []string
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.HasPrefix(line, "https://") || strings.HasPrefix(line, "http://") {
			links = append(links, line)
		}
	}
	return links
}

type session struct {
	server *Server
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.server.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		s.server.mu.Lock()
		s.server.logins = append(s.server.logins, user)
		s.server.mu.Unlock()
		if user != s.server.opts.User || password != s.server.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.opts.User != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.server.received <- Received{From: s.from, To: s.to, Raw: raw, TLS: isTLS, User: s.user}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// certificate makes a self-signed certificate for 127.0.0.1 and localhost,
// and a pool that trusts it.
func certificate(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// testLog sends the server's errors to the test's log, where they help
// when a test fails and stay quiet otherwise, until the test ends: a
// connection closed by the end of the test may still log, and a test's log
// may not be written to after it.
type testLog struct {
	tb    testing.TB
	mu    sync.Mutex
	ended bool
}

func (l *testLog) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.tb.Logf("mailtest: "+format, v...)
	}
}

func (l *testLog) Println(v ...any) { l.Printf("%s", fmt.Sprintln(v...)) }

func (l *testLog) end() {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()
}
