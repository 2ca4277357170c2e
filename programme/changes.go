package programme

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
)

// EForbidden is the code of a decision a département may not take on a
// change request (approving or refusing its own, withdrawing another's);
// the API answers it 403, like any other "forbidden".
const EForbidden = string(passnum.KindForbidden)

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
func (s *Service) request(tx *ledger.Tx, v ledger.Venue, want venueDetails, department string, others []string, reason, actor string, now time.Time) (*ledger.VenueChangeRequest, error) {
	r := ledger.VenueChangeRequest{VenueID: v.ID, DepartmentCode: department, Status: ledger.ChangePending,
		Name: want.Name, Address: want.Address, IBAN: want.IBAN, BIC: want.BIC,
		PreviousName: v.Name, PreviousAddress: v.Address, PreviousIBAN: v.IBAN, PreviousBIC: v.BIC,
		Reason: reason, CreatedAt: now, CreatedBy: actor}
	err := ledger.Translate(tx.Dialect(), tx.Create(&r).Error)
	if errors.Is(err, ledger.ErrDuplicate) {
		return nil, passnum.Conflict("venue %d already has a change request waiting: have it decided (or withdraw it) first", v.ID)
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
// Errors: not_found, forbidden (its own request), conflict (decided
// already, approved already, or the venue changed since the request).
func (s *Service) ApproveChange(ctx context.Context, id int64, department, actor string) (ChangeRequest, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	err := s.decide(ctx, id, department, func(tx *ledger.Tx, r ledger.VenueChangeRequest, labels []string) error {
		if department == r.DepartmentCode {
			return passnum.Errorf(passnum.KindForbidden, EForbidden, "département %s asked for change request %d: another département of the venue (or an admin) approves it", department, id)
		}
		if department != "" {
			err := ledger.Translate(tx.Dialect(), tx.Create(&ledger.VenueChangeApproval{RequestID: id, DepartmentCode: department, ApprovedAt: now, ApprovedBy: actor}).Error)
			if errors.Is(err, ledger.ErrDuplicate) {
				return passnum.Conflict("département %s already approved change request %d", department, id)
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
		return apply(tx, r, actor, now)
	})
	if err != nil {
		return ChangeRequest{}, err
	}
	return s.ChangeRequest(ctx, id)
}

// apply makes a fully approved request take effect: the request leaves
// pending (exactly once, whoever races it) and the venue takes the
// requested details, if it still has those the request was asked against.
func apply(tx *ledger.Tx, r ledger.VenueChangeRequest, actor string, now time.Time) error {
	if err := settle(tx, r.ID, ledger.ChangeApplied, actor, "", now); err != nil {
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
		return passnum.Conflict("venue %d was changed since change request %d was made: refuse the request and ask again", r.VenueID, r.ID)
	}
	return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
		Department: r.DepartmentCode, Actor: actor, At: now, Data: data})
}

func sameOrNull(q *gorm.DB, column string, v *string) *gorm.DB {
	if v == nil {
		return q.Where(column + " IS NULL")
	}
	return q.Where(column+" = ?", *v)
}

// RefuseChange refuses a change request, for a département labelling the
// venue other than the one that asked ("" for an admin).
// Errors: invalid (no reason), not_found, forbidden (its own request: withdraw it), conflict (decided already).
func (s *Service) RefuseChange(ctx context.Context, id int64, reason, department, actor string) (ChangeRequest, error) {
	reason, err := labelReason.Check(reason)
	if err != nil {
		return ChangeRequest{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	err = s.decide(ctx, id, department, func(tx *ledger.Tx, r ledger.VenueChangeRequest, _ []string) error {
		if department == r.DepartmentCode {
			return passnum.Errorf(passnum.KindForbidden, EForbidden, "département %s asked for change request %d: withdraw it rather than refuse it", department, id)
		}
		if err := settle(tx, id, ledger.ChangeRefused, actor, reason, now); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
			Department: department, Actor: actor, At: now, Data: ledger.ChangeDecided{Event: ledger.EventChangeRefused, ID: id, VenueID: r.VenueID, Department: department, Reason: reason}})
	})
	if err != nil {
		return ChangeRequest{}, err
	}
	return s.ChangeRequest(ctx, id)
}

// WithdrawChange withdraws a change request, for the département that
// asked it ("" for an admin). Errors: not_found, forbidden (another's
// request: refuse it), conflict (decided already).
func (s *Service) WithdrawChange(ctx context.Context, id int64, reason, department, actor string) (ChangeRequest, error) {
	reason, err := optionalReason.Check(reason)
	if err != nil {
		return ChangeRequest{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	err = s.decide(ctx, id, department, func(tx *ledger.Tx, r ledger.VenueChangeRequest, _ []string) error {
		if department != "" && department != r.DepartmentCode {
			return passnum.Errorf(passnum.KindForbidden, EForbidden, "change request %d is département %s's: only it withdraws it; refuse it instead", id, r.DepartmentCode)
		}
		if err := settle(tx, id, ledger.ChangeWithdrawn, actor, reason, now); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(r.VenueID, 10),
			Department: department, Actor: actor, At: now, Data: ledger.ChangeDecided{Event: ledger.EventChangeWithdrawn, ID: id, VenueID: r.VenueID, Department: department, Reason: reason}})
	})
	if err != nil {
		return ChangeRequest{}, err
	}
	return s.ChangeRequest(ctx, id)
}

// decide runs a decision on a pending request under its venue's lock. A
// département not labelling the venue does not see the request (not_found).
func (s *Service) decide(ctx context.Context, id int64, department string, fn func(tx *ledger.Tx, r ledger.VenueChangeRequest, labels []string) error) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		r, err := changeRequest(tx.DB, id)
		if err != nil {
			return err
		}
		if err := tx.LockVenue(r.VenueID); err != nil {
			return err
		}
		// Read again under the lock: a decision that waited for it sees
		// the one before it.
		if r, err = changeRequest(tx.DB, id); err != nil {
			return err
		}
		labels, err := venueLabels(tx.DB, r.VenueID)
		if err != nil {
			return err
		}
		if department != "" && !slices.Contains(labels, department) {
			return passnum.NotFound("there is no change request %d", id)
		}
		if r.Status != ledger.ChangePending {
			return passnum.Conflict("change request %d is already %s", id, r.Status)
		}
		return fn(tx, r, labels)
	})
}

