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

// DepartmentChanges are a département's settings to change; nil leaves a
// field as it is. What decides money (the paying office, the commission,
// stopping four eyes on closing) waits for a second person
// (ConfirmSettings); the contact phone, and turning four eyes on, apply at
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

// moneySettings are the settings asked for, as they wait for a second
// person: only those asked.
type moneySettings struct {
	PayerName             *string `json:"payer_name,omitempty"`
	PayerIBAN             *string `json:"payer_iban,omitempty"`
	PayerBIC              *string `json:"payer_bic,omitempty"`
	CommissionBasisPoints *int64  `json:"commission_basis_points,omitempty"`
	CloseFourEyes         *bool   `json:"close_four_eyes,omitempty"`
}

// DepartmentUpdate is a département after an update: what the update
// asked that now waits for a second person, if anything, and whether
// anything changed at once.
type DepartmentUpdate struct {
	ledger.Department
	Asked   *foureyes.Request
	Changed bool
}

// UpdateDepartment sets a département's contact phone or turns four eyes
// on closing on, at once, and asks for its money settings (paying office,
// commission, four eyes off), which a second person confirms
// (ConfirmSettings): otherwise the one who changed them would decide
// alone where and how much the venues are paid. Errors: invalid,
// not_found, awaiting_second_person (settings already wait).
func (s *Service) UpdateDepartment(ctx context.Context, code string, ch DepartmentChanges, actor string) (DepartmentUpdate, error) {
	updates := map[string]any{}
	data := ledger.DepartmentUpdated{Code: code}
	var money moneySettings
	if ch.PayerName != nil {
		name, err := payerName.Check(*ch.PayerName)
		if err != nil {
			return DepartmentUpdate{}, err
		}
		if err := checkPayeeName(name); err != nil {
			return DepartmentUpdate{}, err
		}
		money.PayerName = &name
	}
	iban, bic, err := checkBankChange(ch.PayerIBAN, ch.PayerBIC)
	if err != nil {
		return DepartmentUpdate{}, err
	}
	if iban != nil {
		b := deref(bic)
		money.PayerIBAN, money.PayerBIC = iban, &b
	}
	if ch.CommissionBasisPoints != nil {
		bp := *ch.CommissionBasisPoints
		if bp < 0 || bp > 10000 {
			return DepartmentUpdate{}, passnum.Invalid("La commission du programme va de 0 à 100 %% (de 0 à 10000 points de base ; 150 = 1,50 %%), pas %d points de base.", bp)
		}
		money.CommissionBasisPoints = &bp
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
	if ch.CloseFourEyes != nil && *ch.CloseFourEyes {
		updates["close_four_eyes"], data.CloseFourEyes = true, ch.CloseFourEyes
	}
	turnOff := ch.CloseFourEyes != nil && !*ch.CloseFourEyes
	if len(updates) == 0 && money == (moneySettings{}) && !turnOff {
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
		if turnOff && out.CloseFourEyes {
			money.CloseFourEyes = ch.CloseFourEyes
		}
		if money != (moneySettings{}) {
			r, err := foureyes.Ask(tx, code, foureyes.Settings, money, actor)
			if err != nil {
				return err
			}
			out.Asked = &r
		}
		if len(updates) == 0 {
			return nil
		}
		out.Changed = true
		return updateDepartment(tx, &out.Department, updates, data, actor)
	})
	return out, err
}

// updateDepartment writes updates to d and their event.
func updateDepartment(tx *ledger.Tx, d *ledger.Department, updates map[string]any, data ledger.DepartmentUpdated, actor string) error {
	if err := tx.Model(&ledger.Department{}).Where("code = ?", d.Code).Updates(updates).Error; err != nil {
		return err
	}
	if err := tx.Where("code = ?", d.Code).Take(d).Error; err != nil {
		return err
	}
	return tx.Append(ledger.Record{Entity: "department", EntityID: d.Code, Department: d.Code, Actor: actor, At: tx.Now(), Data: data})
}

// ConfirmSettings applies the money settings a first person asked for,
// confirmed by actor, a second person; the event names both. Errors:
// nothing_asked, forbidden (actor asked them), not_found.
func (s *Service) ConfirmSettings(ctx context.Context, code, actor string) (ledger.Department, foureyes.Request, error) {
	var d ledger.Department
	var r foureyes.Request
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.LockDepartments(true, code); err != nil {
			return err
		}
		var err error
		if r, err = foureyes.Confirm(tx, code, foureyes.Settings, actor); err != nil {
			return err
		}
		var m moneySettings
		if err := json.Unmarshal(r.Data, &m); err != nil {
			return fmt.Errorf("the settings asked for %s: %w", code, err)
		}
		updates := map[string]any{}
		data := ledger.DepartmentUpdated{Code: code, PayerName: m.PayerName, PayerIBAN: m.PayerIBAN, PayerBIC: m.PayerBIC,
			CommissionBasisPoints: m.CommissionBasisPoints, CloseFourEyes: m.CloseFourEyes, RequestedBy: r.RequestedBy}
		if m.PayerName != nil {
			updates["payer_name"] = *m.PayerName
		}
		if m.PayerIBAN != nil {
			updates["payer_iban"], updates["payer_bic"] = *m.PayerIBAN, optional(deref(m.PayerBIC))
		}
		if m.CommissionBasisPoints != nil {
			updates["commission_basis_points"] = *m.CommissionBasisPoints
		}
		if m.CloseFourEyes != nil {
			updates["close_four_eyes"] = *m.CloseFourEyes
		}
		d.Code = code
		return updateDepartment(tx, &d, updates, data, actor)
	})
	return d, r, err
}

// PaysFrom tells whether confirmed settings changed the paying office,
// which its money people are told of.
func PaysFrom(r foureyes.Request) bool {
	var m moneySettings
	return json.Unmarshal(r.Data, &m) == nil && (m.PayerName != nil || m.PayerIBAN != nil)
}

// RefuseSettings drops the money settings asked for, with a reason (the
// one who asked withdraws them so). Errors: nothing_asked, invalid.
func (s *Service) RefuseSettings(ctx context.Context, code, reason, actor string) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.LockDepartments(true, code); err != nil {
			return err
		}
		_, err := foureyes.Refuse(tx, code, foureyes.Settings, reason, actor)
		return err
	})
}

// Waiting lists what waits for a second person in a département: a
// paying office, a month's closing.
func (s *Service) Waiting(ctx context.Context, code string) ([]foureyes.Request, error) {
	return foureyes.Waiting(s.DB.Read(ctx), code)
}
