// Package printing renders chéquiers to PDF for the print shop: a batch
// summary sheet, then for each chéquier its cover and its vouchers, each
// voucher with its QR code and the printed fallback (number and
// verification code) of docs/voucher-format.md section 7.
//
// It knows nothing of the database: the caller gives it the codes, numbers
// and texts to print. It checks that what it prints is consistent (each QR
// code parses as a voucher of the printed number, value, département and
// validity) so that a bug upstream fails loudly instead of printing
// vouchers that venues will reject.
//
// Two layouts:
//
//   - Booklet, the default: one A6 page (105 × 148.5 mm) per cover page or
//     voucher, imposed four to an A4 sheet for cut-and-stack (see
//     imposition.go), printed on one side only and stapled on the left: a
//     carnet a person carries in a pocket and tears vouchers from.
//   - A4Sheets: two A4 cover pages per chéquier, then its vouchers, ten to
//     an A4 page (two columns, five rows of 95 × 55 mm, abutting, with crop
//     marks in the margins; one guillotine cut per line), for a
//     département that cuts and binds the vouchers itself.
//
// Each chéquier has two cover pages, in plain French ("facile à lire",
// body text of 12 pt at least): the first says what it is worth, until
// when, and the three steps to use it, each beside a pictogram; the second
// says where to go, that each voucher serves once, whom to call when the
// chéquier is lost, and holds the activation block for the person who
// hands it over.
//
// It also renders the programme's other paper: a venue's settlement
// statement (statement.go) and the funders' programme report (report.go),
// with the same fonts and French formats.
//
// Output is byte-identical for identical input: fixed dates, no random
// identifiers, catalogs sorted, QR codes encoded in parallel but drawn in
// order.
package printing

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"passnum/voucher"
)

// Layout is how vouchers are laid out on paper.
type Layout string

const (
	// A4Sheets prints ten vouchers per A4 page with crop marks for cutting,
	// after two A4 cover pages per chéquier.
	A4Sheets Layout = "a4"
	// Booklet prints one voucher per A6 page, imposed four to an A4 sheet
	// for cut-and-stack: cut the stack of sheets in four, put pile A (top
	// left) on pile B (top right) on pile C (bottom left) on pile D
	// (bottom right), and the pages are in order, chéquier after chéquier,
	// each starting with its cover. No fold: every leaf is a single-sided
	// voucher that is torn off on its own.
	Booklet Layout = "booklet"
	// DefaultLayout is the layout of a print that names none (the command
	// line, the API): a booklet, since ten loose slips cut from an A4
	// sheet are not a chéquier a person keeps together (docs/printing.md).
	DefaultLayout = Booklet
)

func (l Layout) valid() bool { return l == A4Sheets || l == Booklet }

// Voucher is one voucher as printed.
type Voucher struct {
	Position         int    // 1..M within the chéquier
	Number           string // printed number with check digit, "0000 0000 427"
	VerificationCode string // "6CR1-X4V2"
	Code             string // the QR payload, a voucher code of 136 characters
	// KeyID is the key that signed a replacement voucher, when it is not
	// the batch's (the key rotated before the replacement); 0: the batch's.
	KeyID int
}

// Chequier is one booklet of vouchers handed to one beneficiary.
type Chequier struct {
	Number             string      // "78-2026-000042"
	ValueCents         int64       // face value of each voucher, in cents
	ValidUntil         voucher.Day // last valid day, as in the codes
	RequiresActivation bool
	ActivationCode     string // printed on the cover only when RequiresActivation
	Vouchers           []Voucher
	// Size is the number of vouchers of the whole chéquier when only some
	// of them are printed: replacements for a chéquier the beneficiary
	// holds. They keep their positions ("chèque 4 sur 10") and get no
	// cover, since the beneficiary has it. 0: all the vouchers, with the
	// cover.
	Size int
}

// partial tells whether only some of the chéquier's vouchers are printed.
func (c *Chequier) partial() bool { return c.Size > 0 }

// size is the number of vouchers of the whole chéquier.
func (c *Chequier) size() int {
	if c.partial() {
		return c.Size
	}
	return len(c.Vouchers)
}

