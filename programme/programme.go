// Package programme manages who takes part in the programme: the
// départements that fund and issue chéquiers, and the labelled venues that
// redeem them.
package programme

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"passnum"
	"passnum/foureyes"
	"passnum/ledger"

	"gorm.io/gorm"
)

// Service changes départements and venues. Its messages are in French, for
// the command line and the API alike; how to put an error right with each
// (a command, a request) is in their hint tables, by code.
type Service struct {
	DB *ledger.DB
}

// Error codes of départements, beside the generic ones.
const (
	EDepartmentUnknown = "department_unknown" // a venue names a département the programme does not have
)

// AddDepartment registers a département by its official code ("78", "2A",
// "971"). Errors: invalid (bad code or name), conflict (already there).
func (s *Service) AddDepartment(ctx context.Context, code, name, actor string) (ledger.Department, error) {
	code, err := passnum.DepartmentCode(code)
	if err != nil {
		return ledger.Department{}, err
	}
	name, err = departmentName.Check(name)
	if err != nil {
		return ledger.Department{}, err
	}
	d := ledger.Department{Code: code, Name: name}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		d.CreatedAt = tx.Now()
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "department", EntityID: code,
			Department: code, Actor: actor, At: d.CreatedAt, Data: ledger.DepartmentAdded{Code: code, Name: name}})
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return d, passnum.Conflict("Le département %s existe déjà.", code)
	}
	return d, err
}

// Departments lists the départements by code: every one, or with a
// département ("" for all) that one alone, as its staff sees them.
func (s *Service) Departments(ctx context.Context, department string) ([]ledger.Department, error) {
	q := s.DB.Read(ctx).Order("code")
	if department != "" {
		q = q.Where("code = ?", department)
	}
	var ds []ledger.Department
	err := q.Find(&ds).Error
	return ds, err
}

// The programme's free-text fields.
var (
	departmentName = passnum.Text{What: "Le nom du département", Max: 200, Required: true}
	payerName      = passnum.Text{What: "Le nom du payeur", Max: 200, Required: true}
	venueName      = passnum.Text{What: "Le nom du lieu", Max: 200, Required: true}
	venueAddress   = passnum.Text{What: "L'adresse du lieu", Max: 500, Lines: true}
	venueContact   = passnum.Text{What: "Le contact du lieu", Max: 200}
	// A labelling decision needs its reason; a venue's creation or a
	// withdrawn request may do without.
	labelReason    = passnum.Reason("décision du comité de labellisation du 12/10")
	optionalReason = passnum.Text{What: "Le motif", Max: 200}
)

// DepartmentChanges are a département's settlement details to change; nil
// leaves a field as it is. A new paying office (its name or bank details)
// waits for a second person (ConfirmPayingOffice); the rest applies at
// once.
type DepartmentChanges struct {
	PayerName, PayerIBAN, PayerBIC *string
	// CommissionBasisPoints is the programme's commission on venues'
	// reimbursements, 0 to 10000 (150 = 1.50 %).
	CommissionBasisPoints *int64
	// ContactPhone is the number the département answers on for the
	// programme: to call when a chéquier is lost (on every cover) and
	// about a payment (on the statements). "" removes it.
	ContactPhone *string
	// CloseFourEyes: closing a month needs a second person.
	CloseFourEyes *bool
}

// payingOffice is a paying office asked for, as it waits for a second
// person: the fields asked, the others kept.
type payingOffice struct {
	Name *string `json:"payer_name,omitempty"`
	IBAN *string `json:"payer_iban,omitempty"`
	BIC  *string `json:"payer_bic,omitempty"`
}

// DepartmentUpdate is a département after an update: what the update
// asked that now waits for a second person (a paying office, stopping
// four eyes on closing), and whether anything changed at once.
type DepartmentUpdate struct {
	ledger.Department
	Asked   []foureyes.Request
	Changed bool
}

