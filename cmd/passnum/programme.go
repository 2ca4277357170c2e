package main

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/ledger"
	"passnum/notices"
	"passnum/programme"
	"passnum/voucher"
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
				ds, err := a.programme(db).Departments(cmd.Context(), "")
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "CODE\tNAME\tCONTACT PHONE\tPAYER IBAN\tCLOSE FOUR EYES\tWAITING FOR A SECOND PERSON")
				for _, d := range ds {
					waiting, err := a.programme(db).Waiting(cmd.Context(), d.Code)
					if err != nil {
						return err
					}
					subjects := make([]string, len(waiting))
					for i, r := range waiting {
						subjects[i] = r.Subject + " (asked by " + r.RequestedBy + ")"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%s\n", d.Code, d.Name, deref(d.ContactPhone), deref(d.PayerIBAN), d.CloseFourEyes,
						cmp.Or(strings.Join(subjects, ", "), "-"))
				}
				return w.Flush()
			},
		},
		a.departmentSetCmd(),
		a.departmentConfirmCmd(),
		a.departmentRefuseCmd(),
	)
	return cmd
}

func (a *app) departmentConfirmCmd() *cobra.Command {
	var mo mailOptions
	c := &cobra.Command{
		Use:   "confirm CODE",
		Short: "Confirm the money settings another person asked for with 'department set' (paying office, commission, four eyes off): they apply now; a new paying office is told by email to the département's managers and finance people",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			d, r, err := a.programme(db).ConfirmSettings(cmd.Context(), strings.ToUpper(args[0]), actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "département %s: paid from %s (%s), commission %s %%, closing with four eyes %v; asked by %s, confirmed by %s\n", d.Code,
				deref(d.PayerName), deref(d.PayerIBAN), strings.TrimSuffix(passnum.FormatEuros(d.CommissionBasisPoints), ".00"), d.CloseFourEyes, r.RequestedBy, actor())
			if err := a.seal(cmd.Context(), db); err != nil {
				return err
			}
			// Applied: a notice that fails says so, and undoes nothing.
			sender, err := a.mailer(mo)
			if err != nil {
				return err
			}
			if !programme.PaysFrom(r) {
				return nil
			}
			told, err := (&notices.Service{DB: db, Accounts: a.accounts(db), Mail: sender}).PayingOfficeChanged(cmd.Context(), d, r.RequestedBy, actor())
			if told > 0 {
				fmt.Fprintf(a.out, "notices of the new paying office sent: %d\n", told)
			}
			return err
		},
	}
	mo.bind(c.Flags())
	return c
}

func (a *app) departmentRefuseCmd() *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "refuse CODE --reason REASON",
		Short: "Refuse (or, if you asked, withdraw) the money settings waiting for a second person",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			code := strings.ToUpper(args[0])
			if err := a.programme(db).RefuseSettings(cmd.Context(), code, reason, actor()); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "département %s: the new paying office is refused; the paying office stays as it was\n", code)
			return a.seal(cmd.Context(), db)
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why, for the ledger")
	return c
}

