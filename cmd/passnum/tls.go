package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// certificate is the certificate serve presents, read from --tls-cert and
// --tls-key and read again on SIGHUP. Each handshake takes the one current
// then (tls.Config.GetCertificate), so that a renewal (certbot's deploy
// hook, say) takes effect without a restart and without closing a
// connection: those already open keep the certificate they began with.
type certificate struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair once, at start, where a bad file stops
// serve with its reason.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again; on any error it keeps the certificate it
// had, since serving the previous one beats serving none.
func (c *certificate) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s and --tls-key %s: %v: give the certificate (with its chain) and its private key as PEM files", c.certFile, c.keyFile, err)
	}
	// An expired certificate would only fail in every browser, later and
	// with less to go on.
	if now := time.Now(); now.After(pair.Leaf.NotAfter) {
		return fmt.Errorf("--tls-cert %s expired on %s: renew it", c.certFile, pair.Leaf.NotAfter.UTC().Format(time.DateTime))
	}
	c.current.Store(&pair)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// reloadOnHangup reads the files again on each SIGHUP until ctx ends,
// logging what it did.
func (c *certificate) reloadOnHangup(ctx context.Context, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := c.reload(); err != nil {
				log.Error("TLS certificate not reloaded: still serving the previous one", "error", err.Error())
				continue
			}
			leaf := c.current.Load().Leaf
			log.Info("TLS certificate reloaded", "subject", leaf.Subject.String(), "not_after", leaf.NotAfter.UTC())
		}
	}
}

// hstsHeader tells browsers to come back over HTTPS only, for a year. It
// is sent on TLS answers only: a browser ignores it over plain HTTP, and
// on a certificate it does not trust (the demo's), so it never pins a
// name that cannot be served.
const hstsHeader = "max-age=31536000"

func withHSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", hstsHeader)
		}
		next.ServeHTTP(w, r)
	})
}

// redirectToHTTPS answers every plain HTTP request with a permanent
// redirect to the same URL on the TLS listener's port (none written for
// 443). 308 rather than 301 keeps the method and body of a POST.
func redirectToHTTPS(tlsPort string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if tlsPort != "443" {
			host = net.JoinHostPort(host, tlsPort)
		} else if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			host = "[" + host + "]"
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// selfSignedValidity is how long the demo's certificate lasts: a demo
// folder is made for an afternoon, and a key left on disk should not
// stay good for long.
const selfSignedValidity = 7 * 24 * time.Hour

// writeSelfSigned makes the demo's certificate: ECDSA P-256, for
// localhost, the loopback addresses and this machine's LAN addresses (so
// that a phone on the same network reaches the scanner by IP), written to
// dir/tls as cert.pem and key.pem, 0600 both.
func writeSelfSigned(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "passnum demo", Organization: []string{"passnum demo (self-signed)"}},
		NotBefore:    now.Add(-time.Hour), // a phone's clock a little behind still accepts it
		NotAfter:     now.Add(selfSignedValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, lanAddresses()...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	tlsDir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")
	for _, f := range []struct {
		path, typ string
		der       []byte
	}{{certFile, "CERTIFICATE", der}, {keyFile, "PRIVATE KEY", pkcs8}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			return "", "", err
		}
	}
	return certFile, keyFile, nil
}

// lanAddresses are this machine's addresses a phone on the same network
// may reach: up, not loopback, not link-local (an IPv6 fe80:: address
// needs a zone a browser's address bar does not take).
func lanAddresses() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				out = append(out, n.IP)
			}
		}
	}
	return out
}

// demoListener opens the demo's address before its story runs, so that a
// busy port is found at once, not after it: then the demo takes a free
// port on the same host and says so.
func demoListener(addr string) (ln net.Listener, fellBack bool, err error) {
	ln, err = net.Listen("tcp", addr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		return ln, false, err
	}
	host, _, _ := net.SplitHostPort(addr)
	ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	return ln, err == nil, err
}

// phoneURLs are the addresses a phone on the same network opens the demo
// at: one per LAN address when ln listens on every interface, none when it
// listens on loopback only (the default), which no phone reaches.
func phoneURLs(ln net.Listener, url string) []string {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsUnspecified() {
		return nil
	}
	scheme, _, _ := strings.Cut(url, "://")
	var out []string
	for _, ip := range lanAddresses() {
		out = append(out, scheme+"://"+net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port)))
	}
	return out
}
