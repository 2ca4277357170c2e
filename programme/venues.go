package programme

import (
	"context"
	"errors"
	"slices"
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

// VenueWithDepartments is a venue, the départements it is labelled for
// (whatever the label's status: each still pays what it redeemed) and its
// label for each, in the same order.
type VenueWithDepartments struct {
	ledger.Venue
	Departments []string
	Labels      []ledger.VenueDepartment
}

// Label is the venue's label for a département; false if it has none.
func (v VenueWithDepartments) Label(department string) (ledger.VenueDepartment, bool) {
	for _, l := range v.Labels {
		if l.DepartmentCode == department {
			return l, true
		}
	}
	return ledger.VenueDepartment{}, false
}

// AddVenue registers a venue labelled for the given départements.
// Errors: invalid (a field, an unknown département), conflict (SIRET taken).
func (s *Service) AddVenue(ctx context.Context, in VenueInput, actor string) (VenueWithDepartments, error) {
	name, err := venueName.Check(in.Name)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	if err := checkPayeeName(name); err != nil {
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
	address, err := venueAddress.Check(in.Address)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	contact, err := venueContact.Check(in.Contact)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	codes, err := departmentCodes(in.Departments)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	reason, err := optionalReason.Check(in.Reason)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	if in.LabelExpiresOn != 0 && in.LabelExpiresOn < voucher.Today(now) {
		return VenueWithDepartments{}, passnum.Invalid("the label would expire on %s, which is already past", in.LabelExpiresOn)
	}
	v := ledger.Venue{Name: name, CreatedAt: now, SIRET: &siret, Address: address, IBAN: &iban, BIC: optional(bic), Contact: contact}
	var labels []ledger.VenueDepartment
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := checkDepartmentsExist(tx, codes); err != nil {
			return err
		}
		if err := tx.Create(&v).Error; err != nil {
			return err
		}
		for _, c := range codes {
			l := ledger.VenueDepartment{VenueID: v.ID, DepartmentCode: c, Status: ledger.VenueLabelled, LabelExpiresOn: optionalDate(in.LabelExpiresOn)}
			if err := tx.Create(&l).Error; err != nil {
				return err
			}
			labels = append(labels, l)
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(v.ID, 10),
			Actor: actor, At: now, Data: ledger.VenueAdded{ID: v.ID, Name: name, Status: ledger.VenueLabelled, Departments: codes,
				SIRET: siret, Address: address, IBAN: iban, BIC: bic, LabelExpiresOn: dayString(in.LabelExpiresOn), Reason: reason}})
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return VenueWithDepartments{}, passnum.Conflict("a venue with SIRET %s already exists", siret)
	}
	slices.SortFunc(labels, func(a, b ledger.VenueDepartment) int { return strings.Compare(a.DepartmentCode, b.DepartmentCode) })
	return withLabels(v, labels), err
}

// VenueChanges are the details of a venue to change; nil leaves a field as
// it is.
type VenueChanges struct {
	Name, Address, IBAN, BIC, Contact *string
}

// shared reports whether the changes touch what the venue's départements
// share: its identity and bank details. The contact is the venue's own
// business: any of its départements changes it at once.
func (ch VenueChanges) shared() bool {
	return ch.Name != nil || ch.Address != nil || ch.IBAN != nil || ch.BIC != nil
}

// VenueUpdate is the outcome of UpdateVenue: the venue as it now is, and
// the change request made when the change awaits other départements.
type VenueUpdate struct {
	Venue   VenueWithDepartments
	Request *ChangeRequest // nil: every change took effect
}

