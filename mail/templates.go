package mail

import (
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"
	_ "time/tzdata" // Europe/Paris must load on any machine
)

// The messages passnum sends, one struct each: the service fills one in
// and calls its Message method. The French text is in templates/, read as
// a beneficiary's helper or a venue's manager would read it: short
// sentences, common words, what to do if the message was not expected.

// Invitation asks a person to open an account with a role in an
// organisation.
type Invitation struct {
	To           string    // the address invited
	InvitedBy    string    // who invites, as the person knows them: "Claire Martin, Département des Yvelines"
	Organisation string    // "CCAS de Trappes"
	Role         string    // in French: "agent de distribution"
	Link         string    // to accept, single use
	Expires      time.Time // when the link stops working
	Date         time.Time // now, from the service's clock
}

// Message writes the invitation.
func (d Invitation) Message() (Message, error) {
	if err := present(d.InvitedBy, d.Organisation, d.Role); err != nil {
		return Message{}, err
	}
	return render("invitation", d.To, d.Link, d.Date, d.Expires, d)
}

// PasswordReset sends the link to choose a new password.
type PasswordReset struct {
	To      string
	Link    string    // single use
	Expires time.Time // when the link stops working
	Date    time.Time // now, from the service's clock
}

// Message writes the reset message.
func (d PasswordReset) Message() (Message, error) {
	return render("reset", d.To, d.Link, d.Date, d.Expires, d)
}

// BankDetailsChanged tells a venue and its paying départements that the
// venue's bank details changed, once a second person approved the change.
type BankDetailsChanged struct {
	To          string
	Venue       string // the venue's name
	IBAN        string // the new IBAN: only its last 4 characters are written
	RequestedBy string // who asked: "agent 17, Département des Yvelines"
	ApprovedBy  string // who approved
	Contact     string // whom to call if the change is unknown: "le Département des Yvelines au 01 39 07 78 78"
	Date        time.Time
}

// Message writes the notice.
func (d BankDetailsChanged) Message() (Message, error) {
	if err := present(d.Venue, d.RequestedBy, d.ApprovedBy, d.Contact); err != nil {
		return Message{}, err
	}
	if len(compactIBAN(d.IBAN)) < 15 { // the shortest IBAN, Norway's
		return Message{}, errors.New("mail: the IBAN is too short to be one")
	}
	return render("bankdetails", d.To, "", d.Date, time.Time{}, d)
}

// PayingOfficeChanged tells a département's money people that the
// account its venues are paid from changed, once a second person
// confirmed it.
type PayingOfficeChanged struct {
	To          string
	Department  string // "Yvelines (78)"
	Payer       string // the paying office's name
	IBAN        string // only its last 4 characters are written
	RequestedBy string
	ApprovedBy  string
	Date        time.Time
}

// Message writes the notice.
func (d PayingOfficeChanged) Message() (Message, error) {
	if err := present(d.Department, d.Payer, d.RequestedBy, d.ApprovedBy); err != nil {
		return Message{}, err
	}
	if len(compactIBAN(d.IBAN)) < 15 {
		return Message{}, errors.New("mail: the IBAN is too short to be one")
	}
	return render("payingoffice", d.To, "", d.Date, time.Time{}, d)
}

// Test is the message 'passnum mail test' sends, to check the settings.
type Test struct {
	To   string
	Date time.Time
}

// Message writes the test message.
func (d Test) Message() (Message, error) {
	return render("test", d.To, "", d.Date, time.Time{}, d)
}

//go:embed templates/*.txt
var files embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date":     frenchDateTime,
	"duration": frenchDuration,
	"last4":    func(iban string) string { s := compactIBAN(iban); return s[len(s)-4:] },
}).ParseFS(files, "templates/*.txt"))

// render writes the message name from its templates name/subject and
// name/text. A link must be an absolute http(s) URL, an expiry after the
// date: a message that says otherwise would mislead its reader.
func render(name, to, link string, date, expires time.Time, data any) (Message, error) {
	if link != "" {
		if u, err := url.Parse(link); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(link, " \t\r\n") {
			return Message{}, fmt.Errorf("mail: %q is not an absolute http(s) link", link)
		}
	}
	if date.IsZero() {
		return Message{}, errNoDate
	}
	if name == "invitation" || name == "reset" {
		if link == "" || !expires.After(date) {
			return Message{}, fmt.Errorf("mail: a %s needs a link and an expiry after its date", name)
		}
	}
	var subject, text strings.Builder
	if err := templates.ExecuteTemplate(&subject, name+"/subject", data); err != nil {
		return Message{}, err
	}
	if err := templates.ExecuteTemplate(&text, name+"/text", data); err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: subject.String(), Text: text.String(), Link: link, Date: date}, nil
}

// present checks that none of the texts a message names is empty.
func present(texts ...string) error {
	for _, s := range texts {
		if strings.TrimSpace(s) == "" {
			return errors.New("mail: a text the message needs is empty")
		}
	}
	return nil
}

func compactIBAN(s string) string { return strings.ToUpper(strings.ReplaceAll(s, " ", "")) }

// paris is where the programme's people read times.
var paris, _ = time.LoadLocation("Europe/Paris") // time/tzdata is linked: it loads

var months = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// frenchDateTime writes an instant as a French reader says it, in Paris
// time: "1er décembre 2026 à 15 h", "9 décembre 2026 à 15 h 30".
func frenchDateTime(t time.Time) string {
	t = t.In(paris)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	s := fmt.Sprintf("%s %s %d à %d h", day, months[t.Month()-1], t.Year(), t.Hour())
	if t.Minute() != 0 {
		s += fmt.Sprintf(" %02d", t.Minute())
	}
	return s
}

// frenchDuration writes how long from start to end in one unit: "7 jours",
// "1 heure", "30 minutes" (rounded down).
func frenchDuration(start, end time.Time) string {
	d := end.Sub(start)
	n, unit := int(d/time.Minute), "minute"
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int(d/(24*time.Hour)), "jour"
	case d >= time.Hour && d%time.Hour == 0:
		n, unit = int(d/time.Hour), "heure"
	}
	if n > 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}
