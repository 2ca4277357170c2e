package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/audit"
	"passnum/ledger"
	"passnum/signals"
	"passnum/voucher"
)

// keySet reads public keys from an exported file (no database needed), or
// from the database when no file is given.
func (a *app) keySet(ctx context.Context, file string) (*voucher.KeySet, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the public keys: %w", err)
		}
		ks := voucher.NewKeySet()
		if err := ks.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("read the public keys from %s: %w", file, err)
		}
		return ks, nil
	}
	db, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	return db.KeySet(ctx)
}

func (a *app) verifyCmd() *cobra.Command {
	var keysFile string
	var listed []int64
	cmd := &cobra.Command{
		Use:   "verify CODE",
		Short: "Check a code's signature offline and show what it holds",
		Long: "verify checks a scanned code's signature against the public keys: with --keys (a file\n" +
			"from 'passnum keys export') it needs no server and no database. Without --keys it also\n" +
			"reads the voucher in the ledger and says whether it can still be used. It exits with\n" +
			"status 1 and the reason when the code is not genuine, or is void or spent in the ledger.\n" +
			"A redemption's receipt (the venue's proof) is checked with --serials, the vouchers it\n" +
			"names: they must be the ones it was signed for.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := a.keySet(cmd.Context(), keysFile)
			if err != nil {
				return err
			}
			d, err := ks.Verify(strings.TrimSpace(args[0]))
			if err != nil {
				fmt.Fprintf(a.out, "INVALID (%s): %v\n", voucher.Reason(err), err)
				return errSilent
			}
			a.printDecoded(ks, d)
			if v, ok := d.Payload.(voucher.Voucher); ok && keysFile == "" {
				return a.printLedgerStatus(cmd.Context(), v.Serial)
			}
			if r, ok := d.Payload.(voucher.Receipt); ok && len(listed) > 0 {
				serials := make([]uint64, len(listed))
				for i, n := range listed {
					serials[i] = uint64(n)
				}
				if int(r.Vouchers) != len(serials) || voucher.ReceiptDigest(serials) != r.Digest {
					fmt.Fprintf(a.out, "  vouchers     NOT THESE: the receipt was signed for %d other vouchers\n", r.Vouchers)
					return errSilent
				}
				fmt.Fprintf(a.out, "  vouchers     these %d: %s\n", len(serials), joinUints(serials))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keysFile, "keys", "", "public keys exported by 'passnum keys export' (default: from the database)")
	cmd.Flags().Int64SliceVar(&listed, "serials", nil, "with a receipt: the serials of the vouchers it names, comma-separated, in any order")
	return cmd
}

func joinUints(xs []uint64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ",")
}

func (a *app) printDecoded(ks *voucher.KeySet, d voucher.Decoded) {
	k, _ := ks.Key(d.KeyID)
	status := string(k.Status)
	switch p := d.Payload.(type) {
	case voucher.Voucher:
		fmt.Fprintf(a.out, "VALID voucher\n")
		fmt.Fprintf(a.out, "  number       %s\n", voucher.FormatNumber(p.Serial))
		fmt.Fprintf(a.out, "  serial       %d\n", p.Serial)
		fmt.Fprintf(a.out, "  département  %s\n", p.Department)
		fmt.Fprintf(a.out, "  value        %s EUR\n", passnum.FormatEuros(int64(p.ValueCents)))
		fmt.Fprintf(a.out, "  validity     %s to %s (until the end of that day, Paris time)\n", p.ValidFrom, p.ValidUntil)
		if today := voucher.Today(a.now()); today > p.ValidUntil {
			fmt.Fprintf(a.out, "  note         expired on %s\n", p.ValidUntil)
		} else if today < p.ValidFrom {
			fmt.Fprintf(a.out, "  note         not valid before %s\n", p.ValidFrom)
		}
	case voucher.Activation:
		fmt.Fprintf(a.out, "VALID chéquier activation code\n")
		fmt.Fprintf(a.out, "  chéquier     %s\n", voucher.FormatChequierNumber(p.Department, p.Year, p.Seq))
	case voucher.Pairing:
		fmt.Fprintf(a.out, "VALID device pairing code\n")
		fmt.Fprintf(a.out, "  pairing      %d\n", p.ID)
		fmt.Fprintf(a.out, "  expires      %s\n", time.Unix(int64(p.ExpiresUnix), 0).UTC().Format(time.RFC3339))
	case voucher.Checkpoint:
		fmt.Fprintf(a.out, "VALID ledger checkpoint\n")
		fmt.Fprintf(a.out, "  sequence     %d\n", p.Seq)
		fmt.Fprintf(a.out, "  time         %s\n", time.UnixMicro(p.TimeMicros).UTC().Format(time.RFC3339))
		fmt.Fprintf(a.out, "  hash         %x\n", p.Hash)
	case voucher.Receipt:
		fmt.Fprintf(a.out, "VALID redemption receipt\n")
		fmt.Fprintf(a.out, "  redemption   %d\n", p.RedemptionID)
		fmt.Fprintf(a.out, "  venue        %d\n", p.VenueID)
		fmt.Fprintf(a.out, "  total        %s EUR, %d %s\n", passnum.FormatEuros(int64(p.TotalCents)), p.Vouchers, english(int(p.Vouchers), "voucher", "vouchers"))
		fmt.Fprintf(a.out, "  scanned      %s\n", time.UnixMicro(p.ScannedMicros).UTC().Format(time.RFC3339))
		fmt.Fprintf(a.out, "  accepted     %s\n", time.UnixMicro(p.ReceivedMicros).UTC().Format(time.RFC3339))
		fmt.Fprintf(a.out, "  vouchers     SHA-256 %x\n", p.Digest)
	}
	fmt.Fprintf(a.out, "  key          %d (%s)\n", d.KeyID, status)
}

