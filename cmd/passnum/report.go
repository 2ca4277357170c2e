package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/figures"
	"passnum/printing"
	"passnum/signals"
	"passnum/voucher"
)

func (a *app) reportCmd() *cobra.Command {
	var dept, asOf, format, pdf string
	cmd := &cobra.Command{
		Use:   "report [--department CODE] [--as-of YYYY-MM-DD] [--format table|csv|json] [--pdf FILE]",
		Short: "Show the programme's figures per département, batch, venue and month",
		Long: "report shows where the chéquiers and the money are: chéquiers printed, handed out and started;\n" +
			"vouchers issued, redeemed, voided, expired and outstanding, in number and in euros; the value\n" +
			"due back to the funder; redemptions per venue and per month; closed settlement periods; and\n" +
			"the programme's warnings. Each batch, département and the total is checked: issued =\n" +
			"outstanding + redeemed + voided + expired, in number and in euros (the CHECK line).\n\n" +
			"--as-of decides which unused vouchers count as expired (default: today, Europe/Paris); every\n" +
			"other figure is the database as it is now.\n\n" +
			"CSV has one row per département and per batch (the level column); JSON has everything.",
		Example: "  passnum report\n" +
			"  passnum report --department 78 --format csv > figures-78.csv\n" +
			"  passnum report --department 78 --pdf rapport-78.pdf",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			day := voucher.Today(a.now())
			if asOf != "" {
				var err error
				if day, err = parseDay("--as-of", asOf); err != nil {
					return err
				}
			}
			write, ok := map[string]func(io.Writer, figures.Figures) error{
				"table": writeFiguresTable, "csv": figures.WriteCSV, "json": writeFiguresJSON}[format]
			if !ok {
				return passnum.Invalid("--format %q: choose table, csv or json", format)
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			f, err := (&figures.Service{DB: db}).Compute(cmd.Context(), figures.Filter{Department: dept, AsOf: day})
			if err != nil {
				return err
			}
			if pdf != "" {
				rep := f.Report(a.now())
				if rep.Signals, err = (&signals.Service{DB: db}).ForReport(cmd.Context(), f.Department, rep.AsOf); err != nil {
					return err
				}
				var buf bytes.Buffer
				if err := printing.RenderProgrammeReport(&buf, rep); err != nil {
					return err
				}
				if err := os.WriteFile(pdf, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("write the PDF: %w", err)
				}
				fmt.Fprintf(a.errOut, "wrote the report to %s\n", pdf)
			}
			return write(a.out, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dept, "department", "", "only this département (default: all)")
	fl.StringVar(&asOf, "as-of", "", "the day the figures are for, YYYY-MM-DD (default: today)")
	fl.StringVar(&format, "format", "table", "table, csv or json, on standard output")
	fl.StringVar(&pdf, "pdf", "", "also write the report as a PDF to this file (in French, for funders)")
	return cmd
}

// figureLines are the rows of the départements table: one figure per
// line, one column per département, so that it reads on a terminal.
var figureLines = []struct {
	label string
	value func(c *figures.Counts) string
}{
	{"chéquiers printed", func(c *figures.Counts) string { return figureCount(c.ChequiersPrinted) }},
	{"chéquiers handed out", func(c *figures.Counts) string { return figureCount(c.ChequiersHandedOut) }},
	{"chéquiers not handed out", func(c *figures.Counts) string { return figureCount(c.ChequiersNotHandedOut) }},
	{"chéquiers untracked (no activation)", func(c *figures.Counts) string { return figureCount(c.ChequiersUntracked) }},
	{"chéquiers started", func(c *figures.Counts) string { return figureCount(c.ChequiersStarted) }},
	{"vouchers issued", func(c *figures.Counts) string { return figureCount(c.VouchersIssued) }},
	{"vouchers redeemed", func(c *figures.Counts) string { return figureCount(c.VouchersRedeemed) }},
	{"vouchers voided", func(c *figures.Counts) string { return figureCount(c.VouchersVoided) }},
	{"vouchers expired", func(c *figures.Counts) string { return figureCount(c.VouchersExpired) }},
	{"vouchers outstanding", func(c *figures.Counts) string { return figureCount(c.VouchersOutstanding) }},
	{"vouchers redeemed late", func(c *figures.Counts) string { return figureCount(c.LateVouchers) }},
	{"EUR issued", func(c *figures.Counts) string { return passnum.FormatEuros(c.IssuedCents) }},
	{"EUR redeemed", func(c *figures.Counts) string { return passnum.FormatEuros(c.RedeemedCents) }},
	{"EUR voided", func(c *figures.Counts) string { return passnum.FormatEuros(c.VoidedCents) }},
	{"EUR expired", func(c *figures.Counts) string { return passnum.FormatEuros(c.ExpiredCents) }},
	{"EUR outstanding", func(c *figures.Counts) string { return passnum.FormatEuros(c.OutstandingCents) }},
	{"EUR redeemed late", func(c *figures.Counts) string { return passnum.FormatEuros(c.LateCents) }},
	{"EUR unused, due back", func(c *figures.Counts) string { return passnum.FormatEuros(c.UnusedCents) }},
	{"redemption rate", func(c *figures.Counts) string { return figureRate(c.RedemptionRate) }},
	{"check", func(c *figures.Counts) string { return figureCheck(c.InvariantHolds) }},
}

func figureCount(n int64) string { return strconv.FormatInt(n, 10) }

func figureRate(r float64) string { return strconv.FormatFloat(100*r, 'f', 1, 64) + "%" }

// figureCheck says whether issued = outstanding + redeemed + voided + expired.
func figureCheck(holds bool) string {
	if holds {
		return "OK"
	}
	return "DISCREPANCY"
}

func writeFiguresTable(out io.Writer, f figures.Figures) error {
	scope := "all départements"
	if f.Department != "" {
		scope = "département " + f.Department
	}
	fmt.Fprintf(out, "Figures as of %s (end of day, Europe/Paris), %s\n", f.AsOf, scope)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	section := func(title string) {
		w.Flush()
		fmt.Fprintf(out, "\n== %s\n", title)
	}

	section("Départements")
	cols := make([]*figures.Counts, 0, len(f.Departments)+1)
	fmt.Fprint(w, "FIGURE")
	for i := range f.Departments {
		d := &f.Departments[i]
		fmt.Fprintf(w, "\t%s %s", d.Code, d.Name)
		cols = append(cols, &d.Counts)
	}
	if len(f.Departments) > 1 {
		fmt.Fprint(w, "\tTOTAL")
		cols = append(cols, &f.Total)
	}
	fmt.Fprintln(w)
	for _, l := range figureLines {
		fmt.Fprint(w, l.label)
		for _, c := range cols {
			fmt.Fprint(w, "\t"+l.value(c))
		}
		fmt.Fprintln(w)
	}

	section("Batches")
	if len(f.Batches) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		fmt.Fprintln(w, "BATCH\tDÉP\tVALUE EUR\tSTAGE\tPRINTED\tHANDED OUT\tSTARTED\tISSUED\tREDEEMED\tVOIDED\tEXPIRED\tOUTSTANDING\tUNUSED EUR\tRATE\tCHECK")
	}
	for _, b := range f.Batches {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", b.ID, b.Department, passnum.FormatEuros(b.FaceValueCents),
			b.Stage, b.ChequiersPrinted, b.ChequiersHandedOut, b.ChequiersStarted, b.VouchersIssued, b.VouchersRedeemed,
			b.VouchersVoided, b.VouchersExpired, b.VouchersOutstanding, passnum.FormatEuros(b.UnusedCents), figureRate(b.RedemptionRate), figureCheck(b.InvariantHolds))
	}

	section("Structures (chéquiers received, and what became of them)")
	if len(f.Structures) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		fmt.Fprintln(w, "ID\tDÉP\tRECEIVED\tIN STOCK\tHANDED OVER\tSTARTED\tFINISHED\tEXPIRED UNUSED\tVOIDED\tUNTRACKED\tCOMMUNE\tNAME")
	}
	funnel := func(fu figures.Funnel) string {
		return fmt.Sprintf("%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d", fu.Received, fu.InStock, fu.HandedOver, fu.Started, fu.Finished,
			fu.ExpiredUnused, fu.Voided, fu.Untracked)
	}
	for _, st := range f.Structures {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", st.ID, st.Department, funnel(st.Funnel), st.Commune, st.Name)
	}
	if len(f.FunnelMonths) > 0 {
		section("Reception months of the structures' chéquiers (Europe/Paris)")
		fmt.Fprintln(w, "MONTH\tRECEIVED\tIN STOCK\tHANDED OVER\tSTARTED\tFINISHED\tEXPIRED UNUSED\tVOIDED\tUNTRACKED")
		for _, m := range f.FunnelMonths {
			fmt.Fprintf(w, "%s\t%s\n", m.Month, funnel(m.Funnel))
		}
	}

	section("Venues (accepted redemptions, most first)")
	if len(f.Venues) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		fmt.Fprintln(w, "ID\tREDEMPTIONS\tVOUCHERS\tEUR\tLATE\tLATE EUR\tNAME")
	}
	for _, v := range f.Venues {
		fmt.Fprintf(w, "%d\t%d\t%d\t%s\t%d\t%s\t%s\n", v.ID, v.Redemptions, v.Vouchers, passnum.FormatEuros(v.Cents),
			v.LateRedemptions, passnum.FormatEuros(v.LateCents), v.Name)
	}

	section("Months (Europe/Paris; redemptions by the time the server accepted them)")
	if len(f.Months) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		fmt.Fprintln(w, "MONTH\tREDEMPTIONS\tVOUCHERS\tEUR\tLATE\tLATE EUR\tACTIVATIONS")
	}
	for _, m := range f.Months {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d\t%s\t%d\n", m.Month, m.Redemptions, m.Vouchers, passnum.FormatEuros(m.Cents),
			m.LateRedemptions, passnum.FormatEuros(m.LateCents), m.Activations)
	}

	section("Closed settlement periods")
	if len(f.Settlements) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		fmt.Fprintln(w, "MONTH\tDÉP\tVENUES\tGROSS EUR\tREVERSED EUR\tADJUSTED EUR\tCOMMISSION EUR\tNET EUR")
	}
	for _, s := range f.Settlements {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Month, s.Department, s.Venues, passnum.FormatEuros(s.GrossCents),
			passnum.FormatEuros(s.ReversedCents), passnum.FormatEuros(s.AdjustmentCents), passnum.FormatEuros(s.CommissionCents),
			passnum.FormatEuros(s.NetCents))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(f.Warnings) > 0 {
		fmt.Fprintln(out, "\n== Warnings")
		for _, warning := range f.Warnings {
			fmt.Fprintln(out, "! "+warning)
		}
	}
	return nil
}

func writeFiguresJSON(out io.Writer, f figures.Figures) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}
