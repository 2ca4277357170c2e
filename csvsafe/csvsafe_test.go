package csvsafe_test

import (
	"testing"

	"passnum/csvsafe"
)

func TestCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"Médiathèque de Trappes", "Médiathèque de Trappes"},
		{"REL-78-2026-11-0001", "REL-78-2026-11-0001"},
		{"12.00", "12.00"},
		{"-12.00", "-12.00"},
		{"-1200", "-1200"},
		{"0", "0"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"@SUM(1)", "'@SUM(1)"},
		{"+1", "'+1"},
		{"-1+2", "'-1+2"},
		{"-1e5", "'-1e5"},
		{"-12.", "'-12."},
		{"-.5", "'-.5"},
		{"-12.0.0", "'-12.0.0"},
		{"-", "'-"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
	} {
		if got := csvsafe.Cell(c.in); got != c.want {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
