// Package csvsafe writes CSV files that are safe to open in a spreadsheet.
//
// A cell starting with =, +, -, @, a tab or a carriage return is read by
// Excel, LibreOffice and Google Sheets as a formula, which may fetch a URL
// or run a command when an auditor or a paying office opens the file
// (OWASP "CSV injection"). Text written by passnum comes partly from
// callers (a venue's name, an adjustment's reason), so every cell goes
// through Cell, the one place that neutralises it: such a cell is written
// with a single quote in front, which spreadsheets show as plain text.
package csvsafe

import (
	"encoding/csv"
	"io"
)

// Writer is a csv.Writer whose every cell goes through Cell. It has no
// WriteAll, so no row can bypass it.
type Writer struct {
	w *csv.Writer
}

// NewWriter writes CSV to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one row, each cell neutralised.
func (w *Writer) Write(record []string) error {
	safe := make([]string, len(record))
	for i, cell := range record {
		safe[i] = Cell(cell)
	}
	return w.w.Write(safe)
}

// Flush writes what is buffered; Error then says whether any write failed.
func (w *Writer) Flush() { w.w.Flush() }

// Error is the first error of a Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }

// Cell returns s as it can be written safely: unchanged unless it starts
// like a formula, then with a single quote in front.
//
// A plain decimal number ("-12.00", "-1200", as passnum writes a negative
// amount) is left unchanged although it starts with "-": it is a number,
// not a formula, to every spreadsheet, and quoting it would turn the
// amounts a paying office sums into text. Only an optional "-", digits and
// at most one "." with digits after it count as plain: "-1+2", "+1",
// "-1e5" are quoted.
func Cell(s string) string {
	if s == "" || plainNumber(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func plainNumber(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}
