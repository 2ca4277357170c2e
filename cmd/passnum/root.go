package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"passnum/issuing"
	"passnum/keys"
	"passnum/ledger"
	"passnum/programme"
)

// app is what a command works with once the configuration is resolved.
type app struct {
	cfg    config
	out    io.Writer
	errOut io.Writer
	now    func() time.Time
	db     *ledger.DB
}

func newRootCmd() *cobra.Command {
	a := &app{out: os.Stdout, errOut: os.Stderr, now: time.Now}
	root := &cobra.Command{
		Use:           "passnum",
		Short:         "Run a Pass numérique programme: signed vouchers, venues, ledger",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.cfg.resolve(cmd.Flags())
		},
		PersistentPostRunE: func(*cobra.Command, []string) error {
			if a.db != nil {
				return a.db.Close()
			}
			return nil
		},
	}
	a.cfg.bind(root.PersistentFlags())
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(a.initCmd(), a.migrateCmd(), a.configCmd(root.PersistentFlags()), a.keysCmd(),
		a.departmentCmd(), a.venueCmd(), a.issueCmd(), a.activateCmd(), a.voidCmd(),
		a.verifyCmd(), a.auditCmd(), a.demoCmd(), a.apikeyCmd(), a.serveCmd(), a.printCmd(), a.reprintCmd(),
		a.settlementCmd(), a.backupCmd(), a.mailCmd(), a.userCmd(), a.structureCmd(), a.auditorCmd(), a.stockCmd())
	root.AddCommand(a.reportCmd())
	return root
}

// open opens the configured database and checks that its schema is current.
func (a *app) open(ctx context.Context) (*ledger.DB, error) {
	if a.db != nil {
		return a.db, nil
	}
	if ledger.DialectOf(a.cfg.DatabaseURL) == ledger.SQLite {
		if _, err := os.Stat(a.cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("no database at %s: run 'passnum init' first (or set --data-dir)", a.cfg.DatabaseURL)
		}
	}
	db, err := ledger.Open(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db.Clock = a.now // the one clock every service reads (DB.Now, Tx.Now)
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.db = db
	return db, nil
}

func (a *app) store() keys.Store {
	return keys.Store{Dir: filepath.Join(a.cfg.DataDir, "keys"), EnvKey: a.cfg.SigningKey, EnvSecret: a.cfg.VerificationSecret}
}

func (a *app) keyManager(db *ledger.DB) *keys.Manager {
	return &keys.Manager{DB: db, Store: a.store()}
}

func (a *app) issuing(db *ledger.DB) *issuing.Service {
	return &issuing.Service{DB: db, Keys: a.keyManager(db)}
}

func (a *app) programme(db *ledger.DB) *programme.Service {
	return &programme.Service{DB: db}
}

// seal chains the events a command wrote and signs a checkpoint, so that the
// ledger is verifiable as soon as the command returns. A server does this
// continuously; a one-shot command does it once before exiting.
func (a *app) seal(ctx context.Context, db *ledger.DB) error {
	signer, err := a.keyManager(db).Signer(ctx)
	if err != nil {
		fmt.Fprintln(a.errOut, "note: the ledger was not sealed:", err)
		return nil
	}
	s := ledger.Sealer{DB: db, Signer: signer}
	_, err = s.Seal(ctx, true)
	return err
}

// actor names who makes a change from the command line, for the ledger.
func actor() string {
	name := "unknown"
	if u := os.Getenv("USER"); u != "" {
		name = u
	}
	return "cli:" + name
}

// progress returns a progress callback drawing a bar on a terminal, or
// nothing when stderr is not one (logs, CI).
func (a *app) progress(total int, what string) (func(int), func()) {
	f, ok := a.errOut.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	return func(done int) { bar.Set(done) }, func() { bar.Finish() }
}