// Batch is what the summary sheet says; it is the same in every file of a
// batch.
type Batch struct {
	ID                         int64
	Department, DepartmentName string // "78", "Yvelines"
	Chequiers                  int    // in the whole batch
	VouchersPerChequier        int
	ValueCents                 int64 // face value of each voucher
	TotalCents                 int64 // of the whole batch
	ValidFrom, ValidUntil      voucher.Day
	FirstChequier              string
	LastChequier               string
	FirstVoucher, LastVoucher  string // printed numbers
	KeyID                      int
	CodesSHA256                string // hex checksum of all the batch's codes
	RequiresActivation         bool
	// ContactPhone is the département's number, printed on every cover
	// for a lost chéquier; empty, the cover sends the beneficiary back to
	// the structure that handed the chéquier over.
	ContactPhone string
}

// Options are the choices that are not data.
type Options struct {
	Layout        Layout
	ProgrammeName string // default "Pass numérique"
	// VenuesInfo tells beneficiaries where to find labelled venues: a URL,
	// an address or a phone number, at most 160 characters. Empty prints a
	// generic sentence.
	VenuesInfo string
	// Date is the document's creation date, written in the PDF so that the
	// same input gives the same bytes. The zero value means 00:00 UTC on
	// the batch's first valid day, never the clock.
	Date time.Time
	// Part and Parts say which part of the batch this file holds ("partie
	// 2 sur 5") on the summary sheet; zero when the file is not one of a
	// split. RenderFiles sets them.
	Part, Parts int
}

const (
	defaultProgramme = "Pass numérique"
	maxVenuesInfo    = 160
	maxProgrammeName = 40
)