func (a *app) departmentSetCmd() *cobra.Command {
	var name, iban, bic, commission, phone string
	var fourEyes bool
	c := &cobra.Command{
		Use:   "set CODE [--payer-name N --payer-iban I [--payer-bic B]] [--commission PERCENT] [--contact-phone NUMBER] [--close-four-eyes=true|false]",
		Short: "Set a département's contact phone, turn four eyes on closing on; ask for a paying office, a commission or four eyes off",
		Long: `set changes the contact phone, and turns four eyes on closing on, at once. What decides money
(a new paying office, the account SEPA transfers are paid from; the programme's commission;
turning four eyes on closing off) waits for a second person, who confirms it with
'passnum department confirm CODE' (or the API, or the département's home page).`,
		Example: `  passnum department set 78 --payer-name "Paierie départementale des Yvelines" \
      --payer-iban "FR14 2004 1010 0505 0001 3M02 606" --commission 0
  passnum department set 78 --contact-phone "01 39 07 78 78" --close-four-eyes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ch programme.DepartmentChanges
			if cmd.Flags().Changed("payer-name") {
				ch.PayerName = &name
			}
			if cmd.Flags().Changed("payer-iban") {
				ch.PayerIBAN = &iban
			}
			if cmd.Flags().Changed("payer-bic") {
				ch.PayerBIC = &bic
			}
			if cmd.Flags().Changed("commission") {
				bp, err := parsePercent(commission)
				if err != nil {
					return err
				}
				ch.CommissionBasisPoints = &bp
			}
			if cmd.Flags().Changed("contact-phone") {
				ch.ContactPhone = &phone
			}
			if cmd.Flags().Changed("close-four-eyes") {
				ch.CloseFourEyes = &fourEyes
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			d, err := a.programme(db).UpdateDepartment(cmd.Context(), strings.ToUpper(args[0]), ch, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "département %s: paid from %s (%s), commission %s %%, contact phone %s, closing with four eyes %v\n", d.Code, deref(d.PayerName), deref(d.PayerIBAN),
				strings.TrimSuffix(passnum.FormatEuros(d.CommissionBasisPoints), ".00"), cmp.Or(deref(d.ContactPhone), "none"), d.CloseFourEyes)
			if d.Asked != nil {
				fmt.Fprintf(a.out, "the paying office, commission or four eyes asked for wait for a second person: passnum department confirm %s (or refuse)\n", d.Code)
			}
			return a.seal(cmd.Context(), db)
		},
	}
	f := c.Flags()
	f.StringVar(&name, "payer-name", "", "the paying office, as its bank knows it")
	f.StringVar(&iban, "payer-iban", "", "the account transfers are paid from")
	f.StringVar(&bic, "payer-bic", "", "its BIC (optional)")
	f.StringVar(&commission, "commission", "", "the programme's commission on reimbursements, in percent (e.g. 1.5)")
	f.StringVar(&phone, "contact-phone", "", "the number printed on every chéquier's cover (to call when it is lost) and on the statements; \"\" removes it")
	f.BoolVar(&fourEyes, "close-four-eyes", false, "closing a month needs a second person to confirm it")
	return c
}

// parsePercent reads a percentage with at most two decimals as basis points.
func parsePercent(s string) (int64, error) {
	bp, err := passnum.ParseEuros(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if err != nil {
		return 0, passnum.Invalid("--commission %q is not a percentage such as 1.5", s)
	}
	return bp, nil
}

func (a *app) venueCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "venue", Short: "Manage the labelled venues that redeem vouchers"}
	var in programme.VenueInput
	var labelUntil string
	add := &cobra.Command{
		Use:   "add NAME --siret SIRET --iban IBAN --department CODE [--department CODE…]",
		Short: "Add a venue labelled for one or more départements",
		Example: `  passnum venue add "Médiathèque de Trappes" --siret "123 456 789 00015" \
      --iban "FR76 3000 6000 0112 3456 7890 189" --address "1 place de la Médiathèque, 78190 Trappes" \
      --department 78 --label-until 2027-12-31`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Name = args[0]
			if labelUntil != "" {
				d, err := parseDay("--label-until", labelUntil)
				if err != nil {
					return err
				}
				in.LabelExpiresOn = d
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			v, err := a.programme(db).AddVenue(cmd.Context(), in, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "added venue %d (%s), labelled for %s\n", v.ID, v.Name, strings.Join(v.Departments, ", "))
			return a.seal(cmd.Context(), db)
		},
	}
	f := add.Flags()
	f.StringVar(&in.SIRET, "siret", "", "the venue's SIRET (14 digits, required)")
	f.StringVar(&in.IBAN, "iban", "", "the account its reimbursements are paid to (required)")
	f.StringVar(&in.BIC, "bic", "", "the BIC of that account (optional)")
	f.StringVar(&in.Address, "address", "", "postal address")
	f.StringVar(&in.Contact, "contact", "", "professional contact (kept out of the ledger)")
	f.StringSliceVar(&in.Departments, "department", nil, "département the venue is labelled for (repeat or comma-separate)")
	f.StringVar(&labelUntil, "label-until", "", "last day of the label, YYYY-MM-DD (default: no expiry)")
	f.StringVar(&in.Reason, "reason", "", "why it is labelled, e.g. the committee's decision")

	cmd.AddCommand(add, a.venueListCmd(), a.venueUpdateCmd(false), a.venueUpdateCmd(true), a.venueArchiveCmd())
	cmd.AddCommand(a.venueChangeCmds()...)
	var reason, until, dept string
	status := func(use, short string, change func(ctx context.Context, p *programme.Service, id int64) (programme.VenueWithDepartments, error)) *cobra.Command {
		c := &cobra.Command{
			Use: use + " ID --reason TEXT", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil {
					return fmt.Errorf("%q is not a venue id: see 'passnum venue list'", args[0])
				}
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				v, err := change(cmd.Context(), a.programme(db), id)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "venue %d (%s): %s\n", v.ID, v.Name, labels(v))
				return a.seal(cmd.Context(), db)
			},
		}
		c.Flags().StringVar(&reason, "reason", "", "why (required, recorded in the ledger)")
		c.Flags().StringVar(&dept, "department", "", "the département whose label changes (default: every label of the venue that can)")
		return c
	}
	label := status("label", "Label a venue again, or renew its label", func(ctx context.Context, p *programme.Service, id int64) (programme.VenueWithDepartments, error) {
		var d voucher.Day
		if until != "" {
			var err error
			if d, err = parseDay("--until", until); err != nil {
				return programme.VenueWithDepartments{}, err
			}
		}
		return p.Label(ctx, id, programme.LabelOf{Department: strings.ToUpper(dept)}, d, reason, actor())
	})
	label.Flags().StringVar(&until, "until", "", "last day of the label, YYYY-MM-DD (default: no expiry)")
	cmd.AddCommand(label,
		status("suspend", "Suspend a venue for a département: it cannot redeem that département's vouchers until reinstated", func(ctx context.Context, p *programme.Service, id int64) (programme.VenueWithDepartments, error) {
			return p.Suspend(ctx, id, programme.LabelOf{Department: strings.ToUpper(dept)}, reason, actor())
		}),
		status("reinstate", "End a venue's suspension", func(ctx context.Context, p *programme.Service, id int64) (programme.VenueWithDepartments, error) {
			return p.Reinstate(ctx, id, programme.LabelOf{Department: strings.ToUpper(dept)}, reason, actor())
		}),
		status("unlabel", "Revoke a venue's label for a département", func(ctx context.Context, p *programme.Service, id int64) (programme.VenueWithDepartments, error) {
			return p.Unlabel(ctx, id, programme.LabelOf{Department: strings.ToUpper(dept)}, reason, actor())
		}))
	return cmd
}

// labels shows a venue's label for each département: "78 labelled until
// 2027-06-30, 92 suspended".
func labels(v programme.VenueWithDepartments) string {
	out := make([]string, 0, len(v.Labels))
	for _, l := range v.Labels {
		s := l.DepartmentCode + " " + string(l.Status)
		if l.Status == ledger.VenueLabelled && l.LabelExpiresOn != nil {
			s += " until " + l.LabelExpiresOn.String()
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func (a *app) venueListCmd() *cobra.Command {
	var f programme.VenueFilter
	c := &cobra.Command{
		Use:   "list [--department CODE] [--after ID --limit N]",
		Short: "List the venues by id, all of them or a page at a time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			f.Department = strings.ToUpper(f.Department)
			page, err := a.programme(db).Venues(cmd.Context(), f)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tLABELS\tSIRET\tNAME")
			for _, v := range page.Venues {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", v.ID, labels(v), deref(v.SIRET), v.Name)
			}
			if page.Next != 0 {
				fmt.Fprintf(w, "next page: --after %d\n", page.Next)
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&f.Department, "department", "", "only the venues labelled for this département")
	c.Flags().Int64Var(&f.After, "after", 0, "only the venues after this id")
	c.Flags().IntVar(&f.Limit, "limit", 0, "at most this many venues (default: all)")
	return c
}

// venueUpdateCmd is "venue update" (an operator's change, at once) and,
// with asking, "venue request": a département's change, which awaits the
// approval of the other départements labelling the venue when there are
// any (programme.Service.UpdateVenue).
func (a *app) venueUpdateCmd(asking bool) *cobra.Command {
	var name, address, iban, bic, contact, reason, dept string
	c := &cobra.Command{
		Use:     "update ID [--name N] [--address A] [--iban I [--bic B]] [--contact C] --reason TEXT",
		Short:   "Change a venue's name, address or contact at once, as an operator (a new IBAN needs a request: venue request)",
		Example: `  passnum venue update 3 --address "2 rue de la Gare, 78190 Trappes" --reason "déménagement du 02/11"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a venue id: see 'passnum venue list'", args[0])
			}
			if asking && dept == "" {
				return fmt.Errorf("say which département asks with --department")
			}
			var ch programme.VenueChanges
			set := func(flag string, v *string, dst **string) {
				if cmd.Flags().Changed(flag) {
					*dst = v
				}
			}
			set("name", &name, &ch.Name)
			set("address", &address, &ch.Address)
			set("iban", &iban, &ch.IBAN)
			set("bic", &bic, &ch.BIC)
			set("contact", &contact, &ch.Contact)
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			u, err := a.programme(db).UpdateVenue(cmd.Context(), id, ch, reason, strings.ToUpper(dept), actor())
			if err != nil {
				return err
			}
			if r := u.Request; r != nil {
				fmt.Fprintf(a.out, "change request %d for venue %d (%s) awaits the approval of %s: 'passnum venue approve %d --department …'\n",
					r.ID, u.Venue.ID, u.Venue.Name, strings.Join(r.Awaiting, ", "), r.ID)
			} else {
				fmt.Fprintf(a.out, "updated venue %d (%s)\n", u.Venue.ID, u.Venue.Name)
			}
			return a.seal(cmd.Context(), db)
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.StringVar(&address, "address", "", "new postal address")
	f.StringVar(&iban, "iban", "", "new IBAN")
	f.StringVar(&bic, "bic", "", "BIC of the new IBAN")
	f.StringVar(&contact, "contact", "", "new contact")
	f.StringVar(&reason, "reason", "", "why (required, recorded in the ledger)")
	if asking {
		c.Use = "request ID --department CODE [--name N] [--address A] [--iban I [--bic B]] [--contact C] --reason TEXT"
		c.Short = "Ask, for a département, to change a venue's details: the other départements labelling it approve (a new IBAN: at least a second person)"
		c.Example = `  passnum venue request 3 --department 78 --iban "FR14 2004 1010 0505 0001 3M02 606" --reason "RIB reçu le 02/11"`
		f.StringVar(&dept, "department", "", "the département that asks (required)")
	}
	return c
}

