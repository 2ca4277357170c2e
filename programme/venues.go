package programme

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/sepa"
	"passnum/voucher"
)

// Error codes of venue changes, beside the generic ones.
const (
	EVenueStatus         = "venue_status"          // the change does not apply to the venue's current status
	EVenueLabelSuspended = "venue_label_suspended" // labelling a suspended label, which is reinstated instead
	EVenueSIRETTaken     = "venue_siret_taken"     // a venue with this SIRET is already registered
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
	if err := checkLabelEnd(in.LabelExpiresOn, s.DB.Now()); err != nil {
		return VenueWithDepartments{}, err
	}
	v := ledger.Venue{Name: name, SIRET: &siret, Address: address, IBAN: &iban, BIC: optional(bic), Contact: contact}
	var labels []ledger.VenueDepartment
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		v.CreatedAt = tx.Now()
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
			Actor: actor, At: v.CreatedAt, Data: ledger.VenueAdded{ID: v.ID, Name: name, Status: ledger.VenueLabelled, Departments: codes,
				SIRET: siret, Address: address, IBAN: iban, BIC: bic, LabelExpiresOn: dayString(in.LabelExpiresOn), Reason: reason}})
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return VenueWithDepartments{}, passnum.Errorf(passnum.KindConflict, EVenueSIRETTaken, "Un lieu de SIRET %s est déjà enregistré : c'est le même établissement.", siret).On("siret")
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
		return VenueUpdate{}, passnum.Invalid("Rien à changer : donnez un nouveau nom, une adresse, un IBAN (et son BIC) ou un contact.")
	}
	var request *ledger.VenueChangeRequest
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		// Every change of a venue's shared details, and every decision on
		// a request, runs one at a time per venue.
		if err := tx.LockVenue(id); err != nil {
			return err
		}
		v, err := venue(tx.DB, id, department)
		if err != nil {
			return err
		}
		labels, err := venueLabels(tx.DB, id)
		if err != nil {
			return err
		}
		others := othersThan(labels, department)
		bank := want.IBAN != nil
		if bank && department == "" {
			return bankByRequest()
		}
		if ch.shared() && department != "" && (len(others) > 0 || bank) {
			if request, err = s.request(tx, v, want, department, awaited(others, department, bank), reason, actor); err != nil {
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
			Department: department, Actor: actor, At: tx.Now(), Data: data})
	})
	if err != nil {
		return VenueUpdate{}, err
	}
	out := VenueUpdate{}
	if out.Venue, err = s.Venue(ctx, id, department); err != nil {
		return out, err
	}
	if request != nil {
		cr, err := s.ChangeRequest(ctx, request.ID, department)
		if err != nil {
			return out, err
		}
		out.Request = &cr
	}
	return out, nil
}

// Four eyes on money: a venue's bank details change only once a second
// person approved it. The request of a département the venue shares is
// approved by the others' people already; a département alone on the
// venue awaits a second person of its own (its finance role, someone
// other than the one who asked), or an admin. An admin does not change
// them alone: there would be no second person at all.
func awaited(others []string, department string, bank bool) []string {
	if bank && len(others) == 0 {
		return []string{department}
	}
	return others
}

func bankByRequest() error {
	return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "Un nouvel IBAN ne s'applique qu'après l'accord d'une deuxième personne : "+
		"demandez-le au nom d'un département du lieu (passnum venue request --department CODE), puis faites-le approuver.").On("iban")
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
	var err error
	d.IBAN, d.BIC, err = checkBankChange(ch.IBAN, ch.BIC)
	return d, err
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
func checkPayeeName(name string) error {
	if err := sepa.CheckName(name); err != nil {
		return passnum.Invalid("Le nom « %s » ne peut pas s'écrire dans un virement SEPA, qui n'admet que "+
			"les lettres latines (les accents sont retirés), les chiffres et quelques signes : écrivez-le en lettres latines, "+
			"comme sur le RIB du compte.", passnum.Shorten(name, 60)).On("name")
	}
	return nil
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
// the conflicts venue_label_suspended and venue_status.
func (s *Service) Label(ctx context.Context, id int64, of LabelOf, until voucher.Day, reason, actor string) (VenueWithDepartments, error) {
	if err := checkLabelEnd(until, s.DB.Now()); err != nil {
		return VenueWithDepartments{}, err
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
		return VenueWithDepartments{}, passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "Le département %s ne change que son propre label, pas celui du département %s.", of.By, passnum.Shorten(of.Department, 20))
	}
	department := of.Department
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if _, err := venue(tx.DB, id, department); err != nil {
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
		moved := 0
		for _, l := range labels {
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
				return passnum.Conflict("Le lieu %d a changé pendant l'opération : relisez-le et réessayez.", id)
			}
			// The event's département is who acted (none for an admin), so
			// that the others are told (Notices); the label's is in its data.
			if err := tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(id, 10),
				Department: of.By, Actor: actor, At: tx.Now(), Data: data}); err != nil {
				return err
			}
			moved++
		}
		if moved == 0 {
			return statusRefused(id, event, labels)
		}
		return nil
	})
	if err != nil {
		return VenueWithDepartments{}, err
	}
	return s.Venue(ctx, id, of.By)
}