func (o Options) withDefaults(b Batch) Options {
	if o.ProgrammeName == "" {
		o.ProgrammeName = defaultProgramme
	}
	if o.Date.IsZero() {
		y, m, d := b.ValidFrom.Date()
		o.Date = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	o.Date = o.Date.UTC()
	o.VenuesInfo = strings.TrimSpace(o.VenuesInfo)
	return o
}

func checkOptions(o Options, b Batch) error {
	if !o.Layout.valid() {
		return fmt.Errorf("printing: unknown layout %q (want %q or %q)", o.Layout, A4Sheets, Booklet)
	}
	if n := utf8.RuneCountInString(o.VenuesInfo); n > maxVenuesInfo {
		return fmt.Errorf("printing: venues information is %d characters long; at most %d fit on a cover", n, maxVenuesInfo)
	}
	if n := utf8.RuneCountInString(o.ProgrammeName); n > maxProgrammeName {
		return fmt.Errorf("printing: programme name is %d characters long; at most %d fit", n, maxProgrammeName)
	}
	if o.Parts < 0 || o.Part < 0 || o.Part > o.Parts || (o.Parts > 0) != (o.Part > 0) {
		return fmt.Errorf("printing: part %d of %d", o.Part, o.Parts)
	}
	if !voucher.ValidDepartment(b.Department) {
		return fmt.Errorf("printing: batch %d: département %q is not a département code", b.ID, b.Department)
	}
	if utf8.RuneCountInString(b.DepartmentName) > 40 {
		return fmt.Errorf("printing: batch %d: département name %q is too long to print", b.ID, b.DepartmentName)
	}
	if utf8.RuneCountInString(b.ContactPhone) > 20 {
		return fmt.Errorf("printing: batch %d: contact phone %q is too long to print", b.ID, b.ContactPhone)
	}
	if b.ValueCents < 0 || b.VouchersPerChequier < 0 || b.Chequiers < 0 {
		return fmt.Errorf("printing: batch %d: negative value or count", b.ID)
	}
	return nil
}

// checkChequier checks what will be printed of one chéquier against its
// own codes and the batch. Errors name the chéquier and the voucher.
func checkChequier(b Batch, c *Chequier) error {
	name := c.Number
	if name == "" {
		return errors.New("chéquier without a number")
	}
	if utf8.RuneCountInString(c.Number) > 24 {
		return fmt.Errorf("chéquier %q: number too long to print", name)
	}
	if c.ValueCents <= 0 {
		return fmt.Errorf("chéquier %s: face value %d cents is not positive", name, c.ValueCents)
	}
	if b.ValueCents > 0 && c.ValueCents != b.ValueCents {
		return fmt.Errorf("chéquier %s: face value %d cents differs from the batch's %d", name, c.ValueCents, b.ValueCents)
	}
	if len(c.Vouchers) == 0 {
		return fmt.Errorf("chéquier %s: no voucher", name)
	}
	if b.VouchersPerChequier > 0 && len(c.Vouchers) != b.VouchersPerChequier {
		return fmt.Errorf("chéquier %s: %d vouchers, the batch has %d per chéquier", name, len(c.Vouchers), b.VouchersPerChequier)
	}
	if c.partial() && len(c.Vouchers) > c.Size {
		return fmt.Errorf("chéquier %s: %d vouchers printed of a chéquier of %d", name, len(c.Vouchers), c.Size)
	}
	if c.RequiresActivation != b.RequiresActivation {
		return fmt.Errorf("chéquier %s: requires activation %v, the batch says %v", name, c.RequiresActivation, b.RequiresActivation)
	}
	if b.ValidUntil != 0 && c.ValidUntil != b.ValidUntil {
		return fmt.Errorf("chéquier %s: valid until %s, the batch until %s", name, c.ValidUntil, b.ValidUntil)
	}
	if c.RequiresActivation && !c.partial() {
		if err := checkActivation(c); err != nil {
			return fmt.Errorf("chéquier %s: activation code: %w", name, err)
		}
	}
	for i := range c.Vouchers {
		v := &c.Vouchers[i]
		// All the vouchers are at 1..M in order; some of them, in order
		// within 1..Size.
		inPlace := v.Position == i+1
		if c.partial() {
			inPlace = v.Position >= 1 && v.Position <= c.Size && (i == 0 || v.Position > c.Vouchers[i-1].Position)
		}
		if !inPlace {
			return fmt.Errorf("chéquier %s: voucher %d of %d has position %d", name, i+1, len(c.Vouchers), v.Position)
		}
		if err := checkVoucher(b, c, v); err != nil {
			return fmt.Errorf("chéquier %s, voucher %d (%s): %w", name, v.Position, v.Number, err)
		}
	}
	return nil
}

func checkVoucher(b Batch, c *Chequier, v *Voucher) error {
	if v.Code == "" {
		return errors.New("empty code")
	}
	if v.Number == "" {
		return errors.New("empty number")
	}
	if v.VerificationCode == "" || utf8.RuneCountInString(v.VerificationCode) > 12 {
		return fmt.Errorf("verification code %q is empty or too long to print", v.VerificationCode)
	}
	d, err := voucher.Parse(v.Code)
	if err != nil {
		return fmt.Errorf("code does not parse: %w", err)
	}
	p, ok := d.Payload.(voucher.Voucher)
	if !ok {
		return fmt.Errorf("code is a %s code, not a voucher code", d.Type)
	}
	switch {
	case v.KeyID > 0 && int(d.KeyID) != v.KeyID:
		return fmt.Errorf("code is signed by key %d, the voucher by key %d", d.KeyID, v.KeyID)
	case v.KeyID == 0 && b.KeyID > 0 && int(d.KeyID) != b.KeyID:
		return fmt.Errorf("code is signed by key %d, the batch by key %d", d.KeyID, b.KeyID)
	case voucher.FormatNumber(p.Serial) != v.Number:
		return fmt.Errorf("code is for voucher %s, not %s", voucher.FormatNumber(p.Serial), v.Number)
	case int64(p.ValueCents) != c.ValueCents:
		return fmt.Errorf("code is worth %d cents, the chéquier says %d", p.ValueCents, c.ValueCents)
	case p.Department != b.Department:
		return fmt.Errorf("code is for département %s, the batch is for %s", p.Department, b.Department)
	case p.ValidUntil != c.ValidUntil:
		return fmt.Errorf("code is valid until %s, the chéquier says %s", p.ValidUntil, c.ValidUntil)
	case b.ValidFrom != 0 && p.ValidFrom != b.ValidFrom:
		return fmt.Errorf("code is valid from %s, the batch from %s", p.ValidFrom, b.ValidFrom)
	}
	return nil
}

func checkActivation(c *Chequier) error {
	if c.ActivationCode == "" {
		return errors.New("empty, but the chéquier requires activation")
	}
	d, err := voucher.Parse(c.ActivationCode)
	if err != nil {
		return fmt.Errorf("does not parse: %w", err)
	}
	a, ok := d.Payload.(voucher.Activation)
	if !ok {
		return fmt.Errorf("is a %s code, not an activation code", d.Type)
	}
	if n := voucher.FormatChequierNumber(a.Department, a.Year, a.Seq); n != c.Number {
		return fmt.Errorf("activates chéquier %s, not %s", n, c.Number)
	}
	return nil
}

// Render writes one PDF: the batch summary sheet, then for each chéquier its
// cover and its vouchers. Nothing is written to w unless every chéquier is
// valid and every page was drawn. Render holds the whole document in
// memory (fpdf does): for a large batch use RenderFiles.
func Render(w io.Writer, b Batch, chequiers []Chequier, opt Options) error {
	return defaultEngine.render(w, b, chequiers, opt)
}

var errStopped = errors.New("printing: stopped")
