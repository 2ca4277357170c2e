package printing

import (
	"strconv"
	"strings"

	"passnum/voucher"
)

// French typography, for what the beneficiary reads: a comma for decimals,
// a narrow no-break space (U+202F) between groups of thousands, a no-break
// space before the euro sign so "10 €" never wraps.
const (
	nnbsp = "\u202f" // narrow no-break space: thousands separator
	nbsp  = "\u00a0" // no-break space: before € and after "n°"
)

// formatEuros writes integer cents the French way: "10 €", "12,50 €",
// "50 000 €". Money is never a float (design decision 1).
func formatEuros(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	s := sign + groupThousands(cents/100)
	if c := cents % 100; c != 0 {
		s += "," + string(rune('0'+c/10)) + string(rune('0'+c%10))
	}
	return s + nbsp + "€"
}

// formatCount writes a count with French digit grouping: "10 000".
func formatCount(n int) string {
	if n < 0 {
		return "-" + groupThousands(int64(-n))
	}
	return groupThousands(int64(n))
}

// groupThousands groups from four digits on ("1 000 €"), as amounts and
// counts are printed in France; dates and numbers such as the chéquier
// number are not amounts and are not grouped.
func groupThousands(n int64) string {
	digits := strconv.FormatInt(n, 10)
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	b.WriteString(digits[:head])
	for i := head; i < len(digits); i += 3 {
		if i > 0 {
			b.WriteString(nnbsp)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// formatDay writes a date as the French read it: "31/12/2027".
func formatDay(d voucher.Day) string {
	y, m, dd := d.Date()
	return pad2(dd) + "/" + pad2(int(m)) + "/" + strconv.Itoa(y)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// plural returns singular or plural by count (French: 0 and 1 are singular).
func plural(n int, singular, pluralForm string) string {
	if n > 1 {
		return pluralForm
	}
	return singular
}
