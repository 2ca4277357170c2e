package programme

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/sepa"
	"passnum/voucher"
)

// Error codes of venue changes, beside the generic ones.
const (
	EVenueStatus = "venue_status" // the change does not apply to the venue's current status
)

// VenueInput is a new venue. SIRET and IBAN are required: a venue is an
// establishment that is paid by transfer.
type VenueInput struct {
	Name        string
	SIRET       string
	Address     string
	IBAN        string
	BIC         string // optional
	Contact     string // optional; kept out of the ledger
	Departments []string
	// LabelExpiresOn is the label's last day; zero: no expiry.
	LabelExpiresOn voucher.Day
	Reason         string // optional, e.g. the labelling committee's decision
}

// VenueWithDepartments is a venue and the départements it is labelled for.
type VenueWithDepartments struct {
	ledger.Venue
	Departments []string
}

// AddVenue registers a venue labelled for the given départements.
// Errors: invalid (a field, an unknown département), conflict (SIRET taken).
func (s *Service) AddVenue(ctx context.Context, in VenueInput, actor string) (VenueWithDepartments, error) {
	name := strings.TrimSpace(in.Name)
	if err := checkName(name, "venue"); err != nil {
		return VenueWithDepartments{}, err
	}
	siret, err := CheckSIRET(in.SIRET)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	iban, bic, err := checkBank(in.IBAN, in.BIC)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	address, contact := strings.TrimSpace(in.Address), strings.TrimSpace(in.Contact)
	if err := checkText(address, "address", 500); err != nil {
		return VenueWithDepartments{}, err
	}
	if err := checkText(contact, "contact", 200); err != nil {
		return VenueWithDepartments{}, err
	}
	codes, err := departmentCodes(in.Departments)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	reason := strings.TrimSpace(in.Reason)
	if err := checkText(reason, "reason", 200); err != nil {
		return VenueWithDepartments{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	if in.LabelExpiresOn != 0 && in.LabelExpiresOn < voucher.Today(now) {
		return VenueWithDepartments{}, passnum.Errorf(passnum.EInvalid, "the label would expire on %s, which is already past", in.LabelExpiresOn)
	}
	v := ledger.Venue{Name: name, Status: ledger.VenueLabelled, CreatedAt: now, SIRET: &siret,
		Address: address, IBAN: &iban, BIC: optional(bic), Contact: contact, LabelExpiresOn: optionalDate(in.LabelExpiresOn)}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := checkDepartmentsExist(tx, codes); err != nil {
			return err
		}
		if err := tx.Create(&v).Error; err != nil {
			return err
		}
		for _, c := range codes {
			if err := tx.Create(&ledger.VenueDepartment{VenueID: v.ID, DepartmentCode: c}).Error; err != nil {
				return err
			}
		}
		return tx.Append(ledger.Record{Type: ledger.EventVenueAdded, Entity: "venue", EntityID: strconv.FormatInt(v.ID, 10),
			Actor: actor, At: now, Data: ledger.VenueAdded{ID: v.ID, Name: name, Status: v.Status, Departments: codes,
				SIRET: siret, Address: address, IBAN: iban, BIC: bic, LabelExpiresOn: dayString(in.LabelExpiresOn), Reason: reason}})
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return VenueWithDepartments{}, passnum.Errorf(passnum.EConflict, "a venue with SIRET %s already exists", siret)
	}
	return VenueWithDepartments{Venue: v, Departments: codes}, err
}

// VenueChanges are the details of a venue to change; nil leaves a field as
// it is.
type VenueChanges struct {
	Name, Address, IBAN, BIC, Contact *string
}

// UpdateVenue changes a venue's details, recording who and why. A new IBAN
// is in the ledger: a redirected payment is what auditors look for first.
// Errors: invalid, not_found.
func (s *Service) UpdateVenue(ctx context.Context, id int64, ch VenueChanges, reason, actor string) (VenueWithDepartments, error) {
	reason, err := requireReason(reason)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	updates := map[string]any{}
	data := ledger.VenueUpdated{ID: id, Reason: reason}
	if ch.Name != nil {
		name := strings.TrimSpace(*ch.Name)
		if err := checkName(name, "venue"); err != nil {
			return VenueWithDepartments{}, err
		}
		updates["name"], data.Name = name, name
	}
	if ch.Address != nil {
		a := strings.TrimSpace(*ch.Address)
		if err := checkText(a, "address", 500); err != nil {
			return VenueWithDepartments{}, err
		}
		updates["address"], data.Address = a, &a
	}
	if ch.IBAN != nil || ch.BIC != nil {
		if ch.IBAN == nil {
			return VenueWithDepartments{}, passnum.Errorf(passnum.EInvalid, "give the IBAN with its BIC")
		}
		bicIn := ""
		if ch.BIC != nil {
			bicIn = *ch.BIC
		}
		iban, bic, err := checkBank(*ch.IBAN, bicIn)
		if err != nil {
			return VenueWithDepartments{}, err
		}
		updates["iban"], updates["bic"], data.IBAN, data.BIC = iban, optional(bic), iban, &bic
	}
	if ch.Contact != nil {
		c := strings.TrimSpace(*ch.Contact)
		if err := checkText(c, "contact", 200); err != nil {
			return VenueWithDepartments{}, err
		}
		updates["contact"], data.ContactChanged = c, true
	}
	if len(updates) == 0 {
		return VenueWithDepartments{}, passnum.Errorf(passnum.EInvalid, "nothing to change: give a name, address, IBAN or contact")
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if _, err := venue(tx.DB, id); err != nil {
			return err
		}
		if err := tx.Model(&ledger.Venue{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Type: ledger.EventVenueUpdated, Entity: "venue", EntityID: strconv.FormatInt(id, 10),
			Actor: actor, At: now, Data: data})
	})
	if err != nil {
		return VenueWithDepartments{}, err
	}
	return s.Venue(ctx, id)
}

