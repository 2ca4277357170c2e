// Package programme manages who takes part in the programme: the
// départements that fund and issue chéquiers, and the labelled venues that
// redeem them.
package programme

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	name = strings.TrimSpace(name)
	if !voucher.ValidDepartment(code) {
		return ledger.Department{}, passnum.Errorf(passnum.EInvalid,
			"%q is not a département code: use the official code, such as 78, 2A or 971", code)
	}
	if err := checkName(name, "département"); err != nil {
		return ledger.Department{}, err
	}
	d := ledger.Department{Code: code, Name: name, CreatedAt: s.Now().UTC()}
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Type: ledger.EventDepartmentAdded, Entity: "department", EntityID: code,
			Department: code, Actor: actor, At: d.CreatedAt, Data: ledger.DepartmentAdded{Code: code, Name: name}})
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return d, passnum.Errorf(passnum.EConflict, "département %s already exists", code)
	}
	return d, err
}

// Departments lists the départements by code.
func (s *Service) Departments(ctx context.Context) ([]ledger.Department, error) {
	var ds []ledger.Department
	err := s.DB.Read(ctx).Order("code").Find(&ds).Error
	return ds, err
}

// AddVenue registers a venue labelled for the given départements.
// Errors: invalid (no name, no or unknown département).
func (s *Service) AddVenue(ctx context.Context, name string, departments []string, actor string) (ledger.Venue, error) {
	name = strings.TrimSpace(name)
	if err := checkName(name, "venue"); err != nil {
		return ledger.Venue{}, err
	}
	if len(departments) == 0 {
		return ledger.Venue{}, passnum.Errorf(passnum.EInvalid, "a venue must be labelled for at least one département")
	}
	codes := make([]string, 0, len(departments))
	seen := map[string]bool{}
	for _, c := range departments {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	v := ledger.Venue{Name: name, Status: ledger.VenueLabelled, CreatedAt: s.Now().UTC()}
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		var known int64
		if err := tx.Model(&ledger.Department{}).Where("code IN ?", codes).Count(&known).Error; err != nil {
			return err
		}
		if int(known) != len(codes) {
			return passnum.Errorf(passnum.EInvalid, "unknown département among %s: add it first with 'passnum department add'", strings.Join(codes, ", "))
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
			Actor: actor, At: v.CreatedAt, Data: ledger.VenueAdded{ID: v.ID, Name: name, Status: v.Status, Departments: codes}})
	})
	return v, err
}

// VenueWithDepartments is a venue and the départements it is labelled for.
type VenueWithDepartments struct {
	ledger.Venue
	Departments []string
}

// Venues lists the venues by id.
func (s *Service) Venues(ctx context.Context) ([]VenueWithDepartments, error) {
	var vs []ledger.Venue
	if err := s.DB.Read(ctx).Order("id").Find(&vs).Error; err != nil {
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

func checkName(name, what string) error {
	if name == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		return passnum.Errorf(passnum.EInvalid, "the %s name must be 1 to 200 characters", what)
	}
	return nil
}
