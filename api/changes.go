package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/ledger"
	"passnum/programme"
)

// Change requests to a shared venue's identity and bank details
// (programme/changes.go says why they exist). A département key sees the
// requests of the venues it labels, and acts on them as that département:
// it approves or refuses another's, withdraws its own. An admin acts for
// every département.

type changeRequestJSON struct {
	ID             int64          `json:"id"`
	VenueID        int64          `json:"venue_id"`
	VenueName      string         `json:"venue_name"`
	Department     string         `json:"department"` // who asked
	Status         string         `json:"status"`     // pending, applied, refused or withdrawn
	Name           *string        `json:"name,omitempty"`
	Address        *string        `json:"address,omitempty"`
	IBAN           *string        `json:"iban,omitempty"`
	BIC            *string        `json:"bic,omitempty"`
	Previous       changeDetails  `json:"previous"`
	Reason         string         `json:"reason"`
	RequestedBy    string         `json:"requested_by"`
	RequestedAt    time.Time      `json:"requested_at"`
	Awaiting       []string       `json:"awaiting"`
	Approvals      []approvalJSON `json:"approvals"`
	ApprovedBy     []string       `json:"approved_by"`
	DecidedAt      *time.Time     `json:"decided_at,omitempty"`
	DecidedBy      string         `json:"decided_by,omitempty"`
	DecisionReason string         `json:"decision_reason,omitempty"`
	Message        string         `json:"message"` // in French, what is asked and who must answer
}

// changeDetails are a venue's shared details before the change.
type changeDetails struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	IBAN    string `json:"iban,omitempty"`
	BIC     string `json:"bic,omitempty"`
}

type approvalJSON struct {
	Department string    `json:"department"`
	At         time.Time `json:"at"`
	By         string    `json:"by"`
}

type changeRequestList struct {
	ChangeRequests []changeRequestJSON `json:"change_requests"`
}

func newChangeRequest(r programme.ChangeRequest) changeRequestJSON {
	out := changeRequestJSON{ID: r.ID, VenueID: r.VenueID, VenueName: r.VenueName, Department: r.DepartmentCode, Status: string(r.Status),
		Name: r.Name, Address: r.Address, IBAN: r.IBAN, Reason: r.Reason, RequestedBy: r.CreatedBy, RequestedAt: r.CreatedAt.UTC(),
		Previous: changeDetails{Name: r.PreviousName, Address: r.PreviousAddress, IBAN: deref(r.PreviousIBAN), BIC: deref(r.PreviousBIC)},
		Awaiting: r.Awaiting, Approvals: []approvalJSON{}, ApprovedBy: []string{}, DecidedBy: deref(r.DecidedBy), DecisionReason: deref(r.DecisionReason)}
	if r.IBAN != nil {
		bic := deref(r.BIC) // "" : no BIC
		out.BIC = &bic
	}
	if out.Awaiting == nil {
		out.Awaiting = []string{}
	}
	for _, a := range r.Approvals {
		out.Approvals = append(out.Approvals, approvalJSON{Department: a.DepartmentCode, At: a.ApprovedAt.UTC(), By: a.ApprovedBy})
		out.ApprovedBy = append(out.ApprovedBy, a.DepartmentCode)
	}
	if r.DecidedAt != nil {
		at := r.DecidedAt.UTC()
		out.DecidedAt = &at
	}
	out.Message = changeMessage(out)
	return out
}

// changeMessage says in French what a request asks and where it stands.
func changeMessage(r changeRequestJSON) string {
	var what []string
	if r.Name != nil {
		what = append(what, fmt.Sprintf("le nom « %s » en « %s »", r.Previous.Name, *r.Name))
	}
	if r.Address != nil {
		what = append(what, fmt.Sprintf("l'adresse en « %s »", *r.Address))
	}
	if r.IBAN != nil {
		what = append(what, fmt.Sprintf("l'IBAN %s en %s", r.Previous.IBAN, *r.IBAN))
	}
	asked := fmt.Sprintf("Le département %s demande de changer, pour le lieu « %s » (n° %d), %s (motif : %s).",
		r.Department, r.VenueName, r.VenueID, strings.Join(what, ", "), r.Reason)
	switch ledger.ChangeStatus(r.Status) {
	case ledger.ChangePending:
		return asked + fmt.Sprintf(" Le changement attend l'accord du ou des départements %s : d'ici là, chacun continue de payer le lieu "+
			"sous son nom et sur son compte actuels. Approuvez-le ou refusez-le après l'avoir vérifié auprès du lieu.", strings.Join(r.Awaiting, ", "))
	case ledger.ChangeApplied:
		return asked + " Changement approuvé et appliqué."
	case ledger.ChangeRefused:
		return asked + fmt.Sprintf(" Changement refusé (motif : %s).", r.DecisionReason)
	}
	return asked + " Demande retirée."
}

