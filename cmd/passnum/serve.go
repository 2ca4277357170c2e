package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"passnum/api"
	"passnum/apikeys"
	"passnum/figures"
	"passnum/ledger"
	"passnum/metrics"
	"passnum/notices"
	"passnum/redemption"
)

// serveOptions are the server's settings beyond the shared configuration.
type serveOptions struct {
	listen          string
	tlsCert         string
	tlsKey          string
	redirectListen  string
	metricsListen   string
	reversalWindow  time.Duration
	sealEvery       time.Duration
	checkpointEvery time.Duration
	shutdownTimeout time.Duration
	keyCache        time.Duration
	venuesInfo      string
	publicURL       string
	mail            mailOptions
	oidc            oidcOptions
	trustedProxies  []string
	basketBurst     int
	basketEvery     time.Duration
	// listener, if not nil, is already open on listen's address (the demo
	// opens it before its story, to find a busy port at once).
	listener net.Listener
}

// bind declares the server's flags, for serve and demo --serve.
func (o *serveOptions) bind(fs *pflag.FlagSet) {
	optListen.bind(fs, &o.listen)
	optTLSCert.bind(fs, &o.tlsCert)
	optTLSKey.bind(fs, &o.tlsKey)
	optRedirectListen.bind(fs, &o.redirectListen)
	optMetricsListen.bind(fs, &o.metricsListen)
	optReversalWindow.bind(fs, &o.reversalWindow)
	optSealEvery.bind(fs, &o.sealEvery)
	optCheckpointEvery.bind(fs, &o.checkpointEvery)
	optKeyCache.bind(fs, &o.keyCache)
	optVenuesInfo.bind(fs, &o.venuesInfo)
	optPublicURL.bind(fs, &o.publicURL)
	o.mail.bind(fs)
	o.oidc.bind(fs)
	optTrustedProxies.bind(fs, &o.trustedProxies)
	optVenueBasketBurst.bind(fs, &o.basketBurst)
	optVenueBasketEvery.bind(fs, &o.basketEvery)
	optShutdownTimeout.bind(fs, &o.shutdownTimeout)
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API (several replicas may share one PostgreSQL)",
		Long: "serve refuses to start on a schema that is behind its migrations. It seals the ledger in the\n" +
			"background (one replica at a time does it) and purges the answers to refused baskets once a day\n" +
			"old, answers /healthz and /readyz, and on SIGINT or SIGTERM stops accepting connections and\n" +
			"finishes the requests in flight. With --tls-cert and --tls-key it serves HTTPS (HTTP/2 included)\n" +
			"and HSTS, and reads the two files again on SIGHUP: new connections get the new certificate,\n" +
			"open ones go on; a file that does not load leaves the previous certificate in place.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), o, nil)
		},
	}
	o.bind(cmd.Flags())
	return cmd
}

// purgeEvery is how often serve purges refused baskets' answers and wrong
// typed entries past their retention: each stays at most that much longer
// than promised.
const purgeEvery = time.Minute