// statusWords name a label's status in a sentence ("le lieu est …").
var statusWords = map[ledger.VenueStatus]string{
	ledger.VenueLabelled:   "labellisé",
	ledger.VenueSuspended:  "suspendu",
	ledger.VenueUnlabelled: "délabellisé",
}

// statusRefused says why no label could make the move of event.
func statusRefused(id int64, event string, labels []ledger.VenueDepartment) error {
	if len(labels) != 1 {
		states := make([]string, len(labels))
		for i, l := range labels {
			states[i] = fmt.Sprintf("%s pour le département %s", statusWords[l.Status], l.DepartmentCode)
		}
		return passnum.Errorf(passnum.KindConflict, EVenueStatus, "Aucun label du lieu %d ne permet ce changement : il est %s.", id, strings.Join(states, ", "))
	}
	l := labels[0]
	is := fmt.Sprintf("Le lieu %d est %s pour le département %s", id, statusWords[l.Status], l.DepartmentCode)
	switch event {
	case ledger.EventVenueLabelled: // only a suspended label cannot be labelled
		return passnum.Errorf(passnum.KindConflict, EVenueLabelSuspended, "%s : levez la suspension plutôt que de le labelliser à nouveau.", is)
	case ledger.EventVenueSuspended:
		return passnum.Errorf(passnum.KindConflict, EVenueStatus, "%s : seul un lieu labellisé peut être suspendu.", is)
	case ledger.EventVenueReinstated:
		return passnum.Errorf(passnum.KindConflict, EVenueStatus, "%s, pas suspendu : il n'y a pas de suspension à lever.", is)
	}
	return passnum.Errorf(passnum.KindConflict, EVenueStatus, "Le lieu %d est déjà délabellisé pour le département %s.", id, l.DepartmentCode)
}

// Venue reads one venue; with a département ("" for all), only if the
// venue is labelled for it. Errors: not_found.
func (s *Service) Venue(ctx context.Context, id int64, department string) (VenueWithDepartments, error) {
	v, err := venue(s.DB.Read(ctx), id, department)
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

// VenueFilter selects a page of venues, by id.
type VenueFilter struct {
	Department string // only the venues labelled for it; "" for all
	After      int64  // the venues after this id
	Limit      int    // at most this many; 0 for all
}

// VenuePage is a page of venues and the After of the next one (0 on the
// last page).
type VenuePage struct {
	Venues []VenueWithDepartments
	Next   int64
}

// Venues lists a page of venues by id, each with all its labels.
func (s *Service) Venues(ctx context.Context, f VenueFilter) (VenuePage, error) {
	db := s.DB.Read(ctx)
	q := labelledFor(db.Where("id > ?", f.After).Order("id"), "id", f.Department)
	if f.Limit > 0 {
		q = q.Limit(f.Limit + 1) // one more tells whether a next page exists
	}
	var vs []ledger.Venue
	if err := q.Find(&vs).Error; err != nil {
		return VenuePage{}, err
	}
	page := VenuePage{Venues: []VenueWithDepartments{}}
	if f.Limit > 0 && len(vs) > f.Limit {
		vs = vs[:f.Limit]
		page.Next = vs[len(vs)-1].ID
	}
	if len(vs) == 0 {
		return page, nil
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	var links []ledger.VenueDepartment
	if err := db.Where("venue_id IN ?", ids).Order("venue_id, department_code").Find(&links).Error; err != nil {
		return VenuePage{}, err
	}
	byVenue := map[int64][]ledger.VenueDepartment{}
	for _, l := range links {
		byVenue[l.VenueID] = append(byVenue[l.VenueID], l)
	}
	for _, v := range vs {
		page.Venues = append(page.Venues, withLabels(v, byVenue[v.ID]))
	}
	return page, nil
}

// labelledFor narrows q to the rows whose venue (its column venue) is
// labelled for department, whatever the label's status: the scope of a
// département's staff. "" leaves q as it is.
func labelledFor(q *gorm.DB, venue, department string) *gorm.DB {
	if department == "" {
		return q
	}
	return q.Where(venue+" IN (SELECT venue_id FROM venue_departments WHERE department_code = ?)", department)
}

// venue reads a venue; with a département, only one labelled for it, and
// the same answer for one that is not as for one that does not exist.
func venue(db *gorm.DB, id int64, department string) (ledger.Venue, error) {
	var v ledger.Venue
	err := labelledFor(db.Where("id = ?", id), "id", department).Take(&v).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) && department != "":
		return v, passnum.NotFound("Le lieu %d n'existe pas ou n'est pas labellisé pour le département %s.", id, passnum.Shorten(department, 20))
	case errors.Is(err, gorm.ErrRecordNotFound):
		return v, passnum.NotFound("Le lieu %d n'existe pas dans le programme.", id)
	}
	return v, err
}

