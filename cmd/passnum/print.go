package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/issuing"
	"passnum/printing"
)

// printOptions are the choices of print and reprint.
type printOptions struct {
	out        string
	layout     string
	perFile    int
	venuesInfo string
}

func (o *printOptions) bind(cmd *cobra.Command, perFile bool) {
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "folder to write the PDF files into (created if absent)")
	f.StringVar(&o.layout, "layout", string(printing.DefaultLayout), "booklet (A6 carnets: one cover page or voucher per A6 page, four per A4 sheet, to cut and staple) or a4 (ten vouchers per A4 sheet, crop marks)")
	optVenuesInfo.bind(f, &o.venuesInfo)
	if perFile {
		f.IntVar(&o.perFile, "per-file", issuing.DefaultPerFile, "chéquiers per PDF file: memory stays flat whatever the batch size")
	}
	cmd.MarkFlagRequired("out")
}

func (o *printOptions) printing() (printing.Options, error) {
	layout, err := issuing.Layout(o.layout)
	if err != nil {
		return printing.Options{}, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return printing.Options{}, fmt.Errorf("create the output folder: %w", err)
	}
	return printing.Options{Layout: layout, VenuesInfo: o.venuesInfo}, nil
}

func (a *app) printCmd() *cobra.Command {
	var o printOptions
	var batchID int64
	cmd := &cobra.Command{
		Use:   "print --batch ID --out DIR [--layout booklet|a4] [--per-file N]",
		Short: "Render a batch's chéquiers to PDF files for the print shop, with a manifest",
		Long: "print re-creates every code of the batch (signing is deterministic, codes are never stored),\n" +
			"checks them against the checksum recorded when the batch was issued, and writes PDF files of\n" +
			"--per-file chéquiers each plus manifest.json (files, ranges, SHA-256). Rendering the same batch\n" +
			"again gives byte-identical files.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt, err := o.printing()
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			svc := a.issuing(db)
			m, err := a.printBatch(cmd.Context(), svc, batchID, o.out, o.perFile, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "batch %d: %d chéquiers, %d vouchers in %d files in %s (manifest %s)\n",
				batchID, m.Chequiers, m.Vouchers, len(m.Files), o.out, printing.ManifestName)
			return nil
		},
	}
	cmd.Flags().Int64Var(&batchID, "batch", 0, "the batch id, as 'passnum issue' printed it")
	cmd.MarkFlagRequired("batch")
	o.bind(cmd, true)
	return cmd
}

// printBatch renders a whole batch into dir.
func (a *app) printBatch(ctx context.Context, svc *issuing.Service, batchID int64, dir string, perFile int, opt printing.Options) (printing.Manifest, error) {
	summary, chequiers, err := svc.PrintBatch(ctx, batchID)
	if err != nil {
		return printing.Manifest{}, err
	}
	progress, done := a.progress(summary.Chequiers, "printing chéquiers")
	defer done()
	return printing.RenderFiles(dir, summary, chequiers, perFile, opt, progress)
}

func (a *app) reprintCmd() *cobra.Command {
	var o printOptions
	var chequier, voucherNum, reason string
	cmd := &cobra.Command{
		Use:   "reprint (--chequier NUMBER | --voucher NUMBER) --reason TEXT --out DIR",
		Short: "Print one chéquier again (same codes), or replace one voucher whose code leaked",
		Long: "--chequier prints a chéquier not yet handed over again, with the same codes, because the\n" +
			"first copy was damaged. --voucher voids a voucher whose code leaked and prints the new voucher\n" +
			"that takes its place in the same chéquier; the rest of the chéquier stays valid. Both are\n" +
			"recorded in the ledger.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (chequier == "") == (voucherNum == "") {
				return passnum.Invalid("give either --chequier or --voucher")
			}
			opt, err := o.printing()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := a.open(ctx)
			if err != nil {
				return err
			}
			svc := a.issuing(db)
			var path, tmp string
			if chequier != "" {
				pc, err := svc.Reprint(ctx, chequier, reason, actor())
				if err != nil {
					return err
				}
				path = filepath.Join(o.out, "reprint-"+pc.Chequier.Number+".pdf")
				summary, chequiers := issuing.PrintReprint(pc)
				if tmp, err = renderTemp(o.out, summary, chequiers, opt); err != nil {
					return err
				}
			} else {
				// The PDF is made before the replacement commits: if it cannot
				// be, nothing is replaced and the command can simply be run
				// again, instead of leaving a void code and a new one nobody
				// has on paper.
				r, err := svc.Replace(ctx, voucherNum, reason, actor(), func(r issuing.Replaced) error {
					path = filepath.Join(o.out, "replacement-"+strings.ReplaceAll(r.New.Number, " ", "")+".pdf")
					summary, chequiers := issuing.PrintReplacement(r)
					var err error
					tmp, err = renderTemp(o.out, summary, chequiers, opt)
					return err
				})
				if err != nil {
					if tmp != "" {
						os.Remove(tmp) // rendered, but the replacement did not commit
					}
					return err
				}
				fmt.Fprintf(a.out, "voucher %s is void; voucher %s replaces it in chéquier %s\n", voucherNumber(r.Old.Serial), r.New.Number, r.Chequier.Chequier.Number)
			}
			if err := os.Rename(tmp, path); err != nil {
				return fmt.Errorf("the PDF is in %s, but could not be named %s: %w", tmp, path, err)
			}
			fmt.Fprintf(a.out, "wrote %s\n", path)
			return a.seal(ctx, db)
		},
	}
	cmd.Flags().StringVar(&chequier, "chequier", "", "chéquier number, such as 78-2026-000042")
	cmd.Flags().StringVar(&voucherNum, "voucher", "", "voucher number, such as \"0000 0042 178\"")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the ledger")
	cmd.MarkFlagRequired("reason")
	o.bind(cmd, false)
	return cmd
}

// renderTemp writes the PDF of a summary sheet and its chéquiers
// (issuing.PrintReprint's, issuing.PrintReplacement's) to a new file in
// dir (readable by its owner only: it holds valid codes), and returns its
// name; nothing is left behind if it fails.
func renderTemp(dir string, summary printing.Batch, chequiers []printing.Chequier, opt printing.Options) (string, error) {
	f, err := os.CreateTemp(dir, ".passnum-*.pdf") // 0600 (printing.PrivateFile): it holds valid codes
	if err != nil {
		return "", err
	}
	if err := printing.Render(f, summary, chequiers, opt); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
