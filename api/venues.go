package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/apikeys"
	"passnum/ledger"
	"passnum/programme"
	"passnum/sepa"
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
	ID             int64        `json:"id"`
	Name           string       `json:"name"`
	Status         string       `json:"status"` // labelled, suspended or unlabelled
	SIRET          string       `json:"siret,omitempty"`
	Address        string       `json:"address"`
	IBAN           string       `json:"iban,omitempty"`
	BIC            string       `json:"bic,omitempty"`
	Contact        *string      `json:"contact,omitempty"`
	Departments    []string     `json:"departments"`
	Labels         []labelJSON  `json:"labels"`
	LabelExpiresOn *voucher.Day `json:"label_expires_on,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
}

// labelJSON is a venue's label for one département.
type labelJSON struct {
	Department     string       `json:"department"`
	Status         string       `json:"status"`
	LabelExpiresOn *voucher.Day `json:"label_expires_on,omitempty"`
}

// labelRank orders statuses from the most favourable.
var labelRank = map[string]int{string(ledger.VenueLabelled): 0, string(ledger.VenueSuspended): 1, string(ledger.VenueUnlabelled): 2}

func newVenue(v programme.VenueWithDepartments, p apikeys.Principal) venueJSON {
	out := venueJSON{ID: v.ID, Name: v.Name, Status: string(ledger.VenueUnlabelled), SIRET: deref(v.SIRET), Address: v.Address, IBAN: deref(v.IBAN),
		BIC: deref(v.BIC), Departments: v.Departments, Labels: []labelJSON{}, CreatedAt: v.CreatedAt.UTC()}
	if out.Departments == nil {
		out.Departments = []string{}
	}
	if p.Role != apikeys.RoleAuditor {
		contact := v.Contact
		out.Contact = &contact
	}
	var summary *labelJSON
	for _, l := range v.Labels {
		lj := labelJSON{Department: l.DepartmentCode, Status: string(l.Status)}
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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

// checkSIRET says in French what is wrong with a SIRET.
func checkSIRET(s string) (string, error) {
	siret, err := programme.CheckSIRET(s)
	if err == nil {
		return siret, nil
	}
	digits, ok := programme.SIRETDigits(s)
	if !ok {
		return "", passnum.Invalid("« siret » : %q n'est pas un SIRET, qui compte 14 chiffres (SIREN et NIC), comme sur l'avis de situation INSEE de la structure.", shorten(s, 32))
	}
	return "", passnum.Invalid("Le SIRET %s a une clé de contrôle fausse : un chiffre a été mal saisi. Recopiez-le depuis l'avis de situation INSEE.", digits)
}

// checkBank checks an IBAN and an optional BIC in French; field names the
// IBAN's field ("iban", "payer_iban").
func checkBank(ibanField, iban, bicField, bic string) error {
	if _, err := sepa.CheckIBAN(iban); err != nil {
		return passnum.Invalid("« %s » : l'IBAN %q n'est pas valable (pays, longueur ou clé de contrôle) : recopiez-le depuis le RIB du titulaire du compte.", ibanField, shorten(iban, 40))
	}
	if strings.TrimSpace(bic) == "" {
		return nil
	}
	if _, err := sepa.CheckBIC(bic); err != nil {
		return passnum.Invalid("« %s » : le BIC %q n'est pas valable (8 ou 11 lettres et chiffres) : recopiez-le depuis le RIB, ou laissez-le vide.", bicField, shorten(bic, 20))
	}
	return nil
}

// createVenue registers a venue labelled for some départements; a
// département key may label one for itself only.
func (s *server) createVenue(c echo.Context) error {
	var req venueRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	in := programme.VenueInput{BIC: req.BIC}
	var err error
	in.Name = req.Name
	if in.SIRET, err = checkSIRET(req.SIRET); err != nil {
		return err
	}
	in.Address = req.Address
	if err := checkBank("iban", req.IBAN, "bic", req.BIC); err != nil {
		return err
	}
	in.IBAN = req.IBAN
	in.Contact, in.Reason = req.Contact, req.Reason
	if len(req.Departments) == 0 {
		return passnum.Invalid("« departments » : donnez au moins un département pour lequel le lieu est labellisé, comme [\"78\"].")
	}
	for i, d := range req.Departments {
		code, err := departmentCode(fmt.Sprintf("departments[%d]", i), d)
		if err != nil {
			return err
		}
		if err := requireDepartment(p, code); err != nil {
			return err
		}
		in.Departments = append(in.Departments, code)
	}
	if req.LabelUntil != "" {
		if in.LabelExpiresOn, err = s.futureDay("label_until", req.LabelUntil); err != nil {
			return err
		}
	}
	v, err := s.Programme.AddVenue(c.Request().Context(), in, p.Actor())
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case passnum.EInvalid:
				return fmt.Sprintf("Un des départements %s n'existe pas dans le programme : demandez à l'exploitation de l'ajouter.", strings.Join(in.Departments, ", "))
			case passnum.EConflict:
				return fmt.Sprintf("Un lieu de SIRET %s est déjà enregistré : retrouvez-le avec GET /api/v1/venues plutôt que de le créer une seconde fois.", in.SIRET)
			}
			return ""
		})
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/venues/%d", v.ID))
	return respond(c, http.StatusCreated, newVenue(v, p))
}

// futureDay reads a date that must be today or later.
func (s *server) futureDay(field, value string) (voucher.Day, error) {
	d, err := parseDay(field, value)
	if err == nil && d < s.today() {
		err = passnum.Invalid("« %s » : le %s est déjà passé.", field, d.French())
	}
	return d, err
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
	vs, err := s.Programme.Venues(c.Request().Context(), dept)
	if err != nil {
		return err
	}
	p := principal(c)
	out := venuePage{Venues: []venueJSON{}}
	for _, v := range vs {
		if v.ID <= after {
			continue
		}
		if len(out.Venues) == int(limit) {
			out.Next = out.Venues[len(out.Venues)-1].ID
			break
		}
		out.Venues = append(out.Venues, newVenue(v, p))
	}
	return respond(c, http.StatusOK, out)
}

// visibleVenue reads the venue of the path's {id} if the caller may see
// it: every venue for admins and auditors, those labelled for its
// département for a département key, its own for a venue key.
func (s *server) visibleVenue(c echo.Context) (programme.VenueWithDepartments, error) {
	id, err := pathID(c)
	if err != nil {
		return programme.VenueWithDepartments{}, err
	}
	v, err := s.Programme.Venue(c.Request().Context(), id)
	p := principal(c)
	hidden := err == nil && (!mayReachAny(p, v.Departments) || p.Role == apikeys.RoleVenue && p.VenueID != v.ID)
	if passnum.ErrorCode(err) == passnum.ENotFound || hidden {
		return v, newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'existe pas ou n'est pas accessible avec cette clé.", id)
	}
	return v, err
}

func (s *server) getVenue(c echo.Context) error {
	v, err := s.visibleVenue(c)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, newVenue(v, principal(c)))
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
	ch := programme.VenueChanges{Name: req.Name, Address: req.Address, Contact: req.Contact}
	switch {
	case req.IBAN != nil:
		if err := checkBank("iban", *req.IBAN, "bic", deref(req.BIC)); err != nil {
			return err
		}
		ch.IBAN, ch.BIC = req.IBAN, req.BIC
	case req.BIC != nil:
		return passnum.Invalid("Donnez l'IBAN (« iban ») avec le BIC : ils vont ensemble.")
	}
	if ch == (programme.VenueChanges{}) {
		return passnum.Invalid("Rien à changer : donnez au moins un des champs name, address, iban (et bic) ou contact.")
	}
	v, err := s.visibleVenue(c)
	if err != nil {
		return err
	}
	p := principal(c)
	out, err := s.Programme.UpdateVenue(c.Request().Context(), v.ID, ch, req.Reason, ownDepartment(p), p.Actor())
	if err != nil {
		return inFrench(err, func(code string) string {
			if code == passnum.EConflict {
				return fmt.Sprintf("Une demande de changement du lieu %d attend déjà l'accord des autres départements : "+
					"faites-la décider (ou retirez-la) avant d'en faire une autre (GET /api/v1/venue-change-requests?venue=%d).", v.ID, v.ID)
			}
			return ""
		})
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
type venueStatusChange struct {
	apply   func(s *server, c echo.Context, id int64, of programme.LabelOf, until voucher.Day, why string) (programme.VenueWithDepartments, error)
	refused func(v programme.VenueWithDepartments, status, dept string) string // why the label's status forbids it, in French
}

var (
	labelVenue = venueStatusChange{
		apply: func(s *server, c echo.Context, id int64, of programme.LabelOf, until voucher.Day, why string) (programme.VenueWithDepartments, error) {
			return s.Programme.Label(c.Request().Context(), id, of, until, why, principal(c).Actor())
		},
		refused: func(v programme.VenueWithDepartments, _, dept string) string {
			return fmt.Sprintf("Le lieu %d est suspendu pour le département %s : levez la suspension (POST /api/v1/venues/%d/reinstatement) plutôt que de le labelliser à nouveau.", v.ID, dept, v.ID)
		}}
	suspendVenue = venueStatusChange{
		apply: func(s *server, c echo.Context, id int64, of programme.LabelOf, _ voucher.Day, why string) (programme.VenueWithDepartments, error) {
			return s.Programme.Suspend(c.Request().Context(), id, of, why, principal(c).Actor())
		},
		refused: func(v programme.VenueWithDepartments, status, dept string) string {
			return fmt.Sprintf("Le lieu %d est %s pour le département %s : seul un lieu labellisé peut être suspendu.", v.ID, frenchStatus[status], dept)
		}}
	reinstateVenue = venueStatusChange{
		apply: func(s *server, c echo.Context, id int64, of programme.LabelOf, _ voucher.Day, why string) (programme.VenueWithDepartments, error) {
			return s.Programme.Reinstate(c.Request().Context(), id, of, why, principal(c).Actor())
		},
		refused: func(v programme.VenueWithDepartments, status, dept string) string {
			return fmt.Sprintf("Le lieu %d est %s pour le département %s, pas suspendu : il n'y a pas de suspension à lever.", v.ID, frenchStatus[status], dept)
		}}
	unlabelVenue = venueStatusChange{
		apply: func(s *server, c echo.Context, id int64, of programme.LabelOf, _ voucher.Day, why string) (programme.VenueWithDepartments, error) {
			return s.Programme.Unlabel(c.Request().Context(), id, of, why, principal(c).Actor())
		},
		refused: func(v programme.VenueWithDepartments, _, dept string) string {
			return fmt.Sprintf("Le lieu %d est déjà délabellisé pour le département %s.", v.ID, dept)
		}}
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
		var until voucher.Day
		var err error
		if req.Until != "" {
			if until, err = s.futureDay("until", req.Until); err != nil {
				return err
			}
		}
		p := principal(c)
		dept := ownDepartment(p)
		if req.Department != "" {
			if dept, err = departmentCode("department", req.Department); err != nil {
				return err
			}
			if err := requireDepartment(p, dept); err != nil {
				return err
			}
		}
		v, err := s.visibleVenue(c)
		if err != nil {
			return err
		}
		if _, ok := v.Label(dept); dept != "" && !ok {
			return newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'est pas labellisé pour le département %s.", v.ID, dept)
		}
		out, err := change.apply(s, c, v.ID, programme.LabelOf{Department: dept, By: ownDepartment(p)}, until, req.Reason)
		if err != nil {
			return inFrench(err, func(code string) string {
				switch code {
				case programme.EVenueStatus:
					if dept == "" {
						return fmt.Sprintf("Aucun label du lieu %d ne permet ce changement : voyez l'état de chacun (GET /api/v1/venues/%d, « labels »).", v.ID, v.ID)
					}
					l, _ := v.Label(dept)
					return change.refused(v, string(l.Status), dept)
				case passnum.EConflict:
					return fmt.Sprintf("Le lieu %d a changé pendant l'opération : relisez-le et réessayez.", v.ID)
				}
				return ""
			})
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
	CreatedAt             time.Time `json:"created_at"`
}

type departmentList struct {
	Departments []departmentJSON `json:"departments"`
}

type departmentChanges struct {
	PayerName             *string `json:"payer_name,omitempty"`
	PayerIBAN             *string `json:"payer_iban,omitempty"`
	PayerBIC              *string `json:"payer_bic,omitempty"`
	CommissionBasisPoints *int64  `json:"commission_basis_points,omitempty"`
}

func newDepartment(d ledger.Department) departmentJSON {
	return departmentJSON{Code: d.Code, Name: d.Name, PayerName: deref(d.PayerName), PayerIBAN: deref(d.PayerIBAN),
		PayerBIC: deref(d.PayerBIC), CommissionBasisPoints: d.CommissionBasisPoints, CreatedAt: d.CreatedAt.UTC()}
}

// listDepartments lists the départements the caller may see, with their
// paying office and commission.
func (s *server) listDepartments(c echo.Context) error {
	ds, err := s.Programme.Departments(c.Request().Context())
	if err != nil {
		return err
	}
	p := principal(c)
	out := departmentList{Departments: []departmentJSON{}}
	for _, d := range ds {
		if mayReach(p, d.Code) {
			out.Departments = append(out.Departments, newDepartment(d))
		}
	}
	return respond(c, http.StatusOK, out)
}

// updateDepartment sets a département's paying office (whose account the
// venues' transfers come from) or its commission.
func (s *server) updateDepartment(c echo.Context) error {
	code, err := pathDepartment(c, "code")
	if err != nil {
		return err
	}
	var req departmentChanges
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ch := programme.DepartmentChanges{PayerName: req.PayerName, PayerIBAN: req.PayerIBAN, PayerBIC: req.PayerBIC, CommissionBasisPoints: req.CommissionBasisPoints}
	switch {
	case req.PayerIBAN != nil:
		if err := checkBank("payer_iban", *req.PayerIBAN, "payer_bic", deref(req.PayerBIC)); err != nil {
			return err
		}
	case req.PayerBIC != nil:
		return passnum.Invalid("Donnez l'IBAN du payeur (« payer_iban ») avec son BIC : ils vont ensemble.")
	}
	if bp := req.CommissionBasisPoints; bp != nil && (*bp < 0 || *bp > 10000) {
		return passnum.Invalid("« commission_basis_points » va de 0 à 10000 points de base (0 à 100 %% ; 150 = 1,50 %%), pas %d.", *bp)
	}
	if ch == (programme.DepartmentChanges{}) {
		return passnum.Invalid("Rien à changer : donnez au moins un des champs payer_name, payer_iban (et payer_bic) ou commission_basis_points.")
	}
	d, err := s.Programme.UpdateDepartment(c.Request().Context(), code, ch, principal(c).Actor())
	if err != nil {
		return inFrench(err, func(c string) string {
			if c == passnum.ENotFound {
				return fmt.Sprintf("Le département %s n'existe pas dans le programme.", code)
			}
			return ""
		})
	}
	return respond(c, http.StatusOK, newDepartment(d))
}
