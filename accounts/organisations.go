package accounts

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// Org names an organisation: a département by its code, a venue by its id,
// a structure or an auditors' body by its organisation id, or (all zero)
// the installation. Départements and venues keep their tables; their
// organisation row is made the first time someone is invited to one.
type Org struct {
	ID         int64
	Department string
	Venue      int64
}

// Structure types, as the programme's distribution network has them.
var structureTypes = map[string]string{
	"ccas":           "CCAS",
	"mds":            "Maison départementale des solidarités",
	"france_travail": "France Travail",
	"association":    "association",
	"other":          "autre",
}

// StructureTypeName is a structure type's French name.
func StructureTypeName(t string) string { return structureTypes[t] }

var (
	structureName    = passnum.Text{What: "Le nom de la structure", Max: 200, Required: true, Example: "CCAS de Trappes", Field: "name"}
	structureAddress = passnum.Text{What: "L’adresse de la structure", Max: 500, Lines: true, Field: "address"}
	structureCommune = passnum.Text{What: "La commune de la structure", Max: 100, Required: true, Example: "Trappes", Field: "commune"}
	auditorName      = passnum.Text{What: "Le nom de l’organisme d’audit", Max: 200, Required: true, Example: "Chambre régionale des comptes"}
)

// StructureInput is a new distribution structure.
type StructureInput struct {
	Department string
	Name       string
	Type       string // ccas, mds, france_travail, association, other
	Address    string
	Commune    string // the territory the funnel counts it in
}

// AddStructure adds a distribution structure to a département. Errors:
// invalid, forbidden() (not a manager of the département, nor an admin),
// not_found (département), conflict (a structure of that name there).
func (s *Service) AddStructure(ctx context.Context, c Caller, in StructureInput) (ledger.Organisation, error) {
	code, err := passnum.DepartmentCode(in.Department)
	if err != nil {
		return ledger.Organisation{}, err
	}
	o := ledger.Organisation{Kind: ledger.OrgStructure, DepartmentCode: &code, StructureType: in.Type}
	if _, ok := structureTypes[in.Type]; !ok {
		return o, passnum.Invalid("Le type de structure « %s » n’existe pas : ccas (CCAS), mds (Maison départementale des solidarités), france_travail (France Travail), association ou other (autre).", passnum.Shorten(in.Type, 30)).On("type")
	}
	if o.Name, err = structureName.Check(in.Name); err != nil {
		return o, err
	}
	if o.Address, err = structureAddress.Check(in.Address); err != nil {
		return o, err
	}
	if o.Commune, err = structureCommune.Check(in.Commune); err != nil {
		return o, err
	}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		dept, err := departmentOrg(tx, c.Actor(), code)
		if err != nil {
			return err
		}
		if !st.admin && !(st.has(access.RoleDepartmentManager) && st.org.ID == dept.ID) {
			return forbidden()
		}
		o.CreatedAt = tx.Now()
		if err := tx.Create(&o).Error; err != nil {
			if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrDuplicate) {
				return passnum.Conflict("Le département %s a déjà une structure nommée « %s ».", code, o.Name)
			}
			return err
		}
		return appendOrganisation(tx, c.Actor(), o)
	})
	return o, err
}

// Structures lists the structures of a département by name, for anyone
// with a role in the département or one of its structures, and admins and
// the operator. Errors: invalid (code), forbidden().
func (s *Service) Structures(ctx context.Context, c Caller, department string) ([]ledger.Organisation, error) {
	code, err := passnum.DepartmentCode(department)
	if err != nil {
		return nil, err
	}
	var os []ledger.Organisation
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		if !st.admin && deref(st.org.DepartmentCode) != code {
			return forbidden()
		}
		return tx.Where("kind = ? AND department_code = ?", ledger.OrgStructure, code).Order("lower(name), id").Find(&os).Error
	})
	return os, err
}