// venueChangeCmds are the decisions on change requests, and their list.
func (a *app) venueChangeCmds() []*cobra.Command {
	var dept, reason, status string
	var venueID int64
	var mo mailOptions
	list := &cobra.Command{
		Use:   "requests [--department CODE] [--venue ID] [--status pending]",
		Short: "List the change requests to venues' details, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			rs, err := a.programme(db).ChangeRequests(cmd.Context(), programme.ChangeFilter{Department: strings.ToUpper(dept), VenueID: venueID, Status: status})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tVENUE\tASKED BY\tSTATUS\tAWAITING\tCHANGES\tREASON")
			for _, r := range rs {
				var what []string
				if r.Name != nil {
					what = append(what, "name "+*r.Name)
				}
				if r.Address != nil {
					what = append(what, "address "+*r.Address)
				}
				if r.IBAN != nil {
					what = append(what, "IBAN "+*r.IBAN)
				}
				awaiting := strings.Join(r.Awaiting, ",")
				if awaiting == "" {
					awaiting = "-"
				}
				fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.VenueID, r.DepartmentCode, r.Status, awaiting, strings.Join(what, "; "), r.Reason)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&dept, "department", "", "only the requests on venues labelled for this département")
	list.Flags().Int64Var(&venueID, "venue", 0, "only the requests for this venue")
	list.Flags().StringVar(&status, "status", "", "pending, applied, refused or withdrawn")
	decision := func(use, short string, decide func(ctx context.Context, p *programme.Service, id int64) (programme.ChangeRequest, error)) *cobra.Command {
		c := &cobra.Command{
			Use: use + " REQUEST [--department CODE]", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil {
					return fmt.Errorf("%q is not a change request id: see 'passnum venue requests'", args[0])
				}
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				r, err := decide(cmd.Context(), a.programme(db), id)
				if err != nil {
					return err
				}
				awaiting := ""
				if len(r.Awaiting) > 0 {
					awaiting = ", awaiting " + strings.Join(r.Awaiting, ", ")
				}
				fmt.Fprintf(a.out, "change request %d for venue %d (%s) is %s%s\n", r.ID, r.VenueID, r.VenueName, r.Status, awaiting)
				if err := a.seal(cmd.Context(), db); err != nil {
					return err
				}
				// The change is made: a notice that fails says so, and is
				// not a reason to undo it.
				sender, err := a.mailer(mo)
				if err != nil {
					return err
				}
				told, err := (&notices.Service{DB: db, Accounts: a.accounts(db), Mail: sender}).BankDetailsChanged(cmd.Context(), r)
				if told > 0 {
					fmt.Fprintf(a.out, "notices of the new IBAN sent: %d\n", told)
				}
				return err
			},
		}
		c.Flags().StringVar(&dept, "department", "", "the département that decides (default: as an operator, for every département)")
		return c
	}
	approve := decision("approve", "Approve a change request; the last approval applies it, and a new IBAN is told by email to the venue and its départements", func(ctx context.Context, p *programme.Service, id int64) (programme.ChangeRequest, error) {
		return p.ApproveChange(ctx, id, strings.ToUpper(dept), actor())
	})
	mo.bind(approve.Flags())
	refuse := decision("refuse", "Refuse a change request", func(ctx context.Context, p *programme.Service, id int64) (programme.ChangeRequest, error) {
		return p.RefuseChange(ctx, id, reason, strings.ToUpper(dept), actor())
	})
	refuse.Flags().StringVar(&reason, "reason", "", "why (required, recorded in the ledger)")
	withdraw := decision("withdraw", "Withdraw a change request, for the département that asked it", func(ctx context.Context, p *programme.Service, id int64) (programme.ChangeRequest, error) {
		return p.WithdrawChange(ctx, id, reason, strings.ToUpper(dept), actor())
	})
	withdraw.Flags().StringVar(&reason, "reason", "", "why (optional, recorded in the ledger)")
	return []*cobra.Command{list, approve, refuse, withdraw}
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
