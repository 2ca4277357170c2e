package sepa

import (
	"fmt"
	"strings"
	"unicode"
)

// ibanFormats is the BBAN format of each country of the SEPA scheme, in
// the notation of the SWIFT IBAN registry: 5n is 5 digits, 4a 4 upper-case
// letters, 11c 11 letters or digits. French overseas départements, the
// Canary Islands, Åland and the Channel Islands use their parent country's
// code (FR, ES, FI, GB), so they need no row.
//
// Only these countries are listed, on purpose: a SEPA credit transfer
// cannot reach an account anywhere else, so an IBAN from elsewhere is as
// unusable here as a mistyped one, and saying so early beats a rejection by
// the bank. The format, not just the length, is checked because mod 97
// misses some letters typed for digits (O for 0, I for 1): the letter
// counts as two digits.
var ibanFormats = map[string]string{
	"AD": "4n4n12c", "AL": "8n16c", "AT": "5n11n", "BE": "3n7n2n",
	"BG": "4a4n2n8c", "CH": "5n12c", "CY": "3n5n16c", "CZ": "4n6n10n",
	"DE": "8n10n", "DK": "4n9n1n", "EE": "2n2n11n1n", "ES": "4n4n1n1n10n",
	"FI": "3n11n", "FR": "5n5n11c2n", "GB": "4a6n8n", "GI": "4a15c",
	"GR": "3n4n16c", "HR": "7n10n", "HU": "3n4n1n15n1n", "IE": "4a6n8n",
	"IS": "4n2n6n10n", "IT": "1a5n5n12c", "LI": "5n12c", "LT": "5n11n",
	"LU": "3n13c", "LV": "4a13c", "MC": "5n5n11c2n", "MD": "2c18c",
	"ME": "3n13n2n", "MK": "3n10c2n", "MT": "4a5n18c", "NL": "4a10n",
	"NO": "4n6n1n", "PL": "8n16n", "PT": "4n4n11n2n", "RO": "4a16c",
	"RS": "3n13n2n", "SE": "3n16n1n", "SI": "5n8n2n", "SK": "4n6n10n",
	"SM": "1a5n5n12c", "VA": "3n15n",
}

// bbanClasses spells ibanFormats out: one class (n, a or c) per character
// of the BBAN, so its length is the BBAN's.
var bbanClasses = func() map[string]string {
	m := make(map[string]string, len(ibanFormats))
	for country, format := range ibanFormats {
		var b strings.Builder
		n := 0
		for _, c := range format {
			if '0' <= c && c <= '9' {
				n = n*10 + int(c-'0')
				continue
			}
			b.WriteString(strings.Repeat(string(c), n))
			n = 0
		}
		m[country] = b.String()
	}
	return m
}()

