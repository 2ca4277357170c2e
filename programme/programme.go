// Package programme manages who takes part in the programme: the
// départements that fund and issue chéquiers, and the labelled venues that
// redeem them.
package programme

import (
	"context"
	"errors"
	"strings"

	"passnum"
	"passnum/ledger"
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
// leaves a field as it is.
type DepartmentChanges struct {
	PayerName, PayerIBAN, PayerBIC *string
	// CommissionBasisPoints is the programme's commission on venues'
	// reimbursements, 0 to 10000 (150 = 1.50 %).
	CommissionBasisPoints *int64
	// ContactPhone is the number the département answers on for the
	// programme: to call when a chéquier is lost (on every cover) and
	// about a payment (on the statements). "" removes it.
	ContactPhone *string
}

// UpdateDepartment sets the paying office (whose account the SEPA transfers
// come from), the commission or the contact phone of a département.
// Errors: invalid, not_found.
func (s *Service) UpdateDepartment(ctx context.Context, code string, ch DepartmentChanges, actor string) (ledger.Department, error) {
	updates := map[string]any{}
	data := ledger.DepartmentUpdated{Code: code}
	if ch.PayerName != nil {
		name, err := payerName.Check(*ch.PayerName)
		if err != nil {
			return ledger.Department{}, err
		}
		if err := checkPayeeName(name); err != nil {
			return ledger.Department{}, err
		}
		updates["payer_name"], data.PayerName = name, &name
	}
	iban, bic, err := checkBankChange(ch.PayerIBAN, ch.PayerBIC)
	if err != nil {
		return ledger.Department{}, err
	}
	if iban != nil {
		b := deref(bic)
		updates["payer_iban"], updates["payer_bic"], data.PayerIBAN, data.PayerBIC = *iban, bic, iban, &b
	}
	if ch.CommissionBasisPoints != nil {
		bp := *ch.CommissionBasisPoints
		if bp < 0 || bp > 10000 {
			return ledger.Department{}, passnum.Invalid("La commission du programme va de 0 à 100 %% (de 0 à 10000 points de base ; 150 = 1,50 %%), pas %d points de base.", bp)
		}
		updates["commission_basis_points"], data.CommissionBasisPoints = bp, &bp
	}
	if ch.ContactPhone != nil {
		phone := strings.TrimSpace(*ch.ContactPhone)
		if phone != "" {
			var err error
			if phone, err = CheckPhone(phone); err != nil {
				return ledger.Department{}, err
			}
		}
		// The event says "" for a number removed, the column NULL.
		updates["contact_phone"], data.ContactPhone = optional(phone), &phone
	}
	if len(updates) == 0 {
		return ledger.Department{}, passnum.Invalid("Rien à changer : donnez le nom du payeur, son IBAN (et son BIC), la commission ou le numéro de téléphone.")
	}
	var d ledger.Department
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		r := tx.Model(&ledger.Department{}).Where("code = ?", code).Updates(updates)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected == 0 {
			return passnum.NotFound("Le département %s n'existe pas dans le programme.", code)
		}
		if err := tx.Where("code = ?", code).Take(&d).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "department", EntityID: code,
			Department: code, Actor: actor, At: tx.Now(), Data: data})
	})
	return d, err
}