// printLedgerStatus says what the ledger knows of a genuine voucher, and
// fails when it cannot be used.
func (a *app) printLedgerStatus(ctx context.Context, serial uint64) error {
	svc := a.issuing(a.db)
	v, err := svc.Voucher(ctx, serial)
	if passnum.ErrorCode(err) == passnum.ENotFound {
		fmt.Fprintf(a.out, "  ledger       UNKNOWN: %s\n", passnum.ErrorMessage(err))
		return errSilent
	}
	if err != nil {
		return err
	}
	switch {
	case v.ReplacedBy != nil:
		fmt.Fprintf(a.out, "  ledger       VOID: replaced by voucher %s\n", voucher.FormatNumber(uint64(*v.ReplacedBy)))
		return errSilent
	case v.Status == ledger.VoucherVoid:
		fmt.Fprintf(a.out, "  ledger       VOID: its chéquier was voided\n")
		return errSilent
	case v.Status == ledger.VoucherRedeemed:
		fmt.Fprintf(a.out, "  ledger       ALREADY REDEEMED\n")
		return errSilent
	case v.Status == ledger.VoucherInactive:
		fmt.Fprintf(a.out, "  ledger       not yet valid: its chéquier has not been handed over\n")
	default:
		fmt.Fprintf(a.out, "  ledger       active: can be redeemed\n")
	}
	return nil
}

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check the ledger, or export it for auditors"}
	var keysFile, exportFile string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Re-check the hash chain, the checkpoint signatures and that the tables agree with the events",
		Long: "verify exits with status 1 and names the first bad entry when the ledger was tampered with.\n" +
			"--keys checks the checkpoints against public keys you hold yourself rather than the database's.\n" +
			"--export checks a file written by 'passnum audit export' instead, on any machine, with no\n" +
			"database: the chain, the signed checkpoints, and that the events are consistent.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if exportFile != "" {
				return a.verifyExport(ctx, exportFile, keysFile)
			}
			ks, err := a.keySet(ctx, keysFile)
			if err != nil {
				return err
			}
			db, err := a.open(ctx)
			if err != nil {
				return err
			}
			rep, err := audit.Verify(ctx, db, ks)
			var chainErr *ledger.ChainError
			var stateErr *audit.StateError
			if errors.As(err, &chainErr) || errors.As(err, &stateErr) {
				fmt.Fprintf(a.out, "FAILED: %v\n", err)
				return errSilent
			}
			if err != nil {
				return err
			}
			printAudit(a, rep)
			return nil
		},
	}
	verify.Flags().StringVar(&keysFile, "keys", "", "public keys exported by 'passnum keys export' (default: from the database, or with --export from the file)")
	verify.Flags().StringVar(&exportFile, "export", "", "verify this file from 'passnum audit export' instead of the database ('-': standard input)")
	cmd.AddCommand(verify, a.auditExportCmd(), a.auditReceiptsCmd(), a.auditArchiveCmd(), a.auditSignalsCmd(), &cobra.Command{
		Use:   "seal",
		Short: "Chain pending events and sign a checkpoint now (a server does it continuously)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			return a.seal(cmd.Context(), db)
		},
	})
	return cmd
}