// serve runs the API until ctx ends, with options that resolve has
// checked. ready, if not nil, is called with the URL once the server
// listens.
func (a *app) serve(ctx context.Context, o serveOptions, ready func(url string)) error {
	proxies, err := parseProxies(o.trustedProxies)
	if err != nil {
		return err
	}
	// The TLS files are read before the database is opened: a wrong path
	// or a key that does not match is said at once.
	var cert *certificate
	switch {
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return errors.New("--tls-cert and --tls-key go together: give both files to serve HTTPS, or neither for plain HTTP")
	case o.tlsCert != "":
		if cert, err = loadCertificate(o.tlsCert, o.tlsKey); err != nil {
			return err
		}
	case o.redirectListen != "":
		return errors.New("--redirect-listen sends plain HTTP to HTTPS: it needs --tls-cert and --tls-key")
	}
	limits := api.DefaultRateLimits
	limits.RedemptionsPerVenue = api.Limit{Burst: o.basketBurst, Every: o.basketEvery}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	// Refused at start, not at the first signature: every private key file
	// (a retired key's too: what it signs still verifies) must be 0600, and
	// there must be an active key for the checkpoints.
	if err := a.store().CheckFiles(); err != nil {
		return err
	}
	km := a.keyManager(db)
	signer, err := km.Signer(ctx)
	if err != nil {
		return err
	}
	// Each key's verification secret too (a missing file, or the
	// installation's secret for the keys made before per-key secrets), so
	// that typed vouchers are not the first to find it missing.
	if err := km.CheckSecrets(ctx); err != nil {
		return err
	}
	issuer := a.issuing(db)
	log := slog.New(slog.NewJSONHandler(a.errOut, nil))
	keys := a.apikeys(db)
	keys.CacheTTL = o.keyCache // one lookup fewer per request; see apikeys.Service
	var watch *metrics.Metrics
	if o.metricsListen != "" {
		watch = metrics.New(db)
	}
	redeemer := &redemption.Service{DB: db, Keys: km, ReversalWindow: o.reversalWindow, KeyCacheTTL: o.keyCache}
	sender, err := a.mailer(o.mail)
	if err != nil {
		return err
	}
	ln := o.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", o.listen); err != nil {
			return fmt.Errorf("listen on %s: %w", o.listen, err)
		}
	}
	url := "http://" + ln.Addr().String()
	if cert != nil {
		url = "https://" + ln.Addr().String()
	}
	public := o.publicURL
	if public == "" {
		public = url
	}
	people := a.accounts(db)
	if people.SSO, err = a.singleSignOn(o.oidc, public, log); err != nil {
		return err
	}
	handler := api.New(api.Services{
		DB:         db,
		Keys:       keys,
		Pairings:   &apikeys.Pairings{Keys: keys, Sign: a.keyManager(db)},
		Redemption: redeemer,
		Issuing:    issuer,
		Programme:  a.programme(db),
		Settlement: a.settlement(db),
		Figures:    &figures.Service{DB: db},
		Accounts:   people,
		Mail:       sender,
		Notices:    &notices.Service{DB: db, Accounts: people, Mail: sender},
	}, api.Config{Logger: log, VenuesInfo: o.venuesInfo, TrustedProxies: proxies, RateLimits: &limits, Metrics: watch, PublicURL: public})
	if cert != nil {
		handler = withHSTS(handler)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		// Longer than SQLite's 10 s busy timeout plus a redemption's retries,
		// and than the largest batch the API issues (api.maxAPIChequiers).
		// A ledger export moves its own deadline as long as it streams.
		WriteTimeout:   45 * time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Background work: every replica runs it; each is safe to run at once
	// on several (the sealer takes turns, the purge deletes each row once).
	workCtx, stopWork := context.WithCancel(context.Background())
	var work sync.WaitGroup
	work.Go(func() {
		// The active key is read again before each pass: 'passnum keys new'
		// or 'keys revoke' in another process takes effect here without a
		// restart, and no checkpoint is signed by a key retired or revoked since.
		(&ledger.Sealer{DB: db, Signer: signer, ActiveSigner: km.Signer, CheckpointEvery: o.checkpointEvery, Log: log}).Run(workCtx, o.sealEvery)
	})
	work.Go(func() { redeemer.PurgeEvery(workCtx, purgeEvery, log) })
	served := make(chan error, 3)
	if cert == nil {
		go func() { served <- srv.Serve(ln) }()
	} else {
		// ServeTLS offers HTTP/2 by ALPN: a phone's first load of the
		// scanner fetches its files over one connection, in parallel.
		srv.TLSConfig = &tls.Config{GetCertificate: cert.get, MinVersion: tls.VersionTLS12}
		go func() { served <- srv.ServeTLS(ln, "", "") }()
		work.Go(func() { cert.reloadOnHangup(workCtx, log) })
	}
	log.Info("listening", "url", url, "database", string(db.Dialect()))
	fmt.Fprintf(a.out, "listening on %s\n", url)
	// Side listeners: plain HTTP redirected to HTTPS, and the metrics. Each
	// is its own address, so a firewall keeps /metrics off the internet.
	var sides []*http.Server
	side := func(addr string, h http.Handler, say func(net.Addr) string) error {
		sln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second,
			MaxHeaderBytes: 16 << 10, ErrorLog: srv.ErrorLog}
		sides = append(sides, s)
		go func() { served <- s.Serve(sln) }()
		fmt.Fprintln(a.out, say(sln.Addr()))
		return nil
	}
	closeAll := func() {
		srv.Close()
		for _, s := range sides {
			s.Close()
		}
		stopWork()
		work.Wait()
	}
	if o.redirectListen != "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		if err := side(o.redirectListen, redirectToHTTPS(port), func(at net.Addr) string {
			log.Info("redirecting plain HTTP to HTTPS", "address", at.String())
			return fmt.Sprintf("redirecting http://%s to %s", at, url)
		}); err != nil {
			closeAll()
			return fmt.Errorf("--redirect-listen %s: %w", o.redirectListen, err)
		}
	}
	if watch != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", watch.Handler())
		if err := side(o.metricsListen, mux, func(at net.Addr) string {
			log.Info("serving metrics", "address", at.String())
			return fmt.Sprintf("metrics on http://%s/metrics", at)
		}); err != nil {
			closeAll()
			return fmt.Errorf("--metrics-listen %s: %w", o.metricsListen, err)
		}
	}
	if ready != nil {
		ready(url)
	}
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
		for _, s := range sides {
			s.Shutdown(shutdownCtx)
		}
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	closeAll() // when one server failed, the others go too
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// parseProxies reads --trusted-proxies: addresses (one host) or CIDR blocks.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR block such as 10.0.0.0/8", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
