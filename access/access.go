// Package access says who a request acts as (a Principal) and what it may
// do (its Permissions), for the API keys of machines and the accounts of
// people alike (docs/accounts.md, "Who may do what"). The table of roles
// below is the only place that grants anything: the API's routes and pages
// ask for one permission each, and the services add the rules of scope
// (which département, venue or stock) that need the data.
package access

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is one kind of work a route or a page is for.
type Permission string

const (
	// Read: a programme's batches, chéquiers, venues, settlement, figures
	// and report (a département's own, or every département's).
	Read Permission = "read"
	// Order: order batches of chéquiers and get their printing files,
	// which hold valid voucher codes.
	Order Permission = "order"
	// HandOver: record that a chéquier was handed over (its activation).
	HandOver Permission = "hand_over"
	// Void: void lost or stolen chéquiers and vouchers.
	Void Permission = "void"
	// ManageStock: allocate chéquiers to distribution structures, move
	// them between structures, take them back.
	ManageStock Permission = "manage_stock"
	// SeeStock: the stock not yet handed over (a structure's agent: its
	// structure's only, issuing.Service.Stock's scope).
	SeeStock Permission = "see_stock"
	// ManageVenues: add venues, change their details, label or suspend
	// them.
	ManageVenues Permission = "manage_venues"
	// ManageDepartment: a département's own settings (contact, paying
	// office).
	ManageDepartment Permission = "manage_department"
	// DecideChanges: approve or refuse a change of a venue's details, its
	// bank details among them.
	DecideChanges Permission = "decide_changes"
	// Settle: close a month and make adjustments.
	Settle Permission = "settle"
	// Redeem: check and redeem vouchers at one venue, see and reverse its
	// redemptions.
	Redeem Permission = "redeem"
	// VenueStatements: one venue's own statements.
	VenueStatements Permission = "venue_statements"
	// SeeVenue: one venue's own details, for those who work there (those
	// who oversee venues Read them).
	SeeVenue Permission = "see_venue"
	// Revocations: the feed of revoked chéquiers and keys that offline
	// scanners and verifiers keep.
	Revocations Permission = "revocations"
	// Pair: pair a venue's devices (the one-time codes), list and unpair
	// them; which venues is apikeys' rule (its own for a venue's manager,
	// those labelled for a département by its people).
	Pair Permission = "pair"
	// ExportLedger: the whole ledger, for an audit.
	ExportLedger Permission = "export_ledger"
	// ManagePeople: invite people to an organisation, take their roles,
	// disable their accounts, add distribution structures. People do
	// that, never a machine's key but the installation's (accounts'
	// standing says which organisations each manages).
	ManagePeople Permission = "manage_people"
	// OwnKey: roll or revoke the key the request is made with.
	OwnKey Permission = "own_key"
)

// Roles. The first four are API keys' (machines'); the others are held by
// accounts (people) in an organisation; admin and auditor are both.
const (
	RoleAdmin      = "admin"      // the installation: everything but a venue's own work
	RoleAuditor    = "auditor"    // reads every département, changes nothing
	RoleDepartment = "department" // a département's key: all its département's work
	RoleVenue      = "venue"      // a venue's device: its redemptions and statements

	RoleDepartmentManager = "department_manager" // batches, venues, stock of its département
	RoleDepartmentFinance = "department_finance" // bank-details approvals, month closing, adjustments
	RoleDepartmentReader  = "department_reader"  // reads its département
	RoleStructureAgent    = "structure_agent"    // receives stock, hands chéquiers over
	RoleVenueManager      = "venue_manager"      // its venue, devices, statements
	RoleVenueVolunteer    = "venue_volunteer"    // the scanner
)

// role is what a role may do, and its French name for messages.
type role struct {
	name  string
	perms []Permission
}

var (
	reading  = []Permission{Read, SeeStock}
	managing = []Permission{Order, HandOver, Void, ManageVenues, ManageDepartment, ManageStock, Pair}
	deciding = []Permission{DecideChanges, Settle}
)

