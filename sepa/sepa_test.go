package sepa

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validateAgainstSchema checks a file with xmllint against the pain.001
// schema, as the bank does before anything else. xmllint missing is a
// failure, not a skip: CI installs it, and a skipped check proves nothing.
func validateAgainstSchema(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint not found: install libxml2-utils (apt-get install -y libxml2-utils, or make test-tools)")
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", filepath.Join("testdata", "pain.001.001.03.xsd"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("the schema rejects %s: %v\n%s", path, err, out)
	}
}

// writeFile writes p into a file of the test's temporary directory.
func writeFile(t *testing.T, p Payment) (path string, content string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		t.Fatalf("Write: %v", err)
	}
	path = filepath.Join(t.TempDir(), "payment.xml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, buf.String()
}

// threeVenues is a settlement of three venues whose names have what French
// names have: accents, an apostrophe, a ligature, guillemets.
func threeVenues() Payment {
	return Payment{
		MessageID:       "PN78-2026-04",
		PaymentInfoID:   "PN78-2026-04-1",
		CreatedAt:       time.Date(2026, 5, 2, 9, 15, 0, 0, time.UTC),
		InitiatingParty: "Département des Yvelines",
		Debtor: Party{
			Name: "Paierie départementale des Yvelines",
			IBAN: "FR76 3000 6000 0112 3456 7890 189",
			BIC:  "bdfefrppcct",
		},
		ExecutionDate: time.Date(2026, 5, 5, 0, 0, 0, 0, paris),
		Transfers: []Transfer{
			{
				EndToEndID:  "PN78-2026-04-V0001",
				Creditor:    Party{Name: "Médiathèque de l’Île « Cœur de ville »", IBAN: "de89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX"},
				AmountCents: 1,
				Remittance:  "Pass numérique – avril 2026 : 1 chèque",
			},
			{
				EndToEndID:  "PN78-2026-04-V0002",
				Creditor:    Party{Name: "Espace public numérique d'Élancourt", IBAN: "FR14 2004 1010 0505 0001 3M02 606"},
				AmountCents: 1000,
				Remittance:  "Pass numérique avril 2026",
			},
			{
				EndToEndID:  "PN78-2026-04-V0003",
				Creditor:    Party{Name: "Association Æsope & Ça Marche", IBAN: "BE68 5390 0754 7034", BIC: "GEBABEBB"},
				AmountCents: 12345678,
			},
		},
	}
}

// manyVenues is a settlement of n venues, bigger than a département's.
func manyVenues(n int) Payment {
	p := threeVenues()
	p.Transfers = nil
	for i := range n {
		p.Transfers = append(p.Transfers, Transfer{
			EndToEndID:  fmt.Sprintf("PN78-2026-04-V%04d", i+1),
			Creditor:    Party{Name: fmt.Sprintf("Lieu labellisé n° %d", i+1), IBAN: validIBANs[i%len(validIBANs)].typed},
			AmountCents: int64(1000*(i%7) + i + 1),
			Remittance:  fmt.Sprintf("Pass numérique avril 2026 : %d chèques", i%7+1),
		})
	}
	return p
}