// CheckIBAN validates an IBAN (ISO 13616: country code, two check digits,
// BBAN; mod-97 == 1, the length of its country, letters and digits only)
// for an account a SEPA credit transfer can reach. It accepts spaces and
// lower case as people type them and returns the electronic form (upper
// case, no spaces).
func CheckIBAN(s string) (string, error) {
	typed := strings.TrimSpace(s)
	if typed == "" {
		return "", fmt.Errorf("the IBAN is empty: copy it from the account holder's bank details (RIB)")
	}
	iban, bad, ok := electronic(typed)
	if !ok {
		return "", fmt.Errorf("IBAN %q: %q is not allowed, an IBAN has only letters and digits: copy it again from the bank details", typed, bad)
	}
	if len(iban) < 4 || !isLetter(iban[0]) || !isLetter(iban[1]) {
		return "", fmt.Errorf("IBAN %q does not start with a country code (FR, DE, …): copy it again from the bank details", typed)
	}
	country := iban[:2]
	classes, ok := bbanClasses[country]
	if !ok {
		return "", fmt.Errorf("IBAN %q: %s is not a country of the SEPA area, and a SEPA transfer can only pay an account there: ask for the account holder's IBAN in the SEPA area", typed, country)
	}
	if !isDigit(iban[2]) || !isDigit(iban[3]) {
		return "", fmt.Errorf("IBAN %q: the 3rd and 4th characters must be the check digits: copy it again from the bank details", typed)
	}
	if want := 4 + len(classes); len(iban) != want {
		return "", fmt.Errorf("IBAN %q has %d characters where a %s IBAN has %d: a character is missing or extra, copy it again from the bank details", typed, len(iban), country, want)
	}
	for i := 4; i < len(iban); i++ {
		switch c, class := iban[i], classes[i-4]; {
		case class == 'n' && !isDigit(c):
			return "", fmt.Errorf("IBAN %q: character %d (not counting spaces) is %q where a %s IBAN has a digit: copy it again from the bank details", typed, i+1, c, country)
		case class == 'a' && !isLetter(c):
			return "", fmt.Errorf("IBAN %q: character %d (not counting spaces) is %q where a %s IBAN has a letter: copy it again from the bank details", typed, i+1, c, country)
		}
	}
	// 00, 01 and 99 pass the mod-97 test (they equal 97, 98 and 02 modulo
	// 97) but ISO 13616 never computes them: such an IBAN was made up.
	if cd := iban[2:4]; cd == "00" || cd == "01" || cd == "99" || mod97(iban[4:]+iban[:4]) != 1 {
		return "", fmt.Errorf("IBAN %q: the check digits do not match, a character was mistyped or two were swapped: copy it again from the bank details", typed)
	}
	return iban, nil
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of s read as a number
// where each letter stands for two digits (A = 10 … Z = 35), one digit at a
// time so that no big integer is needed.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLetter(c) {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

// FormatIBAN groups an electronic IBAN by four for display
// ("FR76 3000 6000 0112 3456 7890 189").
func FormatIBAN(iban string) string {
	var b strings.Builder
	for i := 0; i < len(iban); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(iban[i:min(i+4, len(iban))])
	}
	return b.String()
}

// CheckBIC validates a BIC (ISO 9362: 8 or 11 characters, 4 letters for the
// bank, 2 letters for the country, 2 letters or digits for the location,
// optionally 3 for the branch) and returns it upper-cased, without the
// spaces people type. The location follows the pain.001 schema, stricter
// than "2 letters or digits": its first character is not 0 or 1 and its
// second is not the letter O, so that every BIC accepted here is one the
// bank's schema check accepts too.
func CheckBIC(s string) (string, error) {
	typed := strings.TrimSpace(s)
	bic, bad, ok := electronic(typed)
	if !ok {
		return "", fmt.Errorf("BIC %q: %q is not allowed, a BIC has only letters and digits: copy it again from the bank details", typed, bad)
	}
	if len(bic) != 8 && len(bic) != 11 {
		return "", fmt.Errorf("BIC %q has %d characters where a BIC has 8 or 11: copy it again from the bank details", typed, len(bic))
	}
	for i := 0; i < 6; i++ {
		if !isLetter(bic[i]) {
			return "", fmt.Errorf("BIC %q: the first 6 characters (bank and country codes) must be letters: copy it again from the bank details", typed)
		}
	}
	if bic[6] == '0' || bic[6] == '1' || bic[7] == 'O' {
		return "", fmt.Errorf("BIC %q: the location code %s does not exist (its 1st character is never 0 or 1, its 2nd never the letter O): copy it again from the bank details", typed, bic[6:8])
	}
	return bic, nil
}

// electronic drops the spaces people type in an IBAN or a BIC and
// upper-cases it. It returns ok false and the culprit at the first
// character that is not an ASCII letter or digit, before any case mapping
// could turn one into a letter (strings.ToUpper makes I of the Turkish ı).
func electronic(typed string) (s string, bad rune, ok bool) {
	var b strings.Builder
	for _, r := range typed {
		switch {
		case unicode.IsSpace(r):
		case 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
		default:
			return "", r, false
		}
	}
	return b.String(), 0, true
}

func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
