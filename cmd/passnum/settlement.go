package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/ledger"
	"passnum/sepa"
	"passnum/settlement"
	"passnum/voucher"
)

func (a *app) settlementCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "settlement", Short: "Pay venues: monthly statements, closing, adjustments, SEPA transfer file"}
	var dept, month string
	scope := func(c *cobra.Command) {
		c.Flags().StringVar(&dept, "department", "", "département code (required)")
		c.Flags().StringVar(&month, "month", "", "the period, YYYY-MM (default: the current month)")
		c.MarkFlagRequired("department")
	}
	period := func() (settlement.Month, error) {
		if month == "" {
			return settlement.MonthAt(a.now()), nil
		}
		return settlement.ParseMonth(month)
	}
	show := &cobra.Command{
		Use:   "show --department CODE [--month YYYY-MM]",
		Short: "Show a month's statements: what each venue is due",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := period()
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.settlement(db).Period(cmd.Context(), dept, m)
			if err != nil {
				return err
			}
			printPeriod(a, p)
			return nil
		},
	}
	scope(show)
	closeCmd := &cobra.Command{
		Use:   "close --department CODE --month YYYY-MM [--out DIR] [--execution DATE]",
		Short: "Close a month: freeze its statements, and write them with the SEPA file",
		Long: `Close a month: its statements are frozen and recorded in the ledger; no redemption of
that month can be reversed any more. With --out, writes statements.csv, one PDF statement per
venue and the SEPA credit transfer file (pain.001.001.03) for the paying office.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := settlement.ParseMonth(month)
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.settlement(db).Close(cmd.Context(), dept, m, actor())
			if err != nil {
				return err
			}
			printPeriod(a, p)
			if err := a.seal(cmd.Context(), db); err != nil {
				return err
			}
			if !p.Closed {
				fmt.Fprintf(a.out, "the closing of %s is asked by %s: the département wants a second person, who runs this command too (or passnum settlement refuse-close)\n", p.Month, p.CloseAskedBy)
				return nil
			}
			if out := cmd.Flag("out").Value.String(); out != "" {
				_, err := a.writeSettlementFiles(db, out, p, cmd.Flag("execution").Value.String())
				return err
			}
			return nil
		},
	}
	scope(closeCmd)
	var refusal string
	refuseCmd := &cobra.Command{
		Use:   "refuse-close --department CODE --month YYYY-MM --reason REASON",
		Short: "Refuse (or, if you asked, withdraw) a closing waiting for a second person; the month stays open",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := settlement.ParseMonth(month)
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := a.settlement(db).RefuseClose(cmd.Context(), dept, m, refusal, actor()); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "the closing of %s is refused: the month stays open\n", m)
			return a.seal(cmd.Context(), db)
		},
	}
	scope(refuseCmd)
	refuseCmd.Flags().StringVar(&refusal, "reason", "", "why, for the ledger")
	exportCmd := &cobra.Command{
		Use:   "export --department CODE --month YYYY-MM --out DIR [--execution DATE]",
		Short: "Write a closed month's statements (CSV, PDF per venue) and SEPA file again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := settlement.ParseMonth(month)
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.settlement(db).Period(cmd.Context(), dept, m)
			if err != nil {
				return err
			}
			_, err = a.writeSettlementFiles(db, cmd.Flag("out").Value.String(), p, cmd.Flag("execution").Value.String())
			return err
		},
	}
	scope(exportCmd)
	for _, c := range []*cobra.Command{closeCmd, exportCmd} {
		c.MarkFlagRequired("month") // only a month that is over can be closed or paid
		c.Flags().String("out", "", "folder for the statements and the SEPA file")
		c.Flags().String("execution", "", "requested execution day of the transfers, YYYY-MM-DD (default: the next day)")
	}
	exportCmd.MarkFlagRequired("out")

	var venue int64
	var amount, reason string
	var redemptionID int64
	adjust := &cobra.Command{
		Use:     "adjust --department CODE --venue ID --amount EUROS --reason TEXT [--redemption ID]",
		Short:   "Correct a closed month: pay (or take back) an amount in the current month",
		Example: `  passnum settlement adjust --department 78 --venue 3 --amount -10.00 --reason "chèque payé deux fois en octobre" --redemption 812`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			neg := strings.HasPrefix(amount, "-")
			cents, err := passnum.ParseEuros(strings.TrimPrefix(amount, "-"))
			if err != nil {
				return err
			}
			if neg {
				cents = -cents
			}
			var rid *int64
			if redemptionID != 0 {
				rid = &redemptionID
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			adj, err := a.settlement(db).Adjust(cmd.Context(), dept, venue, cents, reason, rid, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "adjustment %d: %s EUR to venue %d, counted in %s\n", adj.ID, passnum.FormatEuros(adj.AmountCents), venue, settlement.MonthOf(adj.PeriodFirstDay.Day()))
			return a.seal(cmd.Context(), db)
		},
	}
	adjust.Flags().StringVar(&dept, "department", "", "département paying (required)")
	adjust.Flags().Int64Var(&venue, "venue", 0, "venue id (required)")
	adjust.Flags().StringVar(&amount, "amount", "", "euros, negative to take back (required)")
	adjust.Flags().StringVar(&reason, "reason", "", "why (required, recorded in the ledger)")
	adjust.Flags().Int64Var(&redemptionID, "redemption", 0, "the redemption it corrects, if any")
	for _, f := range []string{"department", "venue", "amount", "reason"} {
		adjust.MarkFlagRequired(f)
	}
	list := &cobra.Command{
		Use:   "list [--department CODE]",
		Short: "List the closed months",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			ps, err := a.settlement(db).Periods(cmd.Context(), dept)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "DÉPARTEMENT\tMONTH\tVENUES\tREDEEMED\tREVERSED\tADJUSTED\tCOMMISSION\tNET\tCLOSED\t")
			for _, p := range ps {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.DepartmentCode, settlement.MonthOf(p.FirstDay.Day()), p.Venues,
					passnum.FormatEuros(p.GrossCents), passnum.FormatEuros(p.ReversedCents), passnum.FormatEuros(p.AdjustmentCents),
					passnum.FormatEuros(p.CommissionCents), passnum.FormatEuros(p.NetCents), p.ClosedAt.Format("2006-01-02"))
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&dept, "department", "", "only this département")
	cmd.AddCommand(show, closeCmd, refuseCmd, exportCmd, adjust, list)
	return cmd
}

func (a *app) settlement(db *ledger.DB) *settlement.Service {
	return &settlement.Service{DB: db}
}

func printPeriod(a *app, p settlement.Period) {
	state := "open: figures may still change"
	if p.CloseAskedBy != "" {
		state = "open, its closing asked by " + p.CloseAskedBy + " and waiting for a second person"
	}
	if p.Closed {
		state = "closed on " + p.ClosedAt.Format("2006-01-02 15:04 MST") + " by " + p.ClosedBy
	}
	fmt.Fprintf(a.out, "settlement %s of département %s %s (%s to %s), %s\n", p.Month, p.Department, p.DepartmentName, p.FirstDay, p.LastDay, state)
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "VENUE\tREDEMPTIONS\tREDEEMED\tREVERSED\tADJUSTED\tCOMMISSION\tNET\tREFERENCE\t")
	for _, st := range p.Statements {
		fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", st.VenueID, st.Redemptions, passnum.FormatEuros(st.GrossCents),
			passnum.FormatEuros(st.ReversedCents), passnum.FormatEuros(st.AdjustmentCents), passnum.FormatEuros(st.CommissionCents),
			passnum.FormatEuros(st.NetCents), st.Reference)
	}
	fmt.Fprintf(w, "total\t\t%s\t%s\t%s\t%s\t%s\t\t\n", passnum.FormatEuros(p.GrossCents), passnum.FormatEuros(p.ReversedCents),
		passnum.FormatEuros(p.AdjustmentCents), passnum.FormatEuros(p.CommissionCents), passnum.FormatEuros(p.NetCents))
	w.Flush()
}

// writeSettlementFiles writes a closed period's files into dir, says so,
// and returns their paths.
func (a *app) writeSettlementFiles(db *ledger.DB, dir string, p settlement.Period, execution string) ([]string, error) {
	var written []string
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("settlement-%s-%s", p.Department, p.Month)
	write := func(name string, fn func(f *os.File) error) error {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "wrote %s\n", path)
		written = append(written, path)
		return nil
	}
	if err := write(prefix+"-statements.csv", func(f *os.File) error { return settlement.WriteCSV(f, p) }); err != nil {
		return nil, err
	}
	pdfPath := func(st settlement.Statement) string {
		return filepath.Join(dir, fmt.Sprintf("%s-venue-%s.pdf", prefix, strconv.FormatInt(st.VenueID, 10)))
	}
	pdfs := make([]string, len(p.Statements))
	for i, st := range p.Statements {
		pdfs[i] = pdfPath(st)
	}
	err := settlement.WriteStatementPDFs(p, func(st settlement.Statement) (io.WriteCloser, error) {
		return os.Create(pdfPath(st))
	})
	if err != nil {
		for _, path := range pdfs {
			os.Remove(path)
		}
		return nil, err
	}
	for _, path := range pdfs {
		fmt.Fprintf(a.out, "wrote %s\n", path)
	}
	written = append(written, pdfs...)
	var day voucher.Day // 0: the service's default
	if execution != "" {
		var err error
		if day, err = parseDay("--execution", execution); err != nil {
			return nil, err
		}
	}
	pay, err := a.settlement(db).Payment(p, day)
	if passnum.ErrorCode(err) == passnum.ENotFound {
		fmt.Fprintf(a.out, "no SEPA file: nothing to pay for %s\n", p.Month)
		return written, nil
	}
	if err != nil {
		return nil, err
	}
	err = write(prefix+"-sepa.xml", func(f *os.File) error { return sepa.Write(f, pay) })
	return written, err
}