func (a *app) auditExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the sealed ledger as JSON Lines, for auditors to verify on their own machine",
		Long: "export writes the signing public keys, every sealed event and every signed checkpoint\n" +
			"(docs/ledger.md, \"Export file\"). Anyone can then run 'passnum audit verify --export FILE'\n" +
			"without the database; with '--keys' from 'passnum keys export', obtained separately, the\n" +
			"check does not rely on the keys inside the file. Events not yet sealed are left out.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			ctx := cmd.Context()
			db, err := a.open(ctx)
			if err != nil {
				return err
			}
			w, where := a.out, "standard output"
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("create the export file: %w", err)
				}
				defer func() {
					if cerr := f.Close(); err == nil && cerr != nil {
						err = fmt.Errorf("write the export file: %w", cerr)
					}
					if err != nil {
						os.Remove(out) // never leave half an export behind
					}
				}()
				w, where = f, out
			}
			var bar func(int)
			finish := func() {}
			e := audit.Exporter{DB: db, Progress: func(done, total int64) {
				if bar == nil {
					if bar, finish = a.progress(int(total), "exporting the ledger"); bar == nil {
						bar = func(int) {}
					}
				}
				bar(int(done))
			}}
			sum, err := e.Export(ctx, w)
			finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.errOut, "exported %d events and %d checkpoints (the chain up to #%d) to %s", sum.Events, sum.Checkpoints, sum.LastSeq, where)
			if sum.Unsealed > 0 {
				fmt.Fprintf(a.errOut, "; %d events not yet sealed were left out", sum.Unsealed)
			}
			fmt.Fprintln(a.errOut)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: standard output)")
	return cmd
}

// verifyExport checks an export file; it needs no database, only the file
// and, ideally, public keys obtained independently.
func (a *app) verifyExport(ctx context.Context, file, keysFile string) error {
	var trusted *voucher.KeySet
	if keysFile != "" {
		var err error
		if trusted, err = a.keySet(ctx, keysFile); err != nil {
			return err
		}
	}
	r, err := openInput(file, "export")
	if err != nil {
		return err
	}
	defer r.Close()
	rep, err := audit.VerifyExport(r, trusted)
	var exportErr *audit.ExportError
	if errors.As(err, &exportErr) {
		fmt.Fprintf(a.out, "FAILED: %v\n", err)
		return errSilent
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "OK: export of %s: %d events chained, %d checkpoints verified (signed up to #%d), %d events not yet sealed left out\n",
		rep.ExportedAt.Format("2006-01-02 15:04:05 UTC"), rep.Chain.Events, rep.Chain.Checkpoints, rep.Chain.SignedUpTo, rep.Unsealed)
	fmt.Fprintf(a.out, "    the events are consistent: %d batches, %d chéquiers, %d vouchers, %d redemptions\n",
		rep.Batches, rep.Chequiers, rep.Vouchers, rep.Redemptions)
	for _, w := range rep.Chain.Warnings {
		fmt.Fprintf(a.out, "    warning: %s\n", w)
	}
	return nil
}

func printAudit(a *app, rep audit.Report) {
	fmt.Fprintf(a.out, "OK: %d events chained, %d checkpoints verified (signed up to #%d), %d events not yet sealed\n",
		rep.Chain.Events, rep.Chain.Checkpoints, rep.Chain.SignedUpTo, rep.Unsealed)
	fmt.Fprintf(a.out, "    the tables agree with the events: %d batches, %d chéquiers, %d vouchers\n",
		rep.Batches, rep.Chequiers, rep.Vouchers)
	for _, w := range rep.Chain.Warnings {
		fmt.Fprintf(a.out, "    warning: %s\n", w)
	}
}

