// Package sepa writes the SEPA credit transfer initiation file (ISO 20022
// pain.001.001.03) with which a département's paying office pays the venues
// of a settlement period, reads such files back for cross-checks, and
// checks the bank identifiers (IBAN, BIC) that go into them. It knows
// nothing of the database: its caller hands it a Payment.
package sepa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris must load even on a machine without zoneinfo

	"passnum"
)

const namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"

// Limits of the SEPA credit transfer rulebook (EPC implementation
// guidelines), stricter than the pain.001 schema where they differ: banks
// apply them and reject the whole file for one breach.
const (
	maxIDLen         = 35
	maxNameLen       = 70
	maxRemittanceLen = 140
	maxAmountCents   = 999_999_999_99
)

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		// Unreachable: time/tzdata is linked in.
		panic("sepa: cannot load Europe/Paris: " + err.Error())
	}
	return loc
}()

// Party is an account holder and the account.
type Party struct {
	Name string // the account holder
	IBAN string
	// BIC is optional: SEPA has needed none since 2016. Without one the
	// debtor agent is written as NOTPROVIDED and the creditor agent left out.
	BIC string
}

// Transfer is one credit transfer of a Payment.
type Transfer struct {
	EndToEndID  string // unique within the payment, 1 to 35 characters of the SEPA character set
	Creditor    Party
	AmountCents int64  // 1 cent to 999,999,999.99 EUR
	Remittance  string // unstructured remittance information: at most 140 characters once transliterated
}

// Payment is one batch of transfers from one debtor account, the content of
// one pain.001 file.
type Payment struct {
	MessageID       string    // unique per file, 1 to 35 characters of the SEPA character set
	PaymentInfoID   string    // 1 to 35 characters of the SEPA character set
	CreatedAt       time.Time // written as an ISODateTime in UTC
	InitiatingParty string    // a name, cut to 70 characters
	Debtor          Party
	ExecutionDate   time.Time // requested execution date: its day in Europe/Paris
	Transfers       []Transfer
}

// Summary is what a caller shows or cross-checks: counts and control sum.
type Summary struct {
	Transactions int
	TotalCents   int64
}

// The document as the schema orders it; Write fills it and Read decodes
// into it. Fields are named after their elements; optional ones that Write
// leaves out carry omitempty.
type document struct {
	XMLName xml.Name
	Initn   struct {
		GrpHdr groupHeader
		PmtInf []paymentInfo
	} `xml:"CstmrCdtTrfInitn"`
}

type groupHeader struct {
	MsgId    string
	CreDtTm  string
	NbOfTxs  string
	CtrlSum  string `xml:",omitempty"`
	InitgPty partyID
}

type paymentInfo struct {
	PmtInfId    string
	PmtMtd      string
	BtchBookg   string `xml:",omitempty"`
	NbOfTxs     string `xml:",omitempty"`
	CtrlSum     string `xml:",omitempty"`
	PmtTpInf    *paymentType
	ReqdExctnDt string
	Dbtr        partyID
	DbtrAcct    account
	DbtrAgt     agent
	ChrgBr      string `xml:",omitempty"`
	CdtTrfTxInf []transaction
}

type paymentType struct {
	SvcLvl struct{ Cd string }
}

type partyID struct {
	Nm string `xml:",omitempty"`
}

type account struct {
	IBAN string `xml:"Id>IBAN"`
}

type agent struct {
	FinInstnId struct {
		BIC  string `xml:",omitempty"`
		Othr *struct{ Id string }
	}
}

type transaction struct {
	PmtId struct{ EndToEndId string }
	Amt   struct{ InstdAmt *amount }
	// CdtrAgt is nil when the creditor has no BIC.
	CdtrAgt  *agent
	Cdtr     partyID
	CdtrAcct account
	RmtInf   *struct{ Ustrd []string }
}

type amount struct {
	Ccy   string `xml:",attr"`
	Value string `xml:",chardata"`
}

