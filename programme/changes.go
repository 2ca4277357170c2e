package programme

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// Error codes of change requests, beside the generic ones.
const (
	EChangePending  = "change_pending"  // the venue already has a change request waiting
	EChangeDecided  = "change_decided"  // the request is no longer pending
	EChangeOutdated = "change_outdated" // the venue changed since the request: refuse it and ask again
)

// A venue's identity (name, SIRET, address) and bank details (IBAN, BIC)
// are shared by the départements that label it: each pays the venue with
// its own money, to the account and under the name they hold. So no
// département decides them alone for another: a change asked by one of
// them is a change request, applied once every other département
// labelling the venue has approved it, or an admin has. Any of them may
// refuse it; the one that asked may withdraw it. An unlabelled or
// suspended label still counts: that département still pays what the
// venue redeemed before. SIRET is not changed by request: another SIRET is
// another establishment, to add as a venue of its own.
//
// Every step runs under the venue's row lock (ledger.Tx.LockVenue), and
// the request moves out of pending by a conditional update: two approvals
// at once, or an approval racing a new request, apply the change exactly
// once. At most one request per venue is pending (a partial unique index):
// a second one would be approved against details the first is about to
// change. A request applies only over the details it was asked against:
// if an admin changed them meanwhile, it must be refused and asked again.

// ChangeRequest is a change request with what its approvers need to see.
type ChangeRequest struct {
	ledger.VenueChangeRequest
	VenueName string
	// Awaiting are the départements whose approval it still needs (none
	// once decided); Approvals, those it got.
	Awaiting  []string
	Approvals []ledger.VenueChangeApproval
}

// request records a change request of department for the venue's shared
// details, awaiting the others' approval.
func (s *Service) request(tx *ledger.Tx, v ledger.Venue, want venueDetails, department string, others []string, reason, actor string) (*ledger.VenueChangeRequest, error) {
	now := tx.Now()
	r := ledger.VenueChangeRequest{VenueID: v.ID, DepartmentCode: department, Status: ledger.ChangePending,
		Name: want.Name, Address: want.Address, IBAN: want.IBAN, BIC: want.BIC,
		PreviousName: v.Name, PreviousAddress: v.Address, PreviousIBAN: v.IBAN, PreviousBIC: v.BIC,
		Reason: reason, CreatedAt: now, CreatedBy: actor}
	err := ledger.Translate(tx.Dialect(), tx.Create(&r).Error)
	if errors.Is(err, ledger.ErrDuplicate) {
		return nil, passnum.Errorf(passnum.KindConflict, EChangePending, "Une demande de changement du lieu %d attend déjà l'accord des autres départements : "+
			"faites-la décider (ou retirez-la) avant d'en faire une autre.", v.ID)
	}
	if err != nil {
		return nil, err
	}
	return &r, tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(v.ID, 10),
		Department: department, Actor: actor, At: now, Data: ledger.ChangeRequested{ID: r.ID, VenueID: v.ID, Department: department,
			Name: want.Name, Address: want.Address, IBAN: want.IBAN, BIC: want.BIC, Awaiting: others, Reason: reason}})
}

// ApproveChange approves a change request for a département ("" for an
// admin, whose approval stands for every département). The approval that
// leaves none awaited applies the change, in the same transaction.
// Errors: not_found, forbidden (its own request), conflict (approved
// already), change_decided, change_outdated (the venue changed since the
// request).
func (s *Service) ApproveChange(ctx context.Context, id int64, department, actor string) (ChangeRequest, error) {
	err := s.decide(ctx, id, department, func(tx *ledger.Tx, r ledger.VenueChangeRequest, labels []string) error {
		now := tx.Now()
		if err := mayDecide(r, labels, department, actor, true); err != nil {
			return err
		}
		if department != "" {
			err := ledger.Translate(tx.Dialect(), tx.Create(&ledger.VenueChangeApproval{RequestID: id, DepartmentCode: department, ApprovedAt: now, ApprovedBy: actor}).Error)
			if errors.Is(err, ledger.ErrDuplicate) {
				return passnum.Conflict("Le département %s a déjà approuvé la demande de changement %d.", department, id)
			}
			if err != nil {
				return err
			}
		}
		if err := tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
			Department: department, Actor: actor, At: now, Data: ledger.ChangeDecided{Event: ledger.EventChangeApproved, ID: id, VenueID: r.VenueID, Department: department}}); err != nil {
			return err
		}
		if department != "" {
			awaiting, err := awaitingOf(tx.DB, r, labels)
			if err != nil || len(awaiting) > 0 {
				return err
			}
		}
		return apply(tx, r, actor)
	})
	if err != nil {
		return ChangeRequest{}, err
	}
	return s.ChangeRequest(ctx, id, department)
}

