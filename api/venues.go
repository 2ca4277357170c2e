package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/access"
	"passnum/archive"
	"passnum/foureyes"
	"passnum/ledger"
	"passnum/programme"
	"passnum/voucher"
)

// venueJSON is a venue as the API shows it. The contact may name a person
// (the venue's referent): it is shown to those who manage the venue (admin,
// its départements) and to the venue itself, never to auditors, who check
// where the money went and need no personal data (design decision 9). The
// IBAN is shown to auditors: a redirected payment is what they look for.
//
// Labels are per département. Status and LabelExpiresOn sum them up for
// the caller: a département key sees its own label; others see the most
// favourable one (labelled if any label is), so a list shows a venue that
// still serves some département as labelled.
type venueJSON struct {
	ID             int64              `json:"id"`
	Name           string             `json:"name"`
	Status         ledger.VenueStatus `json:"status"` // labelled, suspended or unlabelled
	SIRET          string             `json:"siret,omitempty"`
	Address        string             `json:"address"`
	IBAN           string             `json:"iban,omitempty"`
	BIC            string             `json:"bic,omitempty"`
	Contact        *string            `json:"contact,omitempty"`
	Departments    []string           `json:"departments"`
	Labels         []labelJSON        `json:"labels"`
	LabelExpiresOn *voucher.Day       `json:"label_expires_on,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
}

// labelJSON is a venue's label for one département.
type labelJSON struct {
	Department     string             `json:"department"`
	Status         ledger.VenueStatus `json:"status"`
	LabelExpiresOn *voucher.Day       `json:"label_expires_on,omitempty"`
}

// labelRank orders statuses from the most favourable.
var labelRank = map[ledger.VenueStatus]int{ledger.VenueLabelled: 0, ledger.VenueSuspended: 1, ledger.VenueUnlabelled: 2}

func newVenue(v programme.VenueWithDepartments, p access.Principal) venueJSON {
	out := venueJSON{ID: v.ID, Name: v.Name, Status: ledger.VenueUnlabelled, SIRET: deref(v.SIRET), Address: v.Address, IBAN: deref(v.IBAN),
		BIC: deref(v.BIC), Departments: v.Departments, Labels: []labelJSON{}, CreatedAt: v.CreatedAt.UTC()}
	if out.Departments == nil {
		out.Departments = []string{}
	}
	if !p.Has(access.RoleAuditor) {
		contact := v.Contact
		out.Contact = &contact
	}
	var summary *labelJSON
	for _, l := range v.Labels {
		lj := labelJSON{Department: l.DepartmentCode, Status: l.Status}
		if l.LabelExpiresOn != nil {
			d := l.LabelExpiresOn.Day()
			lj.LabelExpiresOn = &d
		}
		out.Labels = append(out.Labels, lj)
		own := ownDepartment(p)
		switch {
		case own != "":
			if l.DepartmentCode == own {
				summary = &lj
			}
		case summary == nil || labelRank[lj.Status] < labelRank[summary.Status] ||
			lj.Status == summary.Status && summary.LabelExpiresOn != nil && (lj.LabelExpiresOn == nil || *lj.LabelExpiresOn > *summary.LabelExpiresOn):
			summary = &lj
		}
	}
	if summary != nil {
		out.Status, out.LabelExpiresOn = summary.Status, summary.LabelExpiresOn
	}
	return out
}

// deref is what p points to, or the zero value.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

type venueRequest struct {
	Name        string   `json:"name"`
	SIRET       string   `json:"siret"`
	Address     string   `json:"address"`
	IBAN        string   `json:"iban"`
	BIC         string   `json:"bic,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Departments []string `json:"departments"`
	LabelUntil  string   `json:"label_until,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

type venueChanges struct {
	Name    *string `json:"name,omitempty"`
	Address *string `json:"address,omitempty"`
	IBAN    *string `json:"iban,omitempty"`
	BIC     *string `json:"bic,omitempty"`
	Contact *string `json:"contact,omitempty"`
	Reason  string  `json:"reason"`
}

type venuePage struct {
	Venues []venueJSON `json:"venues"`
	Next   int64       `json:"next,omitempty"` // the after of the next page; absent on the last page
}

// createVenue registers a venue labelled for some départements; a
// département key may label one for itself only.
func (s *server) createVenue(c echo.Context) error {
	var req venueRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	in := programme.VenueInput{Name: req.Name, SIRET: req.SIRET, Address: req.Address, IBAN: req.IBAN, BIC: req.BIC,
		Contact: req.Contact, Reason: req.Reason}
	var err error
	for _, d := range req.Departments {
		code, err := passnum.DepartmentCode(d)
		if err != nil {
			return err
		}
		if err := requireDepartment(p, code); err != nil {
			return err
		}
		in.Departments = append(in.Departments, code)
	}
	if req.LabelUntil != "" {
		if in.LabelExpiresOn, err = parseDay("label_until", req.LabelUntil); err != nil {
			return err
		}
	}
	v, err := s.Programme.AddVenue(c.Request().Context(), in, p.Actor())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/venues/%d", v.ID))
	return respond(c, http.StatusCreated, newVenue(v, p))
}

// listVenues pages through the venues by id; a département key sees those
// labelled for it.
func (s *server) listVenues(c echo.Context) error {
	dept, err := departmentFilter(c)
	if err != nil {
		return err
	}
	after, err := queryInt(c, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 500, 1, maxPage)
	if err != nil {
		return err
	}
	page, err := s.Programme.Venues(c.Request().Context(), programme.VenueFilter{Department: dept, After: after, Limit: int(limit)})
	if err != nil {
		return err
	}
	p := principal(c)
	out := venuePage{Venues: []venueJSON{}, Next: page.Next}
	for _, v := range page.Venues {
		out.Venues = append(out.Venues, newVenue(v, p))
	}
	return respond(c, http.StatusOK, out)
}

// getVenue reads the venue of the path's {id} if the caller may see it:
// every venue for admins and auditors, those labelled for its département
// for a département key (the query says so), its own for a venue key.
func (s *server) getVenue(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if !mayReachVenue(p, id) {
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'existe pas ou n'est pas accessible avec cette clé.", id)
	}
	v, err := s.Programme.Venue(c.Request().Context(), id, ownDepartment(p))
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, newVenue(v, p))
}

// updateVenue changes a venue's details, with the reason in the ledger. A
// département key changing the name, address or bank details of a venue
// another département also labels makes a change request instead (202):
// it takes effect once the others approve it.
func (s *server) updateVenue(c echo.Context) error {
	var req venueChanges
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ch := programme.VenueChanges{Name: req.Name, Address: req.Address, IBAN: req.IBAN, BIC: req.BIC, Contact: req.Contact}
	p := principal(c)
	out, err := s.Programme.UpdateVenue(c.Request().Context(), id, ch, req.Reason, ownDepartment(p), p.Actor())
	if err != nil {
		return err
	}
	if out.Request != nil {
		c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/venue-change-requests/%d", out.Request.ID))
		return respond(c, http.StatusAccepted, newChangeRequest(*out.Request))
	}
	return respond(c, http.StatusOK, newVenue(out.Venue, p))
}

// labelChange is the body of a change of a venue's label.
type labelChange struct {
	Until      string `json:"until,omitempty"` // labelling only
	Department string `json:"department,omitempty"`
	Reason     string `json:"reason"`
}

// venueStatusChange is one of the label's transitions.
type venueStatusChange func(s *server, c echo.Context, id int64, of programme.LabelOf, until voucher.Day, why string) (programme.VenueWithDepartments, error)

var (
	labelVenue venueStatusChange = func(s *server, c echo.Context, id int64, of programme.LabelOf, until voucher.Day, why string) (programme.VenueWithDepartments, error) {
		return s.Programme.Label(c.Request().Context(), id, of, until, why, principal(c).Actor())
	}
	suspendVenue venueStatusChange = func(s *server, c echo.Context, id int64, of programme.LabelOf, _ voucher.Day, why string) (programme.VenueWithDepartments, error) {
		return s.Programme.Suspend(c.Request().Context(), id, of, why, principal(c).Actor())
	}
	reinstateVenue venueStatusChange = func(s *server, c echo.Context, id int64, of programme.LabelOf, _ voucher.Day, why string) (programme.VenueWithDepartments, error) {
		return s.Programme.Reinstate(c.Request().Context(), id, of, why, principal(c).Actor())
	}
	unlabelVenue venueStatusChange = func(s *server, c echo.Context, id int64, of programme.LabelOf, _ voucher.Day, why string) (programme.VenueWithDepartments, error) {
		return s.Programme.Unlabel(c.Request().Context(), id, of, why, principal(c).Actor())
	}
)

// changeVenueStatus returns the handler of one transition of the label:
// labelling (with an optional last day), suspension, reinstatement or
// unlabelling. Each département has its own label: a département key
// changes its own (naming another is 403); an admin names the département,
// or changes every label of the venue that can make the move.
func (s *server) changeVenueStatus(change venueStatusChange, withUntil bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req labelChange
		if err := s.decodeJSON(c, &req); err != nil {
			return err
		}
		if !withUntil && req.Until != "" {
			return passnum.Invalid("« until » ne sert qu'à labelliser (POST /api/v1/venues/{id}/label) : retirez-le.")
		}
		id, err := pathID(c)
		if err != nil {
			return err
		}
		var until voucher.Day
		if req.Until != "" {
			if until, err = parseDay("until", req.Until); err != nil {
				return err
			}
		}
		p := principal(c)
		dept := ownDepartment(p)
		if req.Department != "" {
			if dept, err = passnum.DepartmentCode(req.Department); err != nil {
				return err
			}
			if err := requireDepartment(p, dept); err != nil {
				return err
			}
		}
		out, err := change(s, c, id, programme.LabelOf{Department: dept, By: ownDepartment(p)}, until, req.Reason)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, newVenue(out, p))
	}
}

// Départements.

type departmentJSON struct {
	Code                  string    `json:"code"`
	Name                  string    `json:"name"`
	PayerName             string    `json:"payer_name,omitempty"`
	PayerIBAN             string    `json:"payer_iban,omitempty"`
	PayerBIC              string    `json:"payer_bic,omitempty"`
	CommissionBasisPoints int64     `json:"commission_basis_points"`
	ContactPhone          string    `json:"contact_phone,omitempty"`
	CloseFourEyes         bool      `json:"close_four_eyes"`
	CreatedAt             time.Time `json:"created_at"`
	// Awaiting is what waits for a second person: a paying office, a
	// month's closing.
	Awaiting []awaitingJSON `json:"awaiting"`
}

type awaitingJSON struct {
	Subject string          `json:"subject"`
	What    string          `json:"what"`
	Data    json.RawMessage `json:"data"`
	AskedBy string          `json:"asked_by"`
	AskedAt time.Time       `json:"asked_at"`
	// ByYou: the caller asked it, and so may not confirm it.
	ByYou bool `json:"by_you"`
}

func newAwaiting(rs []foureyes.Request, p access.Principal) []awaitingJSON {
	out := make([]awaitingJSON, len(rs))
	for i, r := range rs {
		out[i] = awaitingJSON{Subject: r.Subject, What: foureyes.What(r.Subject), Data: r.Data, AskedBy: r.RequestedBy,
			AskedAt: r.RequestedAt.UTC(), ByYou: access.SamePerson(p.Actor(), r.RequestedBy)}
	}
	return out
}

type departmentList struct {
	Departments []departmentJSON `json:"departments"`
}

type departmentChanges struct {
	PayerName             *string `json:"payer_name,omitempty"`
	PayerIBAN             *string `json:"payer_iban,omitempty"`
	PayerBIC              *string `json:"payer_bic,omitempty"`
	CommissionBasisPoints *int64  `json:"commission_basis_points,omitempty"`
	ContactPhone          *string `json:"contact_phone,omitempty"`
	CloseFourEyes         *bool   `json:"close_four_eyes,omitempty"`
}

// department is a département as the API shows it, with what waits in it
// for a second person.
func (s *server) department(c echo.Context, d ledger.Department) (departmentJSON, error) {
	waiting, err := s.Programme.Waiting(c.Request().Context(), d.Code)
	return departmentJSON{Code: d.Code, Name: d.Name, PayerName: deref(d.PayerName), PayerIBAN: deref(d.PayerIBAN),
		PayerBIC: deref(d.PayerBIC), CommissionBasisPoints: d.CommissionBasisPoints, ContactPhone: deref(d.ContactPhone),
		CloseFourEyes: d.CloseFourEyes, CreatedAt: d.CreatedAt.UTC(), Awaiting: newAwaiting(waiting, principal(c))}, err
}

// listDepartments lists the départements the caller may see, with their
// paying office and commission.
func (s *server) listDepartments(c echo.Context) error {
	ds, err := s.Programme.Departments(c.Request().Context(), ownDepartment(principal(c)))
	if err != nil {
		return err
	}
	out := departmentList{Departments: []departmentJSON{}}
	for _, d := range ds {
		dj, err := s.department(c, d)
		if err != nil {
			return err
		}
		out.Departments = append(out.Departments, dj)
	}
	return respond(c, http.StatusOK, out)
}

// updateDepartment sets a département's commission, contact phone or four
// eyes on closing, and asks for a new paying office (whose account the
// venues' transfers come from), which waits for a second person: 202
// when that is all it did.
func (s *server) updateDepartment(c echo.Context) error {
	code, err := pathDepartment(c, "code")
	if err != nil {
		return err
	}
	var req departmentChanges
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ch := programme.DepartmentChanges{PayerName: req.PayerName, PayerIBAN: req.PayerIBAN, PayerBIC: req.PayerBIC, CommissionBasisPoints: req.CommissionBasisPoints,
		ContactPhone: req.ContactPhone, CloseFourEyes: req.CloseFourEyes}
	u, err := s.Programme.UpdateDepartment(c.Request().Context(), code, ch, principal(c).Actor())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if u.Asked != nil && !u.Changed {
		status = http.StatusAccepted
	}
	d, err := s.department(c, u.Department)
	if err != nil {
		return err
	}
	return respond(c, status, d)
}

// confirmSettings applies the money settings another person asked for
// (POST /api/v1/departments/{code}/settings/confirmation).
func (s *server) confirmSettings(c echo.Context) error {
	code, err := pathDepartment(c, "code")
	if err != nil {
		return err
	}
	actor := principal(c).Actor()
	d, r, err := s.Programme.ConfirmSettings(c.Request().Context(), code, actor)
	if err != nil {
		return err
	}
	if programme.PaysFrom(r) {
		s.later(c, "the notices of a new paying office were not all sent", func(ctx context.Context) error {
			_, err := s.Notices.PayingOfficeChanged(ctx, d, r.RequestedBy, actor)
			return err
		})
	}
	out, err := s.department(c, d)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, out)
}

// refuseSettings drops the money settings asked for
// (POST /api/v1/departments/{code}/settings/refusal).
func (s *server) refuseSettings(c echo.Context) error {
	code, err := pathDepartment(c, "code")
	if err != nil {
		return err
	}
	var req voidRequest // a reason
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.Programme.RefuseSettings(c.Request().Context(), code, req.Reason, principal(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// venueArchive gives a venue's complete record (GET /venues/{id}/archive,
// package archive): to the venue's manager, the départements that label
// it (their own statements), auditors and admins; not to a device's key,
// which a lost phone would hand over with the venue's bank history.
func (s *server) venueArchive(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if !mayReachVenue(p, id) {
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'existe pas, ou ce n'est pas le vôtre.", id)
	}
	ctx := c.Request().Context()
	if _, err := s.Programme.Venue(ctx, id, ownDepartment(p)); err != nil {
		return err
	}
	// The receipts are signed again with the active key, as the redemption
	// service signs them (its key manager). Built whole before the answer,
	// so that a failure half-way is an error, never half a file saved as if
	// it were the record.
	src := archive.Sources{DB: s.DB, Keys: s.Redemption.Keys, Settlement: s.Settlement, Department: ownDepartment(p)}
	var buf bytes.Buffer
	if err := archive.Write(ctx, src, id, &buf); err != nil {
		return err
	}
	_, err = download(c, "application/zip", fmt.Sprintf("dossier-lieu-%d.zip", id)).Write(buf.Bytes())
	return err
}
