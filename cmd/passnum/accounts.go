package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"passnum"
	"passnum/accounts"
	"passnum/api"
	"passnum/ledger"
	"passnum/notices"
	"passnum/sso"
)

func (a *app) accounts(db *ledger.DB) *accounts.Service {
	return &accounts.Service{DB: db}
}

// oidcOptions name the identity provider people may log in with.
type oidcOptions struct {
	issuer, name, clientID string
}

func (o *oidcOptions) bind(fs *pflag.FlagSet) {
	optOIDCIssuer.bind(fs, &o.issuer)
	optOIDCName.bind(fs, &o.name)
	optOIDCClientID.bind(fs, &o.clientID)
}

// singleSignOn is the provider the options name (nil without an issuer);
// the provider sends people back to public's /connexion/sso.
func (a *app) singleSignOn(o oidcOptions, public string, log *slog.Logger) (*sso.Provider, error) {
	if o.issuer == "" {
		return nil, nil
	}
	p, err := sso.New(sso.Config{Name: o.name, Issuer: o.issuer, ClientID: o.clientID, ClientSecret: a.cfg.OIDCClientSecret,
		RedirectURL: strings.TrimSuffix(public, "/") + api.SSOReturnPath, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%w: set --oidc-name, --oidc-client-id and PASSNUM_OIDC_CLIENT_SECRET with --oidc-issuer", err)
	}
	return p, nil
}

// orgFlags name one organisation on the command line.
type orgFlags struct {
	department                string
	venue, structure, auditor int64
}

func (o *orgFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.department, "department", "", "a département, by its code")
	fs.Int64Var(&o.venue, "venue", 0, "a venue, by its id (passnum venue list)")
	fs.Int64Var(&o.structure, "structure", 0, "a distribution structure, by its id (passnum structure list)")
	fs.Int64Var(&o.auditor, "auditor", 0, "an auditors' body, by its organisation id")
}

// org is the organisation named; none names the installation (admins).
func (o *orgFlags) org() (accounts.Org, error) {
	var org accounts.Org
	n := 0
	if o.department != "" {
		org.Department, n = o.department, n+1
	}
	if o.venue != 0 {
		org.Venue, n = o.venue, n+1
	}
	if o.structure != 0 {
		org.ID, n = o.structure, n+1
	}
	if o.auditor != 0 {
		org.ID, n = o.auditor, n+1
	}
	if n > 1 {
		return org, passnum.Invalid("name one organisation: --department, --venue, --structure or --auditor")
	}
	return org, nil
}

// accountArg reads an account's number given on the command line.
func accountArg(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, passnum.Invalid("%q is not an account number: see 'passnum user list'", s)
	}
	return id, nil
}