// mayDecide refuses a decision to whoever may not take it: the
// département that asked, unless the request awaits a second person of
// its own (bank details of a venue it alone labels: awaited); and, for an
// approval, the person who asked, whatever organisation they act for now
// (four eyes). Refusing one's own request is withdrawing it: allowed.
func mayDecide(r ledger.VenueChangeRequest, labels []string, department, actor string, approval bool) error {
	if department == r.DepartmentCode && !slices.Contains(awaited(othersThan(labels, department), department, r.IBAN != nil), department) {
		return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "La demande de changement %d est celle du département %s : ce sont les autres départements du lieu "+
			"qui l'approuvent ou la refusent ; lui peut la retirer.", r.ID, r.DepartmentCode)
	}
	if approval && access.SamePerson(actor, r.CreatedBy) {
		return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "Vous avez fait la demande de changement %d : une autre personne doit l'approuver "+
			"(au département, le rôle finances) ; vous pouvez la retirer.", r.ID)
	}
	return nil
}

// apply makes a fully approved request take effect: the request leaves
// pending (exactly once, whoever races it) and the venue takes the
// requested details, if it still has those the request was asked against.
func apply(tx *ledger.Tx, r ledger.VenueChangeRequest, actor string) error {
	if err := settle(tx, r.ID, ledger.ChangeApplied, actor, ""); err != nil {
		return err
	}
	want := venueDetails{Name: r.Name, Address: r.Address, IBAN: r.IBAN, BIC: r.BIC}
	data, updates := want.event(r.VenueID, r.Reason)
	data.ChangeRequest = r.ID
	q := tx.Model(&ledger.Venue{}).Where("id = ?", r.VenueID)
	if r.Name != nil {
		q = q.Where("name = ?", r.PreviousName)
	}
	if r.Address != nil {
		q = q.Where("address = ?", r.PreviousAddress)
	}
	if r.IBAN != nil {
		q = sameOrNull(sameOrNull(q, "iban", r.PreviousIBAN), "bic", r.PreviousBIC)
	}
	res := q.Updates(updates)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return passnum.Errorf(passnum.KindConflict, EChangeOutdated, "Le lieu %d a changé depuis la demande de changement %d : ses coordonnées ne sont plus celles "+
			"sur lesquelles elle portait. Refusez-la, puis refaites-en une.", r.VenueID, r.ID)
	}
	return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
		Department: r.DepartmentCode, Actor: actor, At: tx.Now(), Data: data})
}

func sameOrNull(q *gorm.DB, column string, v *string) *gorm.DB {
	if v == nil {
		return q.Where(column + " IS NULL")
	}
	return q.Where(column+" = ?", *v)
}

// RefuseChange refuses a change request, for a département labelling the
// venue other than the one that asked ("" for an admin).
// Errors: invalid (no reason), not_found, forbidden (its own request: withdraw it), change_decided.
func (s *Service) RefuseChange(ctx context.Context, id int64, reason, department, actor string) (ChangeRequest, error) {
	reason, err := labelReason.Check(reason)
	if err != nil {
		return ChangeRequest{}, err
	}
	err = s.decide(ctx, id, department, func(tx *ledger.Tx, r ledger.VenueChangeRequest, labels []string) error {
		if err := mayDecide(r, labels, department, actor, false); err != nil {
			return err
		}
		if err := settle(tx, id, ledger.ChangeRefused, actor, reason); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
			Department: department, Actor: actor, At: tx.Now(), Data: ledger.ChangeDecided{Event: ledger.EventChangeRefused, ID: id, VenueID: r.VenueID, Department: department, Reason: reason}})
	})
	if err != nil {
		return ChangeRequest{}, err
	}
	return s.ChangeRequest(ctx, id, department)
}

