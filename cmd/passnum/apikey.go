package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/apikeys"
	"passnum/ledger"
)

func (a *app) apikeys(db *ledger.DB) *apikeys.Service {
	return &apikeys.Service{DB: db}
}

func (a *app) apikeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage the API keys of départements, venues, auditors and admins"}
	var spec apikeys.Spec
	var venue string
	create := &cobra.Command{
		Use:   "create --role ROLE --name NAME [--department CODE | --venue ID]",
		Short: "Create a key and print its secret, shown this once only",
		Example: `  passnum apikey create --role venue --venue 3 --name "tablette accueil"
  passnum apikey create --role department --department 78 --name "CCAS de Trappes"
  passnum apikey create --role auditor --name "Chambre régionale des comptes"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if venue != "" {
				// A number; which numbers name a venue is the service's rule.
				id, err := strconv.ParseInt(venue, 10, 64)
				if err != nil {
					return passnum.Invalid("%q is not a venue id: see 'passnum venue list'", venue)
				}
				spec.VenueID = id
			}
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			secret, k, err := a.apikeys(db).Create(cmd.Context(), spec, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.errOut, "API key %s (%s) created; its secret follows, shown this once only:\n", k.Prefix, k.Role)
			fmt.Fprintln(a.out, secret)
			return a.seal(cmd.Context(), db)
		},
	}
	f := create.Flags()
	f.StringVar(&spec.Role, "role", "", "admin, department, venue or auditor")
	f.StringVar(&spec.Name, "name", "", "what or who uses the key")
	f.StringVar(&spec.Department, "department", "", "the département of a department key")
	f.StringVar(&venue, "venue", "", "the venue id of a venue key")
	create.MarkFlagRequired("role")
	create.MarkFlagRequired("name")
	var pairVenue int64
	var pairName string
	pair := &cobra.Command{
		Use:   "pair --venue ID --name DEVICE",
		Short: "Make a one-time code (15 minutes) that a venue's device exchanges for its own key",
		Long: "pair prints a pairing code; show it to the venue's device as a QR code (the scanner page\n" +
			"does), or paste it there. The device sends it to POST /api/v1/pairing and receives its own\n" +
			"venue key. The code works once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			p := &apikeys.Pairings{Keys: a.apikeys(db), Sign: a.keyManager(db)}
			pc, err := p.Create(cmd.Context(), pairVenue, pairName, actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.errOut, "pairing code for venue %d, valid until %s:\n", pc.VenueID, pc.ExpiresAt.Format(time.RFC3339))
			fmt.Fprintln(a.out, pc.Code)
			return a.seal(cmd.Context(), db)
		},
	}
	pair.Flags().Int64Var(&pairVenue, "venue", 0, "the venue id")
	pair.Flags().StringVar(&pairName, "name", "", "the device, as the venue calls it")
	pair.MarkFlagRequired("venue")
	pair.MarkFlagRequired("name")
	cmd.AddCommand(create, pair,
		&cobra.Command{
			Use:   "list",
			Short: "List the keys (prefixes, never secrets)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				ks, err := a.apikeys(db).List(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "PREFIX\tROLE\tSCOPE\tCREATED\tLAST USED\tSTATUS\tNAME")
				for _, k := range ks {
					scope, status, used := "-", "active", "-"
					if k.DepartmentCode != nil {
						scope = "département " + *k.DepartmentCode
					}
					if k.VenueID != nil {
						scope = fmt.Sprintf("venue %d", *k.VenueID)
					}
					if k.RevokedAt != nil {
						status = "revoked " + k.RevokedAt.Format(time.DateOnly)
					}
					if k.LastUsedAt != nil {
						used = k.LastUsedAt.Format(time.DateTime)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Prefix, k.Role, scope, k.CreatedAt.Format(time.DateOnly), used, status, k.Name)
				}
				return w.Flush()
			},
		},
		&cobra.Command{
			Use:   "revoke PREFIX",
			Short: "Disable a key at once",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				db, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				if err := a.apikeys(db).Revoke(cmd.Context(), args[0], actor()); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "API key %s revoked\n", args[0])
				return a.seal(cmd.Context(), db)
			},
		},
	)
	return cmd
}
