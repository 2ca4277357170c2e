package programme

import (
	"context"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"passnum/ledger"
	"passnum/voucher"
)

// Listed is a venue as the public directory shows it: where beneficiaries
// can use their vouchers. Its contact is shown too: départements enter the
// venue's public contact, never a person's own number (docs/pages.md).
type Listed struct {
	ID          int64
	Name        string
	Address     string
	Contact     string
	Departments []string // whose vouchers it takes on day
}

// Directory lists the venues that take the vouchers of department ("" for
// every département) on day, by the rule the redemptions follow
// (ledger.VenueDepartment.Redeems): a suspended, withdrawn or lapsed label
// is not listed. search, when not empty, keeps the venues whose name or
// address holds it, whatever the case and the accents ("Evry" finds
// "Évry-Courcouronnes", "78190" the venues of that postal code). By name.
func (s *Service) Directory(ctx context.Context, department, search string, day voucher.Day) ([]Listed, error) {
	db := s.DB.Read(ctx)
	var labels []ledger.VenueDepartment
	q := db.Order("venue_id, department_code")
	if department != "" {
		q = q.Where("department_code = ?", department)
	}
	if err := q.Find(&labels).Error; err != nil {
		return nil, err
	}
	takes := map[int64][]string{}
	for _, l := range labels {
		if l.Redeems(day) {
			takes[l.VenueID] = append(takes[l.VenueID], l.DepartmentCode)
		}
	}
	if len(takes) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(takes))
	for id := range takes {
		ids = append(ids, id)
	}
	var vs []ledger.Venue
	if err := db.Select("id", "name", "address", "contact").Where("id IN ?", ids).Find(&vs).Error; err != nil {
		return nil, err
	}
	want := fold(search)
	var out []Listed
	for _, v := range vs {
		if want != "" && !strings.Contains(fold(v.Name+" "+v.Address), want) {
			continue
		}
		out = append(out, Listed{ID: v.ID, Name: v.Name, Address: v.Address, Contact: v.Contact, Departments: takes[v.ID]})
	}
	sort.Slice(out, func(i, j int) bool { return fold(out[i].Name) < fold(out[j].Name) })
	return out, nil
}

// fold is text as a search compares it: lower case, without accents,
// hyphens and apostrophes as spaces, spaces collapsed.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.Map(func(r rune) rune {
		if r == '-' || r == '\'' || r == '’' {
			return ' '
		}
		return unicode.ToLower(r)
	}, out)
	return strings.Join(strings.Fields(out), " ")
}
