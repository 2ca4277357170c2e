package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/ledger"
)

func (a *app) backupCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the database, while the server runs",
		Long: `backup writes a consistent copy of the database to FILE, without stopping the server:
on SQLite with VACUUM INTO (a single file, WAL included, ready to be put in place of
passnum.db); on PostgreSQL with pg_dump in its custom format (restore it with pg_restore).

The signing keys (and, for keys made before each key had its own, the verification secret)
are files in <data-dir>/keys (or environment variables), never in the database: back them up
separately, and keep them secret.
docs/RELIABILITY.md describes restoring and checking a backup.`,
		Example: `  passnum backup --out passnum-2026-11-26.db
  passnum --database-url postgres://… backup --out passnum-2026-11-26.dump`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(out); err == nil {
				return passnum.Invalid("%s already exists: choose a new file, a backup never overwrites one", out)
			}
			if ledger.DialectOf(a.cfg.DatabaseURL) == ledger.Postgres {
				dump := pgDump(cmd.Context(), a.cfg.DatabaseURL, out)
				dump.Stderr = a.errOut
				if err := dump.Run(); err != nil {
					os.Remove(out)
					return fmt.Errorf("pg_dump (from PostgreSQL's client tools, which must match the server's version): %w", err)
				}
				fmt.Fprintf(a.out, "wrote %s (pg_dump custom format; restore with pg_restore --no-owner -d DATABASE_URL %s)\n", out, out)
				return nil
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := db.Read(cmd.Context()).Exec("VACUUM INTO ?", out).Error; err != nil {
				os.Remove(out)
				return fmt.Errorf("copy the SQLite database: %w", err)
			}
			fmt.Fprintf(a.out, "wrote %s (a complete SQLite database: stop the server and put it in place of %s to restore)\n", out, a.cfg.DatabaseURL)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "the file to write (required; never overwritten)")
	cmd.MarkFlagRequired("out")
	return cmd
}

// pgDump is pg_dump of dbURL into out, with the URL's password, if any, in
// PGPASSWORD instead of its arguments: every user of the machine reads a
// process's arguments (ps, /proc/PID/cmdline), only its owner its
// environment. libpq takes the password from either place of the URL
// (user:password@ or ?password=).
func pgDump(ctx context.Context, dbURL, out string) *exec.Cmd {
	env := os.Environ()
	if u, err := url.Parse(dbURL); err == nil {
		q := u.Query()
		password, inUser := u.User.Password()
		if !inUser && q.Has("password") {
			password = q.Get("password")
		}
		if inUser || q.Has("password") {
			u.User = url.User(u.User.Username())
			q.Del("password")
			u.RawQuery = q.Encode()
			dbURL = u.String()
			env = append(env, "PGPASSWORD="+password)
		}
	}
	dump := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--no-owner", "--file", out, dbURL)
	dump.Env = env
	return dump
}