// WithdrawChange withdraws a change request, for the département that
// asked it ("" for an admin). Errors: not_found, forbidden (another's
// request: refuse it), change_decided.
func (s *Service) WithdrawChange(ctx context.Context, id int64, reason, department, actor string) (ChangeRequest, error) {
	reason, err := optionalReason.Check(reason)
	if err != nil {
		return ChangeRequest{}, err
	}
	err = s.decide(ctx, id, department, func(tx *ledger.Tx, r ledger.VenueChangeRequest, _ []string) error {
		if department != "" && department != r.DepartmentCode {
			return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "La demande de changement %d est celle du département %s : seul celui-ci peut la retirer ; "+
				"refusez-la si vous n'êtes pas d'accord.", id, r.DepartmentCode)
		}
		if err := settle(tx, id, ledger.ChangeWithdrawn, actor, reason); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
			Department: department, Actor: actor, At: tx.Now(), Data: ledger.ChangeDecided{Event: ledger.EventChangeWithdrawn, ID: id, VenueID: r.VenueID, Department: department, Reason: reason}})
	})
	if err != nil {
		return ChangeRequest{}, err
	}
	return s.ChangeRequest(ctx, id, department)
}

// decide runs a decision on a pending request under its venue's lock. A
// département not labelling the venue does not see the request (not_found).
func (s *Service) decide(ctx context.Context, id int64, department string, fn func(tx *ledger.Tx, r ledger.VenueChangeRequest, labels []string) error) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		r, err := changeRequest(tx.DB, id, department)
		if err != nil {
			return err
		}
		if err := tx.LockVenue(r.VenueID); err != nil {
			return err
		}
		// Read again under the lock: a decision that waited for it sees
		// the one before it.
		if r, err = changeRequest(tx.DB, id, department); err != nil {
			return err
		}
		labels, err := venueLabels(tx.DB, r.VenueID)
		if err != nil {
			return err
		}
		if r.Status != ledger.ChangePending {
			return passnum.Errorf(passnum.KindConflict, EChangeDecided, "La demande de changement %d est déjà %s : relisez-la.", id, changeWords[r.Status])
		}
		return fn(tx, r, labels)
	})
}

// settle moves a request out of pending, once: of two racing decisions,
// the second finds it decided.
func settle(tx *ledger.Tx, id int64, status ledger.ChangeStatus, actor, reason string) error {
	res := tx.Model(&ledger.VenueChangeRequest{}).Where("id = ? AND status = ?", id, ledger.ChangePending).
		Updates(map[string]any{"status": status, "decided_at": tx.Now(), "decided_by": actor, "decision_reason": optional(reason)})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return passnum.Errorf(passnum.KindConflict, EChangeDecided, "La demande de changement %d a été décidée entre-temps : relisez-la.", id)
	}
	return nil
}

// changeWords name a request's status in a sentence ("la demande est …").
var changeWords = map[ledger.ChangeStatus]string{
	ledger.ChangePending:   "en attente",
	ledger.ChangeApplied:   "approuvée et appliquée",
	ledger.ChangeRefused:   "refusée",
	ledger.ChangeWithdrawn: "retirée",
}

