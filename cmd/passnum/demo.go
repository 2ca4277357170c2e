package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"passnum"
	"passnum/access"
	"passnum/accounts"
	"passnum/apikeys"
	"passnum/audit"
	"passnum/figures"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/mail"
	"passnum/notices"
	"passnum/printing"
	"passnum/programme"
	"passnum/redemption"
	"passnum/settlement"
	"passnum/voucher"
)

func (a *app) demoCmd() *cobra.Command {
	var dir string
	var serve, selfSigned bool
	var o serveOptions
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
			if selfSigned && !serve {
				return errors.New("--tls makes a certificate to serve the demo with: give --serve too")
			}
			a.cfg.DataDir = dir
			a.cfg.DatabaseURL = filepath.Join(dir, "passnum.db")
			if serve {
				ln, fellBack, err := demoListener(o.listen)
				if err != nil {
					return fmt.Errorf("listen on %s: %w", o.listen, err)
				}
				defer ln.Close()
				if fellBack {
					fmt.Fprintf(a.out, "%s is busy (another program listens there): the demo will serve on %s instead\n", o.listen, ln.Addr())
				}
				o.listener = ln
			}
			sample, err := a.runDemo(cmd)
			if err != nil || !serve {
				return err
			}
			if selfSigned = selfSigned && o.tlsCert == "" && o.tlsKey == ""; selfSigned {
				if o.tlsCert, o.tlsKey, err = writeSelfSigned(dir); err != nil {
					return err
				}
			}
			return a.serveDemo(cmd, sample, o, selfSigned)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the demo's files (default: a new temporary folder)")
	cmd.Flags().BoolVar(&serve, "serve", false, "then serve the demo programme's API until interrupted, with the flags of serve")
	cmd.Flags().BoolVar(&selfSigned, "tls", false, "with --serve, serve HTTPS with a self-signed certificate made for this machine (tls/ in the demo folder, 7 days), so that a phone's camera works")
	o.bind(cmd.Flags()) // for --serve
	return cmd
}

