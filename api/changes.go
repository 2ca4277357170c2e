package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum/ledger"
	"passnum/programme"
)

// Change requests to a shared venue's identity and bank details
// (programme/changes.go says why they exist). A département key sees the
// requests of the venues it labels, and acts on them as that département:
// it approves or refuses another's, withdraws its own. An admin acts for
// every département.

type changeRequestJSON struct {
	ID             int64               `json:"id"`
	VenueID        int64               `json:"venue_id"`
	VenueName      string              `json:"venue_name"`
	Department     string              `json:"department"` // who asked
	Status         ledger.ChangeStatus `json:"status"`     // pending, applied, refused or withdrawn
	Name           *string             `json:"name,omitempty"`
	Address        *string             `json:"address,omitempty"`
	IBAN           *string             `json:"iban,omitempty"`
	BIC            *string             `json:"bic,omitempty"`
	Previous       changeDetails       `json:"previous"`
	Reason         string              `json:"reason"`
	RequestedBy    string              `json:"requested_by"`
	RequestedAt    time.Time           `json:"requested_at"`
	Awaiting       []string            `json:"awaiting"`
	Approvals      []approvalJSON      `json:"approvals"`
	ApprovedBy     []string            `json:"approved_by"`
	DecidedAt      *time.Time          `json:"decided_at,omitempty"`
	DecidedBy      string              `json:"decided_by,omitempty"`
	DecisionReason string              `json:"decision_reason,omitempty"`
	Message        string              `json:"message"` // in French, what is asked and who must answer (programme's words)
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
	out := changeRequestJSON{ID: r.ID, VenueID: r.VenueID, VenueName: r.VenueName, Department: r.DepartmentCode, Status: r.Status,
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
	out.Message = r.Message()
	return out
}

// listChangeRequests lists the change requests the caller may see, newest
// first: ?status= (pending, applied, refused, withdrawn) and ?venue=.
func (s *server) listChangeRequests(c echo.Context) error {
	p := principal(c)
	f := programme.ChangeFilter{Department: ownDepartment(p)}
	var err error
	if f.Status, _, err = query(c, "status"); err != nil {
		return err
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

// getChangeRequest reads a change request: a département key, those of
// the venues it labels (404 otherwise, as for the venue itself).
func (s *server) getChangeRequest(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.Programme.ChangeRequest(c.Request().Context(), id, ownDepartment(principal(c)))
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
		id, err := pathID(c)
		if err != nil {
			return err
		}
		p := principal(c)
		dept := ownDepartment(p)
		ctx := c.Request().Context()
		var out programme.ChangeRequest
		switch decision {
		case "approval":
			out, err = s.Programme.ApproveChange(ctx, id, dept, p.Actor())
		case "refusal":
			out, err = s.Programme.RefuseChange(ctx, id, req.Reason, dept, p.Actor())
		default:
			out, err = s.Programme.WithdrawChange(ctx, id, req.Reason, dept, p.Actor())
		}
		if err != nil {
			return err
		}
		s.noticeLater(c, out)
		return respond(c, http.StatusOK, newChangeRequest(out))
	}
}

// noticeLater tells of a new IBAN, if the decision applied one, once the
// answer is sent.
func (s *server) noticeLater(c echo.Context, r programme.ChangeRequest) {
	s.later(c, "a notice of a new IBAN was not sent", func(ctx context.Context) error {
		_, err := s.Notices.BankDetailsChanged(ctx, r)
		return err
	})
}
