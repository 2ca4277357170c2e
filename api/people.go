package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum/access"
	"passnum/accounts"
	"passnum/ledger"
)

// The people of organisations and the distribution structures
// (docs/accounts.md): who manages which organisation's people, and which
// roles each may give, is package accounts' rule; here only the transport.

// callerOf is the principal as package accounts knows callers: a person's
// account acting for its organisation, or a key as the operator. A key
// reaches accounts only on routes its role allows: the installation's key
// (which has admin powers anyway) on those that change people, any reader
// on the structures' list after its département scope (scope.go).
func callerOf(p access.Principal) accounts.Caller {
	if p.Account != 0 {
		return accounts.Caller{Account: p.Account, Organisation: p.Organisation}
	}
	return accounts.Operator(p.Actor())
}

// orgRequest names an organisation in a body: by its number, or a
// département by its code, or a venue by its id; none is the caller's own.
type orgRequest struct {
	Organisation int64  `json:"organisation"`
	Department   string `json:"department"`
	Venue        int64  `json:"venue"`
}

func (r orgRequest) org(p access.Principal) accounts.Org {
	o := accounts.Org{ID: r.Organisation, Department: r.Department, Venue: r.Venue}
	if o == (accounts.Org{}) {
		o.ID = p.Organisation // a key has none: the installation
	}
	return o
}

// orgQuery reads the same from the query (?organisation=, ?department=,
// ?venue=).
func orgQuery(c echo.Context) (orgRequest, error) {
	var r orgRequest
	var err error
	if r.Organisation, err = queryInt(c, "organisation", 0, 1, 1<<62); err != nil {
		return r, err
	}
	if r.Venue, err = queryInt(c, "venue", 0, 1, 1<<62); err != nil {
		return r, err
	}
	r.Department, _, err = query(c, "department")
	return r, err
}

type roleJSON struct {
	Role  string `json:"role"`
	Label string `json:"label"`
}

func rolesJSON(roles []string) []roleJSON {
	out := make([]roleJSON, len(roles))
	for i, r := range roles {
		out[i] = roleJSON{Role: r, Label: access.RoleName(r)}
	}
	return out
}

type organisationJSON struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Label      string     `json:"label"`
	Department string     `json:"department,omitempty"`
	Venue      int64      `json:"venue,omitempty"`
	Roles      []roleJSON `json:"roles"` // those the caller may give and take there
}

// listOrganisations lists the organisations whose people the caller
// manages (GET /api/v1/organisations).
func (s *server) listOrganisations(c echo.Context) error {
	ms, err := s.Accounts.Managed(c.Request().Context(), callerOf(principal(c)))
	if err != nil {
		return err
	}
	out := make([]organisationJSON, len(ms))
	for i, m := range ms {
		o := m.Organisation
		out[i] = organisationJSON{ID: o.ID, Kind: string(o.Kind), Label: m.Label, Department: deref(o.DepartmentCode),
			Venue: deref(o.VenueID), Roles: rolesJSON(m.Roles)}
	}
	return respond(c, http.StatusOK, map[string]any{"organisations": out})
}

type personJSON struct {
	Account    int64      `json:"account"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	RoleLabel  string     `json:"role_label"`
	TOTP       bool       `json:"totp"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	You        bool       `json:"you,omitempty"`
}

type pendingJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	RoleLabel string    `json:"role_label"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// listPeople lists an organisation's people, a row per role, and its
// invitations not accepted yet (GET /api/v1/people).
func (s *server) listPeople(c echo.Context) error {
	r, err := orgQuery(c)
	if err != nil {
		return err
	}
	p := principal(c)
	org, ctx, who := r.org(p), c.Request().Context(), callerOf(p)
	hs, err := s.Accounts.People(ctx, who, org)
	if err != nil {
		return err
	}
	inv, err := s.Accounts.Invitations(ctx, who, org)
	if err != nil {
		return err
	}
	people := make([]personJSON, len(hs))
	for i, h := range hs {
		people[i] = personJSON{Account: h.ID, Email: h.Email, Role: h.Role, RoleLabel: access.RoleName(h.Role), TOTP: h.TOTP,
			DisabledAt: h.DisabledAt, CreatedAt: h.CreatedAt, You: h.ID == p.Account}
	}
	pending := make([]pendingJSON, len(inv))
	for i, v := range inv {
		pending[i] = pendingJSON{ID: v.ID, Email: v.Email, Role: v.Role, RoleLabel: access.RoleName(v.Role), CreatedAt: v.CreatedAt, ExpiresAt: v.ExpiresAt}
	}
	return respond(c, http.StatusOK, map[string]any{"people": people, "invitations": pending})
}

// invite invites a person to a role (POST /api/v1/invitations); the email
// with the link goes out once the answer is sent, and the link is never
// in the answer: only the person invited may choose the password.
func (s *server) invite(c echo.Context) error {
	var req struct {
		orgRequest
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	inv, err := s.Accounts.Invite(c.Request().Context(), callerOf(p), req.Email, req.org(p), req.Role)
	if err != nil {
		return err
	}
	by := "L’équipe du Pass numérique"
	if p.Account != 0 {
		by = p.Name // a colleague's address: who the person knows
	}
	link := InvitationLink(s.publicURL, inv.Token)
	s.later(c, "an invitation email was not sent", func(ctx context.Context) error {
		return s.Notices.Invited(ctx, inv, link, by)
	})
	return respond(c, http.StatusCreated, pendingJSON{ID: inv.ID, Email: inv.Email, Role: inv.Role, RoleLabel: access.RoleName(inv.Role),
		CreatedAt: s.now(), ExpiresAt: inv.ExpiresAt})
}

// cancelInvitation cancels an invitation not used yet
// (POST /api/v1/invitations/{id}/cancellation).
func (s *server) cancelInvitation(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.Accounts.CancelInvitation(c.Request().Context(), callerOf(principal(c)), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// disableAccount stops an account at once
// (POST /api/v1/accounts/{id}/disable).
func (s *server) disableAccount(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.Accounts.Disable(c.Request().Context(), callerOf(principal(c)), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// removeRole takes a role from an account in an organisation
// (POST /api/v1/accounts/{id}/role-removal).
func (s *server) removeRole(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		orgRequest
		Role string `json:"role"`
	}
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	if err := s.Accounts.RemoveRole(c.Request().Context(), callerOf(p), id, req.org(p), req.Role); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type structureJSON struct {
	ID         int64  `json:"id"`
	Department string `json:"department"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	TypeLabel  string `json:"type_label"`
	Commune    string `json:"commune"`
	Address    string `json:"address,omitempty"`
}

func newStructure(o ledger.Organisation) structureJSON {
	return structureJSON{ID: o.ID, Department: deref(o.DepartmentCode), Name: o.Name, Type: o.StructureType,
		TypeLabel: accounts.StructureTypeName(o.StructureType), Commune: o.Commune, Address: o.Address}
}

// listStructures lists a département's distribution structures
// (GET /api/v1/structures?department=).
func (s *server) listStructures(c echo.Context) error {
	code, err := oneDepartment(c)
	if err != nil {
		return err
	}
	ss, err := s.Accounts.Structures(c.Request().Context(), callerOf(principal(c)), code)
	if err != nil {
		return err
	}
	out := make([]structureJSON, len(ss))
	for i, o := range ss {
		out[i] = newStructure(o)
	}
	return respond(c, http.StatusOK, map[string]any{"department": code, "structures": out})
}

// addStructure adds a distribution structure to a département
// (POST /api/v1/structures).
func (s *server) addStructure(c echo.Context) error {
	var req struct {
		Department string `json:"department"`
		Name       string `json:"name"`
		Type       string `json:"type"`
		Commune    string `json:"commune"`
		Address    string `json:"address"`
	}
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	if req.Department == "" {
		req.Department = ownDepartment(p)
	}
	o, err := s.Accounts.AddStructure(c.Request().Context(), callerOf(p),
		accounts.StructureInput{Department: req.Department, Name: req.Name, Type: req.Type, Commune: req.Commune, Address: req.Address})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/structures?department=%s", deref(o.DepartmentCode)))
	return respond(c, http.StatusCreated, newStructure(o))
}
