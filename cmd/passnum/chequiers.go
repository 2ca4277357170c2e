package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/issuing"
	"passnum/voucher"
)

func (a *app) issueCmd() *cobra.Command {
	var (
		req                issuing.BatchRequest
		value, from, until string
		end                string
		noActivation       bool
	)
	cmd := &cobra.Command{
		Use:   "issue --department CODE --chequiers N (--programme-end DATE | --valid-until DATE)",
		Short: "Create a batch of chéquiers with signed vouchers",
		Long: `Create a batch of chéquiers with signed vouchers.

The programme ends on --programme-end: the département is warned 30 days before, hand-overs
stop 15 days before, and vouchers stay redeemable until --valid-until (default: one month
after the programme end). With --valid-until alone, the programme ends on that day.`,
		Example: `  passnum issue --department 78 --chequiers 1000 --vouchers 10 --value 10.00 \
                --programme-end 2027-11-30 [--valid-until 2027-12-31] [--no-activation]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.FaceValueCents, err = passnum.ParseEuros(value); err != nil {
				return err
			}
			if until != "" {
				if req.ValidUntil, err = parseDay("--valid-until", until); err != nil {
					return err
				}
			}
			if end != "" {
				if req.ProgrammeEnd, err = parseDay("--programme-end", end); err != nil {
					return err
				}
			}
			if from != "" {
				if req.ValidFrom, err = parseDay("--valid-from", from); err != nil {
					return err
				}
			}
			req.Department = strings.ToUpper(req.Department)
			req.RequiresActivation = !noActivation
			req.Actor = actor()
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			svc := a.issuing(db)
			progress, done := a.progress(req.Chequiers*req.VouchersPerChequier, "signing vouchers")
			res, err := svc.Issue(cmd.Context(), req, progress)
			done()
			if err != nil {
				return err
			}
			printIssued(a, res)
			return a.seal(cmd.Context(), db)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Department, "department", "", "département code, such as 78")
	f.IntVar(&req.Chequiers, "chequiers", 0, "number of chéquiers")
	f.IntVar(&req.VouchersPerChequier, "vouchers", 10, "vouchers per chéquier (1-50)")
	f.StringVar(&value, "value", "10.00", "face value of each voucher, in euros")
	f.StringVar(&from, "valid-from", "", "first valid day, YYYY-MM-DD (default: today)")
	f.StringVar(&end, "programme-end", "", "last day of the programme, YYYY-MM-DD")
	f.StringVar(&until, "valid-until", "", "last valid day of the vouchers, YYYY-MM-DD (to the end of that day, Paris time; default: one month after the programme end)")
	f.BoolVar(&noActivation, "no-activation", false, "vouchers are valid without activation at hand-over")
	for _, name := range []string{"department", "chequiers"} {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}

func printIssued(a *app, res issuing.Issued) {
	b := res.Batch
	activation := "required at hand-over"
	if !b.RequiresActivation {
		activation = "not required"
	}
	fmt.Fprintf(a.out, "batch %d: %d chéquiers of %d vouchers of %s EUR for département %s (total %s EUR)\n",
		b.ID, b.ChequierCount, b.VouchersPerChequier, passnum.FormatEuros(b.FaceValueCents), b.DepartmentCode, passnum.FormatEuros(b.TotalCents))
	fmt.Fprintf(a.out, "  chéquiers  %s … %s\n", res.FirstChequier, res.LastChequier)
	fmt.Fprintf(a.out, "  vouchers   %s … %s\n", res.FirstVoucher, res.LastVoucher)
	t := issuing.TimelineOf(&b, b.ValidFrom.Day())
	fmt.Fprintf(a.out, "  programme  ends %s (hand-overs stop %s), vouchers valid %s to %s\n", t.ProgrammeEnd, t.DistributionStop, b.ValidFrom, b.ValidUntil)
	fmt.Fprintf(a.out, "  activation %s, signed by key %d\n", activation, b.KeyID)
	fmt.Fprintf(a.out, "  codes      sha256 %x\n", b.CodesSHA256)
}

func parseDay(flag, s string) (voucher.Day, error) {
	d, err := voucher.ParseDay(s)
	if err != nil {
		return 0, passnum.Invalid("%s %q is not a date: write it as YYYY-MM-DD", flag, s)
	}
	return d, nil
}

func (a *app) activateCmd() *cobra.Command {
	var ref string
	var samePerson bool
	cmd := &cobra.Command{
		Use:   "activate CHEQUIER-NUMBER | ACTIVATION-CODE",
		Short: "Record that a chéquier was handed over; its vouchers become valid",
		Long: `Record that a chéquier was handed over; its vouchers become valid.
Give the chéquier's number, or the activation code its cover's QR code holds (as a scanner types it).`,
		Example: `  passnum activate 78-2026-000042 --beneficiary-ref "CCAS-17-0193"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			svc := a.issuing(db)
			// The operator hands over for the département (structure 0).
			activate := svc.ActivateBy
			if _, _, _, err := voucher.ParseChequierNumber(args[0]); err != nil && len(args[0]) > 40 {
				activate = svc.ActivateCode // a scanned QR code, not a number
			}
			c, err := activate(cmd.Context(), args[0], issuing.HandOver{Ref: ref, SamePerson: samePerson}, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "chéquier %s activated\n", c.Number)
			return a.seal(cmd.Context(), db)
		},
	}
	cmd.Flags().StringVar(&ref, "beneficiary-ref", "", "the département's pseudonymous file reference (never a name)")
	cmd.Flags().BoolVar(&samePerson, "same-person", false, "the reference was used for another chéquier: confirm a second one for the same person")
	return cmd
}

func (a *app) voidCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "void (CHEQUIER-NUMBER | VOUCHER-NUMBER) --reason TEXT",
		Short: "Void a lost or stolen chéquier, or a single voucher: what is unused becomes invalid",
		Example: `  passnum void 78-2026-000043 --reason "perdu"
  passnum void "0000 0001 952" --reason "détaché et perdu"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			svc := a.issuing(db)
			if _, err := voucher.ParseNumber(args[0]); err == nil {
				v, err := svc.VoidVoucher(cmd.Context(), args[0], reason, actor())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "voucher %s voided\n", voucherNumber(v.Serial))
				return a.seal(cmd.Context(), db)
			}
			v, err := svc.Void(cmd.Context(), args[0], reason, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "chéquier %s voided: %d vouchers void\n", v.Chequier.Number, len(v.Serials))
			return a.seal(cmd.Context(), db)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for example \"perdu\" or \"volé\"")
	cmd.MarkFlagRequired("reason")
	return cmd
}

func formatChequier(dept string, year int, seq int64) string {
	return voucher.FormatChequierNumber(dept, uint16(year), uint32(seq))
}

func voucherNumber(serial int64) string { return voucher.FormatNumber(uint64(serial)) }
