package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/apikeys"
	"passnum/audit"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/printing"
	"passnum/programme"
	"passnum/voucher"
)

func (a *app) demoCmd() *cobra.Command {
	var dir string
	var serve bool
	var listen string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole programme on a fresh SQLite file and show what happened",
		Long: "demo creates a new folder (or uses --dir, which must be empty or absent) with its own\n" +
			"keys and SQLite database, and runs the programme of the Yvelines and the Hauts-de-Seine:\n" +
			"batches, code checks, a hand-over, a lost chéquier, and an audit of the ledger.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				var err error
				if dir, err = os.MkdirTemp("", "passnum-demo-"); err != nil {
					return err
				}
			} else if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return fmt.Errorf("%s is not empty: the demo needs a fresh folder", dir)
			}
			a.cfg.DataDir = dir
			a.cfg.DatabaseURL = filepath.Join(dir, "passnum.db")
			sample, err := a.runDemo(cmd)
			if err != nil || !serve {
				return err
			}
			return a.serveDemo(cmd, sample, listen)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the demo's files (default: a new temporary folder)")
	cmd.Flags().BoolVar(&serve, "serve", false, "then serve the demo programme's API until interrupted")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve on, with --serve")
	return cmd
}

// runDemo runs the scenario and returns a voucher of a handed-over chéquier
// that is still unspent, for the served demo's example request.
func (a *app) runDemo(cmd *cobra.Command) (issuing.PrintedVoucher, error) {
	var none issuing.PrintedVoucher
	ctx := cmd.Context()
	step := func(format string, args ...any) { fmt.Fprintf(a.out, "\n== "+format+"\n", args...) }
	say := func(format string, args ...any) { fmt.Fprintf(a.out, "   "+format+"\n", args...) }

	step("Setting up a new installation in %s", a.cfg.DataDir)
	init := a.initCmd()
	init.SetContext(ctx)
	if err := init.RunE(init, nil); err != nil {
		return none, err
	}
	db := a.db
	prog := a.programme(db)
	svc, err := a.issuing(db)
	if err != nil {
		return none, err
	}
	who := "demo"

	step("Départements and venues")
	for _, d := range [][2]string{{"78", "Yvelines"}, {"92", "Hauts-de-Seine"}} {
		if _, err := prog.AddDepartment(ctx, d[0], d[1], who); err != nil {
			return none, err
		}
		say("département %s %s", d[0], d[1])
	}
	for _, v := range demoVenues {
		if _, err := prog.AddVenue(ctx, v, who); err != nil {
			return none, err
		}
		say("venue %q, labelled for %v", v.Name, v.Departments)
	}

	step("Issuing one batch per département")
	until, err := voucher.DayOf(voucher.Today(a.now()).Start().Year()+1, time.December, 31)
	if err != nil {
		return none, err
	}
	var batches []issuing.Issued
	for _, req := range []issuing.BatchRequest{
		{Department: "78", Chequiers: 500, VouchersPerChequier: 10, FaceValueCents: 1000, ValidUntil: until, RequiresActivation: true, Actor: who},
		{Department: "92", Chequiers: 300, VouchersPerChequier: 5, FaceValueCents: 2000, ValidUntil: until, RequiresActivation: false, Actor: who},
	} {
		start := time.Now()
		res, err := svc.Issue(ctx, req, nil)
		if err != nil {
			return none, err
		}
		printIssued(a, res)
		say("(%d vouchers signed and stored in %s)", res.Batch.LastSerial-res.Batch.FirstSerial+1, time.Since(start).Round(time.Millisecond))
		batches = append(batches, res)
	}

	step("Checking codes offline with the exported public keys")
	keysFile := filepath.Join(a.cfg.DataDir, "public-keys.json")
	ks, err := db.KeySet(ctx)
	if err != nil {
		return none, err
	}
	data, err := ks.MarshalJSON()
	if err != nil {
		return none, err
	}
	if err := os.WriteFile(keysFile, append(data, '\n'), 0o644); err != nil {
		return none, err
	}
	offline := voucher.NewKeySet()
	if err := offline.UnmarshalJSON(data); err != nil {
		return none, err
	}
	first, err := svc.Chequier(ctx, batches[0].FirstChequier)
	if err != nil {
		return none, err
	}
	good := first.Vouchers[0]
	say("voucher %s (verification code %s) holds the code", good.Number, good.VerificationCode)
	say("%s", good.Code)
	if _, err := offline.Verify(good.Code); err != nil {
		return none, fmt.Errorf("the demo's own code does not verify: %w", err)
	}
	say("-> genuine: it verifies with %s alone", keysFile)
	tampered := []byte(good.Code)
	tampered[20] = map[bool]byte{true: 'B', false: 'A'}[tampered[20] == 'A']
	_, err = offline.Verify(string(tampered))
	say("the same code with one character changed -> refused: %s (%v)", voucher.Reason(err), err)

	step("Printing the Yvelines batch for the print shop")
	printDir := filepath.Join(a.cfg.DataDir, "print")
	if err := os.MkdirAll(printDir, 0o755); err != nil {
		return none, err
	}
	start := time.Now()
	m, err := a.printBatch(ctx, svc, batches[0].Batch.ID, printDir, 100,
		printing.Options{Layout: printing.A4Sheets, VenuesInfo: "www.yvelines.fr/pass-numerique ou au 01 39 07 78 78"})
	if err != nil {
		return none, err
	}
	say("%d chéquiers, %d vouchers in %d PDF files in %s (%s)", m.Chequiers, m.Vouchers, len(m.Files), printDir, time.Since(start).Round(time.Millisecond))
	say("every code re-created from the ledger matches the checksum recorded at issue")

	step("Handing over and losing chéquiers")
	c, err := svc.Activate(ctx, batches[0].FirstChequier, "CCAS-TRAPPES-0193", who)
	if err != nil {
		return none, err
	}
	say("chéquier %s handed over (beneficiary reference CCAS-TRAPPES-0193): its %d vouchers are now valid", c.Number, len(first.Vouchers))
	v, err := svc.Void(ctx, batches[1].FirstChequier, "perdu", who)
	if err != nil {
		return none, err
	}
	say("chéquier %s reported lost: %d vouchers voided", v.Chequier.Number, len(v.Serials))
	_, err = svc.Void(ctx, batches[1].FirstChequier, "perdu", who)
	say("voiding it again is refused: %s", passnum.ErrorMessage(err))

	step("Sealing and auditing the ledger")
	if err := a.seal(ctx, db); err != nil {
		return none, err
	}
	rep, err := audit.Verify(ctx, db, offline)
	if err != nil {
		return none, fmt.Errorf("the demo's ledger does not verify: %w", err)
	}
	printAudit(a, rep)

	step("Done")
	say("data folder   %s", a.cfg.DataDir)
	say("database      %s", a.cfg.DatabaseURL)
	say("public keys   %s", keysFile)
	say("PDF to print  %s", filepath.Join(printDir, m.Files[0].Name))
	say("try           go run ./cmd/passnum --data-dir %s verify --keys %s %s", a.cfg.DataDir, keysFile, good.Code)
	say("              go run ./cmd/passnum --data-dir %s audit verify", a.cfg.DataDir)
	var counts struct{ Chequiers, Vouchers int64 }
	db.Read(ctx).Model(&ledger.Chequier{}).Count(&counts.Chequiers)
	db.Read(ctx).Model(&ledger.Voucher{}).Count(&counts.Vouchers)
	say("in all        %d chéquiers, %d vouchers, ledger verified", counts.Chequiers, counts.Vouchers)
	return first.Vouchers[1], nil
}

