package access_test

import (
	"slices"
	"testing"

	"passnum/access"
)

var departmentPeople = []string{access.RoleDepartmentManager, access.RoleDepartmentFinance, access.RoleDepartmentReader}

// TestKeysKeepTheirWork: a département key may still do all that the
// département's people may (installations that only use keys keep
// working), and a venue key all that a venue's people may but pair other
// devices: a stolen phone would pair more.
func TestKeysKeepTheirWork(t *testing.T) {
	for _, c := range []struct {
		key    string
		people []string
	}{
		{access.RoleDepartment, departmentPeople},
		{access.RoleVenue, []string{access.RoleVenueManager, access.RoleVenueVolunteer}},
	} {
		key := access.Principal{Roles: []string{c.key}}
		if key.May(access.Pair) && c.key == access.RoleVenue {
			t.Error("a venue key may pair other devices")
		}
		for _, r := range c.people {
			for _, p := range permissions {
				if (access.Principal{Roles: []string{r}}).May(p) && !key.May(p) && (c.key != access.RoleVenue || p != access.Pair) {
					t.Errorf("%s may %s, a %s key may not", r, p, c.key)
				}
			}
		}
	}
}

// permissions is every permission, as the routes use them.
var permissions = []access.Permission{access.Read, access.Order, access.HandOver, access.Void, access.ManageStock, access.SeeStock, access.ManageVenues,
	access.ManageDepartment, access.DecideChanges, access.Settle, access.Redeem, access.VenueStatements, access.SeeVenue,
	access.Revocations, access.Pair, access.ExportLedger, access.OwnKey}

// TestNoOneAloneMovesMoney: among a département's people, the one who
// orders chéquiers is not the one who approves where money goes or closes
// a month, and a reader changes nothing.
func TestNoOneAloneMovesMoney(t *testing.T) {
	may := func(role string, p access.Permission) bool { return access.Principal{Roles: []string{role}}.May(p) }
	if may(access.RoleDepartmentManager, access.DecideChanges) || may(access.RoleDepartmentManager, access.Settle) {
		t.Error("a manager decides bank details or closes months")
	}
	if may(access.RoleDepartmentFinance, access.Order) || may(access.RoleDepartmentFinance, access.ManageVenues) {
		t.Error("finance orders chéquiers or changes venues")
	}
	for _, p := range permissions {
		reads := p == access.Read || p == access.SeeStock
		if !reads && may(access.RoleDepartmentReader, p) {
			t.Errorf("a reader may %s", p)
		}
		if !reads && p != access.Revocations && p != access.ExportLedger && p != access.OwnKey && may(access.RoleAuditor, p) {
			t.Errorf("an auditor may %s", p)
		}
	}
	for role, want := range map[string]bool{access.RoleAdmin: true, access.RoleDepartmentManager: true, access.RoleDepartmentFinance: true,
		access.RoleDepartmentReader: false, access.RoleVenueManager: false, access.RoleVenueVolunteer: false, access.RoleStructureAgent: false, access.RoleAuditor: false} {
		if access.MovesMoney(role) != want {
			t.Errorf("MovesMoney(%s) = %v", role, !want)
		}
	}
	if (access.Principal{Roles: []string{"nobody"}}).May(access.Read) || (access.Principal{}).May(access.Read) {
		t.Error("an unknown role or no role may read")
	}
}

// TestHoldingSeveralRoles: a person acting with two roles in one
// organisation may do what either allows.
func TestHoldingSeveralRoles(t *testing.T) {
	p := access.Principal{Roles: []string{access.RoleDepartmentManager, access.RoleDepartmentFinance}, Account: 17, Organisation: 4}
	if !p.May(access.Order) || !p.May(access.Settle) || p.May(access.ExportLedger) {
		t.Errorf("%+v", p)
	}
	if got := p.RoleNames(); got != "responsable du département et finances du département" {
		t.Errorf("RoleNames %q", got)
	}
	if got := p.Actor(); got != "account:17@organisation:4" {
		t.Errorf("Actor %q", got)
	}
	if got := (access.Principal{Roles: []string{access.RoleVenue}, Prefix: "pk_ab"}).Actor(); got != "apikey:pk_ab" {
		t.Errorf("key Actor %q", got)
	}
}

// TestRolesWith is what openapi.yaml's x-roles are made of: sorted, and
// only the roles that grant the permission.
func TestRolesWith(t *testing.T) {
	got := access.RolesWith(access.Settle)
	if want := []string{access.RoleAdmin, access.RoleDepartment, access.RoleDepartmentFinance}; !slices.Equal(got, want) {
		t.Errorf("RolesWith(settle) = %v, want %v", got, want)
	}
}

// TestSamePerson: one account acting for two organisations is one person;
// two accounts, or two keys, are two.
func TestSamePerson(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{access.AccountActor(17, 4), access.AccountActor(17, 9), true},
		{access.AccountActor(17, 4), access.AccountActor(17, 0), true},
		{access.AccountActor(17, 4), access.AccountActor(18, 4), false},
		{access.AccountActor(1, 4), access.AccountActor(17, 4), false},
		{"apikey:pn_abc", "apikey:pn_abc", true},
		{"apikey:pn_abc", "apikey:pn_abd", false},
		{"cli:alice", access.AccountActor(17, 4), false},
	} {
		if got := access.SamePerson(c.a, c.b); got != c.same {
			t.Errorf("SamePerson(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