// checkBank checks an IBAN and an optional BIC ("" for none) and returns
// them normalised.
func checkBank(iban, bic string) (string, string, error) {
	if strings.TrimSpace(iban) == "" {
		return "", "", passnum.Invalid("Donnez l'IBAN du compte, recopié depuis le RIB de son titulaire : les remboursements se font par virement.").On("iban")
	}
	ibanOut, err := sepa.CheckIBAN(iban)
	if err != nil {
		return "", "", passnum.Invalid("L'IBAN %q n'est pas valable (pays, longueur ou clé de contrôle) : recopiez-le depuis le RIB du titulaire du compte.", passnum.Shorten(iban, 40)).On("iban")
	}
	if strings.TrimSpace(bic) == "" {
		return ibanOut, "", nil
	}
	bicOut, err := sepa.CheckBIC(bic)
	if err != nil {
		return "", "", passnum.Invalid("Le BIC %q n'est pas valable (8 ou 11 lettres et chiffres) : recopiez-le depuis le RIB, ou laissez-le vide.", passnum.Shorten(bic, 20)).On("bic")
	}
	return ibanOut, bicOut, nil
}

// checkBankChange checks a new IBAN and its BIC, either absent (nil, nil:
// no change); a BIC comes with its IBAN. A nil BIC out is none.
func checkBankChange(iban, bic *string) (*string, *string, error) {
	switch {
	case iban == nil && bic == nil:
		return nil, nil, nil
	case iban == nil:
		return nil, nil, passnum.Invalid("Un BIC se donne avec l'IBAN du compte : ils vont ensemble.")
	}
	ib, b, err := checkBank(*iban, deref(bic))
	if err != nil {
		return nil, nil, err
	}
	return &ib, optional(b), nil
}

// checkLabelEnd refuses a label's last day already past at now (zero: no
// expiry).
func checkLabelEnd(until voucher.Day, now time.Time) error {
	if until != 0 && until < voucher.Today(now) {
		return passnum.Invalid("Le label finirait le %s, qui est déjà passé : donnez aujourd'hui ou un jour à venir.", until.French())
	}
	return nil
}

func departmentCodes(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, passnum.Invalid("Donnez au moins un département pour lequel le lieu est labellisé, comme 78.")
	}
	codes := make([]string, 0, len(in))
	for _, c := range in {
		code, err := passnum.DepartmentCode(c)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	return codes, nil
}

func checkDepartmentsExist(tx *ledger.Tx, codes []string) error {
	var known []string
	if err := tx.Model(&ledger.Department{}).Where("code IN ?", codes).Pluck("code", &known).Error; err != nil {
		return err
	}
	for _, c := range codes {
		if !slices.Contains(known, c) {
			return passnum.Errorf(passnum.KindInvalid, EDepartmentUnknown, "Le département %s n'est pas dans le programme : il faut l'y ajouter avant d'y labelliser un lieu.", c)
		}
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