// Label labels a venue (again) until a day (zero: no expiry), for instance
// when its label is renewed or was revoked by mistake. A suspended venue
// is reinstated, not relabelled. Errors: invalid, not_found, venue_status.
func (s *Service) Label(ctx context.Context, id int64, until voucher.Day, reason, actor string) (VenueWithDepartments, error) {
	if until != 0 && until < voucher.Today(s.Now()) {
		return VenueWithDepartments{}, passnum.Errorf(passnum.EInvalid, "the label would expire on %s, which is already past", until)
	}
	return s.changeStatus(ctx, id, ledger.EventVenueLabelled, ledger.VenueLabelled, until, reason, actor,
		ledger.VenueLabelled, ledger.VenueUnlabelled)
}

// Suspend stops a venue from redeeming until it is reinstated, for
// instance during an inquiry. Errors: invalid, not_found, venue_status.
func (s *Service) Suspend(ctx context.Context, id int64, reason, actor string) (VenueWithDepartments, error) {
	return s.changeStatus(ctx, id, ledger.EventVenueSuspended, ledger.VenueSuspended, 0, reason, actor, ledger.VenueLabelled)
}

// Reinstate ends a suspension. Errors: invalid, not_found, venue_status.
func (s *Service) Reinstate(ctx context.Context, id int64, reason, actor string) (VenueWithDepartments, error) {
	return s.changeStatus(ctx, id, ledger.EventVenueReinstated, ledger.VenueLabelled, 0, reason, actor, ledger.VenueSuspended)
}

// Unlabel revokes a venue's label: it can no longer redeem, but is still
// paid for what it redeemed before. Errors: invalid, not_found, venue_status.
func (s *Service) Unlabel(ctx context.Context, id int64, reason, actor string) (VenueWithDepartments, error) {
	return s.changeStatus(ctx, id, ledger.EventVenueUnlabelled, ledger.VenueUnlabelled, 0, reason, actor,
		ledger.VenueLabelled, ledger.VenueSuspended)
}

