package main

import (
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"passnum"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the Ed25519 keys that sign vouchers and checkpoints"}
	var out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the public keys as JSON, for offline verifiers ('passnum verify --keys')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			ks, err := db.KeySet(cmd.Context())
			if err != nil {
				return err
			}
			data, err := ks.MarshalJSON()
			if err != nil {
				return err
			}
			data = append(data, '\n')
			if out == "" || out == "-" {
				_, err = a.out.Write(data)
				return err
			}
			return os.WriteFile(out, data, 0o644)
		},
	}
	export.Flags().StringVarP(&out, "out", "o", "", "file to write (default: standard output)")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "new",
			Short: "Create a key; it becomes the active key and the previous one is retired",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				k, err := a.keyManager(db).New(cmd.Context(), actor())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "signing key %d is now active\n", k.ID)
				return a.seal(cmd.Context(), db)
			},
		},
		&cobra.Command{
			Use:   "list",
			Short: "List the keys and their status",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				ks, err := a.keyManager(db).List(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
				// CODES says whose secret the printed verification codes use:
				// the key's own, or the installation's (keys made before
				// per-key secrets; docs/operations.md, "When the keys folder leaked").
				fmt.Fprintln(w, "ID\tSTATUS\tCREATED\tCODES\tPUBLIC KEY")
				for _, k := range ks {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%x\n", k.ID, k.Status, k.CreatedAt.Format(time.DateOnly), k.VerificationSecretFrom, k.PublicKey)
				}
				return w.Flush()
			},
		},
		export,
		a.keyStatusCmd("retire", "Stop a key from signing new codes; what it signed still verifies"),
		a.keyStatusCmd("revoke", "Mark a compromised key: what it signed no longer verifies"),
	)
	return cmd
}

func (a *app) keyStatusCmd(verb, short string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.Atoi(args[0])
			if err != nil {
				return passnum.Invalid("%q is not a key id: see 'passnum keys list'", args[0])
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			km := a.keyManager(db)
			if verb == "retire" {
				err = km.Retire(cmd.Context(), id, actor())
			} else {
				err = km.Revoke(cmd.Context(), id, actor())
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "signing key %d is %sd\n", id, verb)
			return a.seal(cmd.Context(), db)
		},
	}
}