// serveDemo gives the demo programme API keys and serves it, printing what
// a newcomer needs to try it: the URL, keys and a request that works.
func (a *app) serveDemo(cmd *cobra.Command, sample issuing.PrintedVoucher, listen string) error {
	ctx := cmd.Context()
	keys := a.apikeys(a.db)
	type demoKey struct{ label, secret string }
	var shown []demoKey
	for _, k := range []struct {
		label string
		spec  apikeys.Spec
	}{
		{"venue (Médiathèque de Trappes)", apikeys.Spec{Role: apikeys.RoleVenue, VenueID: 1, Name: "démo : lieu"}},
		{"département 78", apikeys.Spec{Role: apikeys.RoleDepartment, Department: "78", Name: "démo : département"}},
		{"auditor", apikeys.Spec{Role: apikeys.RoleAuditor, Name: "démo : auditeur"}},
	} {
		secret, _, err := keys.Create(ctx, k.spec, "demo")
		if err != nil {
			return err
		}
		shown = append(shown, demoKey{k.label, secret})
	}
	ready := func(url string) {
		fmt.Fprintf(a.out, "\n== Serving the demo programme on %s (Ctrl-C to stop)\n", url)
		for _, k := range shown {
			fmt.Fprintf(a.out, "   %-36s %s\n", k.label+" key", k.secret)
		}
		fmt.Fprintf(a.out, "   %-36s %s/api/v1/openapi.yaml\n", "API description", url)
		fmt.Fprintf(a.out, "\n   Redeem voucher %s as the venue:\n\n", sample.Number)
		fmt.Fprintf(a.out, "curl -s -X POST %s/api/v1/redemptions \\\n  -H 'Authorization: Bearer %s' \\\n  -H 'Idempotency-Key: demo-voucher-%d' -H 'Content-Type: application/json' \\\n  -d '{\"items\":[{\"code\":\"%s\"}]}'\n\n",
			url, shown[0].secret, sample.Serial, sample.Code)
	}
	o := serveOptions{listen: listen, reversalWindow: 30 * time.Minute, sealEvery: time.Second,
		checkpointEvery: time.Minute, shutdownTimeout: 10 * time.Second, keyCache: 2 * time.Second}
	return a.serve(ctx, o, ready)
}

// demoVenues are fictitious venues with valid SIRETs and IBANs.
var demoVenues = []programme.VenueInput{
	{Name: "Médiathèque François Mitterrand, Trappes", SIRET: "12345678900015", Address: "1 place de la Médiathèque\n78190 Trappes",
		IBAN: "FR7630006000011234567890189", Contact: "mediatheque@example.org", Departments: []string{"78"}},
	{Name: "France Services de Nanterre", SIRET: "44051393700019", Address: "12 rue des Écoles\n92000 Nanterre",
		IBAN: "FR1420041010050500013M02606", Contact: "franceservices@example.org", Departments: []string{"92"}},
	{Name: "Association Emmaüs Connect, Boulogne", SIRET: "78210456700014", Address: "5 avenue du Général Leclerc\n92100 Boulogne-Billancourt",
		IBAN: "FR7610107001011234567890129", Contact: "contact@example.org", Departments: []string{"92", "78"}},
}
