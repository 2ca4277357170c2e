package api

import (
	"passnum/access"
	"slices"

	"github.com/labstack/echo/v4"

	"passnum"
)

// What each role may reach beyond what require admits, in one place:
//
//   - admin and auditor see every département; an auditor changes nothing
//     (its routes are GET only).
//   - A département key, and the people of a département or of its
//     distribution structures, see and change their own département only. Asking
//     for another by name (a path segment, a query or body field) is 403
//     forbidden: the caller knows what it asked for. A thing found by its
//     own id or number (a batch, chéquier, voucher or venue) that belongs
//     to another département is 404 not_found, as if it did not exist, like
//     another venue's redemption: its existence is not revealed.
//   - A venue key, and a venue's people, see their own venue and its
//     statements only (404 otherwise).

// ownDepartment is the only département the caller may see, or "" for all
// (a venue's principal reaches its own venue in any département, below).
func ownDepartment(p access.Principal) string { return p.Department }

// mayReachVenue reports whether the caller may see venue id: a venue's
// principal its own only.
func mayReachVenue(p access.Principal, id int64) bool { return p.VenueID == 0 || p.VenueID == id }

// mayReach reports whether the caller may see data of département code.
func mayReach(p access.Principal, code string) bool {
	own := ownDepartment(p)
	return own == "" || own == code
}

// mayReachAny reports whether the caller may see a venue labelled for these
// départements.
func mayReachAny(p access.Principal, codes []string) bool {
	own := ownDepartment(p)
	return own == "" || slices.Contains(codes, own)
}

// requireDepartment refuses a département key naming another département.
func requireDepartment(p access.Principal, code string) error {
	if mayReach(p, code) {
		return nil
	}
	return newProblem(passnum.KindForbidden, codeForbidden, "Cette clé d'accès est celle du département %s : elle ne donne pas accès au département %s.", p.Department, code)
}

// departmentFilter reads the optional ?department= of a list: a
// département key gets its own whether it gives it or not, and is refused
// another's. "" means every département.
func departmentFilter(c echo.Context) (string, error) {
	s, ok, err := query(c, "department")
	if err != nil {
		return "", err
	}
	p := principal(c)
	if !ok {
		return ownDepartment(p), nil
	}
	code, err := passnum.DepartmentCode(s)
	if err != nil {
		return "", err
	}
	return code, requireDepartment(p, code)
}

// oneDepartment is departmentFilter for what is always about one
// département: those who see every département must name it.
func oneDepartment(c echo.Context) (string, error) {
	code, err := departmentFilter(c)
	if err == nil && code == "" {
		err = passnum.Invalid("Dites de quel département : ?department=78.").On("department")
	}
	return code, err
}

// pathDepartment reads the {department} or {code} of a path and refuses a
// département key naming another.
func pathDepartment(c echo.Context, name string) (string, error) {
	code, err := passnum.DepartmentCode(c.Param(name))
	if err != nil {
		return "", err
	}
	return code, requireDepartment(principal(c), code)
}
