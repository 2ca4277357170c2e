package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"passnum/issuing"
)

// stockCmd moves and lists the chéquiers not yet handed over between a
// département and its distribution structures (docs/stock.md), as the
// operator.
func (a *app) stockCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "stock", Short: "Allocate chéquiers to distribution structures, transfer them, take them back, list the stock (docs/stock.md)"}
	move := func(use, short, example string, from, to bool) *cobra.Command {
		var m issuing.Move
		c := &cobra.Command{
			Use: use, Short: short, Example: example, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				m.Department = strings.ToUpper(m.Department)
				done, err := a.issuing(db).MoveStock(cmd.Context(), m, actor())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "%s: %d chéquiers, %s to %s\n", done.Event, done.Count, done.First, done.Last)
				return a.seal(cmd.Context(), db)
			},
		}
		f := c.Flags()
		f.StringVar(&m.Department, "department", "", "the département (required)")
		if from {
			f.Int64Var(&m.From, "from", 0, "the structure giving (see passnum structure list)")
		}
		if to {
			f.Int64Var(&m.To, "to", 0, "the structure receiving (see passnum structure list)")
		}
		f.Int64Var(&m.Batch, "batch", 0, "with --count: the batch whose first chéquiers not handed over move")
		f.IntVar(&m.Count, "count", 0, "how many chéquiers of --batch")
		f.StringVar(&m.First, "first", "", "or: the first chéquier number of a range, such as 78-2026-000001")
		f.StringVar(&m.Last, "last", "", "and the last one, included")
		c.MarkFlagRequired("department")
		return c
	}
	allocate := move("allocate --department CODE --to STRUCTURE (--batch ID --count N | --first NUMBER --last NUMBER)",
		"Give chéquiers of the département's own stock to a structure", `  passnum stock allocate --department 78 --to 2 --batch 1 --count 50`, false, true)
	transfer := move("transfer --department CODE --from STRUCTURE --to STRUCTURE (--batch ID --count N | --first NUMBER --last NUMBER)",
		"Move chéquiers from a structure to another", `  passnum stock transfer --department 78 --from 2 --to 3 --first 78-2026-000041 --last 78-2026-000050`, true, true)
	takeBack := move("take-back --department CODE --from STRUCTURE (--batch ID --count N | --first NUMBER --last NUMBER)",
		"Take chéquiers of a structure back into the département's own stock", `  passnum stock take-back --department 78 --from 2 --batch 1 --count 10`, true, false)

	var dept string
	var structure int64
	list := &cobra.Command{
		Use:   "list --department CODE [--structure ID]",
		Short: "The chéquiers not yet handed over, by holder and batch, with the age of each structure's oldest",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			hs, err := a.issuing(db).Stock(cmd.Context(), strings.ToUpper(dept), structure)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "HOLDER\tBATCH\tCHEQUIERS\tOLDEST SINCE")
			for _, h := range hs {
				who, since := "département", "-"
				if h.Structure != 0 {
					who = fmt.Sprintf("%d %s", h.Structure, h.Name)
				}
				if h.Since != nil {
					since = fmt.Sprintf("%s (%d days)", h.Since.Format("2006-01-02"), int(a.now().Sub(*h.Since)/(24*time.Hour)))
				}
				fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", who, h.Batch, h.Count, since)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&dept, "department", "", "the département (required)")
	list.Flags().Int64Var(&structure, "structure", 0, "only this structure's stock")
	list.MarkFlagRequired("department")
	cmd.AddCommand(allocate, transfer, takeBack, list)
	return cmd
}
