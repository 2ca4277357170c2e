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
	f.StringVar(&o.layout, "layout", "a4", "a4 (ten vouchers per A4 sheet, crop marks) or booklet (one voucher per A6 page, four per A4 sheet)")
	f.StringVar(&o.venuesInfo, "venues-info", "", "where beneficiaries find labelled venues: a URL, an address or a phone number ($PASSNUM_VENUES_INFO)")
	if perFile {
		f.IntVar(&o.perFile, "per-file", issuing.DefaultPerFile, "chéquiers per PDF file: memory stays flat whatever the batch size")
	}
	cmd.MarkFlagRequired("out")
}

func (o *printOptions) options() []option {
	return []option{{flag: "venues-info", env: "PASSNUM_VENUES_INFO"}}
}

func (o *printOptions) printing() (printing.Options, error) {
	layout := printing.Layout(o.layout)
	if layout != printing.A4Sheets && layout != printing.Booklet {
		return printing.Options{}, passnum.Errorf(passnum.EInvalid, "unknown layout %q: use a4 or booklet", o.layout)
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
		Use:   "print --batch ID --out DIR [--layout a4|booklet] [--per-file N]",
		Short: "Render a batch's chéquiers to PDF files for the print shop, with a manifest",
		Long: "print re-creates every code of the batch (signing is deterministic, codes are never stored),\n" +
			"checks them against the checksum recorded when the batch was issued, and writes PDF files of\n" +
			"--per-file chéquiers each plus manifest.json (files, ranges, SHA-256). Rendering the same batch\n" +
			"again gives byte-identical files.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveEnv(cmd.Flags(), o.options()); err != nil {
				return err
			}
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
			if err := resolveEnv(cmd.Flags(), o.options()); err != nil {
				return err
			}
			if (chequier == "") == (voucherNum == "") {
				return passnum.Errorf(passnum.EInvalid, "give either --chequier or --voucher")
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
			var pc issuing.PrintedChequier
			var name string
			if chequier != "" {
				if pc, err = svc.Reprint(ctx, chequier, reason, actor()); err != nil {
					return err
				}
				name = "reprint-" + pc.Chequier.Number + ".pdf"
			} else {
				r, err := svc.Replace(ctx, voucherNum, reason, actor())
				if err != nil {
					return err
				}
				// Only the new voucher is printed: the others of a handed-over
				// chéquier are in the beneficiary's hands already.
				pc = r.Chequier
				pc.Vouchers = []issuing.PrintedVoucher{r.New}
				name = "replacement-" + strings.ReplaceAll(r.New.Number, " ", "") + ".pdf"
				fmt.Fprintf(a.out, "voucher %s is void; voucher %s replaces it in chéquier %s\n", voucherNumber(r.Old.Serial), r.New.Number, pc.Chequier.Number)
			}
			if err := a.seal(ctx, db); err != nil {
				return err
			}
			path := filepath.Join(o.out, name)
			if err := renderOne(path, pc, opt); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "wrote %s\n", path)
			return nil
		},
	}
	cmd.Flags().StringVar(&chequier, "chequier", "", "chéquier number, such as 78-2026-000042")
	cmd.Flags().StringVar(&voucherNum, "voucher", "", "voucher number, such as \"0000 0042 178\"")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the ledger")
	cmd.MarkFlagRequired("reason")
	o.bind(cmd, false)
	return cmd
}

// renderOne writes one chéquier's PDF, with its batch summary sheet.
func renderOne(path string, pc issuing.PrintedChequier, opt printing.Options) error {
	b := pc.Batch
	summary := printing.Batch{ID: b.ID, Department: b.DepartmentCode, Chequiers: 1, VouchersPerChequier: len(pc.Vouchers),
		ValueCents: b.FaceValueCents, TotalCents: b.FaceValueCents * int64(len(pc.Vouchers)),
		ValidFrom: b.ValidFrom.Day(), ValidUntil: b.ValidUntil.Day(), FirstChequier: pc.Chequier.Number, LastChequier: pc.Chequier.Number,
		FirstVoucher: pc.Vouchers[0].Number, LastVoucher: pc.Vouchers[len(pc.Vouchers)-1].Number,
		KeyID: int(b.KeyID), CodesSHA256: fmt.Sprintf("%x", b.CodesSHA256), RequiresActivation: b.RequiresActivation}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, printing.PrivateFile)
	if err != nil {
		return err
	}
	if err := f.Chmod(printing.PrivateFile); err != nil { // an older file keeps its mode
		f.Close()
		return err
	}
	if err := printing.Render(f, summary, []printing.Chequier{issuing.PrintingChequier(pc)}, opt); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