// UpdateVenue changes a venue's details, recording who and why. A new IBAN
// is in the ledger: a redirected payment is what auditors look for first.
//
// department is the département asking ("" for an admin). The name,
// address, IBAN and BIC are shared by every département that labels the
// venue, each paying it with its own money: a département alone on the
// venue, or an admin, changes them at once; otherwise they become a
// change request that takes effect once the others approve it
// (ApproveChange). The contact changes at once either way.
// Errors: invalid, not_found, conflict (a request is already pending).
func (s *Service) UpdateVenue(ctx context.Context, id int64, ch VenueChanges, reason, department, actor string) (VenueUpdate, error) {
	reason, err := labelReason.Check(reason)
	if err != nil {
		return VenueUpdate{}, err
	}
	var contact *string
	if ch.Contact != nil {
		c, err := venueContact.Check(*ch.Contact)
		if err != nil {
			return VenueUpdate{}, err
		}
		contact = &c
	}
	want, err := checkChanges(ch)
	if err != nil {
		return VenueUpdate{}, err
	}
	if contact == nil && !ch.shared() {
		return VenueUpdate{}, passnum.Invalid("nothing to change: give a name, address, IBAN or contact")
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	var request *ledger.VenueChangeRequest
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		// Every change of a venue's shared details, and every decision on
		// a request, runs one at a time per venue.
		if err := tx.LockVenue(id); err != nil {
			return err
		}
		v, err := venue(tx.DB, id)
		if err != nil {
			return err
		}
		labels, err := venueLabels(tx.DB, id)
		if err != nil {
			return err
		}
		if department != "" && !slices.Contains(labels, department) {
			return passnum.NotFound("there is no venue %d labelled for département %s", id, department)
		}
		others := othersThan(labels, department)
		if ch.shared() && department != "" && len(others) > 0 {
			if request, err = s.request(tx, v, want, department, others, reason, actor, now); err != nil {
				return err
			}
			want = venueDetails{} // the contact alone changes now
		}
		data, updates := want.event(id, reason)
		if contact != nil {
			updates["contact"], data.ContactChanged = *contact, true
		}
		if len(updates) == 0 {
			return nil // everything awaits approval
		}
		if err := tx.Model(&ledger.Venue{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(id, 10),
			Department: department, Actor: actor, At: now, Data: data})
	})
	if err != nil {
		return VenueUpdate{}, err
	}
	out := VenueUpdate{}
	if out.Venue, err = s.Venue(ctx, id); err != nil {
		return out, err
	}
	if request != nil {
		cr, err := s.ChangeRequest(ctx, request.ID)
		if err != nil {
			return out, err
		}
		out.Request = &cr
	}
	return out, nil
}

// venueDetails are the shared details to set; nil leaves one as it is. A
// non-nil IBAN comes with its BIC (nil: none).
type venueDetails struct {
	Name, Address, IBAN, BIC *string
}

// checkChanges checks and normalises the shared details of a change.
func checkChanges(ch VenueChanges) (venueDetails, error) {
	var d venueDetails
	if ch.Name != nil {
		name, err := venueName.Check(*ch.Name)
		if err != nil {
			return d, err
		}
		if err := checkPayeeName(name); err != nil {
			return d, err
		}
		d.Name = &name
	}
	if ch.Address != nil {
		a, err := venueAddress.Check(*ch.Address)
		if err != nil {
			return d, err
		}
		d.Address = &a
	}
	if ch.IBAN != nil || ch.BIC != nil {
		if ch.IBAN == nil {
			return d, passnum.Invalid("give the IBAN with its BIC")
		}
		bicIn := ""
		if ch.BIC != nil {
			bicIn = *ch.BIC
		}
		iban, bic, err := checkBank(*ch.IBAN, bicIn)
		if err != nil {
			return d, err
		}
		d.IBAN, d.BIC = &iban, optional(bic)
	}
	return d, nil
}

// event is the venue.updated data and the column updates of details.
func (d venueDetails) event(id int64, reason string) (ledger.VenueUpdated, map[string]any) {
	updates := map[string]any{}
	data := ledger.VenueUpdated{ID: id, Reason: reason}
	if d.Name != nil {
		updates["name"], data.Name = *d.Name, *d.Name
	}
	if d.Address != nil {
		updates["address"], data.Address = *d.Address, d.Address
	}
	if d.IBAN != nil {
		bic := deref(d.BIC)
		updates["iban"], updates["bic"], data.IBAN, data.BIC = *d.IBAN, d.BIC, *d.IBAN, &bic
	}
	return data, updates
}

