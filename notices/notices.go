// Package notices tells people by email what others did that touches
// their money (that a venue's bank details changed, once a second person
// approved it: issue #14, four eyes) and the invitations people send. The rule of who is told is
// here once, for every edge that applies such a change (the API, the
// command line); the texts are mail's.
package notices

import (
	"context"
	"errors"
	"fmt"

	"passnum/access"
	"passnum/accounts"
	"passnum/ledger"
	"passnum/mail"
	"passnum/programme"
)

// Service sends the notices.
type Service struct {
	DB       *ledger.DB // and its clock
	Accounts *accounts.Service
	Mail     mail.Sender
}

// BankDetailsChanged tells of an applied change request that set a new
// IBAN: the venue (its contact, when it is an email address) and the
// managers and finance people of every département labelling it, each
// once. A request that set no IBAN, or is not applied, tells no one. It
// returns how many were told; a failure to send to one does not stop the
// others, and the errors are returned joined.
func (s *Service) BankDetailsChanged(ctx context.Context, r programme.ChangeRequest) (int, error) {
	if r.Status != ledger.ChangeApplied || r.IBAN == nil || r.DecidedBy == nil {
		return 0, nil
	}
	var v ledger.Venue
	if err := s.DB.Read(ctx).Where("id = ?", r.VenueID).Take(&v).Error; err != nil {
		return 0, err
	}
	var labels []string
	if err := s.DB.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ?", r.VenueID).Order("department_code").
		Pluck("department_code", &labels).Error; err != nil {
		return 0, err
	}
	to, err := s.Accounts.MoneyPeople(ctx, labels)
	if err != nil {
		return 0, err
	}
	if _, err := mail.CheckAddress(v.Contact); err == nil {
		to = append([]string{v.Contact}, to...)
	}
	asked, err := s.Accounts.Describe(ctx, r.CreatedBy)
	if err != nil {
		return 0, err
	}
	approved, err := s.Accounts.Describe(ctx, *r.DecidedBy)
	if err != nil {
		return 0, err
	}
	var d ledger.Department
	if err := s.DB.Read(ctx).Where("code = ?", r.DepartmentCode).Take(&d).Error; err != nil {
		return 0, err
	}
	contact := fmt.Sprintf("le département %s (%s)", d.Name, d.Code)
	if d.ContactPhone != nil {
		contact += " au " + *d.ContactPhone
	}
	sent, errs := 0, []error{}
	for _, addr := range to {
		m, err := mail.BankDetailsChanged{To: addr, Venue: v.Name, IBAN: *r.IBAN, RequestedBy: asked, ApprovedBy: approved,
			Contact: contact, Date: s.DB.Now()}.Message()
		if err == nil {
			err = s.Mail.Send(ctx, m)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("the notice of venue %d's new IBAN to %s: %w", v.ID, addr, err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// Invited sends an invitation just made to its address, with the link
// that accepts it; by names who invites, as the person knows them (a
// colleague's address and organisation, or the programme's team).
func (s *Service) Invited(ctx context.Context, inv accounts.Invitation, link, by string) error {
	m, err := mail.Invitation{To: inv.Email, InvitedBy: by, Organisation: inv.Label, Role: access.RoleName(inv.Role),
		Link: link, Expires: inv.ExpiresAt, Date: s.DB.Now()}.Message()
	if err != nil {
		return err
	}
	return s.Mail.Send(ctx, m)
}

// PayingOfficeChanged tells the managers and finance people of a
// département that its paying office changed: d as it now is, asked by
// requestedBy and confirmed by confirmedBy (actors). It returns how many
// were told; a failure to send to one does not stop the others.
func (s *Service) PayingOfficeChanged(ctx context.Context, d ledger.Department, requestedBy, confirmedBy string) (int, error) {
	if d.PayerIBAN == nil || d.PayerName == nil {
		return 0, nil // no paying office yet: nothing pays from it
	}
	to, err := s.Accounts.MoneyPeople(ctx, []string{d.Code})
	if err != nil {
		return 0, err
	}
	asked, err := s.Accounts.Describe(ctx, requestedBy)
	if err != nil {
		return 0, err
	}
	approved, err := s.Accounts.Describe(ctx, confirmedBy)
	if err != nil {
		return 0, err
	}
	sent, errs := 0, []error{}
	for _, addr := range to {
		m, err := mail.PayingOfficeChanged{To: addr, Department: fmt.Sprintf("%s (%s)", d.Name, d.Code), Payer: *d.PayerName,
			IBAN: *d.PayerIBAN, RequestedBy: asked, ApprovedBy: approved, Date: s.DB.Now()}.Message()
		if err == nil {
			err = s.Mail.Send(ctx, m)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("the notice of %s's new paying office to %s: %w", d.Code, addr, err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}