func (a *app) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage the people's accounts and their roles (docs/accounts.md)"}
	var of orgFlags
	var (
		role, publicURL string
		mo              mailOptions
	)
	invite := &cobra.Command{
		Use:   "invite EMAIL --role ROLE [--department CODE | --venue ID | --structure ID | --auditor ID]",
		Short: "Invite a person to a role: a link valid 7 days, sent by email (or printed to pass on)",
		Long: "invite makes a single-use invitation link for the address; whoever opens it sets a password\n" +
			"(or, with an account already, adds the role to it). With --smtp-url the invitation is emailed,\n" +
			"in French; without, the link is printed on standard output for you to send the person.\n" +
			"An admin is invited with no organisation.",
		Example: `  passnum user invite agent@yvelines.fr --role department_manager --department 78
  passnum user invite accueil@ccas-trappes.fr --role structure_agent --structure 3
  passnum user invite exploitation@example.org --role admin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			org, err := of.org()
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			inv, err := a.accounts(db).Invite(cmd.Context(), accounts.Operator(actor()), args[0], org, role)
			if err != nil {
				return err
			}
			base := publicURL
			if base == "" {
				base = "http://" + optListen.def.(string)
			}
			link := api.InvitationLink(base, inv.Token)
			if mo.url == "" {
				fmt.Fprintf(a.errOut, "invitation %d: %s as %s in organisation %d, valid until %s; send %s this link:\n",
					inv.ID, inv.Email, inv.Role, inv.Organisation.ID, inv.ExpiresAt.Format(time.RFC3339), inv.Email)
				fmt.Fprintln(a.out, link)
				return a.seal(cmd.Context(), db)
			}
			// The invitation is made (and sealed) even if the mail fails:
			// the error says so, and a new invitation can be sent.
			if err := a.seal(cmd.Context(), db); err != nil {
				return err
			}
			sender, err := a.mailer(mo)
			if err != nil {
				return err
			}
			err = (&notices.Service{DB: db, Accounts: a.accounts(db), Mail: sender}).Invited(cmd.Context(), inv, link, "L’équipe du Pass numérique")
			if err != nil {
				return fmt.Errorf("invitation %d is made but its email was not sent: %w; invite again once it is fixed", inv.ID, err)
			}
			fmt.Fprintf(a.out, "invitation %d emailed to %s (%s in %s), valid until %s\n",
				inv.ID, inv.Email, inv.Role, inv.Label, inv.ExpiresAt.Format(time.RFC3339))
			return nil
		},
	}
	of.bind(invite.Flags())
	invite.Flags().StringVar(&role, "role", "", "department_manager, department_finance, department_reader, structure_agent, venue_manager, venue_volunteer, auditor or admin")
	optPublicURL.bind(invite.Flags(), &publicURL)
	mo.bind(invite.Flags())
	invite.MarkFlagRequired("role")

	var lf orgFlags
	list := &cobra.Command{
		Use:   "list [--department CODE | --venue ID | --structure ID | --auditor ID]",
		Short: "List the accounts with a role in an organisation (the admins with none)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			org, err := lf.org()
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			hs, err := a.accounts(db).People(cmd.Context(), accounts.Operator(actor()), org)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ACCOUNT\tEMAIL\tROLE\tTOTP\tSTATUS\tCREATED")
			for _, h := range hs {
				totp, status := "no", "active"
				if h.TOTP {
					totp = "yes"
				}
				if h.DisabledAt != nil {
					status = "disabled " + h.DisabledAt.Format(time.DateOnly)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Email, h.Role, totp, status, h.CreatedAt.Format(time.DateOnly))
			}
			return w.Flush()
		},
	}
	lf.bind(list.Flags())
	disable := &cobra.Command{
		Use:   "disable ACCOUNT",
		Short: "Disable an account at once: it can no longer log in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := accountArg(args[0])
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := a.accounts(db).Disable(cmd.Context(), accounts.Operator(actor()), id); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "account %d disabled\n", id)
			return a.seal(cmd.Context(), db)
		},
	}
	var rf orgFlags
	var removed string
	removeRole := &cobra.Command{
		Use:     "remove-role ACCOUNT --role ROLE [--department CODE | --venue ID | --structure ID | --auditor ID]",
		Short:   "Take a role from an account in an organisation; its sessions lose it at once",
		Example: `  passnum user remove-role 17 --role structure_agent --structure 3`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := accountArg(args[0])
			if err != nil {
				return err
			}
			org, err := rf.org()
			if err != nil {
				return err
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := a.accounts(db).RemoveRole(cmd.Context(), accounts.Operator(actor()), id, org, removed); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "account %d no longer has the role %s there\n", id, removed)
			return a.seal(cmd.Context(), db)
		},
	}
	rf.bind(removeRole.Flags())
	removeRole.Flags().StringVar(&removed, "role", "", "the role to take")
	removeRole.MarkFlagRequired("role")
	cancel := &cobra.Command{
		Use:   "cancel-invitation ID",
		Short: "Cancel an invitation not used yet (sent to a mistyped address): its link stops working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return passnum.Invalid("%q is not an invitation number: 'user invite' printed it", args[0])
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := a.accounts(db).CancelInvitation(cmd.Context(), accounts.Operator(actor()), id); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "invitation %d cancelled\n", id)
			return a.seal(cmd.Context(), db)
		},
	}
	cmd.AddCommand(invite, list, disable, removeRole, cancel)
	return cmd
}

func (a *app) structureCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "structure", Short: "Manage the distribution structures of a département (CCAS, MDS, France Travail, associations)"}
	var in accounts.StructureInput
	add := &cobra.Command{
		Use:     "add --department CODE --name NAME --type TYPE --commune COMMUNE [--address ADDRESS]",
		Short:   "Add a distribution structure to a département",
		Example: `  passnum structure add --department 78 --name "CCAS de Trappes" --type ccas --commune Trappes --address "1 place de la Mairie"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			s, err := a.accounts(db).AddStructure(cmd.Context(), accounts.Operator(actor()), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "added structure %d (%s) to département %s\n", s.ID, s.Name, *s.DepartmentCode)
			return a.seal(cmd.Context(), db)
		},
	}
	f := add.Flags()
	f.StringVar(&in.Department, "department", "", "the département it belongs to")
	f.StringVar(&in.Name, "name", "", "its name")
	f.StringVar(&in.Type, "type", "", "ccas, mds, france_travail, association or other")
	f.StringVar(&in.Commune, "commune", "", "its commune, the territory its figures count in")
	f.StringVar(&in.Address, "address", "", "its postal address")
	for _, name := range []string{"department", "name", "type", "commune"} {
		add.MarkFlagRequired(name)
	}
	var dept string
	list := &cobra.Command{
		Use:   "list --department CODE",
		Short: "List a département's distribution structures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			ss, err := a.accounts(db).Structures(cmd.Context(), accounts.Operator(actor()), dept)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTYPE\tCOMMUNE\tNAME")
			for _, s := range ss {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.ID, s.StructureType, s.Commune, s.Name)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&dept, "department", "", "the département")
	list.MarkFlagRequired("department")
	cmd.AddCommand(add, list)
	return cmd
}

func (a *app) auditorCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "auditor", Short: "Manage the auditors' bodies, whose people get the auditor role"}
	cmd.AddCommand(&cobra.Command{
		Use:     "add NAME",
		Short:   "Add an auditors' body; invite its people with passnum user invite --role auditor --auditor ID",
		Example: `  passnum auditor add "Chambre régionale des comptes d’Île-de-France"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			o, err := a.accounts(db).AddAuditorBody(cmd.Context(), accounts.Operator(actor()), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "added auditors' body %d (%s)\n", o.ID, o.Name)
			return a.seal(cmd.Context(), db)
		},
	})
	return cmd
}
