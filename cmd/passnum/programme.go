package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (a *app) departmentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "department", Short: "Manage the départements that fund the programme"}
	cmd.AddCommand(
		&cobra.Command{
			Use:     "add CODE NAME",
			Short:   "Add a département by its official code",
			Example: `  passnum department add 78 "Yvelines"`,
			Args:    cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				d, err := a.programme(db).AddDepartment(cmd.Context(), args[0], args[1], actor())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "added département %s (%s)\n", d.Code, d.Name)
				return a.seal(cmd.Context(), db)
			},
		},
		&cobra.Command{
			Use:   "list",
			Short: "List the départements",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				ds, err := a.programme(db).Departments(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "CODE\tNAME")
				for _, d := range ds {
					fmt.Fprintf(w, "%s\t%s\n", d.Code, d.Name)
				}
				return w.Flush()
			},
		},
	)
	return cmd
}

func (a *app) venueCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "venue", Short: "Manage the labelled venues that redeem vouchers"}
	var depts []string
	add := &cobra.Command{
		Use:     "add NAME --department CODE [--department CODE…]",
		Short:   "Add a venue labelled for one or more départements",
		Example: `  passnum venue add "Médiathèque de Trappes" --department 78`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			v, err := a.programme(db).AddVenue(cmd.Context(), args[0], depts, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "added venue %d (%s), labelled for %s\n", v.ID, v.Name, strings.Join(depts, ", "))
			return a.seal(cmd.Context(), db)
		},
	}
	add.Flags().StringSliceVar(&depts, "department", nil, "département the venue is labelled for (repeat or comma-separate)")
	cmd.AddCommand(add, &cobra.Command{
		Use:   "list",
		Short: "List the venues",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			vs, err := a.programme(db).Venues(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATUS\tDÉPARTEMENTS\tNAME")
			for _, v := range vs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", v.ID, v.Status, strings.Join(v.Departments, ","), v.Name)
			}
			return w.Flush()
		},
	})
	return cmd
}