func (a *app) auditReceiptsCmd() *cobra.Command {
	var keysFile string
	cmd := &cobra.Command{
		Use:   "receipts FILE",
		Short: "Check receipts a venue presents against the ledger: the scanner's file, one per line ('-': standard input)",
		Long: "receipts checks each redemption receipt (the code the scanner kept for every accepted\n" +
			"basket, its vouchers' serials after a space, as the scanner's « Télécharger mes reçus »\n" +
			"writes them): its signature, the serials, and that the ledger records that redemption for\n" +
			"the same venue, total, vouchers and times. A genuine receipt the ledger lacks means the ledger lost or\n" +
			"changed a redemption: run 'passnum audit verify' too. It prints one line per receipt and\n" +
			"exits with status 1 when any is not backed by the ledger; a reversed redemption is said.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			in, err := openInput(args[0], "receipts")
			if err != nil {
				return err
			}
			defer in.Close()
			data, err := io.ReadAll(in)
			if err != nil {
				return fmt.Errorf("read the receipts: %w", err)
			}
			presented, err := audit.ParsePresented(string(data))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			ks, err := a.keySet(ctx, keysFile)
			if err != nil {
				return err
			}
			db, err := a.open(ctx)
			if err != nil {
				return err
			}
			checks, err := audit.Receipts(ctx, db, ks, presented)
			if err != nil {
				return err
			}
			bad := 0
			for i, c := range checks {
				switch {
				case c.Problem != "":
					bad++
					fmt.Fprintf(a.out, "%d: NOT BACKED: %s\n", i+1, c.Problem)
				case c.Reversed != "":
					fmt.Fprintf(a.out, "%d: ok, redemption %d of venue %d, %s EUR, reversed by the venue at %s\n", i+1,
						c.Receipt.RedemptionID, c.Receipt.VenueID, passnum.FormatEuros(int64(c.Receipt.TotalCents)), c.Reversed)
				default:
					fmt.Fprintf(a.out, "%d: ok, redemption %d of venue %d, %s EUR\n", i+1,
						c.Receipt.RedemptionID, c.Receipt.VenueID, passnum.FormatEuros(int64(c.Receipt.TotalCents)))
				}
			}
			fmt.Fprintf(a.out, "%d %s, %d not backed by the ledger\n", len(checks), english(len(checks), "receipt", "receipts"), bad)
			if bad > 0 {
				return errSilent
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keysFile, "keys", "", "public keys exported by 'passnum keys export' (default: from the database)")
	return cmd
}

// openInput opens a file named on the command line; "-" is standard input.
func openInput(name, what string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open the %s: %w", what, err)
	}
	return f, nil
}

func (a *app) auditSignalsCmd() *cobra.Command {
	var department, from, to string
	th := signals.DefaultThresholds
	cmd := &cobra.Command{
		Use:   "signals [--department CODE] [--from DAY] [--to DAY]",
		Short: "Flag the redemptions that deserve an auditor's look, with their evidence",
		Long: "signals applies the auditors' rules (docs/operations.md, \"Signals for auditors\") to the\n" +
			"redemptions received from --from to --to (Paris days, both included; default the last 30\n" +
			"days): a venue's week far above its usual ones, a whole chéquier in one basket, a chéquier\n" +
			"used at several venues on one day, redemptions bunched before the vouchers expire, offline\n" +
			"conflicts, late redemptions. The flags tune the thresholds. A signal is not a verdict.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			today := voucher.Today(a.now())
			first, last := today.AddDays(-(signals.ReportDays - 1)), today
			var err error
			if from != "" {
				if first, err = parseDay("--from", from); err != nil {
					return err
				}
			}
			if to != "" {
				if last, err = parseDay("--to", to); err != nil {
					return err
				}
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			found, err := (&signals.Service{DB: db}).Find(cmd.Context(), signals.Query{Department: strings.ToUpper(department),
				From: first.Start(), To: last.AddDays(1).Start(), Thresholds: th})
			if err != nil {
				return err
			}
			for _, s := range found {
				ids := make([]uint64, len(s.Redemptions))
				for i, id := range s.Redemptions {
					ids[i] = uint64(id)
				}
				fmt.Fprintf(a.out, "%s  venue %d (%s)  %s\n    %s\n    redemptions %s\n", s.Rule, s.VenueID, s.VenueName,
					s.At.In(voucher.Paris()).Format("2006-01-02 15:04"), s.Evidence, joinUints(ids))
			}
			fmt.Fprintf(a.out, "%d %s from %s to %s\n", len(found), english(len(found), "signal", "signals"), first, last)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&department, "department", "", "only the vouchers of this département's batches")
	f.StringVar(&from, "from", "", "first day (YYYY-MM-DD, Paris)")
	f.StringVar(&to, "to", "", "last day, included")
	f.Float64Var(&th.SpikeFactor, "spike-factor", th.SpikeFactor, "a week counts as a spike above this many times the venue's median week")
	f.IntVar(&th.SpikeMinVouchers, "spike-min", th.SpikeMinVouchers, "and with at least this many vouchers")
	f.IntVar(&th.ExpiryDays, "expiry-days", th.ExpiryDays, "the last days of validity that count as just before expiry")
	f.Float64Var(&th.ExpiryShare, "expiry-share", th.ExpiryShare, "the share of a venue's vouchers redeemed then that is flagged")
	f.IntVar(&th.ExpiryMinVouchers, "expiry-min", th.ExpiryMinVouchers, "and the least number of them")
	f.IntVar(&th.MinConflicts, "min-conflicts", th.MinConflicts, "offline conflicts of a venue that are flagged")
	f.IntVar(&th.MinLate, "min-late", th.MinLate, "late redemptions of a venue that are flagged")
	return cmd
}

// english is a noun by count as the command line's English has it (0 and
// many take the plural); passnum.Plural is the French rule of what people
// read in the pages and papers.
func english(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
