package programme

import (
	"strings"

	"passnum"
)

// laPosteSIREN is the one SIREN whose establishments' SIRETs need not follow
// the Luhn key: there are more of them than a Luhn-checked NIC allows, so
// INSEE checks them by a digit sum divisible by 5 instead (the head office,
// 356 000 000 00048, still passes Luhn).
const laPosteSIREN = "356000000"

// CheckSIRET validates a SIRET (14 digits: the SIREN of the legal entity
// and the NIC of the establishment) by its Luhn key, accepting the spaces
// people type, and returns its 14 digits.
func CheckSIRET(s string) (string, error) {
	digits, ok := siretDigits(s)
	if !ok {
		return "", passnum.Invalid("%q n'est pas un SIRET, qui compte 14 chiffres (SIREN et NIC), comme sur l'avis de situation INSEE de la structure.", passnum.Shorten(s, 32)).On("siret")
	}
	if digits[:9] == laPosteSIREN {
		sum := 0
		for _, c := range digits {
			sum += int(c - '0')
		}
		if sum%5 != 0 && !luhn(digits) {
			return "", wrongKey(digits)
		}
		return digits, nil
	}
	if !luhn(digits) {
		return "", wrongKey(digits)
	}
	return digits, nil
}

func wrongKey(siret string) error {
	return passnum.Invalid("Le SIRET %s a une clé de contrôle fausse : un chiffre a été mal saisi. Recopiez-le depuis l'avis de situation INSEE.", siret).On("siret")
}

// luhn reports whether a digit string passes the Luhn check.
func luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// siretDigits returns the 14 digits of a SIRET as people type it (spaces
// and dots allowed), and false when it is not 14 digits at all: the key is
// not checked.
func siretDigits(s string) (string, bool) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '.' {
			return -1
		}
		return r
	}, s)
	return digits, len(digits) == 14 && strings.Trim(digits, "0123456789") == ""
}