// runDemo runs the scenario and returns a voucher of a handed-over chéquier
// that is still unspent, for the served demo's example request.
func (a *app) runDemo(cmd *cobra.Command) (issuing.PrintedVoucher, error) {
	var none issuing.PrintedVoucher
	ctx := cmd.Context()
	step := func(format string, args ...any) { fmt.Fprintf(a.out, "\n== "+format+"\n", args...) }
	say := func(format string, args ...any) { fmt.Fprintf(a.out, "   "+format+"\n", args...) }

	// The programme starts on the first of an earlier month, so that the
	// demo can close that month's settlement today; the clock then catches
	// up with real time (and stays on it for --serve).
	clock := &demoClock{}
	a.now = clock.Now
	closeMonth := settlement.MonthAt(time.Now().Add(-time.Hour)).Previous()
	clock.set(closeMonth.FirstDay().Start().Add(9 * time.Hour))
	var files []demoFile
	step("Setting up a new installation in %s (the story starts on %s)", a.cfg.DataDir, voucher.Today(a.now()))
	init := a.initCmd()
	init.SetContext(ctx)
	if err := init.RunE(init, nil); err != nil {
		return none, err
	}
	db := a.db
	db.Clock = a.now // the services' "now" is the story's
	prog := a.programme(db)
	svc := a.issuing(db)
	who := "demo"

	step("Départements and venues")
	for _, d := range [][2]string{{"78", "Yvelines"}, {"92", "Hauts-de-Seine"}} {
		if _, err := prog.AddDepartment(ctx, d[0], d[1], who); err != nil {
			return none, err
		}
		say("département %s %s", d[0], d[1])
	}
	for _, p := range [][2]string{{"78", "Paierie départementale des Yvelines"}, {"92", "Paierie départementale des Hauts-de-Seine"}} {
		iban := map[string]string{"78": "FR7630001007941234567890185", "92": "FR7610011000201234567890188"}[p[0]]
		// A paying office takes two people: one asks, finance confirms.
		if _, err := prog.UpdateDepartment(ctx, p[0], programme.DepartmentChanges{PayerName: &p[1], PayerIBAN: &iban}, who); err != nil {
			return none, err
		}
		if _, _, err := prog.ConfirmSettings(ctx, p[0], who+"-finances"); err != nil {
			return none, err
		}
		say("département %s pays venues from %s (asked by %s, confirmed by %s-finances)", p[0], p[1], who, who)
	}
	var venueIDs []int64
	for _, v := range demoVenues {
		added, err := prog.AddVenue(ctx, v, who)
		if err != nil {
			return none, err
		}
		venueIDs = append(venueIDs, added.ID)
		say("venue %d %q, SIRET %s, labelled for %v", added.ID, v.Name, v.SIRET, v.Departments)
	}

	step("Issuing one batch per département")
	end, err := voucher.DayOf(voucher.Today(a.now()).Start().Year()+1, time.November, 30)
	if err != nil {
		return none, err
	}
	var batches []issuing.Issued
	for _, req := range []issuing.BatchRequest{
		{Department: "78", Chequiers: 500, VouchersPerChequier: 10, FaceValueCents: 1000, ProgrammeEnd: end, RequiresActivation: true, Actor: who},
		{Department: "92", Chequiers: 300, VouchersPerChequier: 5, FaceValueCents: 2000, ProgrammeEnd: end, RequiresActivation: false, Actor: who},
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
		printing.Options{Layout: printing.DefaultLayout, VenuesInfo: "www.yvelines.fr/pass-numerique ou au 01 39 07 78 78"})
	if err != nil {
		return none, err
	}
	say("%d chéquiers, %d vouchers in %d PDF files in %s (%s)", m.Chequiers, m.Vouchers, len(m.Files), printDir, time.Since(start).Round(time.Millisecond))
	for _, f := range m.Files {
		files = append(files, demoFile{filepath.Join(printDir, f.Name),
			fmt.Sprintf("for the print shop: chéquiers %s to %s, part %d of %d", f.FirstChequier, f.LastChequier, f.Part, len(m.Files))})
	}
	files = append(files, demoFile{filepath.Join(printDir, printing.ManifestName), "the PDFs' ranges and SHA-256, for the print shop and the auditors"})
	say("every code re-created from the ledger matches the checksum recorded at issue")

	step("People, distribution structures and their stock")
	people, err := a.demoPeople(ctx, db, batches[0].Batch.ID, say)
	if err != nil {
		return none, err
	}

	step("Handing over chéquiers, losing one")
	for i := range 3 {
		number := formatChequier("78", batches[0].Batch.Year, batches[0].Batch.FirstChequierSeq+int64(i))
		if _, err := svc.ActivateBy(ctx, number, issuing.HandOver{Ref: fmt.Sprintf("CCAS-TRAPPES-%04d", 193+i), Structure: people.trappes}, people.agent); err != nil {
			return none, err
		}
	}
	say("3 chéquiers of the Yvelines handed over by the agent of the CCAS de Trappes, from its stock (pseudonymous references")
	say("CCAS-TRAPPES-0193…0195): their vouchers are now valid; the ledger names %s", people.agent)
	_, err = svc.ActivateBy(ctx, formatChequier("78", batches[0].Batch.Year, batches[0].Batch.FirstChequierSeq+3),
		issuing.HandOver{Ref: "CCAS-TRAPPES-0193", Structure: people.trappes}, people.agent)
	say("a fourth with the reference CCAS-TRAPPES-0193 again is held back: %s", passnum.ErrorMessage(err))
	_, err = svc.ActivateBy(ctx, formatChequier("78", batches[0].Batch.Year, batches[0].Batch.FirstChequierSeq+60), issuing.HandOver{Structure: people.trappes}, people.agent)
	say("one of the MDS's stock, by the CCAS's agent, is refused: %s", passnum.ErrorMessage(err))

	v, err := svc.Void(ctx, batches[1].FirstChequier, "perdu", who)
	if err != nil {
		return none, err
	}
	say("chéquier %s of the Hauts-de-Seine reported lost: %d vouchers voided", v.Chequier.Number, len(v.Serials))
	_, err = svc.Void(ctx, batches[1].FirstChequier, "perdu", who)
	say("voiding it again is refused: %s", passnum.ErrorMessage(err))

	step("A venue's new IBAN, approved by a second person")
	iban := "FR7630004000031234567890143"
	u, err := prog.UpdateVenue(ctx, venueIDs[0], programme.VenueChanges{IBAN: &iban}, "RIB reçu du lieu le 02/11", "78", people.manager)
	if err != nil {
		return none, err
	}
	say("the manager of the Yvelines asks for it: change request %d awaits %v", u.Request.ID, u.Request.Awaiting)
	_, err = prog.ApproveChange(ctx, u.Request.ID, "78", people.manager)
	say("the manager approving it too is refused: %s", passnum.ErrorMessage(err))
	applied, err := prog.ApproveChange(ctx, u.Request.ID, "78", people.finance)
	if err != nil {
		return none, err
	}
	mails := filepath.Join(a.cfg.DataDir, "demo-emails.txt")
	mf, err := os.Create(mails)
	if err != nil {
		return none, err
	}
	told, err := (&notices.Service{DB: db, Accounts: a.accounts(db), Mail: &mail.Outbox{W: mf}}).BankDetailsChanged(ctx, applied)
	if cerr := mf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return none, err
	}
	say("the finance agent approves it: it applies, and %d people are told by email (no SMTP server here: %s)", told, mails)
	files = append(files, demoFile{mails, "the emails the demo would have sent (the new IBAN's notices)"})

	step("Venues redeem vouchers during %s", closeMonth)
	second, err := svc.Chequier(ctx, formatChequier("92", batches[1].Batch.Year, batches[1].Batch.FirstChequierSeq+1))
	if err != nil {
		return none, err
	}
	red := &redemption.Service{DB: db, Keys: svc.Keys, ReversalWindow: 30 * time.Minute}
	basket := 0
	redeem := func(day int, venue int64, vs ...issuing.PrintedVoucher) (redemption.Result, error) {
		clock.set(closeMonth.FirstDay().AddDays(day).Start().Add(14 * time.Hour))
		basket++
		var in []redemption.Input
		for _, v := range vs {
			in = append(in, redemption.Input{Code: v.Code})
		}
		return red.Redeem(ctx, redemption.Basket{VenueID: venue, IdempotencyKey: fmt.Sprintf("demo-basket-%04d", basket), Items: in, Actor: who})
	}
	report := func(who string, r redemption.Result) {
		if r.Accepted {
			say("%s: accepted, %d voucher(s), %s EUR (redemption %d)", who, len(r.Items), passnum.FormatEuros(r.TotalCents), r.RedemptionID)
			return
		}
		for _, it := range r.Items {
			if !it.Accepted {
				say("%s: refused, %s: « %s »", who, it.Reason, it.Message)
			}
		}
	}
	for _, b := range []struct {
		day   int
		venue int64
		vs    []issuing.PrintedVoucher
		label string
	}{
		{2, venueIDs[0], first.Vouchers[2:5], "Médiathèque, session of the 3rd"},
		{9, venueIDs[2], first.Vouchers[5:7], "Emmaüs Connect, a 78 chéquier"},
		{9, venueIDs[1], second.Vouchers[0:2], "France Services, a 92 chéquier"},
		{16, venueIDs[2], first.Vouchers[2:3], "Emmaüs Connect scans a voucher spent at the Médiathèque"},
	} {
		r, err := redeem(b.day, b.venue, b.vs...)
		if err != nil {
			return none, err
		}
		report(b.label, r)
	}
	r, err := redeem(20, venueIDs[1], second.Vouchers[2])
	if err != nil {
		return none, err
	}
	report("France Services, by mistake", r)
	clock.advance(5 * time.Minute)
	if _, err := red.Reverse(ctx, venueIDs[1], r.RedemptionID, "erreur de saisie", who); err != nil {
		return none, err
	}
	say("France Services undoes it 5 minutes later: the voucher can be used again")

	step("Closing the settlement of %s and paying the venues", closeMonth)
	clock.set(time.Now())
	settleDir := filepath.Join(a.cfg.DataDir, "settlement")
	for _, dept := range []string{"78", "92"} {
		p, err := a.settlement(db).Close(ctx, dept, closeMonth, who)
		if err != nil {
			return none, err
		}
		printPeriod(a, p)
		written, err := a.writeSettlementFiles(db, settleDir, p, "")
		if err != nil {
			return none, err
		}
		for _, f := range written {
			files = append(files, demoFile{f, settlementFileWhat(f, dept)})
		}
	}
	_, err = red.Reverse(ctx, venueIDs[0], 1, "trop tard", who)
	say("undoing the Médiathèque's redemption of %s now is refused: « %s »", closeMonth, passnum.ErrorMessage(err))
	r, err = red.Redeem(ctx, redemption.Basket{VenueID: venueIDs[0], IdempotencyKey: "demo-basket-today", Items: []redemption.Input{{Code: first.Vouchers[7].Code}}, Actor: who})
	if err != nil {
		return none, err
	}
	report("Médiathèque, today (next month's settlement)", r)

	step("The programme's figures, for auditors and funders")
	fig, err := (&figures.Service{DB: db}).Compute(ctx, figures.Filter{AsOf: voucher.Today(a.now())})
	if err != nil {
		return none, err
	}
	if err := writeFiguresTable(a.out, fig); err != nil {
		return none, err
	}
	reportFile := filepath.Join(a.cfg.DataDir, "programme-report.pdf")
	var pdf bytes.Buffer
	if err := printing.RenderProgrammeReport(&pdf, fig.Report(a.now())); err != nil {
		return none, err
	}
	if err := os.WriteFile(reportFile, pdf.Bytes(), 0o644); err != nil {
		return none, err
	}
	files = append(files, demoFile{reportFile, "the programme report, for the funders"})

	step("Sealing and auditing the ledger")
	if err := a.seal(ctx, db); err != nil {
		return none, err
	}
	rep, err := audit.Verify(ctx, db, offline)
	if err != nil {
		return none, fmt.Errorf("the demo's ledger does not verify: %w", err)
	}
	printAudit(a, rep)
	exportFile := filepath.Join(a.cfg.DataDir, "ledger-export.jsonl")
	if err := a.exportLedger(ctx, db, exportFile); err != nil {
		return none, err
	}
	files = append(files, demoFile{exportFile, "the ledger export, for the auditors"})
	say("the ledger export %s, checked with the public keys alone, as an auditor would:", exportFile)
	if err := a.verifyExport(ctx, exportFile, keysFile); err != nil {
		return none, fmt.Errorf("the demo's ledger export does not verify: %w", err)
	}

	step("Done")
	signing, err := filepath.Glob(filepath.Join(a.store().Dir, "*.pem"))
	if err != nil {
		return none, err
	}
	head := []demoFile{{a.cfg.DatabaseURL, "the database (SQLite): programme, vouchers, ledger"}}
	for _, f := range signing {
		head = append(head, demoFile{f, "a private signing key: never share it, back it up apart"})
	}
	head = append(head, demoFile{keysFile, "the public keys, to check codes and the ledger export anywhere"})
	files = append(head, files...)
	say("the demo wrote in %s:", a.cfg.DataDir)
	for _, f := range files {
		rel, err := filepath.Rel(a.cfg.DataDir, f.path)
		if err != nil {
			return none, err
		}
		say("  %-48s %s", rel, f.what)
	}
	self := demoCommand()
	say("try")
	say("  %s --data-dir %s verify --keys %s %s", self, a.cfg.DataDir, keysFile, good.Code)
	say("  %s --data-dir %s audit verify", self, a.cfg.DataDir)
	say("  %s audit verify --export %s --keys %s", self, exportFile, keysFile)
	say("  %s --data-dir %s report", self, a.cfg.DataDir)
	var counts struct{ Chequiers, Vouchers int64 }
	db.Read(ctx).Model(&ledger.Chequier{}).Count(&counts.Chequiers)
	db.Read(ctx).Model(&ledger.Voucher{}).Count(&counts.Vouchers)
	say("in all: %d chéquiers, %d vouchers, ledger verified", counts.Chequiers, counts.Vouchers)
	return first.Vouchers[8], nil
}