// Write writes the pain.001.001.03 document: one payment block (PmtInf) of
// credit transfers (PmtMtd TRF) booked as one line on the debtor's
// statement (BtchBookg), service level SEPA, charges shared (SLEV), NbOfTxs
// and CtrlSum in the group header and the block, amounts in EUR with two
// decimals. Names and remittance information are transliterated to the
// SEPA character set and names cut to 70 characters; identifiers must
// already fit. Write checks the whole payment first and reports every
// problem at once, one per line, so that a settlement with several bad
// bank details is fixed in one pass; then it writes nothing.
func Write(w io.Writer, p Payment) error {
	doc, err := build(p)
	if err != nil {
		return err
	}
	// Encoding into memory first keeps a failure from leaving half a file.
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("sepa: encoding the document: %w", err)
	}
	buf.WriteByte('\n')
	// encoding/xml writes an apostrophe as &#39;, valid XML but made of
	// characters outside the SEPA set, which some banks check byte by byte.
	// Every &#39; comes from an apostrophe: the text written has no other &.
	out := bytes.ReplaceAll(buf.Bytes(), []byte("&#39;"), []byte("'"))
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("sepa: writing the document: %w", err)
	}
	return nil
}

// build checks p and turns it into the document, or returns every problem
// found.
func build(p Payment) (*document, error) {
	var problems []error
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("sepa: "+format, args...))
	}
	check := func(err error) {
		if err != nil {
			problems = append(problems, err)
		}
	}

	check(checkID("MessageID", p.MessageID))
	check(checkID("PaymentInfoID", p.PaymentInfoID))
	if p.CreatedAt.IsZero() {
		fail("CreatedAt is not set: set it to the time the file is made")
	}
	if p.ExecutionDate.IsZero() {
		fail("ExecutionDate is not set: set it to the day the venues should be paid")
	}
	initiator, err := name("InitiatingParty", p.InitiatingParty)
	check(err)
	debtor, err := name("Debtor.Name", p.Debtor.Name)
	check(err)
	debtorIBAN, err := CheckIBAN(p.Debtor.IBAN)
	if err != nil {
		fail("Debtor.IBAN: %v", err)
	}
	debtorAgent := agent{}
	if p.Debtor.BIC == "" {
		debtorAgent.FinInstnId.Othr = &struct{ Id string }{"NOTPROVIDED"}
	} else if bic, err := CheckBIC(p.Debtor.BIC); err != nil {
		fail("Debtor.BIC: %v", err)
	} else {
		debtorAgent.FinInstnId.BIC = bic
	}
	if len(p.Transfers) == 0 {
		fail("there is nothing to pay: the payment has no transfers")
	}

	txs := make([]transaction, len(p.Transfers))
	firstIndex := make(map[string]int, len(p.Transfers))
	var total int64
	for i, t := range p.Transfers {
		field := fmt.Sprintf("Transfers[%d]", i)
		tx := &txs[i]
		if err := checkID(field+".EndToEndID", t.EndToEndID); err != nil {
			check(err)
		} else if j, dup := firstIndex[t.EndToEndID]; dup {
			fail("%s.EndToEndID %q is also the end-to-end id of Transfers[%d]: give each transfer its own", field, t.EndToEndID, j)
		} else {
			firstIndex[t.EndToEndID] = i
		}
		tx.PmtId.EndToEndId = t.EndToEndID

		switch {
		case t.AmountCents < 1:
			fail("%s.AmountCents is %d: a transfer pays at least 1 cent", field, t.AmountCents)
		case t.AmountCents > maxAmountCents:
			fail("%s.AmountCents is %s EUR, more than the %s EUR a SEPA transfer can carry: split it",
				field, passnum.FormatEuros(t.AmountCents), passnum.FormatEuros(maxAmountCents))
		default:
			total += t.AmountCents
		}
		tx.Amt.InstdAmt = &amount{Ccy: "EUR", Value: passnum.FormatEuros(t.AmountCents)}

		tx.Cdtr.Nm, err = name(field+".Creditor.Name", t.Creditor.Name)
		check(err)
		if tx.CdtrAcct.IBAN, err = CheckIBAN(t.Creditor.IBAN); err != nil {
			fail("%s.Creditor.IBAN: %v", field, err)
		}
		if t.Creditor.BIC != "" {
			tx.CdtrAgt = &agent{}
			if tx.CdtrAgt.FinInstnId.BIC, err = CheckBIC(t.Creditor.BIC); err != nil {
				fail("%s.Creditor.BIC: %v", field, err)
			}
		}

		if r := latin(t.Remittance); len(r) > maxRemittanceLen {
			fail("%s.Remittance has %d characters once written in the SEPA character set, more than the %d a bank passes on: shorten it",
				field, len(r), maxRemittanceLen)
		} else if r != "" {
			tx.RmtInf = &struct{ Ustrd []string }{[]string{r}}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	nbOfTxs, ctrlSum := strconv.Itoa(len(txs)), passnum.FormatEuros(total)
	doc := &document{XMLName: xml.Name{Space: namespace, Local: "Document"}}
	doc.Initn.GrpHdr = groupHeader{
		MsgId:    p.MessageID,
		CreDtTm:  p.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		NbOfTxs:  nbOfTxs,
		CtrlSum:  ctrlSum,
		InitgPty: partyID{Nm: initiator},
	}
	pmt := paymentInfo{
		PmtInfId:    p.PaymentInfoID,
		PmtMtd:      "TRF",
		BtchBookg:   "true",
		NbOfTxs:     nbOfTxs,
		CtrlSum:     ctrlSum,
		PmtTpInf:    &paymentType{},
		ReqdExctnDt: p.ExecutionDate.In(paris).Format(time.DateOnly),
		Dbtr:        partyID{Nm: debtor},
		DbtrAcct:    account{IBAN: debtorIBAN},
		DbtrAgt:     debtorAgent,
		ChrgBr:      "SLEV",
		CdtTrfTxInf: txs,
	}
	pmt.PmtTpInf.SvcLvl.Cd = "SEPA"
	doc.Initn.PmtInf = []paymentInfo{pmt}
	return doc, nil
}

// checkID checks an identifier the way banks do. Identifiers are not
// transliterated like names: the caller made them, and a changed one would
// no longer match the caller's records when the bank reports on it.
func checkID(field, id string) error {
	if id == "" {
		return fmt.Errorf("sepa: %s is empty: give it an identifier of 1 to %d characters", field, maxIDLen)
	}
	for _, r := range id {
		if !inCharset(r) {
			return fmt.Errorf("sepa: %s %q contains %q, which the SEPA character set does not allow: use only letters without accents, digits, spaces and / - ? : ( ) . , ' +", field, id, r)
		}
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("sepa: %s %q has %d characters, more than %d: shorten it", field, id, len(id), maxIDLen)
	}
	// The EPC implementation guidelines forbid these, and banks enforce
	// them, although the schema does not.
	if strings.HasPrefix(id, "/") || strings.HasSuffix(id, "/") || strings.Contains(id, "//") {
		return fmt.Errorf("sepa: %s %q starts or ends with / or contains //, which SEPA forbids in identifiers: remove those slashes", field, id)
	}
	return nil
}

// CheckName reports whether a name (a venue's, a paying office's) can be
// written in a transfer: Write refuses one with no character the SEPA set
// can write once transliterated. Names are checked with it when they are
// entered, so that a payment file never fails on one at payment time.
func CheckName(s string) error {
	_, err := name("name", s)
	return err
}

// name transliterates a name and cuts it to the 70 characters banks keep.
func name(field, s string) (string, error) {
	n := latin(s)
	switch {
	case strings.TrimSpace(s) == "":
		return "", fmt.Errorf("sepa: %s is empty: give a name", field)
	case n == "":
		return "", fmt.Errorf("sepa: %s %q has no character the SEPA character set can write: give a name in Latin letters", field, s)
	}
	if len(n) > maxNameLen {
		n = strings.TrimRight(n[:maxNameLen], " ")
	}
	return n, nil
}

// inCharset reports whether r is in the SEPA Latin character set, the only
// characters every bank of the scheme must pass on; many reject a file with
// anything else, even though the schema itself takes any text.
func inCharset(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		strings.ContainsRune("/-?:().,'+ ", r)
}

// latin writes free text (names, remittance information) in the SEPA
// character set: an accented letter becomes its base letter (é → e,
// œ → oe), typographic apostrophes and dashes their plain forms; quotation
// marks and combining accents are dropped; anything else becomes a space.
// Runs of spaces collapse into one, so that "Arts & Métiers" reads
// "Arts Metiers".
func latin(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch t, mapped := transliterations[r]; {
		case inCharset(r):
			b.WriteRune(r)
		case mapped:
			b.WriteString(t)
		case 0x300 <= r && r <= 0x36f: // combining accents, as in decomposed "e\u0301"
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// transliterations maps the accented letters of Latin-1, Latin Extended-A
// and Romanian (what most European names are written with) and French
// typography to the SEPA character set.
var transliterations = func() map[rune]string {
	m := map[rune]string{}
	for to, from := range map[string]string{
		"A": "ÀÁÂÃÄÅĀĂĄ", "a": "àáâãäåāăą", "AE": "Æ", "ae": "æ",
		"C": "ÇĆĈĊČ", "c": "çćĉċč", "D": "ÐĎĐ", "d": "ðďđ",
		"E": "ÈÉÊËĒĔĖĘĚ", "e": "èéêëēĕėęě", "G": "ĜĞĠĢ", "g": "ĝğġģ",
		"H": "ĤĦ", "h": "ĥħ", "I": "ÌÍÎÏĨĪĬĮİ", "i": "ìíîïĩīĭįı",
		"IJ": "Ĳ", "ij": "ĳ", "J": "Ĵ", "j": "ĵ", "K": "Ķ", "k": "ķĸ",
		"L": "ĹĻĽĿŁ", "l": "ĺļľŀł", "N": "ÑŃŅŇŊ", "n": "ñńņňŉŋ",
		"O": "ÒÓÔÕÖØŌŎŐ", "o": "òóôõöøōŏő", "OE": "Œ", "oe": "œ",
		"R": "ŔŖŘ", "r": "ŕŗř", "S": "ŚŜŞŠȘ", "s": "śŝşšſș", "ss": "ß",
		"T": "ŢŤŦȚ", "t": "ţťŧț", "TH": "Þ", "th": "þ",
		"U": "ÙÚÛÜŨŪŬŮŰŲ", "u": "ùúûüũūŭůűų", "W": "Ŵ", "w": "ŵ",
		"Y": "ÝŶŸ", "y": "ýÿŷ", "Z": "ŹŻŽ", "z": "źżž",
		"'": "’‘‛`´", "-": "‐‑‒–—―",
		// Quotation marks have no SEPA form: « Le Lieu » becomes Le Lieu.
		"": "\"«»“”„‹›",
	} {
		for _, r := range from {
			m[r] = to
		}
	}
	return m
}()

// Read parses a pain.001.001.03 document, made by Write or by any bank
// tool, back into a Payment, and checks that the NbOfTxs and CtrlSum of the
// group header and of each payment block (PmtInf) agree with the
// transactions; a disagreement is an error naming the field. NbOfTxs of
// the group header is required, as in the schema; the other three are
// checked when present. A document with several payment blocks is read
// into one Payment when they share debtor and execution date (the first
// block gives PaymentInfoID), and refused otherwise.
func Read(r io.Reader) (Payment, Summary, error) {
	var doc document
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		return Payment{}, Summary{}, fmt.Errorf("sepa: the file is not a pain.001 XML document: %w", err)
	}
	if doc.XMLName.Local != "Document" || doc.XMLName.Space != namespace {
		return Payment{}, Summary{}, fmt.Errorf("sepa: the file is a <%s> of namespace %q, not a pain.001.001.03 document: ask the bank tool for that version", doc.XMLName.Local, doc.XMLName.Space)
	}
	blocks := doc.Initn.PmtInf
	if len(blocks) == 0 {
		return Payment{}, Summary{}, errors.New("sepa: the document has no payment block (PmtInf): it pays nothing")
	}

	first := blocks[0]
	p := Payment{
		MessageID:       doc.Initn.GrpHdr.MsgId,
		PaymentInfoID:   first.PmtInfId,
		InitiatingParty: doc.Initn.GrpHdr.InitgPty.Nm,
		Debtor: Party{
			Name: first.Dbtr.Nm,
			IBAN: first.DbtrAcct.IBAN,
			BIC:  first.DbtrAgt.FinInstnId.BIC,
		},
	}
	var err error
	if p.CreatedAt, err = parseDateTime(doc.Initn.GrpHdr.CreDtTm); err != nil {
		return Payment{}, Summary{}, err
	}
	if p.ExecutionDate, err = time.ParseInLocation(time.DateOnly, first.ReqdExctnDt, paris); err != nil {
		return Payment{}, Summary{}, fmt.Errorf("sepa: PmtInf 1/ReqdExctnDt %q is not a date (YYYY-MM-DD)", first.ReqdExctnDt)
	}

	var sum Summary
	for k, block := range blocks {
		where := fmt.Sprintf("PmtInf %d", k+1)
		if block.Dbtr.Nm != first.Dbtr.Nm || block.DbtrAcct.IBAN != first.DbtrAcct.IBAN || block.ReqdExctnDt != first.ReqdExctnDt {
			return Payment{}, Summary{}, fmt.Errorf("sepa: %s pays from another debtor or on another day than PmtInf 1: Read makes one Payment of a document, so split it into one document per debtor and day", where)
		}
		var blockSum Summary
		for j, tx := range block.CdtTrfTxInf {
			t, err := readTransfer(tx)
			if err != nil {
				return Payment{}, Summary{}, fmt.Errorf("sepa: %s, transaction %d (end-to-end id %q): %w", where, j+1, tx.PmtId.EndToEndId, err)
			}
			p.Transfers = append(p.Transfers, t)
			blockSum.Transactions++
			blockSum.TotalCents += t.AmountCents
		}
		if err := checkControls(where, block.NbOfTxs, block.CtrlSum, blockSum); err != nil {
			return Payment{}, Summary{}, err
		}
		sum.Transactions += blockSum.Transactions
		sum.TotalCents += blockSum.TotalCents
	}
	if doc.Initn.GrpHdr.NbOfTxs == "" {
		return Payment{}, Summary{}, errors.New("sepa: GrpHdr/NbOfTxs is missing: the file is incomplete; do not send it, make it again")
	}
	if err := checkControls("GrpHdr", doc.Initn.GrpHdr.NbOfTxs, doc.Initn.GrpHdr.CtrlSum, sum); err != nil {
		return Payment{}, Summary{}, err
	}
	return p, sum, nil
}

func readTransfer(tx transaction) (Transfer, error) {
	amt := tx.Amt.InstdAmt
	if amt == nil || amt.Ccy != "EUR" {
		return Transfer{}, errors.New("the amount is not an instructed amount in EUR (InstdAmt Ccy=\"EUR\"), the only one a SEPA transfer carries")
	}
	cents, err := passnum.ParseEuros(amt.Value)
	if err != nil {
		return Transfer{}, fmt.Errorf("InstdAmt: %w", err)
	}
	// This bound also keeps the control sums of any file that can exist
	// far from overflowing.
	if cents < 1 || cents > maxAmountCents {
		return Transfer{}, fmt.Errorf("InstdAmt %s EUR is outside the 0.01 to %s EUR a SEPA transfer carries", amt.Value, passnum.FormatEuros(maxAmountCents))
	}
	t := Transfer{
		EndToEndID:  tx.PmtId.EndToEndId,
		Creditor:    Party{Name: tx.Cdtr.Nm, IBAN: tx.CdtrAcct.IBAN},
		AmountCents: cents,
	}
	if tx.CdtrAgt != nil {
		t.Creditor.BIC = tx.CdtrAgt.FinInstnId.BIC
	}
	if tx.RmtInf != nil {
		t.Remittance = strings.Join(tx.RmtInf.Ustrd, " ")
	}
	return t, nil
}

// checkControls compares a NbOfTxs and a CtrlSum, each checked when
// present, with what the transactions they cover add up to.
func checkControls(where, nbOfTxs, ctrlSum string, got Summary) error {
	const redo = "the file was altered or cut short; do not send it, make it again"
	if nbOfTxs != "" {
		n, err := strconv.Atoi(nbOfTxs)
		if err != nil {
			return fmt.Errorf("sepa: %s/NbOfTxs %q is not a number: %s", where, nbOfTxs, redo)
		}
		if n != got.Transactions {
			return fmt.Errorf("sepa: %s/NbOfTxs says %d transactions but there are %d: %s", where, n, got.Transactions, redo)
		}
	}
	if ctrlSum != "" {
		cents, err := passnum.ParseEuros(ctrlSum)
		if err != nil {
			return fmt.Errorf("sepa: %s/CtrlSum %q is not an amount in euros with at most two decimals: %s", where, ctrlSum, redo)
		}
		if cents != got.TotalCents {
			return fmt.Errorf("sepa: %s/CtrlSum says %s EUR but the transactions add up to %s EUR: %s",
				where, passnum.FormatEuros(cents), passnum.FormatEuros(got.TotalCents), redo)
		}
	}
	return nil
}

// parseDateTime reads an ISODateTime. Write puts it in UTC; bank tools
// often write French local time without an offset, which is read as such.
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, paris); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("sepa: GrpHdr/CreDtTm %q is not a date and time (YYYY-MM-DDThh:mm:ss)", s)
}
