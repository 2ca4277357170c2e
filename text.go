package passnum

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is the rule of one free-text field (a name, an address, a reason, a
// session label…): at most Max characters of valid UTF-8 once trimmed, no
// control character, and not empty when Required. Every service checks
// every free text with it, so that the command line and the API refuse the
// same text with the same words. Control characters are refused because
// PostgreSQL refuses NUL in text (that would be an internal error) and no
// label or reason needs the others; a newline in a name would break the
// CSV and the PDF that print it.
type Text struct {
	// What names the thing in French as a sentence starts: "Le motif",
	// "Le nom du lieu", "L'adresse".
	What     string
	Max      int
	Required bool
	// Lines allows line feeds, the only control character a multi-line
	// text (a postal address, printed on the statements) needs.
	Lines bool
	// Example, when set, shows what to write ("perdu").
	Example string
	// Field, when set, is the request's member the text comes in, which
	// a refusal names so that a page marks that field.
	Field string
}

// Reason is the rule of the "why" of a change, written to the ledger with
// it; example is shown to whoever forgets it.
func Reason(example string) Text {
	return Text{What: "Le motif", Max: 200, Required: true, Example: example}
}

// Check returns s trimmed of surrounding spaces, or an invalid error that
// states the rule.
func (t Text) Check(s string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n > t.Max || t.Required && n == 0 || !utf8.ValidString(s) || strings.ContainsFunc(s, t.control) {
		return "", Invalid("%s", t.rule()).On(t.Field)
	}
	return s, nil
}

func (t Text) control(r rune) bool {
	return unicode.IsControl(r) && !(t.Lines && r == '\n')
}

// rule is the French sentence of the rule, the message of every refusal.
func (t Text) rule() string {
	length := "au plus"
	if t.Required {
		length = "de 1 à"
	}
	control := "sans caractère de contrôle"
	if t.Lines {
		control = "sur une ou plusieurs lignes, sans autre caractère de contrôle"
	}
	msg := fmt.Sprintf("%s fait %s %d caractères, %s.", t.What, length, t.Max, control)
	if t.Example != "" {
		msg += " Par exemple : « " + t.Example + " »."
	}
	return msg
}

// Plural is singular or plural by count, the French way: 0 and 1 take the
// singular. Every count a person reads is written with it, never
// "chéquier(s)".
func Plural[N ~int | ~int64](n N, singular, plural string) string {
	if n > 1 {
		return plural
	}
	return singular
}