// demoFile is a file the demo wrote and what it is, for its final list.
type demoFile struct{ path, what string }

// settlementFileWhat says what a file of writeSettlementFiles is, from the
// name it gave it.
func settlementFileWhat(path, dept string) string {
	name := filepath.Base(path)
	switch {
	case strings.HasSuffix(name, "-statements.csv"):
		return "the month's statement lines of département " + dept
	case strings.HasSuffix(name, "-sepa.xml"):
		return "the SEPA transfer file of département " + dept + ", for its paying office"
	default:
		venue := strings.TrimSuffix(name[strings.LastIndex(name, "-venue-")+len("-venue-"):], ".pdf")
		return "the PDF statement of venue " + venue + " for département " + dept
	}
}

// demoCommand is how to run passnum again in the commands the demo
// suggests: the program's name as it was started (bin/passnum under
// make run, passnum when installed, the tests' binary), so that each runs
// at once. os.Args[0] rather than a variable set by make, so that it is
// right however the demo was started. Under go run the binary is in a
// temporary go-build folder that is gone when the demo ends: then go run
// it is.
func demoCommand() string {
	self := os.Args[0]
	if strings.Contains(filepath.ToSlash(self), "/go-build") {
		return "go run ./cmd/passnum"
	}
	return self
}

// demoClock lets the demo's story start in an earlier month and then catch
// up with real time.
type demoClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *demoClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(t)
}

