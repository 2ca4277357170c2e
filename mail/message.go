// Package mail writes passnum's emails in French and sends them: over SMTP
// when the installation has a server (STARTTLS required unless the operator
// says otherwise, never a password in clear text), or to the operator's
// outbox, a writer, when it has none, so that the operator hands the link
// over. The messages are plain text, UTF-8, base64 (a link never breaks),
// and their headers cannot be forged by what they carry.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"passnum"
)

// Sender sends one message to its one recipient.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Message is one email to one person; the templates (templates.go) write
// them.
type Message struct {
	To      string // "prenom.nom@exemple.fr" or "Prénom Nom <prenom.nom@exemple.fr>"
	Subject string
	Text    string // the body, plain text, lines ending in \n
	// Link is the one link the person must open, if any; the body has it
	// too, and the operator's outbox shows it apart.
	Link string
	// Date is when the message was written, from the service's clock
	// (ledger DB.Now): a message has no clock of its own.
	Date time.Time
}

// CheckAddress returns an email address in its canonical form ("Nom
// <a@exemple.fr>" or "<a@exemple.fr>" written a@exemple.fr), or an invalid
// error saying how to write one. A line break or any control character is
// refused, so an address cannot add headers to a message.
func CheckAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || hasControl(s) || hasControl(a.Name) {
		return nil, passnum.Invalid("L’adresse e-mail « %s » n’est pas valide. Écrivez-la ainsi : prenom.nom@exemple.fr.", printable(s))
	}
	return a, nil
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// printable shows a refused text without its control characters, so the
// refusal cannot itself break a line of a log or a page.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// errNoDate is a message built without its date: a bug in the caller.
var errNoDate = errors.New("mail: the message has no date: set Message.Date from the service's clock")

// envelope is a message checked and written out: who it is from and to
// (for SMTP's MAIL FROM and RCPT TO) and its bytes, with CRLF line ends.
type envelope struct {
	from, to string
	raw      []byte
}

// compose checks m and writes it as RFC 5322 with MIME: the subject RFC 2047
// encoded, the body UTF-8 in base64. Nothing in the message can add a
// header: addresses and the subject with a line break are refused.
func compose(from *mail.Address, m Message) (envelope, error) {
	to, err := CheckAddress(m.To)
	if err != nil {
		return envelope{}, err
	}
	switch {
	case strings.TrimSpace(m.Subject) == "" || hasControl(m.Subject):
		return envelope{}, fmt.Errorf("mail: the subject %q is empty or has a line break or control character", m.Subject)
	case m.Date.IsZero():
		return envelope{}, errNoDate
	}
	id := make([]byte, 16)
	rand.Read(id)
	_, domain, _ := strings.Cut(from.Address, "@")
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", fold(encodeWords(m.Subject), len("Subject: ")))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "base64")
	// RFC 3834: no out-of-office answer to a message no one wrote by hand.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	body := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n")))
	for len(body) > 76 {
		b.WriteString(body[:76] + "\r\n")
		body = body[76:]
	}
	b.WriteString(body + "\r\n")
	return envelope{from: from.Address, to: to.Address, raw: b.Bytes()}, nil
}

// encodeWords writes a header's text as RFC 2047 encoded words ("Q"
// encoding, UTF-8) separated by spaces, each short enough that a folded
// line stays within 78 characters; ASCII text stays as it is. The standard
// library's encoder makes words up to 75 characters, one too long for a
// line that starts with "Subject: ", and leaves ASCII runs unencoded, so
// that they cannot be cut in words.
func encodeWords(s string) []string {
	if mime.QEncoding.Encode("utf-8", s) == s {
		return strings.Split(s, " ")
	}
	const prefix, most = "=?utf-8?q?", 50 // encoded characters per word
	var words []string
	var word strings.Builder
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		default:
			for _, c := range []byte(string(r)) {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if word.Len() > 0 && word.Len()+len(enc) > most {
			words = append(words, prefix+word.String()+"?=")
			word.Reset()
		}
		word.WriteString(enc)
	}
	return append(words, prefix+word.String()+"?=")
}

// fold joins a header's words with spaces, breaking the line before a word
// that would take it past 78 characters (RFC 5322): a reader joins them
// back without the line breaks (and without the spaces between encoded
// words).
func fold(words []string, used int) string {
	var b strings.Builder
	for i, word := range words {
		if i > 0 {
			if used+1+len(word) > 78 {
				b.WriteString("\r\n")
				used = 0
			}
			b.WriteString(" ")
			used++
		}
		b.WriteString(word)
		used += len(word)
	}
	return b.String()
}
