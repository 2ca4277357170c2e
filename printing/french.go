package printing

import (
	"strconv"
	"strings"
	"time"

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

// formatCount writes a count with French digit grouping: "10 000". It
// takes int64 too, the type of the programme's figures.
func formatCount[N int | int64](n N) string {
	if n < 0 {
		return "-" + groupThousands(int64(-n))
	}
	return groupThousands(int64(n))
}

// minus is the sign of a negative amount: U+2212, as wide as a plus sign,
// where a hyphen is short and may be taken for a dash.
const minus = "\u2212"

// formatSignedEuros writes an amount that may be negative, such as a
// reversal on a statement, with a real minus sign: "−12,50 €".
func formatSignedEuros(cents int64) string {
	if cents < 0 {
		return minus + formatEuros(-cents)
	}
	return formatEuros(cents)
}

// formatPercent writes num/den as a percentage rounded half up to the given
// number of decimals, in integers only: formatPercent(150, 10000, 2) is
// "1,50 %". num and den must be non-negative and den positive.
func formatPercent(num, den int64, decimals int) string {
	scale := int64(1)
	for range decimals {
		scale *= 10
	}
	q := (2*num*100*scale + den) / (2 * den)
	s := groupThousands(q / scale)
	if decimals > 0 {
		frac := strconv.FormatInt(q%scale, 10)
		s += "," + strings.Repeat("0", decimals-len(frac)) + frac
	}
	return s + nbsp + "%"
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

var (
	monthNames = [12]string{"janvier", "février", "mars", "avril", "mai", "juin",
		"juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	// The abbreviations of the Imprimerie nationale: "mars", "mai", "juin"
	// and "août" are short enough already.
	monthAbbreviations = [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin",
		"juil.", "août", "sept.", "oct.", "nov.", "déc."}
)

// formatLongDay writes a date in words, as in a period: "1er octobre 2026",
// "31 octobre 2026".
func formatLongDay(d voucher.Day) string {
	y, m, dd := d.Date()
	day := strconv.Itoa(dd)
	if dd == 1 {
		day = "1er"
	}
	return day + " " + monthNames[m-1] + " " + strconv.Itoa(y)
}

// formatMonth writes a month as a chart or table label: "oct. 2026".
func formatMonth(y int, m time.Month) string {
	return monthAbbreviations[m-1] + " " + strconv.Itoa(y)
}

// paris is where the programme's users read times.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // time/tzdata is linked by the voucher package
	}
	return loc
}()

// formatDateTime writes an instant in Paris time as the French read it:
// "12/10/2026 14:05".
func formatDateTime(t time.Time) string {
	return t.In(paris).Format("02/01/2006 15:04")
}

// departmentLabel names a département as its people do, "Yvelines (78)",
// or by its code alone when the name is not known.
func departmentLabel(code, name string) string {
	if name == "" {
		return "Département " + code
	}
	return name + " (" + code + ")"
}