func (c *demoClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// serveDemo gives the demo programme API keys and serves it, printing what
// a newcomer needs to try it: the URL, keys and a request that works.
// selfSigned says that o's certificate is the demo's own, which neither a
// browser nor curl knows.
func (a *app) serveDemo(cmd *cobra.Command, sample issuing.PrintedVoucher, o serveOptions, selfSigned bool) error {
	ctx := cmd.Context()
	keys := a.apikeys(a.db)
	type demoKey struct{ label, secret string }
	var shown []demoKey
	for _, k := range []struct {
		label string
		spec  apikeys.Spec
	}{
		{"venue (Médiathèque Mitterrand)", apikeys.Spec{Role: access.RoleVenue, VenueID: 1, Name: "démo : lieu"}},
		{"département 78", apikeys.Spec{Role: access.RoleDepartment, Department: "78", Name: "démo : département"}},
		{"auditor", apikeys.Spec{Role: access.RoleAuditor, Name: "démo : auditeur"}},
		{"admin (every département)", apikeys.Spec{Role: access.RoleAdmin, Name: "démo : administration"}},
	} {
		secret, _, err := keys.Create(ctx, k.spec, "demo")
		if err != nil {
			return err
		}
		shown = append(shown, demoKey{k.label, secret})
	}
	pairing, err := (&apikeys.Pairings{Keys: keys, Sign: a.keyManager(a.db)}).Create(ctx, 1, "démo : téléphone", "demo")
	if err != nil {
		return err
	}
	ready := func(url string) {
		fmt.Fprintf(a.out, "\n== Serving the demo programme on %s (Ctrl-C to stop)\n", url)
		for _, k := range shown {
			fmt.Fprintf(a.out, "   %-36s %s\n", k.label+" key", k.secret)
		}
		fmt.Fprintf(a.out, "   %-36s %s/scanner/\n", "venue scanner (phone or browser)", url)
		fmt.Fprintf(a.out, "   %-36s %s\n", "  its pairing code (15 minutes)", pairing.Code)
		fmt.Fprintf(a.out, "   %-36s %s --data-dir %s apikey pair --venue 1 --name téléphone\n", "  another code", demoCommand(), a.cfg.DataDir)
		fmt.Fprintf(a.out, "   %-36s %s/connexion (with the admin, département or auditor key)\n", "pages for départements, auditors", url)
		fmt.Fprintf(a.out, "   %-36s %s/connexion as one of the people above (responsable@yvelines.example,\n", "  or as a person", url)
		fmt.Fprintf(a.out, "   %-36s finances@, lecture@yvelines.example, agent@ccas-trappes.example, responsable@ or\n", "")
		fmt.Fprintf(a.out, "   %-36s benevole@mediatheque.example, auditrice@crc-idf.example), password %q\n", "", demoPassword)
		curl := "curl -s"
		if selfSigned {
			fmt.Fprintf(a.out, "   %-36s %s (self-signed: the browser warns about it once, accept it)\n", "certificate", o.tlsCert)
			curl += " --cacert " + o.tlsCert
		}
		for _, phone := range phoneURLs(o.listener, url) {
			fmt.Fprintf(a.out, "   %-36s %s/scanner/\n", "scanner on a phone (same network)", phone)
		}
		fmt.Fprintf(a.out, "   %-36s %s/api/v1/openapi.yaml\n", "API description", url)
		fmt.Fprintf(a.out, "\n   Redeem voucher %s as the venue:\n\n", sample.Number)
		fmt.Fprintf(a.out, "%s -X POST %s/api/v1/redemptions \\\n  -H 'Authorization: Bearer %s' \\\n  -H 'Idempotency-Key: demo-voucher-%d' -H 'Content-Type: application/json' \\\n  -d '{\"items\":[{\"code\":\"%s\"}]}'\n\n",
			curl, url, shown[0].secret, sample.Serial, sample.Code)
	}
	return a.serve(ctx, o, ready)
}

// demoPassword is the password of the demo's people, printed with their
// logins.
const demoPassword = "pass numérique démo"

// demoStaff are the demo's people: the actors they act as, and the
// structure whose stock the agent hands over.
type demoStaff struct {
	manager, finance, agent string
	trappes                 int64
}

// demoPeople adds two distribution structures to the Yvelines, gives them
// stock, and makes a person for each role, invited and accepted as a
// person would, printing their logins.
func (a *app) demoPeople(ctx context.Context, db *ledger.DB, batch int64, say func(string, ...any)) (demoStaff, error) {
	var st demoStaff
	acc, op := a.accounts(db), accounts.Operator("demo")
	var structures []int64
	for _, in := range []accounts.StructureInput{
		{Department: "78", Name: "CCAS de Trappes", Type: "ccas", Address: "1 place de la Mairie, 78190 Trappes", Commune: "Trappes"},
		{Department: "78", Name: "MDS de Versailles", Type: "mds", Address: "2 rue de la Paroisse, 78000 Versailles", Commune: "Versailles"},
	} {
		o, err := acc.AddStructure(ctx, op, in)
		if err != nil {
			return st, err
		}
		structures = append(structures, o.ID)
		say("structure %d %q (%s) of the Yvelines", o.ID, in.Name, in.Type)
	}
	st.trappes = structures[0]
	crc, err := acc.AddAuditorBody(ctx, op, "Chambre régionale des comptes d'Île-de-France")
	if err != nil {
		return st, err
	}
	svc := a.issuing(db)
	for i, n := range []int{50, 30} {
		m, err := svc.MoveStock(ctx, issuing.Move{Department: "78", To: structures[i], Batch: batch, Count: n}, "demo")
		if err != nil {
			return st, err
		}
		say("%d chéquiers allocated to structure %d: %s to %s", m.Count, structures[i], m.First, m.Last)
	}
	for _, p := range []struct {
		email, what string
		org         accounts.Org
		role        string
		actor       *string
	}{
		{"responsable@yvelines.example", "département manager (batches, venues, stock)", accounts.Org{Department: "78"}, access.RoleDepartmentManager, &st.manager},
		{"finances@yvelines.example", "département finance (bank details, month closing)", accounts.Org{Department: "78"}, access.RoleDepartmentFinance, &st.finance},
		{"agent@ccas-trappes.example", "agent of the CCAS de Trappes (hands over its stock)", accounts.Org{ID: structures[0]}, access.RoleStructureAgent, &st.agent},
		{"lecture@yvelines.example", "département reader (reads, changes nothing)", accounts.Org{Department: "78"}, access.RoleDepartmentReader, new(string)},
		{"responsable@mediatheque.example", "manager of the Médiathèque (its volunteers, statements)", accounts.Org{Venue: 1}, access.RoleVenueManager, new(string)},
		{"benevole@mediatheque.example", "volunteer of the Médiathèque (the scanner)", accounts.Org{Venue: 1}, access.RoleVenueVolunteer, new(string)},
		{"auditrice@crc-idf.example", "auditor of the Chambre régionale des comptes", accounts.Org{ID: crc.ID}, access.RoleAuditor, new(string)},
	} {
		inv, err := acc.Invite(ctx, op, p.email, p.org, p.role)
		if err != nil {
			return st, err
		}
		got, err := acc.Accept(ctx, inv.Token, demoPassword)
		if err != nil {
			return st, err
		}
		*p.actor = access.AccountActor(got.Account, got.Organisation)
		say("%-28s %s: account %d", p.email, p.what, got.Account)
	}
	say("each logs in at /connexion with the password %q; the manager and finance add a second factor", demoPassword)
	say("(an authenticator application) at their first login, as their roles move money")
	return st, nil
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

// exportLedger writes the ledger export an auditor downloads.
func (a *app) exportLedger(ctx context.Context, db *ledger.DB, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := audit.Export(ctx, db, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