// roles is the whole policy. A département key does everything its
// département's people do, as it did before accounts existed, so that an
// installation's keys keep working; the people split that work between
// manager and finance, so that no one person both orders chéquiers and
// approves where the money goes.
var roles = map[string]role{
	RoleAdmin:      {"administrateur", slices.Concat(managing, deciding, reading, []Permission{ManagePeople, Revocations, ExportLedger, OwnKey})},
	RoleAuditor:    {"auditeur", slices.Concat(reading, []Permission{Revocations, ExportLedger, OwnKey})},
	RoleDepartment: {"département", slices.Concat(managing, deciding, reading, []Permission{OwnKey})},
	RoleVenue:      {"lieu", []Permission{Redeem, VenueStatements, SeeVenue, Revocations, OwnKey}},

	RoleDepartmentManager: {"responsable du département", slices.Concat(managing, reading, []Permission{ManagePeople})},
	RoleDepartmentFinance: {"finances du département", slices.Concat(deciding, reading)},
	RoleDepartmentReader:  {"lecture du département", reading},
	// An agent hands over only the chéquiers its structure holds
	// (issuing.Service.ActivateBy) and sees that stock alone.
	RoleStructureAgent: {"agent de la structure", []Permission{HandOver, SeeStock}},
	RoleVenueManager:   {"responsable du lieu", []Permission{Redeem, VenueStatements, SeeVenue, ManagePeople, Pair}},
	RoleVenueVolunteer: {"bénévole du lieu", []Permission{Redeem, SeeVenue}},
}

// RoleName is a role's French name, for messages and pages.
func RoleName(role string) string { return roles[role].name }

// RolesWith lists, sorted, the roles granting p: what openapi.yaml's
// x-roles says of an operation that needs it.
func RolesWith(p Permission) []string {
	var out []string
	for name, r := range roles {
		if slices.Contains(r.perms, p) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// MovesMoney tells whether a role decides over money (ordering batches,
// approving bank details, closing a month, anything an admin does): an
// account holding one logs in with its second factor only.
func MovesMoney(role string) bool {
	perms := roles[role].perms
	return slices.Contains(perms, Order) || slices.Contains(perms, DecideChanges) || slices.Contains(perms, Settle)
}

// Principal is who a request acts as: an API key, or an account acting for
// one organisation with the roles it holds there.
type Principal struct {
	Roles []string // one for a key; an account's in the organisation it acts for
	// Department is the only département the principal works in (a
	// département's key or people, a structure's agents), "" for those
	// who see every département (admin, auditor) and for venues, which
	// may be labelled in several.
	Department string
	VenueID    int64 // a venue's key or people

	// A key.
	KeyID  int64
	Prefix string // the key's public name
	Name   string // the key's name, or the account's email

	// An account, for an organisation (Structure when it is a distribution
	// structure's).
	Account      int64
	Organisation int64
	Structure    int64
}

// May tells whether the principal's roles grant p.
func (p Principal) May(perm Permission) bool {
	for _, r := range p.Roles {
		if slices.Contains(roles[r].perms, perm) {
			return true
		}
	}
	return false
}

// Has tells whether the principal holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// Actor names the principal in the ledger: a key by its public prefix, an
// account by its number and the organisation it acts for, never a name or
// an email.
func (p Principal) Actor() string {
	if p.Account != 0 {
		return AccountActor(p.Account, p.Organisation)
	}
	return "apikey:" + p.Prefix
}

// AccountActor names an account acting for an organisation, or for itself
// (organisation zero: enrolling its second factor, resetting its password).
func AccountActor(account, organisation int64) string {
	if organisation == 0 {
		return fmt.Sprintf("account:%d", account)
	}
	return fmt.Sprintf("account:%d@organisation:%d", account, organisation)
}

// RoleNames is the French names of the principal's roles, for messages.
func (p Principal) RoleNames() string {
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = RoleName(r)
	}
	return joinFrench(names)
}

func joinFrench(s []string) string {
	switch len(s) {
	case 0:
		return "aucun"
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " et " + s[len(s)-1]
}

// SamePerson tells whether two ledger actors are one person: the same key,
// or the same account whatever organisation it acted for (an account is
// one person in all of them). Four eyes on money asks for two people, not
// two organisations of one.
func SamePerson(a, b string) bool {
	a, _, _ = strings.Cut(a, "@")
	b, _, _ = strings.Cut(b, "@")
	return a == b
}
