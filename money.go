package passnum

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an integer number of cents everywhere (design decision 1); these
// two functions are the only conversions to and from text in euros.

// FormatEuros writes cents as euros with two decimals: 1050 -> "10.50".
func FormatEuros(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// ParseEuros reads an amount in euros with at most two decimals ("10",
// "10.5", "10.50", "10,50") into cents, without ever going through a float.
func ParseEuros(s string) (int64, error) {
	s = strings.TrimSpace(strings.Replace(s, ",", ".", 1))
	whole, frac, hasFrac := strings.Cut(s, ".")
	bad := Invalid("%q is not an amount in euros: write it like 10 or 10.50", s)
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || strings.HasPrefix(whole, "+") || strings.HasPrefix(whole, "-") {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1<<40 {
		return 0, bad
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || frac[0] == '+' || frac[0] == '-' {
			return 0, bad
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}
