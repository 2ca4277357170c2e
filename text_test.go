package passnum_test

import (
	"errors"
	"strings"
	"testing"

	"passnum"
)

func TestText(t *testing.T) {
	name := passnum.Text{What: "Le nom du lieu", Max: 5, Required: true}
	address := passnum.Text{What: "L'adresse", Max: 20, Lines: true}
	reason := passnum.Reason("perdu")
	for _, c := range []struct {
		name string
		rule passnum.Text
		in   string
		want string // the trimmed text; "" with msg for a refusal
		msg  string
	}{
		{"OK", name, "  Café ", "Café", ""},
		{"AtMax", name, "éé éé", "éé éé", ""}, // characters, not bytes
		{"ErrTooLong", name, "éééééé", "", "Le nom du lieu fait de 1 à 5 caractères, sans caractère de contrôle."},
		{"ErrEmpty", name, " \t ", "", "Le nom du lieu fait de 1 à 5 caractères, sans caractère de contrôle."},
		{"ErrNUL", name, "a\x00b", "", "Le nom du lieu fait de 1 à 5 caractères, sans caractère de contrôle."},
		{"ErrLineFeed", name, "a\nb", "", "Le nom du lieu fait de 1 à 5 caractères, sans caractère de contrôle."},
		{"ErrC1", name, "a\u0085b", "", "Le nom du lieu fait de 1 à 5 caractères, sans caractère de contrôle."},
		{"ErrBadUTF8", name, "a\xffb", "", "Le nom du lieu fait de 1 à 5 caractères, sans caractère de contrôle."},
		{"OptionalEmpty", address, "", "", ""},
		{"Lines", address, "1 rue X\n78000 Y", "1 rue X\n78000 Y", ""},
		{"ErrTabInLines", address, "1 rue X\t78000", "", "L'adresse fait au plus 20 caractères, sur une ou plusieurs lignes, sans autre caractère de contrôle."},
		{"ErrReasonEmpty", reason, "", "", "Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « perdu »."},
		{"ErrReasonTooLong", reason, strings.Repeat("x", 201), "", "Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « perdu »."},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.rule.Check(c.in)
			if c.msg == "" {
				if err != nil || got != c.want {
					t.Fatalf("%q, %v; want %q", got, err, c.want)
				}
				return
			}
			var pe *passnum.Error
			if !errors.As(err, &pe) || pe.Kind != passnum.KindInvalid || pe.Code != passnum.EInvalid || pe.Message != c.msg {
				t.Fatalf("%#v, want invalid %q", err, c.msg)
			}
		})
	}
}
