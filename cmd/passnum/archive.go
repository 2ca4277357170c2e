package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/archive"
)

// venueArchiveCmd writes a venue's complete record (package archive).
func (a *app) venueArchiveCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "archive ID --out FILE",
		Short: "Write a venue's complete record as a zip file: receipts, redemptions, ledger entries, statements",
		Long: "archive writes what a venue needs to prove what it is owed without the server: a signed\n" +
			"receipt for each of its redemptions, the table of them, the ledger's entries about it, the\n" +
			"statements of its closed months and the public keys, with a French LISEZ-MOI.txt.\n" +
			"'passnum audit archive FILE --keys KEYS' checks it on any machine.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("%q is not a venue id: see 'passnum venue list'", args[0])
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			// Built in memory, then written: a refusal leaves no half file.
			var buf bytes.Buffer
			src := archive.Sources{DB: db, Keys: a.keyManager(db), Settlement: a.settlement(db)}
			if err := archive.Write(cmd.Context(), src, id, &buf); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = a.out.Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.errOut, "wrote %s (%d bytes)\n", out, buf.Len())
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: standard output)")
	return cmd
}

// auditArchiveCmd checks a venue's archive with the public keys alone.
func (a *app) auditArchiveCmd() *cobra.Command {
	var keysFile string
	cmd := &cobra.Command{
		Use:   "archive FILE --keys KEYS",
		Short: "Check a venue's archive (passnum venue archive) with the public keys alone, no database",
		Long: "archive checks every receipt of the file against the public keys of --keys (from 'passnum\n" +
			"keys export', obtained apart from the file: the keys inside it are the server's word), that\n" +
			"they are all of one venue with their vouchers, and that the table of redemptions matches\n" +
			"them. It prints what the venue is owed by its receipts and exits 1 naming the first fault.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keysFile == "" {
				return fmt.Errorf("--keys is needed: the public keys from 'passnum keys export', obtained apart from the archive")
			}
			ks, err := a.keySet(cmd.Context(), keysFile)
			if err != nil {
				return err
			}
			in, err := openInput(args[0], "archive")
			if err != nil {
				return err
			}
			defer in.Close()
			data, err := io.ReadAll(in)
			if err != nil {
				return err
			}
			rep, err := archive.Check(bytes.NewReader(data), int64(len(data)), ks)
			if err != nil {
				fmt.Fprintf(a.out, "FAILED: %v\n", err)
				return errSilent
			}
			fmt.Fprintf(a.out, "OK: venue %d, %d %s for %s EUR, all genuine: the server accepted these redemptions\n", rep.Venue, rep.Receipts,
				english(rep.Receipts, "receipt", "receipts"), passnum.FormatEuros(rep.AcceptedCents))
			if rep.Reversed > 0 {
				fmt.Fprintf(a.out, "the table says %d of them (%s EUR) were undone by the venue: a reversal is not signed in the file; 'passnum audit receipts' confirms it in the ledger\n",
					rep.Reversed, passnum.FormatEuros(rep.ReversedCents))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keysFile, "keys", "", "public keys exported by 'passnum keys export'")
	return cmd
}
