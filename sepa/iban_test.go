package sepa

import (
	"strings"
	"testing"
)

// Real-world valid IBANs, as people type them (grouped by four).
var validIBANs = []struct {
	name, typed, electronic string
}{
	{"French", "FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"},
	{"French with letters in the account number", "FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"},
	{"German", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
	{"British with letters in the bank code", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"},
	{"Belgian", "BE68 5390 0754 7034", "BE68539007547034"},
}

func TestCheckIBANAcceptsRealIBANs(t *testing.T) {
	for _, tc := range validIBANs {
		for _, form := range []struct{ how, typed string }{
			{"grouped by four", tc.typed},
			{"in electronic form", tc.electronic},
			{"in lower case", strings.ToLower(tc.typed)},
			{"with stray spaces", "  " + strings.ReplaceAll(tc.typed, " ", "  ") + " "},
		} {
			t.Run(tc.name+" "+form.how, func(t *testing.T) {
				got, err := CheckIBAN(form.typed)
				if err != nil {
					t.Fatalf("CheckIBAN(%q): %v", form.typed, err)
				}
				if got != tc.electronic {
					t.Errorf("CheckIBAN(%q) = %q, want %q", form.typed, got, tc.electronic)
				}
			})
		}
	}
}

// Every digit typed for another, every letter typed for another and every
// swap of two neighbouring characters must be caught: those are the
// mistakes of someone copying an IBAN from a RIB, and mod 97 catches them
// all. (A letter typed for a digit is not always caught by mod 97; the
// country formats catch it, see TestCheckIBANRejectsMalformedIBANs.)
func TestCheckIBANCatchesEveryMistypedCharacterAndSwap(t *testing.T) {
	for _, tc := range validIBANs {
		t.Run(tc.name+" one character mistyped", func(t *testing.T) {
			iban := tc.electronic
			for i := range len(iban) {
				others := "0123456789"
				if isLetter(iban[i]) {
					others = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				}
				for _, c := range others {
					typo := iban[:i] + string(c) + iban[i+1:]
					if typo == iban {
						continue
					}
					if _, err := CheckIBAN(typo); err == nil {
						t.Errorf("CheckIBAN(%q) (character %d changed) accepted it", typo, i+1)
					}
				}
			}
		})
		t.Run(tc.name+" two neighbours swapped", func(t *testing.T) {
			iban := tc.electronic
			for i := 0; i+1 < len(iban); i++ {
				if iban[i] == iban[i+1] {
					continue
				}
				swapped := iban[:i] + string(iban[i+1]) + string(iban[i]) + iban[i+2:]
				if _, err := CheckIBAN(swapped); err == nil {
					t.Errorf("CheckIBAN(%q) (characters %d and %d swapped) accepted it", swapped, i+1, i+2)
				}
			}
		})
	}
}

func TestCheckIBANRejectsMalformedIBANs(t *testing.T) {
	for _, tc := range []struct {
		name, typed, want string
	}{
		{"empty", "  ", "the IBAN is empty"},
		{"one character missing", "FR76 3000 6000 0112 3456 7890 18", "has 26 characters where a FR IBAN has 27"},
		{"one character extra", "DE89 3704 0044 0532 0130 000", "has 23 characters where a DE IBAN has 22"},
		{"Belgian cut to a German length", "BE68 5390 0754 7034 00", "a BE IBAN has 16"},
		{"unknown country", "XX76 3000 6000 0112 3456 7890 189", "XX is not a country of the SEPA area"},
		{"country outside SEPA", "BR18 0036 0305 0000 1000 9795 493C 1", "BR is not a country of the SEPA area"},
		{"no country code", "7630 0060 0001 1234 5678 9018 9", "does not start with a country code"},
		{"letters for check digits", "FRAB 3000 6000 0112 3456 7890 189", "3rd and 4th characters must be the check digits"},
		{"letter O typed for a zero in a bank code", "FR76 3OOO 6000 0112 3456 7890 189", "character 6 (not counting spaces) is 'O' where a FR IBAN has a digit"},
		{"letter I typed for a one in a German account", "DE89 3704 0044 0532 0I30 00", "character 18 (not counting spaces) is 'I' where a DE IBAN has a digit"},
		{"letter typed for a digit in a Belgian account", "BE68 5390 0754 K034", "is 'K' where a BE IBAN has a digit"},
		{"digit in a British bank code", "GB82 W3ST 1234 5698 7654 32", "is '3' where a GB IBAN has a letter"},
		{"dashes between groups", "FR76-3000-6000-0112-3456-7890-189", "'-' is not allowed"},
		{"accented letter", "FR14 2004 1010 0505 0001 3É02 606", "'É' is not allowed"},
		{"punctuation", "DE89.3704.0044.0532.0130.00", "'.' is not allowed"},
		{"dotless i that upper-cases to I", "GB82 WEST 1234 5698 7654 32ı", "'ı' is not allowed"},
		// Check digits 00, 01 and 99 pass mod 97 yet are never issued.
		{"check digits 00", "FR00 3000 6000 0112 3456 7890 102", "check digits do not match"},
		{"check digits 01", "FR01 3000 6000 0112 3456 7890 181", "check digits do not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckIBAN(tc.typed)
			if err == nil {
				t.Fatalf("CheckIBAN(%q) = %q, want an error", tc.typed, got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckIBAN(%q) error %q does not say %q", tc.typed, err, tc.want)
			}
		})
	}
}

// The same numbers with check digits 97 and 98 are valid: the test above
// rejects 00 and 01 for the rule, not for the mod-97 sum.
func TestCheckIBANAcceptsCheckDigits97And98(t *testing.T) {
	for _, typed := range []string{"FR97 3000 6000 0112 3456 7890 102", "FR98 3000 6000 0112 3456 7890 181"} {
		if _, err := CheckIBAN(typed); err != nil {
			t.Errorf("CheckIBAN(%q): %v", typed, err)
		}
	}
}

// One example per country of the SEPA scheme, from the SWIFT IBAN
// registry: a wrong row of the format table would reject real accounts.
func TestCheckIBANAcceptsEverySEPACountry(t *testing.T) {
	examples := []string{
		"AD1200012030200359100100", "AL47212110090000000235698741", "AT611904300234573201",
		"BE68539007547034", "BG80BNBG96611020345678", "CH9300762011623852957",
		"CY17002001280000001200527600", "CZ6508000000192000145399", "DE89370400440532013000",
		"DK5000400440116243", "EE382200221020145685", "ES9121000418450200051332",
		"FI2112345600000785", "FR1420041010050500013M02606", "GB29NWBK60161331926819",
		"GI75NWBK000000007099453", "GR1601101250000000012300695", "HR1210010051863000160",
		"HU42117730161111101800000000", "IE29AIBK93115212345678", "IS140159260076545510730339",
		"IT60X0542811101000000123456", "LI21088100002324013AA", "LT121000011101001000",
		"LU280019400644750000", "LV80BANK0000435195001", "MC5811222000010123456789030",
		"MD24AG000225100013104168", "ME25505000012345678951", "MK07250120000058984",
		"MT84MALT011000012345MTLCAST001S", "NL91ABNA0417164300", "NO9386011117947",
		"PL61109010140000071219812874", "PT50000201231234567890154", "RO49AAAA1B31007593840000",
		"RS35260005601001611379", "SE4550000000058398257466", "SI56263300012039086",
		"SK3112000000198742637541", "SM86U0322509800000000270100", "VA59001123000012345678",
	}
	countries := map[string]bool{}
	for _, iban := range examples {
		countries[iban[:2]] = true
		if _, err := CheckIBAN(iban); err != nil {
			t.Errorf("CheckIBAN(%q): %v", iban, err)
		}
	}
	for country := range ibanFormats {
		if !countries[country] {
			t.Errorf("no example IBAN for %s: add the registry's", country)
		}
	}
}

func TestFormatIBANGroupsByFour(t *testing.T) {
	for _, tc := range validIBANs {
		if got := FormatIBAN(tc.electronic); got != tc.typed {
			t.Errorf("FormatIBAN(%q) = %q, want %q", tc.electronic, got, tc.typed)
		}
	}
}

func TestCheckBIC(t *testing.T) {
	for _, tc := range []struct {
		name, typed, want, wantErr string
	}{
		{name: "8 characters", typed: "BNPAFRPP", want: "BNPAFRPP"},
		{name: "11 characters with branch", typed: "BNPAFRPPXXX", want: "BNPAFRPPXXX"},
		{name: "digits in location and branch", typed: "DEUTDEDB110", want: "DEUTDEDB110"},
		{name: "lower case with spaces", typed: " ceps fr pp 313 ", want: "CEPSFRPP313"},
		{name: "empty", typed: "", wantErr: "has 0 characters"},
		{name: "9 characters", typed: "BNPAFRPPX", wantErr: "has 9 characters where a BIC has 8 or 11"},
		{name: "12 characters", typed: "BNPAFRPPXXXX", wantErr: "has 12 characters"},
		{name: "digit in bank code", typed: "BNP1FRPP", wantErr: "first 6 characters (bank and country codes) must be letters"},
		{name: "digit in country code", typed: "BNPAF1PP", wantErr: "must be letters"},
		{name: "punctuation in branch", typed: "BNPAFRPP-XX", wantErr: "'-' is not allowed"},
		{name: "accented letter", typed: "BNPAFRPé", wantErr: "'é' is not allowed"},
		{name: "location starting with 0", typed: "BNPAFR0P", wantErr: "location code 0P does not exist"},
		{name: "location ending with the letter O", typed: "BNPAFRPO", wantErr: "location code PO does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckBIC(tc.typed)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("CheckBIC(%q) = %q, %v; want an error saying %q", tc.typed, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CheckBIC(%q) = %q, %v; want %q", tc.typed, got, err, tc.want)
			}
		})
	}
}
