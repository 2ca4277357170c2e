package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"passnum/ledger"
)

func (a *app) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the data folder, database, schema and a first signing key",
		Long: "init prepares a new installation and is safe to run again: it only creates what is missing.\n" +
			"With PostgreSQL (--database-url postgres://…) the database must exist; init creates the tables.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
				return fmt.Errorf("create the data folder: %w", err)
			}
			db, err := ledger.Open(ctx, a.cfg.DatabaseURL)
			if err != nil {
				return err
			}
			db.Clock = a.now // the first key's time: the demo's story starts earlier
			a.db = db
			if err := db.Migrate(ctx); err != nil {
				return err
			}
			st := a.store()
			km := a.keyManager(db)
			existing, err := km.List(ctx)
			if err != nil {
				return err
			}
			if len(existing) == 0 {
				k, err := km.New(ctx, actor())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "created signing key %d in %s\n", k.ID, st.Dir)
			}
			if err := a.seal(ctx, db); err != nil {
				return err
			}
			_, version, err := db.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "ready: %s database %s at schema version %d\n", db.Dialect(), maskPassword(a.cfg.DatabaseURL), version)
			return nil
		},
	}
}

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending schema migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := ledger.Open(ctx, a.cfg.DatabaseURL)
			if err != nil {
				return err
			}
			a.db = db
			before, _, err := db.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			if err := db.Migrate(ctx); err != nil {
				return err
			}
			after, _, err := db.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "schema version %d -> %d\n", before, after)
			return nil
		},
	}
}

// configCmd takes every option of every command, so that it shows what a
// command would use with the same environment and flags.
func (a *app) configCmd(global *pflag.FlagSet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration of every command, secrets masked",
		Long: "config resolves and checks every option as the commands that take them do (flag, then\n" +
			"environment, then default) and prints each with its value and where it came from.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.cfg.print(a.out, cmd.Root(), cmd)
			return nil
		},
	}
	bindAll(cmd.Flags(), global)
	return cmd
}
