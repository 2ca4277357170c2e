package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"passnum/api"
	"passnum/apikeys"
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
}

func (o *serveOptions) options() []option {
	return []option{
		{flag: "listen", env: "PASSNUM_LISTEN"},
		{flag: "reversal-window", env: "PASSNUM_REVERSAL_WINDOW"},
		{flag: "seal-every", env: "PASSNUM_SEAL_EVERY"},
		{flag: "checkpoint-every", env: "PASSNUM_CHECKPOINT_EVERY"},
		{flag: "shutdown-timeout", env: "PASSNUM_SHUTDOWN_TIMEOUT"},
		{flag: "key-cache", env: "PASSNUM_KEY_CACHE"},
	}
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API (several replicas may share one PostgreSQL)",
		Long: "serve refuses to start on a schema that is behind its migrations. It seals the ledger in the\n" +
			"background (one replica at a time does it), answers /healthz and /readyz, and on SIGINT or\n" +
			"SIGTERM stops accepting connections and finishes the requests in flight.",
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
	f.DurationVar(&o.keyCache, "key-cache", 2*time.Second, "how long public keys stay in memory; a revoked key verifies that much longer ($PASSNUM_KEY_CACHE)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may take to finish on shutdown ($PASSNUM_SHUTDOWN_TIMEOUT)")
	return cmd
}

// serve runs the API until ctx ends. ready, if not nil, is called with the
// URL once the server listens.
func (a *app) serve(ctx context.Context, o serveOptions, ready func(url string)) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	signer, err := a.keyManager(db).Signer(ctx)
	if err != nil {
		return err
	}
	secret, err := a.store().Secret()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(a.errOut, nil))
	handler := api.New(api.Services{
		DB:         db,
		Keys:       a.apikeys(db),
		Pairings:   &apikeys.Pairings{Keys: a.apikeys(db), Sign: a.keyManager(db), Clock: a.now},
		Redemption: &redemption.Service{DB: db, Secret: secret, Now: a.now, ReversalWindow: o.reversalWindow, KeyCacheTTL: o.keyCache},
	}, api.Config{Logger: log})
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		// Longer than SQLite's 10 s busy timeout plus a redemption's retries.
		WriteTimeout:   45 * time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	sealCtx, stopSealer := context.WithCancel(context.Background())
	sealerDone := make(chan struct{})
	go func() {
		defer close(sealerDone)
		(&ledger.Sealer{DB: db, Signer: signer, Now: a.now, CheckpointEvery: o.checkpointEvery, Log: log}).Run(sealCtx, o.sealEvery)
	}()
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
	stopSealer()
	<-sealerDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