// checkPayeeName refuses a name that a SEPA transfer cannot write (sepa's
// own rule), when it is entered: discovered at payment time, it would
// block the whole payment file of every département paying the venue.
// The message is French, marked so: the API shows it as it is.
func checkPayeeName(name string) error {
	if err := sepa.CheckName(name); err != nil {
		err := passnum.Invalid("Le nom « %s » ne peut pas s'écrire dans un virement SEPA, qui n'admet que "+
			"les lettres latines (les accents sont retirés), les chiffres et quelques signes : écrivez-le en lettres latines, "+
			"comme sur le RIB du compte.", shorten(name, 60))
		err.French = true
		return err
	}
	return nil
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// LabelOf names whose label a status change moves, and who moves it.
type LabelOf struct {
	Department string // the label's département; "" for every label of the venue
	By         string // the département acting, which moves its own label only; "" for an admin
}

// Label labels a venue (again) for a département until a day (zero: no
// expiry), for instance when its label is renewed or was revoked by
// mistake. A suspended label is reinstated, not relabelled.
// Errors: invalid, not_found, forbidden (another département's label), and
// the conflict venue_status.
func (s *Service) Label(ctx context.Context, id int64, of LabelOf, until voucher.Day, reason, actor string) (VenueWithDepartments, error) {
	if until != 0 && until < voucher.Today(s.Now()) {
		return VenueWithDepartments{}, passnum.Invalid("the label would expire on %s, which is already past", until)
	}
	return s.changeStatus(ctx, id, of, ledger.EventVenueLabelled, ledger.VenueLabelled, until, reason, actor,
		ledger.VenueLabelled, ledger.VenueUnlabelled)
}

// Suspend stops a venue from redeeming a département's vouchers until it
// is reinstated, for instance during an inquiry; the other départements'
// vouchers are still accepted. Errors: invalid, not_found, venue_status.
func (s *Service) Suspend(ctx context.Context, id int64, of LabelOf, reason, actor string) (VenueWithDepartments, error) {
	return s.changeStatus(ctx, id, of, ledger.EventVenueSuspended, ledger.VenueSuspended, 0, reason, actor, ledger.VenueLabelled)
}

// Reinstate ends a suspension. Errors: invalid, not_found, venue_status.
func (s *Service) Reinstate(ctx context.Context, id int64, of LabelOf, reason, actor string) (VenueWithDepartments, error) {
	return s.changeStatus(ctx, id, of, ledger.EventVenueReinstated, ledger.VenueLabelled, 0, reason, actor, ledger.VenueSuspended)
}

// Unlabel revokes a venue's label for a département: it can no longer
// redeem that département's vouchers, but is still paid for what it
// redeemed before. Errors: invalid, not_found, venue_status.
func (s *Service) Unlabel(ctx context.Context, id int64, of LabelOf, reason, actor string) (VenueWithDepartments, error) {
	return s.changeStatus(ctx, id, of, ledger.EventVenueUnlabelled, ledger.VenueUnlabelled, 0, reason, actor,
		ledger.VenueLabelled, ledger.VenueSuspended)
}

// changeStatus moves a venue's label for a département from one of the
// statuses in from to status; no département (an admin) moves every label
// of the venue that can make the move, and fails only if none can.
// Labelling sets the expiry; other changes leave it. One event per label.
func (s *Service) changeStatus(ctx context.Context, id int64, of LabelOf, event string, status ledger.VenueStatus, until voucher.Day, reason, actor string, from ...ledger.VenueStatus) (VenueWithDepartments, error) {
	reason, err := labelReason.Check(reason)
	if err != nil {
		return VenueWithDepartments{}, err
	}
	if of.By != "" && of.Department != of.By {
		return VenueWithDepartments{}, passnum.Errorf(passnum.KindForbidden, EForbidden, "département %s changes its own label only, not département %q's", of.By, of.Department)
	}
	department := of.Department
	now := s.Now().UTC().Truncate(time.Microsecond)
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if _, err := venue(tx.DB, id); err != nil {
			return err
		}
		var labels []ledger.VenueDepartment
		q := tx.Where("venue_id = ?", id).Order("department_code")
		if department != "" {
			q = q.Where("department_code = ?", department)
		}
		if err := q.Find(&labels).Error; err != nil {
			return err
		}
		if len(labels) == 0 {
			return passnum.NotFound("venue %d is not labelled for département %s", id, department)
		}
		moved := 0
		var last ledger.VenueDepartment
		for _, l := range labels {
			last = l
			if !slices.Contains(from, l.Status) {
				continue
			}
			updates := map[string]any{"status": status}
			data := ledger.VenueStatusChanged{Event: event, ID: id, Department: l.DepartmentCode, Status: status, Reason: reason}
			if event == ledger.EventVenueLabelled {
				updates["label_expires_on"] = optionalDate(until)
				data.LabelExpiresOn = dayString(until)
			}
			// Conditional on the status read: two concurrent changes cannot both apply.
			r := tx.Model(&ledger.VenueDepartment{}).Where("venue_id = ? AND department_code = ? AND status = ?", id, l.DepartmentCode, l.Status).
				Updates(updates)
			if r.Error != nil {
				return r.Error
			}
			if r.RowsAffected != 1 {
				return passnum.Conflict("venue %d changed meanwhile: look at it again", id)
			}
			// The event's département is who acted (none for an admin), so
			// that the others are told (Notices); the label's is in its data.
			if err := tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(id, 10),
				Department: of.By, Actor: actor, At: now, Data: data}); err != nil {
				return err
			}
			moved++
		}
		if moved == 0 {
			return passnum.Errorf(passnum.KindConflict, EVenueStatus, "venue %d is %s for département %s: it cannot be %s", id, last.Status, last.DepartmentCode, strings.TrimPrefix(event, "venue."))
		}
		return nil
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
	var labels []ledger.VenueDepartment
	err = s.DB.Read(ctx).Where("venue_id = ?", id).Order("department_code").Find(&labels).Error
	return withLabels(v, labels), err
}