// UpdateDepartment sets a département's commission, contact phone or
// four eyes on closing, and asks for a new paying office (whose account
// the SEPA transfers come from), which a second person confirms
// (ConfirmPayingOffice). Errors: invalid, not_found,
// awaiting_second_person (a paying office already waits).
func (s *Service) UpdateDepartment(ctx context.Context, code string, ch DepartmentChanges, actor string) (DepartmentUpdate, error) {
	updates := map[string]any{}
	data := ledger.DepartmentUpdated{Code: code}
	var office payingOffice
	if ch.PayerName != nil {
		name, err := payerName.Check(*ch.PayerName)
		if err != nil {
			return DepartmentUpdate{}, err
		}
		if err := checkPayeeName(name); err != nil {
			return DepartmentUpdate{}, err
		}
		office.Name = &name
	}
	iban, bic, err := checkBankChange(ch.PayerIBAN, ch.PayerBIC)
	if err != nil {
		return DepartmentUpdate{}, err
	}
	if iban != nil {
		b := deref(bic)
		office.IBAN, office.BIC = iban, &b
	}
	if ch.CommissionBasisPoints != nil {
		bp := *ch.CommissionBasisPoints
		if bp < 0 || bp > 10000 {
			return DepartmentUpdate{}, passnum.Invalid("La commission du programme va de 0 à 100 %% (de 0 à 10000 points de base ; 150 = 1,50 %%), pas %d points de base.", bp)
		}
		updates["commission_basis_points"], data.CommissionBasisPoints = bp, &bp
	}
	if ch.ContactPhone != nil {
		phone := strings.TrimSpace(*ch.ContactPhone)
		if phone != "" {
			var err error
			if phone, err = CheckPhone(phone); err != nil {
				return DepartmentUpdate{}, err
			}
		}
		// The event says "" for a number removed, the column NULL.
		updates["contact_phone"], data.ContactPhone = optional(phone), &phone
	}
	// Turning four eyes on closing off is itself decided by two people,
	// or the one who turned it off would close alone: the first asks,
	// another's same request confirms (as a closing is).
	turnOff := ch.CloseFourEyes != nil && !*ch.CloseFourEyes
	if ch.CloseFourEyes != nil && !turnOff {
		updates["close_four_eyes"], data.CloseFourEyes = true, ch.CloseFourEyes
	}
	asksOffice := office != payingOffice{}
	if len(updates) == 0 && !asksOffice && !turnOff {
		return DepartmentUpdate{}, passnum.Invalid("Rien à changer : donnez le nom du payeur, son IBAN (et son BIC), la commission, le numéro de téléphone ou la double validation des clôtures.")
	}
	var out DepartmentUpdate
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.LockDepartments(true, code); err != nil {
			return err
		}
		if err := tx.Where("code = ?", code).Take(&out.Department).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return passnum.NotFound("Le département %s n'existe pas dans le programme.", code)
		} else if err != nil {
			return err
		}
		if asksOffice {
			r, err := foureyes.Ask(tx, code, foureyes.PayingOffice, office, actor)
			if err != nil {
				return err
			}
			out.Asked = append(out.Asked, r)
		}
		if turnOff && out.CloseFourEyes {
			asked, err := foureyes.Find(tx.DB, code, foureyes.CloseSingle)
			if err != nil {
				return err
			}
			if asked == nil {
				r, err := foureyes.Ask(tx, code, foureyes.CloseSingle, map[string]bool{"close_four_eyes": false}, actor)
				if err != nil {
					return err
				}
				out.Asked = append(out.Asked, r)
			} else {
				r, err := foureyes.Confirm(tx, code, foureyes.CloseSingle, actor)
				if err != nil {
					return err
				}
				off := false
				updates["close_four_eyes"], data.CloseFourEyes, data.RequestedBy = false, &off, r.RequestedBy
			}
		}
		if len(updates) == 0 {
			return nil
		}
		out.Changed = true
		if err := tx.Model(&ledger.Department{}).Where("code = ?", code).Updates(updates).Error; err != nil {
			return err
		}
		if err := tx.Where("code = ?", code).Take(&out.Department).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "department", EntityID: code,
			Department: code, Actor: actor, At: tx.Now(), Data: data})
	})
	return out, err
}

// ConfirmPayingOffice applies the paying office a first person asked for,
// confirmed by actor, a second person. Errors: nothing_asked, forbidden
// (actor asked it), not_found.
func (s *Service) ConfirmPayingOffice(ctx context.Context, code, actor string) (ledger.Department, foureyes.Request, error) {
	var d ledger.Department
	var r foureyes.Request
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.LockDepartments(true, code); err != nil {
			return err
		}
		var err error
		if r, err = foureyes.Confirm(tx, code, foureyes.PayingOffice, actor); err != nil {
			return err
		}
		var office payingOffice
		if err := json.Unmarshal(r.Data, &office); err != nil {
			return fmt.Errorf("the paying office asked for %s: %w", code, err)
		}
		updates := map[string]any{}
		data := ledger.DepartmentUpdated{Code: code, PayerName: office.Name, PayerIBAN: office.IBAN, PayerBIC: office.BIC, RequestedBy: r.RequestedBy}
		if office.Name != nil {
			updates["payer_name"] = *office.Name
		}
		if office.IBAN != nil {
			updates["payer_iban"], updates["payer_bic"] = *office.IBAN, optional(deref(office.BIC))
		}
		if err := tx.Model(&ledger.Department{}).Where("code = ?", code).Updates(updates).Error; err != nil {
			return err
		}
		if err := tx.Where("code = ?", code).Take(&d).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "department", EntityID: code, Department: code, Actor: actor, At: tx.Now(), Data: data})
	})
	return d, r, err
}

// RefusePayingOffice drops the paying office asked for, with a reason
// (the one who asked withdraws it so). Errors: nothing_asked, invalid.
func (s *Service) RefusePayingOffice(ctx context.Context, code, reason, actor string) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.LockDepartments(true, code); err != nil {
			return err
		}
		_, err := foureyes.Refuse(tx, code, foureyes.PayingOffice, reason, actor)
		return err
	})
}

// Waiting lists what waits for a second person in a département: a
// paying office, a month's closing.
func (s *Service) Waiting(ctx context.Context, code string) ([]foureyes.Request, error) {
	return foureyes.Waiting(s.DB.Read(ctx), code)
}