// changeStatus moves a venue from one of the statuses in from to status.
// Labelling sets the expiry; reinstating keeps it; other changes leave it.
func (s *Service) changeStatus(ctx context.Context, id int64, event, status string, until voucher.Day, reason, actor string, from ...string) (VenueWithDepartments, error) {
	reason, err := requireReason(reason)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		v, err := venue(tx.DB, id)
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || v.Status == f
		}
		if !ok {
			return passnum.Errorf(EVenueStatus, "venue %d is %s: it cannot be %s", id, v.Status, strings.TrimPrefix(event, "venue."))
		}
		updates := map[string]any{"status": status}
		data := ledger.VenueStatusChanged{ID: id, Status: status, Reason: reason}
		if event == ledger.EventVenueLabelled {
			updates["label_expires_on"] = optionalDate(until)
			data.LabelExpiresOn = dayString(until)
		}
		// Conditional on the status read: two concurrent changes cannot both apply.
		r := tx.Model(&ledger.Venue{}).Where("id = ? AND status = ?", id, v.Status).Updates(updates)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Errorf(passnum.EConflict, "venue %d changed meanwhile: look at it again", id)
		}
		return tx.Append(ledger.Record{Type: event, Entity: "venue", EntityID: strconv.FormatInt(id, 10),
			Actor: actor, At: now, Data: data})
	})
	if err != nil {
		return VenueWithDepartments{}, err
	}
	return s.Venue(ctx, id)
}

// Venue reads one venue. Errors: not_found.
func (s *Service) Venue(ctx context.Context, id int64) (VenueWithDepartments, error) {
	v, err := venue(s.DB.Read(ctx), id)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	var codes []string
	err = s.DB.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ?", id).
		Order("department_code").Pluck("department_code", &codes).Error
	return VenueWithDepartments{Venue: v, Departments: codes}, err
}

// Venues lists the venues by id; with a département, only those labelled
// for it.
func (s *Service) Venues(ctx context.Context, department string) ([]VenueWithDepartments, error) {
	q := s.DB.Read(ctx).Order("id")
	if department != "" {
		q = q.Where("id IN (SELECT venue_id FROM venue_departments WHERE department_code = ?)", department)
	}
	var vs []ledger.Venue
	if err := q.Find(&vs).Error; err != nil {
		return nil, err
	}
	var links []ledger.VenueDepartment
	if err := s.DB.Read(ctx).Order("venue_id, department_code").Find(&links).Error; err != nil {
		return nil, err
	}
	byVenue := map[int64][]string{}
	for _, l := range links {
		byVenue[l.VenueID] = append(byVenue[l.VenueID], l.DepartmentCode)
	}
	out := make([]VenueWithDepartments, len(vs))
	for i, v := range vs {
		out[i] = VenueWithDepartments{Venue: v, Departments: byVenue[v.ID]}
	}
	return out, nil
}

func venue(db *gorm.DB, id int64) (ledger.Venue, error) {
	var v ledger.Venue
	err := db.Where("id = ?", id).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return v, passnum.Errorf(passnum.ENotFound, "there is no venue %d", id)
	}
	return v, err
}

func checkBank(iban, bic string) (string, string, error) {
	iban, err := sepa.CheckIBAN(iban)
	if err != nil {
		return "", "", passnum.Errorf(passnum.EInvalid, "IBAN: %v", err)
	}
	if strings.TrimSpace(bic) == "" {
		return iban, "", nil
	}
	bic, err = sepa.CheckBIC(bic)
	if err != nil {
		return "", "", passnum.Errorf(passnum.EInvalid, "BIC: %v", err)
	}
	return iban, bic, nil
}

func departmentCodes(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, passnum.Errorf(passnum.EInvalid, "a venue must be labelled for at least one département")
	}
	codes := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	return codes, nil
}

func checkDepartmentsExist(tx *ledger.Tx, codes []string) error {
	var known int64
	if err := tx.Model(&ledger.Department{}).Where("code IN ?", codes).Count(&known).Error; err != nil {
		return err
	}
	if int(known) != len(codes) {
		return passnum.Errorf(passnum.EInvalid, "unknown département among %s: add it first with 'passnum department add'", strings.Join(codes, ", "))
	}
	return nil
}

func requireReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 || !utf8.ValidString(reason) {
		return "", passnum.Errorf(passnum.EInvalid, "say why (1 to 200 characters), for example \"décision du comité de labellisation du 12/10\"")
	}
	return reason, nil
}

func checkText(s, what string, limit int) error {
	if utf8.RuneCountInString(s) > limit || !utf8.ValidString(s) {
		return passnum.Errorf(passnum.EInvalid, "the %s must be at most %d characters", what, limit)
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalDate(d voucher.Day) *ledger.Date {
	if d == 0 {
		return nil
	}
	ld := ledger.Date(d)
	return &ld
}

func dayString(d voucher.Day) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