// AddAuditorBody adds an auditors' body (a chamber of accounts, the
// funder's inspectors). Errors: invalid, forbidden() (admins only),
// conflict (one of that name).
func (s *Service) AddAuditorBody(ctx context.Context, c Caller, name string) (ledger.Organisation, error) {
	name, err := auditorName.Check(name)
	if err != nil {
		return ledger.Organisation{}, err
	}
	o := ledger.Organisation{Kind: ledger.OrgAuditor, Name: name}
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		if !st.admin {
			return forbidden()
		}
		o.CreatedAt = tx.Now()
		if err := tx.Create(&o).Error; err != nil {
			if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrDuplicate) {
				return passnum.Conflict("Un organisme d’audit s’appelle déjà « %s ».", name)
			}
			return err
		}
		return appendOrganisation(tx, c.Actor(), o)
	})
	return o, err
}

// resolve finds the organisation o names, making the row of a département,
// a venue or the installation if it has none yet (actor names who caused
// it).
func resolve(tx *ledger.Tx, actor string, o Org) (ledger.Organisation, error) {
	row, found, err := lookup(tx, o)
	if err != nil || found {
		return row, err
	}
	row.CreatedAt = tx.Now()
	made, err := insertIfAbsent(tx, &row)
	if err != nil {
		if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrConstraint) {
			if row.Kind == ledger.OrgVenue {
				return row, passnum.NotFound("Le lieu %d n’existe pas.", o.Venue)
			}
			return row, passnum.NotFound("Le département %s n’existe pas dans le programme.", *row.DepartmentCode)
		}
		return row, err
	}
	if !made { // made meanwhile by a concurrent transaction
		row, _, err = lookup(tx, o)
		return row, err
	}
	return row, appendOrganisation(tx, actor, row)
}

// lookup finds the organisation o names without making it: when a
// département, a venue or the installation has no row yet, found is false
// and the organisation is returned unsaved (its ID zero), which is enough
// to judge who manages it.
func lookup(tx *ledger.Tx, o Org) (row ledger.Organisation, found bool, err error) {
	q := tx.Limit(1)
	switch {
	case o.ID != 0 && o.Department == "" && o.Venue == 0:
		err := tx.Where("id = ?", o.ID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return row, false, passnum.NotFound("L’organisation %d n’existe pas.", o.ID)
		}
		return row, err == nil, err
	case o.Department != "" && o.ID == 0 && o.Venue == 0:
		code, err := passnum.DepartmentCode(o.Department)
		if err != nil {
			return row, false, err
		}
		row = ledger.Organisation{Kind: ledger.OrgDepartment, DepartmentCode: &code}
		q = q.Where("kind = ? AND department_code = ?", row.Kind, code)
	case o.Venue != 0 && o.ID == 0 && o.Department == "":
		row = ledger.Organisation{Kind: ledger.OrgVenue, VenueID: &o.Venue}
		q = q.Where("kind = ? AND venue_id = ?", row.Kind, o.Venue)
	case o == Org{}:
		row = ledger.Organisation{Kind: ledger.OrgInstallation}
		q = q.Where("kind = ?", row.Kind)
	default:
		return row, false, passnum.Invalid("Désignez une seule organisation : un département, un lieu, ou une structure par son numéro.")
	}
	var rows []ledger.Organisation
	if err := q.Find(&rows).Error; err != nil || len(rows) == 0 {
		return row, false, err
	}
	return rows[0], true, nil
}

func departmentOrg(tx *ledger.Tx, actor, code string) (ledger.Organisation, error) {
	return resolve(tx, actor, Org{Department: code})
}

func appendOrganisation(tx *ledger.Tx, actor string, o ledger.Organisation) error {
	return tx.Append(ledger.Record{Entity: "organisation", EntityID: itoa(o.ID), Department: deref(o.DepartmentCode),
		Actor: actor, At: o.CreatedAt, Data: ledger.OrganisationAdded{ID: o.ID, Kind: o.Kind, Department: deref(o.DepartmentCode),
			VenueID: deref(o.VenueID), Name: o.Name, StructureType: o.StructureType, Address: o.Address, Commune: o.Commune}})
}