// awaitingOf lists the départements whose approval a request still needs:
// those labelling the venue, other than the one that asked (or that one,
// for a second person: awaited), that have not approved it yet.
func awaitingOf(db *gorm.DB, r ledger.VenueChangeRequest, labels []string) ([]string, error) {
	var approved []string
	if err := db.Model(&ledger.VenueChangeApproval{}).Where("request_id = ?", r.ID).Pluck("department_code", &approved).Error; err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range awaited(othersThan(labels, r.DepartmentCode), r.DepartmentCode, r.IBAN != nil) {
		if !slices.Contains(approved, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// changeRequest reads a request; with a département, only one on a venue
// labelled for it, and the same answer for another's as for none.
func changeRequest(db *gorm.DB, id int64, department string) (ledger.VenueChangeRequest, error) {
	var r ledger.VenueChangeRequest
	err := labelledFor(db.Where("id = ?", id), "venue_id", department).Take(&r).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) && department != "":
		return r, passnum.NotFound("La demande de changement %d n'existe pas ou ne porte pas sur un lieu du département %s.", id, passnum.Shorten(department, 20))
	case errors.Is(err, gorm.ErrRecordNotFound):
		return r, passnum.NotFound("La demande de changement %d n'existe pas.", id)
	}
	return r, err
}

// ChangeFilter selects change requests; zero fields select all.
type ChangeFilter struct {
	Department string // on venues labelled for it
	VenueID    int64
	Status     string
}

// ChangeRequests lists change requests, newest first. Errors: invalid (an
// unknown status).
func (s *Service) ChangeRequests(ctx context.Context, f ChangeFilter) ([]ChangeRequest, error) {
	if _, ok := changeWords[ledger.ChangeStatus(f.Status)]; f.Status != "" && !ok {
		return nil, passnum.Invalid("Une demande de changement est pending (en attente), applied (appliquée), refused (refusée) ou withdrawn (retirée), pas %q.", passnum.Shorten(f.Status, 20))
	}
	db := s.DB.Read(ctx)
	q := labelledFor(db.Order("id DESC"), "venue_id", f.Department)
	if f.VenueID != 0 {
		q = q.Where("venue_id = ?", f.VenueID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rs []ledger.VenueChangeRequest
	if err := q.Find(&rs).Error; err != nil {
		return nil, err
	}
	out := make([]ChangeRequest, 0, len(rs))
	for _, r := range rs {
		cr, err := describe(db, r)
		if err != nil {
			return nil, err
		}
		out = append(out, cr)
	}
	return out, nil
}

// ChangeRequest reads one change request; with a département ("" for
// all), only one on a venue labelled for it. Errors: not_found.
func (s *Service) ChangeRequest(ctx context.Context, id int64, department string) (ChangeRequest, error) {
	db := s.DB.Read(ctx)
	r, err := changeRequest(db, id, department)
	if err != nil {
		return ChangeRequest{}, err
	}
	return describe(db, r)
}

func describe(db *gorm.DB, r ledger.VenueChangeRequest) (ChangeRequest, error) {
	out := ChangeRequest{VenueChangeRequest: r, Awaiting: []string{}}
	v, err := venue(db, r.VenueID, "")
	if err != nil {
		return out, err
	}
	out.VenueName = v.Name
	if err := db.Where("request_id = ?", r.ID).Order("department_code").Find(&out.Approvals).Error; err != nil {
		return out, err
	}
	if r.Status == ledger.ChangePending {
		labels, err := venueLabels(db, r.VenueID)
		if err != nil {
			return out, err
		}
		if out.Awaiting, err = awaitingOf(db, r, labels); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Message says in French what a request asks and where it stands, for the
// staff of the départements that decide it.
func (r ChangeRequest) Message() string {
	var what []string
	if r.Name != nil {
		what = append(what, fmt.Sprintf("le nom « %s » en « %s »", r.PreviousName, *r.Name))
	}
	if r.Address != nil {
		what = append(what, fmt.Sprintf("l'adresse en « %s »", *r.Address))
	}
	if r.IBAN != nil {
		what = append(what, fmt.Sprintf("l'IBAN %s en %s", deref(r.PreviousIBAN), *r.IBAN))
	}
	asked := fmt.Sprintf("Le département %s demande de changer, pour le lieu « %s » (n° %d), %s (motif : %s).",
		r.DepartmentCode, r.VenueName, r.VenueID, strings.Join(what, ", "), r.Reason)
	switch {
	case r.Status == ledger.ChangePending && slices.Equal(r.Awaiting, []string{r.DepartmentCode}):
		return asked + fmt.Sprintf(" Le changement attend l'accord d'une deuxième personne du département %s (rôle finances), "+
			"qui n'est pas celle qui l'a demandé : d'ici là, le lieu est payé sur son compte actuel. "+
			"Approuvez-le ou refusez-le après l'avoir vérifié auprès du lieu.", r.DepartmentCode)
	case r.Status == ledger.ChangePending:
		return asked + fmt.Sprintf(" Le changement attend l'accord du ou des départements %s : d'ici là, chacun continue de payer le lieu "+
			"sous son nom et sur son compte actuels. Approuvez-le ou refusez-le après l'avoir vérifié auprès du lieu.", strings.Join(r.Awaiting, ", "))
	case r.Status == ledger.ChangeApplied:
		return asked + " Changement approuvé et appliqué."
	case r.Status == ledger.ChangeRefused:
		return asked + fmt.Sprintf(" Changement refusé (motif : %s).", deref(r.DecisionReason))
	}
	return asked + " Demande retirée."
}