// listChangeRequests lists the change requests the caller may see, newest
// first: ?status= (pending, applied, refused, withdrawn) and ?venue=.
func (s *server) listChangeRequests(c echo.Context) error {
	p := principal(c)
	f := programme.ChangeFilter{Department: ownDepartment(p)}
	status, ok, err := query(c, "status")
	if err != nil {
		return err
	}
	if ok {
		switch ledger.ChangeStatus(status) {
		case ledger.ChangePending, ledger.ChangeApplied, ledger.ChangeRefused, ledger.ChangeWithdrawn:
			f.Status = status
		default:
			return passnum.Invalid("« status » vaut pending, applied, refused ou withdrawn, pas %q.", shorten(status, 20))
		}
	}
	if f.VenueID, err = queryInt(c, "venue", 0, 1, 1<<62); err != nil {
		return err
	}
	rs, err := s.Programme.ChangeRequests(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := changeRequestList{ChangeRequests: []changeRequestJSON{}}
	for _, r := range rs {
		out.ChangeRequests = append(out.ChangeRequests, newChangeRequest(r))
	}
	return respond(c, http.StatusOK, out)
}

// visibleChange reads the change request of the path's {id} if the caller
// may see it: a département key, those of the venues it labels (404
// otherwise, as for the venue itself).
func (s *server) visibleChange(c echo.Context) (programme.ChangeRequest, error) {
	id, err := pathID(c)
	if err != nil {
		return programme.ChangeRequest{}, err
	}
	r, err := s.Programme.ChangeRequest(c.Request().Context(), id)
	notFound := newProblem(passnum.KindNotFound, passnum.ENotFound, "La demande de changement %d n'existe pas ou n'est pas accessible avec cette clé.", id)
	if passnum.ErrorCode(err) == passnum.ENotFound {
		return r, notFound
	}
	if err != nil {
		return r, err
	}
	if own := ownDepartment(principal(c)); own != "" {
		v, err := s.Programme.Venue(c.Request().Context(), r.VenueID)
		if err != nil {
			return r, err
		}
		if !mayReachAny(principal(c), v.Departments) {
			return r, notFound
		}
	}
	return r, nil
}

func (s *server) getChangeRequest(c echo.Context) error {
	r, err := s.visibleChange(c)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, newChangeRequest(r))
}

// decideChange returns the handler of a decision on a change request:
// approval (no reason needed: the ledger records who), refusal (a reason),
// withdrawal (an optional reason).
func (s *server) decideChange(decision string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req voidRequest
		if err := s.decodeJSON(c, &req); err != nil {
			return err
		}
		r, err := s.visibleChange(c)
		if err != nil {
			return err
		}
		p := principal(c)
		dept := ownDepartment(p)
		ctx := c.Request().Context()
		var out programme.ChangeRequest
		switch decision {
		case "approval":
			out, err = s.Programme.ApproveChange(ctx, r.ID, dept, p.Actor())
		case "refusal":
			out, err = s.Programme.RefuseChange(ctx, r.ID, req.Reason, dept, p.Actor())
		default:
			out, err = s.Programme.WithdrawChange(ctx, r.ID, req.Reason, dept, p.Actor())
		}
		if err != nil {
			return inFrench(err, func(code string) string {
				switch {
				case code == programme.EForbidden && decision == "withdrawal":
					return fmt.Sprintf("La demande %d est celle du département %s : seul celui-ci peut la retirer ; refusez-la (…/refusal) si vous n'êtes pas d'accord.", r.ID, r.DepartmentCode)
				case code == programme.EForbidden:
					return fmt.Sprintf("La demande %d est celle de votre département (%s) : ce sont les autres départements du lieu qui l'approuvent ou la refusent ; vous pouvez la retirer (…/withdrawal).", r.ID, r.DepartmentCode)
				case code == passnum.EConflict && r.Status != ledger.ChangePending:
					return fmt.Sprintf("La demande %d est déjà décidée (%s) : relisez-la.", r.ID, r.Status)
				case code == passnum.EConflict:
					return fmt.Sprintf("La demande %d ne peut pas être approuvée : soit votre département l'a déjà approuvée, soit le lieu a changé depuis "+
						"(ses coordonnées ne sont plus celles sur lesquelles elle portait), et il faut alors la refuser puis en refaire une. Relisez-la (GET /api/v1/venue-change-requests/%d).", r.ID, r.ID)
				}
				return ""
			})
		}
		return respond(c, http.StatusOK, newChangeRequest(out))
	}
}
