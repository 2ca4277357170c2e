// Package programme manages who takes part in the programme: the
// départements that fund and issue chéquiers, and the labelled venues that
// redeem them.
package programme

import (
	"context"
	"errors"
	"strings"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Service changes départements and venues.
type Service struct {
	DB  *ledger.DB
	Now func() time.Time
}

// AddDepartment registers a département by its official code ("78", "2A",
// "971"). Errors: invalid (bad code or name), conflict (already there).
func (s *Service) AddDepartment(ctx context.Context, code, name, actor string) (ledger.Department, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !voucher.ValidDepartment(code) {
		return ledger.Department{}, passnum.Invalid("%q is not a département code: use the official code, such as 78, 2A or 971", code)
	}
	name, err := departmentName.Check(name)
	if err != nil {
		return ledger.Department{}, err
	}
	d := ledger.Department{Code: code, Name: name, CreatedAt: s.Now().UTC()}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "department", EntityID: code,
			Department: code, Actor: actor, At: d.CreatedAt, Data: ledger.DepartmentAdded{Code: code, Name: name}})
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return d, passnum.Conflict("département %s already exists", code)
	}
	return d, err
}

// Departments lists the départements by code.
func (s *Service) Departments(ctx context.Context) ([]ledger.Department, error) {
	var ds []ledger.Department
	err := s.DB.Read(ctx).Order("code").Find(&ds).Error
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
}

// UpdateDepartment sets the paying office (whose account the SEPA transfers
// come from) or the commission of a département. Errors: invalid, not_found.
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
	if ch.PayerIBAN != nil {
		bic := ""
		if ch.PayerBIC != nil {
			bic = *ch.PayerBIC
		}
		iban, bic, err := checkBank(*ch.PayerIBAN, bic)
		if err != nil {
			return ledger.Department{}, err
		}
		updates["payer_iban"], updates["payer_bic"], data.PayerIBAN, data.PayerBIC = iban, optional(bic), &iban, &bic
	} else if ch.PayerBIC != nil {
		return ledger.Department{}, passnum.Invalid("give the paying office's IBAN with its BIC")
	}
	if ch.CommissionBasisPoints != nil {
		bp := *ch.CommissionBasisPoints
		if bp < 0 || bp > 10000 {
			return ledger.Department{}, passnum.Invalid("the commission is 0 to 10000 basis points (0 to 100 %%), not %d", bp)
		}
		updates["commission_basis_points"], data.CommissionBasisPoints = bp, &bp
	}
	if len(updates) == 0 {
		return ledger.Department{}, passnum.Invalid("nothing to change: give the paying office's name, IBAN, BIC or the commission")
	}
	var d ledger.Department
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		r := tx.Model(&ledger.Department{}).Where("code = ?", code).Updates(updates)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected == 0 {
			return passnum.NotFound("there is no département %s", code)
		}
		if err := tx.Where("code = ?", code).Take(&d).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "department", EntityID: code,
			Department: code, Actor: actor, At: s.Now().UTC().Truncate(time.Microsecond), Data: data})
	})
	return d, err
}