func TestWriteMakesAFileTheBankAccepts(t *testing.T) {
	withoutBICs := threeVenues()
	withoutBICs.Debtor.BIC = ""
	for i := range withoutBICs.Transfers {
		withoutBICs.Transfers[i].Creditor.BIC = ""
	}
	for _, tc := range []struct {
		name string
		p    Payment
		// what the file must say, beyond what Read checks
		contains, lacks []string
	}{
		{
			name: "three venues with accents and apostrophes",
			p:    threeVenues(),
			contains: []string{
				`<?xml version="1.0" encoding="UTF-8"?>`,
				`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">`,
				"<PmtMtd>TRF</PmtMtd>", "<BtchBookg>true</BtchBookg>", "<Cd>SEPA</Cd>", "<ChrgBr>SLEV</ChrgBr>",
				"<NbOfTxs>3</NbOfTxs>", "<CtrlSum>123466.79</CtrlSum>",
				"<BIC>BDFEFRPPCCT</BIC>", "<CdtrAgt>",
				// apostrophes as such, not as &#39;, which banks checking
				// the character set byte by byte reject
				"<Nm>Mediatheque de l'Ile Coeur de ville</Nm>",
			},
		},
		{
			name:     "debtor and venues without BIC",
			p:        withoutBICs,
			contains: []string{"<Othr>", "<Id>NOTPROVIDED</Id>"},
			lacks:    []string{"<CdtrAgt>", "<BIC>", "&#39;"},
		},
		{
			name:     "300 venues",
			p:        manyVenues(300),
			contains: []string{"<NbOfTxs>300</NbOfTxs>"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, content := writeFile(t, tc.p)
			validateAgainstSchema(t, path)
			for _, s := range tc.contains {
				if !strings.Contains(content, s) {
					t.Errorf("the file lacks %q", s)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(content, s) {
					t.Errorf("the file has %q", s)
				}
			}

			got, sum, err := Read(strings.NewReader(content))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var want Summary
			for _, tr := range tc.p.Transfers {
				want.Transactions++
				want.TotalCents += tr.AmountCents
			}
			if sum != want {
				t.Errorf("Read summary = %+v, want %+v", sum, want)
			}
			if len(got.Transfers) != len(tc.p.Transfers) {
				t.Fatalf("Read %d transfers, want %d", len(got.Transfers), len(tc.p.Transfers))
			}
			for i, tr := range tc.p.Transfers {
				g := got.Transfers[i]
				iban, _ := CheckIBAN(tr.Creditor.IBAN)
				if g.EndToEndID != tr.EndToEndID || g.AmountCents != tr.AmountCents || g.Creditor.IBAN != iban || g.Creditor.BIC != tr.Creditor.BIC {
					t.Errorf("transfer %d read back as %+v, want %+v", i, g, tr)
				}
			}
			if got.MessageID != tc.p.MessageID || got.PaymentInfoID != tc.p.PaymentInfoID ||
				!got.CreatedAt.Equal(tc.p.CreatedAt) || !got.ExecutionDate.Equal(tc.p.ExecutionDate) ||
				got.Debtor.IBAN != "FR7630006000011234567890189" || got.Debtor.BIC != strings.ToUpper(tc.p.Debtor.BIC) {
				t.Errorf("payment read back as %+v", got)
			}
		})
	}
}

func TestWriteSpellsNamesAndRemittanceInTheSEPACharacterSet(t *testing.T) {
	_, content := writeFile(t, threeVenues())
	got, _, err := Read(strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ what, got, want string }{
		{"initiating party", got.InitiatingParty, "Departement des Yvelines"},
		{"debtor", got.Debtor.Name, "Paierie departementale des Yvelines"},
		{"venue with guillemets and a typographic apostrophe", got.Transfers[0].Creditor.Name, "Mediatheque de l'Ile Coeur de ville"},
		{"venue with a plain apostrophe", got.Transfers[1].Creditor.Name, "Espace public numerique d'Elancourt"},
		{"venue with a ligature and an ampersand", got.Transfers[2].Creditor.Name, "Association AEsope Ca Marche"},
		{"remittance with a dash", got.Transfers[0].Remittance, "Pass numerique - avril 2026 : 1 cheque"},
		{"no remittance", got.Transfers[2].Remittance, ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: written %q, want %q", tc.what, tc.got, tc.want)
		}
	}
}

func TestLatinTransliteratesWhatBanksWouldReject(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"French accents", "àâä éèêë îï ôö ùûü ÿ ç ÀÂÉÈÊËÎÏÔÙÛÜŸÇ", "aaa eeee ii oo uuu y c AAEEEEIIOUUUYC"},
		{"ligatures", "Œuvre cœur Æ æ ß", "OEuvre coeur AE ae ss"},
		{"guillemets and double quotes are dropped", `« Le Lieu » "Numérique" “Club”`, "Le Lieu Numerique Club"},
		{"typographic apostrophes and dashes", "l’atelier – ‘Web’", "l'atelier - 'Web'"},
		{"decomposed accents from a Mac keyboard", "Me\u0301diathe\u0300que", "Mediatheque"},
		{"other European letters", "Łódź Dvořák Gödel Ærøskøbing Timișoara", "Lodz Dvorak Godel AEroskobing Timisoara"},
		{"other characters become a space", "Club@Net_78 & Co; n°5 €", "Club Net 78 Co n 5"},
		{"non-breaking spaces, tabs and newlines", "Tiers\u00a0Lieu\t:\u202f1\nB", "Tiers Lieu : 1 B"},
		{"allowed punctuation is kept", "A/B-C?D:E(F).G,H'I+J", "A/B-C?D:E(F).G,H'I+J"},
		{"nothing left", "«»€", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := latin(tc.in); got != tc.want {
				t.Errorf("latin(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWriteCutsLongNamesTo70Characters(t *testing.T) {
	p := threeVenues()
	p.Transfers[0].Creditor.Name = "Établissement public de coopération culturelle et numérique de Saint-Quentin-en-Yvelines"
	_, content := writeFile(t, p)
	got, _, err := Read(strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	want := "Etablissement public de cooperation culturelle et numerique de Saint-Q"
	if name := got.Transfers[0].Creditor.Name; name != want {
		t.Errorf("name written %q (%d characters), want %q", name, len(name), want)
	}
}

func TestAmountsRoundTripToTheCent(t *testing.T) {
	p := threeVenues()
	for _, tc := range []struct {
		cents   int64
		written string
	}{
		{1, "0.01"},
		{10, "0.10"},
		{1000, "10.00"},
		{1001, "10.01"},
		{12345678, "123456.78"},
		{999_999_999_99, "999999999.99"},
	} {
		t.Run(tc.written, func(t *testing.T) {
			p.Transfers = []Transfer{{EndToEndID: "E1", Creditor: threeVenues().Transfers[0].Creditor, AmountCents: tc.cents}}
			path, content := writeFile(t, p)
			validateAgainstSchema(t, path)
			if want := `<InstdAmt Ccy="EUR">` + tc.written + "</InstdAmt>"; !strings.Contains(content, want) {
				t.Errorf("the file lacks %s", want)
			}
			if want := "<CtrlSum>" + tc.written + "</CtrlSum>"; strings.Count(content, want) != 2 {
				t.Errorf("the file does not have %s in both the group header and the payment block", want)
			}
			got, sum, err := Read(strings.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			if got.Transfers[0].AmountCents != tc.cents || sum.TotalCents != tc.cents {
				t.Errorf("read back %d cents (sum %d), want %d", got.Transfers[0].AmountCents, sum.TotalCents, tc.cents)
			}
		})
	}
}

func TestWriteDatesTheFileInUTCAndTheExecutionInParis(t *testing.T) {
	p := threeVenues()
	// 23:30 in Paris on 4 May is 21:30 UTC; the execution day is 5 May in
	// Paris although it is still 4 May in UTC.
	p.CreatedAt = time.Date(2026, 5, 4, 23, 30, 0, 0, paris)
	p.ExecutionDate = time.Date(2026, 5, 4, 22, 30, 0, 0, time.UTC)
	_, content := writeFile(t, p)
	for _, want := range []string{"<CreDtTm>2026-05-04T21:30:00Z</CreDtTm>", "<ReqdExctnDt>2026-05-05</ReqdExctnDt>"} {
		if !strings.Contains(content, want) {
			t.Errorf("the file lacks %s", want)
		}
	}
}

// replaceNth replaces the n-th (1-based) occurrence of old in s.
func replaceNth(t *testing.T, s, old, new string, n int) string {
	t.Helper()
	at := 0
	for range n {
		i := strings.Index(s[at:], old)
		if i < 0 {
			t.Fatalf("the file has fewer than %d %q", n, old)
		}
		at += i + len(old)
	}
	return s[:at-len(old)] + new + s[at:]
}

func TestReadDetectsATamperedFile(t *testing.T) {
	_, content := writeFile(t, threeVenues())
	for _, tc := range []struct {
		name, old, new string
		nth            int // which occurrence: 1 is the group header's, 2 the payment block's
		want           string
	}{
		{"control sum of the group header raised", "<CtrlSum>123466.79</CtrlSum>", "<CtrlSum>123467.79</CtrlSum>", 1,
			"GrpHdr/CtrlSum says 123467.79 EUR but the transactions add up to 123466.79 EUR"},
		{"control sum of the payment block lowered", "<CtrlSum>123466.79</CtrlSum>", "<CtrlSum>123466.78</CtrlSum>", 2,
			"PmtInf 1/CtrlSum says 123466.78 EUR but the transactions add up to 123466.79 EUR"},
		{"number of transactions of the group header changed", "<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>4</NbOfTxs>", 1,
			"GrpHdr/NbOfTxs says 4 transactions but there are 3"},
		{"number of transactions of the payment block changed", "<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>", 2,
			"PmtInf 1/NbOfTxs says 2 transactions but there are 3"},
		{"an amount raised", `<InstdAmt Ccy="EUR">10.00</InstdAmt>`, `<InstdAmt Ccy="EUR">100.00</InstdAmt>`, 1,
			"PmtInf 1/CtrlSum says 123466.79 EUR but the transactions add up to 123556.79 EUR"},
		{"a transaction removed", "<CdtTrfTxInf>", "<CdtTrfTxInfRemoved>", 2,
			"PmtInf 1/NbOfTxs says 3 transactions but there are 2"},
		{"number of transactions not a number", "<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>three</NbOfTxs>", 1,
			`GrpHdr/NbOfTxs "three" is not a number`},
		{"number of transactions of the group header removed", "<NbOfTxs>3</NbOfTxs>", "", 1,
			"GrpHdr/NbOfTxs is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tampered := replaceNth(t, content, tc.old, tc.new, tc.nth)
			if tc.name == "a transaction removed" {
				tampered = replaceNth(t, tampered, "</CdtTrfTxInf>", "</CdtTrfTxInfRemoved>", 2)
			}
			_, _, err := Read(strings.NewReader(tampered))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read of a file with %s: %v, want an error saying %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestReadAcceptsAFileFromABankTool(t *testing.T) {
	path := filepath.Join("testdata", "bank-tool-two-blocks.xml")
	validateAgainstSchema(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, sum, err := Read(f)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if want := (Summary{Transactions: 3, TotalCents: 23050}); sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	if want := time.Date(2026, 5, 2, 9, 15, 0, 0, paris); !p.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt %v, want %v: a time without offset is French local time", p.CreatedAt, want)
	}
	var ids []string
	for _, tr := range p.Transfers {
		ids = append(ids, tr.EndToEndID)
	}
	if got := strings.Join(ids, " "); got != "V0001-2026-04 V0002-2026-04 V0003-2026-04" {
		t.Errorf("transfers %s, want those of both payment blocks in order", got)
	}
	if r := p.Transfers[0].Remittance; r != "Pass numerique avril 2026 10 cheques" {
		t.Errorf("remittance %q, want both lines", r)
	}
	if p.PaymentInfoID != "LOT-1" || p.Debtor.BIC != "BDFEFRPPCCT" || p.Transfers[2].Creditor.BIC != "BNPAFRPP" || p.Transfers[0].Creditor.BIC != "" {
		t.Errorf("payment read as %+v", p)
	}
}

func TestReadRejectsWhatItCannotVouchFor(t *testing.T) {
	bankTool, err := os.ReadFile(filepath.Join("testdata", "bank-tool-two-blocks.xml"))
	if err != nil {
		t.Fatal(err)
	}
	_, written := writeFile(t, threeVenues())
	for _, tc := range []struct{ name, doc, want string }{
		{"not XML", "IBAN;amount\n", "not a pain.001 XML document"},
		{"another version of pain.001", strings.Replace(written, "pain.001.001.03", "pain.001.001.09", 1), `namespace "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09", not a pain.001.001.03 document`},
		{"an amount in another currency", strings.Replace(written, `Ccy="EUR"`, `Ccy="CHF"`, 1), "transaction 1 (end-to-end id \"PN78-2026-04-V0001\"): the amount is not an instructed amount in EUR"},
		{"an amount with three decimals", strings.Replace(written, "10.00<", "10.005<", 1), "transaction 2"},
		{"blocks paid on different days", strings.Replace(string(bankTool), "2026-05-05", "2026-05-06", 1), "PmtInf 2 pays from another debtor or on another day than PmtInf 1"},
		{"no payment block", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn><GrpHdr><NbOfTxs>0</NbOfTxs></GrpHdr></CstmrCdtTrfInitn></Document>`, "no payment block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestWriteRejectsAnInvalidPaymentAndWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *Payment)
		want   string
	}{
		{"mistyped debtor IBAN", func(p *Payment) { p.Debtor.IBAN = "FR76 3000 6000 0112 3456 7890 188" }, "Debtor.IBAN: IBAN \"FR76 3000 6000 0112 3456 7890 188\": the check digits do not match"},
		{"mistyped venue IBAN", func(p *Payment) { p.Transfers[1].Creditor.IBAN = "FR14 2004 1010 0505 0001 3M02 6O6" }, "Transfers[1].Creditor.IBAN: IBAN"},
		{"missing venue IBAN", func(p *Payment) { p.Transfers[2].Creditor.IBAN = "" }, "Transfers[2].Creditor.IBAN: the IBAN is empty"},
		{"bad debtor BIC", func(p *Payment) { p.Debtor.BIC = "BDFEFRP" }, "Debtor.BIC: BIC \"BDFEFRP\" has 7 characters"},
		{"bad venue BIC", func(p *Payment) { p.Transfers[0].Creditor.BIC = "COBA-DEFF" }, "Transfers[0].Creditor.BIC"},
		{"zero amount", func(p *Payment) { p.Transfers[1].AmountCents = 0 }, "Transfers[1].AmountCents is 0: a transfer pays at least 1 cent"},
		{"negative amount", func(p *Payment) { p.Transfers[1].AmountCents = -500 }, "Transfers[1].AmountCents is -500"},
		{"amount over the SEPA maximum", func(p *Payment) { p.Transfers[0].AmountCents = 1_000_000_000_00 }, "Transfers[0].AmountCents is 1000000000.00 EUR, more than the 999999999.99 EUR"},
		{"remittance over 140 characters", func(p *Payment) { p.Transfers[0].Remittance = strings.Repeat("é", 141) }, "Transfers[0].Remittance has 141 characters"},
		{"remittance over 140 characters once ligatures are spelled out", func(p *Payment) { p.Transfers[0].Remittance = strings.Repeat("œ", 71) }, "Transfers[0].Remittance has 142 characters"},
		{"end-to-end id with an accent", func(p *Payment) { p.Transfers[2].EndToEndID = "PN78-2026-04-Vé3" }, `Transfers[2].EndToEndID "PN78-2026-04-Vé3" contains 'é'`},
		{"end-to-end id with an underscore", func(p *Payment) { p.Transfers[2].EndToEndID = "PN78_2026" }, `contains '_'`},
		{"end-to-end id over 35 characters", func(p *Payment) { p.Transfers[0].EndToEndID = strings.Repeat("A", 36) }, "Transfers[0].EndToEndID \"" + strings.Repeat("A", 36) + "\" has 36 characters"},
		{"end-to-end id with a double slash", func(p *Payment) { p.Transfers[0].EndToEndID = "PN78//1" }, "contains //"},
		{"empty end-to-end id", func(p *Payment) { p.Transfers[1].EndToEndID = "" }, "Transfers[1].EndToEndID is empty"},
		{"duplicate end-to-end id", func(p *Payment) { p.Transfers[2].EndToEndID = p.Transfers[0].EndToEndID }, `Transfers[2].EndToEndID "PN78-2026-04-V0001" is also the end-to-end id of Transfers[0]`},
		{"message id with a slash at the end", func(p *Payment) { p.MessageID = "PN78/" }, `MessageID "PN78/" starts or ends with /`},
		{"empty payment information id", func(p *Payment) { p.PaymentInfoID = "" }, "PaymentInfoID is empty"},
		{"venue name with nothing to write", func(p *Payment) { p.Transfers[0].Creditor.Name = "« »" }, `Transfers[0].Creditor.Name "« »" has no character the SEPA character set can write`},
		{"no initiating party", func(p *Payment) { p.InitiatingParty = "" }, "InitiatingParty is empty: give a name"},
		{"no creation time", func(p *Payment) { p.CreatedAt = time.Time{} }, "CreatedAt is not set"},
		{"no execution date", func(p *Payment) { p.ExecutionDate = time.Time{} }, "ExecutionDate is not set"},
		{"no transfers", func(p *Payment) { p.Transfers = nil }, "there is nothing to pay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := threeVenues()
			tc.change(&p)
			var buf bytes.Buffer
			err := Write(&buf, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write: %v, want an error saying %q", err, tc.want)
			}
			if buf.Len() > 0 {
				t.Errorf("Write wrote %d bytes for an invalid payment", buf.Len())
			}
		})
	}
}

// A settlement with several bad bank details is fixed in one pass.
func TestWriteReportsEveryProblemAtOnce(t *testing.T) {
	p := threeVenues()
	p.Transfers[0].Creditor.IBAN = "FR76"
	p.Transfers[2].AmountCents = 0
	err := Write(&bytes.Buffer{}, p)
	if err == nil {
		t.Fatal("Write accepted two bad transfers")
	}
	for _, want := range []string{"Transfers[0].Creditor.IBAN", "Transfers[2].AmountCents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s: %v", want, err)
		}
	}
}