// settle moves a request out of pending, once: of two racing decisions,
// the second finds it decided.
func settle(tx *ledger.Tx, id int64, status ledger.ChangeStatus, actor, reason string, now time.Time) error {
	res := tx.Model(&ledger.VenueChangeRequest{}).Where("id = ? AND status = ?", id, ledger.ChangePending).
		Updates(map[string]any{"status": status, "decided_at": now, "decided_by": actor, "decision_reason": optional(reason)})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return passnum.Conflict("change request %d was decided meanwhile: look at it again", id)
	}
	return nil
}

// awaitingOf lists the départements labelling the venue, other than the
// one that asked, that have not approved a request yet.
func awaitingOf(db *gorm.DB, r ledger.VenueChangeRequest, labels []string) ([]string, error) {
	var approved []string
	if err := db.Model(&ledger.VenueChangeApproval{}).Where("request_id = ?", r.ID).Pluck("department_code", &approved).Error; err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range othersThan(labels, r.DepartmentCode) {
		if !slices.Contains(approved, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func changeRequest(db *gorm.DB, id int64) (ledger.VenueChangeRequest, error) {
	var r ledger.VenueChangeRequest
	err := db.Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, passnum.NotFound("there is no change request %d", id)
	}
	return r, err
}

// ChangeFilter selects change requests; zero fields select all.
type ChangeFilter struct {
	Department string // on venues labelled for it
	VenueID    int64
	Status     string
}

// ChangeRequests lists change requests, newest first.
func (s *Service) ChangeRequests(ctx context.Context, f ChangeFilter) ([]ChangeRequest, error) {
	db := s.DB.Read(ctx)
	q := db.Order("id DESC")
	if f.Department != "" {
		q = q.Where("venue_id IN (SELECT venue_id FROM venue_departments WHERE department_code = ?)", f.Department)
	}
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

// ChangeRequest reads one change request. Errors: not_found.
func (s *Service) ChangeRequest(ctx context.Context, id int64) (ChangeRequest, error) {
	db := s.DB.Read(ctx)
	r, err := changeRequest(db, id)
	if err != nil {
		return ChangeRequest{}, err
	}
	return describe(db, r)
}

func describe(db *gorm.DB, r ledger.VenueChangeRequest) (ChangeRequest, error) {
	out := ChangeRequest{VenueChangeRequest: r, Awaiting: []string{}}
	v, err := venue(db, r.VenueID)
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
