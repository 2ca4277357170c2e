package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"passnum/api"
	"passnum/apikeys"
	"passnum/figures"
	"passnum/ledger"
	"passnum/redemption"
)

// serveOptions are the server's settings beyond the shared configuration.
type serveOptions struct {
	listen          string
	reversalWindow  time.Duration
	sealEvery       time.Duration
	checkpointEvery time.Duration
	shutdownTimeout time.Duration
	keyCache        time.Duration
	venuesInfo      string
	trustedProxies  []string
	basketBurst     int
	basketEvery     time.Duration
}

func (o *serveOptions) options() []option {
	return []option{
		{flag: "listen", env: "PASSNUM_LISTEN"},
		{flag: "reversal-window", env: "PASSNUM_REVERSAL_WINDOW"},
		{flag: "seal-every", env: "PASSNUM_SEAL_EVERY"},
		{flag: "checkpoint-every", env: "PASSNUM_CHECKPOINT_EVERY"},
		{flag: "shutdown-timeout", env: "PASSNUM_SHUTDOWN_TIMEOUT"},
		{flag: "key-cache", env: "PASSNUM_KEY_CACHE"},
		{flag: "venues-info", env: "PASSNUM_VENUES_INFO"},
		{flag: "trusted-proxies", env: "PASSNUM_TRUSTED_PROXIES"},
		{flag: "venue-basket-burst", env: "PASSNUM_VENUE_BASKET_BURST"},
		{flag: "venue-basket-every", env: "PASSNUM_VENUE_BASKET_EVERY"},
	}
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API (several replicas may share one PostgreSQL)",
		Long: "serve refuses to start on a schema that is behind its migrations. It seals the ledger in the\n" +
			"background (one replica at a time does it) and purges the answers to refused baskets once a day\n" +
			"old, answers /healthz and /readyz, and on SIGINT or SIGTERM stops accepting connections and\n" +
			"finishes the requests in flight.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveEnv(cmd.Flags(), o.options()); err != nil {
				return err
			}
			return a.serve(cmd.Context(), o, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on; port 0 picks a free one ($PASSNUM_LISTEN)")
	f.DurationVar(&o.reversalWindow, "reversal-window", 30*time.Minute, "how long a venue may undo a redemption ($PASSNUM_REVERSAL_WINDOW)")
	f.DurationVar(&o.sealEvery, "seal-every", time.Second, "how often the ledger sealer runs ($PASSNUM_SEAL_EVERY)")
	f.DurationVar(&o.checkpointEvery, "checkpoint-every", time.Minute, "least time between two signed checkpoints ($PASSNUM_CHECKPOINT_EVERY)")
	f.DurationVar(&o.keyCache, "key-cache", 2*time.Second, "how long signing and API keys stay in memory; a key revoked by another process works that much longer here ($PASSNUM_KEY_CACHE)")
	f.StringVar(&o.venuesInfo, "venues-info", "", "where beneficiaries find labelled venues, printed on the chéquiers the API renders, as 'passnum print --venues-info' ($PASSNUM_VENUES_INFO)")
	f.StringSliceVar(&o.trustedProxies, "trusted-proxies", nil, "addresses or CIDR blocks of the reverse proxies whose X-Forwarded-For names the client, for the rate limits per address; without them the header is ignored ($PASSNUM_TRUSTED_PROXIES, comma-separated)")
	f.IntVar(&o.basketBurst, "venue-basket-burst", api.DefaultRateLimits.RedemptionsPerVenue.Burst, "baskets a venue may send at once, all its devices together, before it is held back with 429 ($PASSNUM_VENUE_BASKET_BURST)")
	f.DurationVar(&o.basketEvery, "venue-basket-every", api.DefaultRateLimits.RedemptionsPerVenue.Every, "then one more basket per venue this often ($PASSNUM_VENUE_BASKET_EVERY)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may take to finish on shutdown ($PASSNUM_SHUTDOWN_TIMEOUT)")
	return cmd
}

// answerPurgeEvery is how often serve purges refused baskets' answers past
// their retention: each stays at most that much longer than promised.
const answerPurgeEvery = time.Minute

// serve runs the API until ctx ends. ready, if not nil, is called with the
// URL once the server listens.
func (a *app) serve(ctx context.Context, o serveOptions, ready func(url string)) error {
	// Checked at start rather than when the first batch is printed; a cover
	// has room for 160 characters, as 'passnum print' says.
	if n := utf8.RuneCountInString(o.venuesInfo); n > 160 {
		return fmt.Errorf("--venues-info is %d characters long: at most 160 fit on a chéquier's cover", n)
	}
	proxies, err := parseProxies(o.trustedProxies)
	if err != nil {
		return err
	}
	if o.basketBurst < 1 || o.basketEvery <= 0 {
		return fmt.Errorf("--venue-basket-burst must be at least 1 and --venue-basket-every more than 0 (got %d and %s)", o.basketBurst, o.basketEvery)
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
	redeemer := &redemption.Service{DB: db, Keys: km, Now: a.now, ReversalWindow: o.reversalWindow, KeyCacheTTL: o.keyCache}
	handler := api.New(api.Services{
		DB:         db,
		Keys:       keys,
		Pairings:   &apikeys.Pairings{Keys: keys, Sign: a.keyManager(db), Clock: a.now},
		Redemption: redeemer,
		Issuing:    issuer,
		Programme:  a.programme(db),
		Settlement: a.settlement(db),
		Figures:    &figures.Service{DB: db},
	}, api.Config{Logger: log, VenuesInfo: o.venuesInfo, TrustedProxies: proxies, RateLimits: &limits})
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
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
		(&ledger.Sealer{DB: db, Signer: signer, ActiveSigner: km.Signer, Now: a.now, CheckpointEvery: o.checkpointEvery, Log: log}).Run(workCtx, o.sealEvery)
	})
	work.Go(func() { redeemer.PurgeAnswersEvery(workCtx, answerPurgeEvery, log) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("listening", "url", url, "database", string(db.Dialect()))
	fmt.Fprintf(a.out, "listening on %s\n", url)
	if ready != nil {
		ready(url)
	}
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopWork()
	work.Wait()
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
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an IP address nor a CIDR block such as 10.0.0.0/8", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
