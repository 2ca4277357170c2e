package passnum

import (
	"strings"

	"passnum/voucher"
)

// DepartmentCode reads a département code as people type it ("2a", " 78")
// and returns it as stored ("2A", "78"), or an invalid error. It is the one
// reading of a code that someone typed, on every edge and in every service,
// so that a wrong code gets the same words everywhere; voucher holds what a
// valid code is.
func DepartmentCode(s string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(s))
	if !voucher.ValidDepartment(code) {
		return "", Invalid("« %s » n'est pas un code de département : donnez le code officiel, comme 78, 2A ou 971.", Shorten(s, 20))
	}
	return code, nil
}

// Shorten cuts what someone typed to n characters, so that a message
// quoting it stays readable whatever was typed.
func Shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
