package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeTLS runs `passnum serve` on HTTPS as an operator would, with a
// real TLS client: HTTP/2 and HSTS on the TLS answers, plain HTTP
// redirected; a renewed certificate is served after SIGHUP while an open
// connection goes on with the old one, and a broken file is refused at
// start and keeps the previous certificate on reload.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PASSNUM_DATA_DIR=" + dir}
	mustRun(t, env, "init")
	oldCert, oldKey, err := writeSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	newCert, newKey, err := writeSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	served := t.TempDir()
	certFile, keyFile := filepath.Join(served, "fullchain.pem"), filepath.Join(served, "privkey.pem")
	install := func(from, to string) { // as a renewal does: a new file renamed over the old
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+".new", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(to+".new", to); err != nil {
			t.Fatal(err)
		}
	}
	install(oldKey, keyFile)
	os.WriteFile(certFile, []byte("not a certificate\n"), 0o600)

	t.Run("RefusedAtStart", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--tls-cert", certFile, "--tls-key", keyFile}, "passnum: --tls-cert " + certFile + " and --tls-key " + keyFile + ": tls: failed to find any PEM data in certificate input: give the certificate (with its chain) and its private key as PEM files"},
			{[]string{"--tls-cert", oldCert}, "passnum: --tls-cert and --tls-key go together"},
			{[]string{"--redirect-listen", "127.0.0.1:0"}, "passnum: --redirect-listen sends plain HTTP to HTTPS: it needs --tls-cert and --tls-key"},
			{[]string{"--tls-cert", newCert, "--tls-key", oldKey}, "passnum: --tls-cert " + newCert + " and --tls-key " + oldKey + ": tls: private key does not match public key"},
		} {
			r := run(t, env, append([]string{"serve", "--listen", "127.0.0.1:0"}, c.args...)...)
			if r.code != 1 || !strings.HasPrefix(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("serve %s: exit %d, stderr %q; want %q…", strings.Join(c.args, " "), r.code, r.stderr, c.want)
			}
		}
	})

	install(oldCert, certFile)
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--redirect-listen", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = append(os.Environ(), env...)
	stdout, logs := startWatched(t, cmd)
	url, ok := strings.CutPrefix(<-stdout, "listening on ")
	if !ok || !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("serve with TLS said %q", url)
	}
	redirect := regexp.MustCompile(`^redirecting http://(\S+) to `).FindStringSubmatch(<-stdout)
	if redirect == nil {
		t.Fatal("serve says nowhere where it redirects plain HTTP")
	}

	roots := x509.NewCertPool()
	roots.AddCert(certOf(t, oldCert))
	roots.AddCert(certOf(t, newCert))
	client := func() *http.Client {
		return &http.Client{
			Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	get := func(c *http.Client, url string) *http.Response {
		t.Helper()
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	servedSerial := func(res *http.Response) string { return res.TLS.PeerCertificates[0].SerialNumber.String() }

	open := client() // its connection stays open across the reload
	res := get(open, url+"/scanner/")
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 {
		t.Fatalf("GET /scanner/ over TLS: %d %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
	}
	if h := res.Header.Get("Strict-Transport-Security"); h != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security: %q", h)
	}
	if got := servedSerial(res); got != certOf(t, oldCert).SerialNumber.String() {
		t.Fatalf("served certificate %s, not the one given", got)
	}

	res = get(client(), "http://"+redirect[1]+"/scanner/?appairage=1")
	if want := url + "/scanner/?appairage=1"; res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
		t.Errorf("plain HTTP: %d to %q, want 308 to %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	if h := res.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP: %q", h)
	}

	hangUp := func(want string) {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLine(t, logs, want)
	}
	// A broken renewal: the previous certificate stays.
	os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ntruncated\n"), 0o600)
	hangUp("TLS certificate not reloaded: still serving the previous one")
	if got := servedSerial(get(client(), url+"/healthz")); got != certOf(t, oldCert).SerialNumber.String() {
		t.Fatalf("after a broken renewal the server presents %s", got)
	}

	install(newKey, keyFile)
	install(newCert, certFile)
	hangUp("TLS certificate reloaded")
	if got := servedSerial(get(client(), url+"/healthz")); got != certOf(t, newCert).SerialNumber.String() {
		t.Errorf("a new connection after SIGHUP gets %s, not the renewed certificate", got)
	}
	res = get(open, url+"/healthz")
	if res.StatusCode != http.StatusOK || servedSerial(res) != certOf(t, oldCert).SerialNumber.String() {
		t.Errorf("the connection opened before the reload: %d, certificate %s (a new connection?)", res.StatusCode, servedSerial(res))
	}
}

// TestDemoServeTLSOnBusyPort runs `make run LISTEN=… TLS=1` on a port
// already taken: the demo says so before its story, serves on a free port
// instead, over HTTPS with the self-signed certificate it made, private
// in its folder and valid for localhost.
func TestDemoServeTLSOnBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command(binary, "demo", "--serve", "--tls", "--dir", dir)
	cmd.Env = append(os.Environ(), "PASSNUM_LISTEN="+busy.Addr().String())
	stdout, _ := startLong(t, cmd)
	lines := bufio.NewScanner(stdout)
	lines.Scan()
	if want := busy.Addr().String() + " is busy (another program listens there): the demo will serve on 127.0.0.1:"; !strings.HasPrefix(lines.Text(), want) {
		t.Fatalf("the demo's first line is %q, want %q…", lines.Text(), want)
	}
	var url string
	for url == "" && lines.Scan() {
		if m := regexp.MustCompile(`^== Serving the demo programme on (https://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if url == "" || strings.HasSuffix(url, busy.Addr().String()) {
		t.Fatalf("the demo serves on %q", url)
	}
	certFile := filepath.Join(dir, "tls", "cert.pem")
	for _, f := range []string{certFile, filepath.Join(dir, "tls", "key.pem")} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, fi.Mode(), err)
		}
	}
	cert := certOf(t, certFile)
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life > 8*24*time.Hour {
		t.Errorf("the demo's certificate lasts %s", life)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	res, err := c.Get(url + "/scanner/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 || res.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("the demo's scanner over TLS: %d %s, HSTS %q", res.StatusCode, res.Proto, res.Header.Get("Strict-Transport-Security"))
	}
}

// startWatched starts a command that runs until the test ends (stopped
// with SIGTERM, and it must exit cleanly), sending its standard output's
// and error's lines on two channels, so that a test can wait for what the
// server says.
func startWatched(t *testing.T, cmd *exec.Cmd) (stdout, stderr <-chan string) {
	t.Helper()
	pipes := make([]io.Reader, 2)
	for i, p := range []func() (io.ReadCloser, error){cmd.StdoutPipe, cmd.StderrPipe} {
		r, err := p()
		if err != nil {
			t.Fatal(err)
		}
		pipes[i] = r
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var said strings.Builder // stderr, for the failure message
	chans := [2]chan string{make(chan string, 100), make(chan string, 1000)}
	done := make(chan struct{}, 2)
	for i, r := range pipes {
		go func() {
			for s := bufio.NewScanner(r); s.Scan(); {
				select {
				case chans[i] <- s.Text():
				default: // nobody waits for it
				}
				if i == 1 {
					said.WriteString(s.Text() + "\n")
				}
			}
			done <- struct{}{}
		}()
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		<-done
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s did not stop cleanly: %v\n%s", strings.Join(cmd.Args[1:], " "), err, said.String())
		}
	})
	return chans[0], chans[1]
}

// waitLine waits for a line that contains want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line := <-lines:
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no line %q in a minute", want)
		}
	}
}

// certOf reads a PEM certificate file.
func certOf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
