package programme

import (
	"strings"

	"passnum"
)

// CheckPhone reads a French phone number as people type it ("0139077878",
// "01.39.07.78.78", "+33 1 39 07 78 78") and returns it as it is printed,
// in pairs: "01 39 07 78 78". A four-digit short number of a public
// service ("3939") is kept as is. It is the one rule of the département's
// contact number, printed on the chéquiers' covers and the statements,
// where a wrong number leaves a beneficiary who lost a chéquier with
// nobody to call.
func CheckPhone(s string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '\u00a0', '\u202f':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(digits, "+33"); ok {
		digits = "0" + strings.TrimPrefix(rest, "0") // "+33 (0)1…" is written too, without the brackets
	}
	allDigits := digits != "" && strings.Trim(digits, "0123456789") == ""
	switch {
	case allDigits && len(digits) == 4 && digits[0] == '3':
		return digits, nil
	case allDigits && len(digits) == 10 && digits[0] == '0' && digits[1] != '0':
		var b strings.Builder
		for i := 0; i < 10; i += 2 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(digits[i : i+2])
		}
		return b.String(), nil
	}
	return "", passnum.Invalid("« %s » n’est pas un numéro de téléphone : donnez ses 10 chiffres, comme 01 39 07 78 78, ou un numéro court comme 3939.", passnum.Shorten(s, 24))
}