func withLabels(v ledger.Venue, labels []ledger.VenueDepartment) VenueWithDepartments {
	out := VenueWithDepartments{Venue: v, Labels: labels}
	for _, l := range labels {
		out.Departments = append(out.Departments, l.DepartmentCode)
	}
	return out
}

// venueLabels lists the départements a venue is labelled for, whatever
// the label's status.
func venueLabels(db *gorm.DB, id int64) ([]string, error) {
	var codes []string
	err := db.Model(&ledger.VenueDepartment{}).Where("venue_id = ?", id).Order("department_code").Pluck("department_code", &codes).Error
	return codes, err
}

// othersThan is codes without department.
func othersThan(codes []string, department string) []string {
	out := []string{}
	for _, c := range codes {
		if c != department {
			out = append(out, c)
		}
	}
	return out
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
	byVenue := map[int64][]ledger.VenueDepartment{}
	for _, l := range links {
		byVenue[l.VenueID] = append(byVenue[l.VenueID], l)
	}
	out := make([]VenueWithDepartments, len(vs))
	for i, v := range vs {
		out[i] = withLabels(v, byVenue[v.ID])
	}
	return out, nil
}

func venue(db *gorm.DB, id int64) (ledger.Venue, error) {
	var v ledger.Venue
	err := db.Where("id = ?", id).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return v, passnum.NotFound("there is no venue %d", id)
	}
	return v, err
}

func checkBank(iban, bic string) (string, string, error) {
	iban, err := sepa.CheckIBAN(iban)
	if err != nil {
		return "", "", passnum.Invalid("IBAN: %v", err)
	}
	if strings.TrimSpace(bic) == "" {
		return iban, "", nil
	}
	bic, err = sepa.CheckBIC(bic)
	if err != nil {
		return "", "", passnum.Invalid("BIC: %v", err)
	}
	return iban, bic, nil
}

func departmentCodes(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, passnum.Invalid("a venue must be labelled for at least one département")
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
		return passnum.Invalid("unknown département among %s: add it first with 'passnum department add'", strings.Join(codes, ", "))
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
