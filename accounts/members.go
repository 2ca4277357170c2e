package accounts

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// Holder is an account holding a role in an organisation, as its managers
// see it: no password hash, no second-factor secret.
type Holder struct {
	Person
	Role string
}

// People lists the accounts with a role in an organisation, by account
// then role, for those who manage its people (Invite says who). Errors:
// invalid, forbidden(), not_found (organisation).
func (s *Service) People(ctx context.Context, c Caller, org Org) ([]Holder, error) {
	var out []Holder
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		o, found, err := managedOrg(tx, c, org)
		if err != nil || !found {
			return err
		}
		var rows []struct {
			ledger.Account
			Role string
		}
		err = tx.Table("memberships m").Select("a.*, m.role").Joins("JOIN accounts a ON a.id = m.account_id").
			Where("m.organisation_id = ?", o.ID).Order("a.id, m.role").Scan(&rows).Error
		for _, r := range rows {
			out = append(out, Holder{Person: personOf(r.Account), Role: r.Role})
		}
		return err
	})
	return out, err
}

// managedOrg finds the organisation org names for a listing, refused
// unless the caller manages its people. A listing makes no organisation
// row: found is false when it has none yet, which means no one.
func managedOrg(tx *ledger.Tx, c Caller, org Org) (o ledger.Organisation, found bool, err error) {
	st, err := standingOf(tx, c)
	if err != nil {
		return o, false, err
	}
	if o, found, err = lookup(tx, org); err != nil {
		return o, false, err
	}
	if !st.manages(o) {
		return o, false, forbidden()
	}
	return o, found, nil
}

// Disable stops an account at once: it can no longer log in, its sessions
// end, and whatever it asks for afterwards is refused (standingOf).
// Whoever manages one of the account's organisations may disable it, an
// admin any, no one its own account, and only an admin another admin. Errors: not_found, forbidden(),
// conflict (already disabled).
func (s *Service) Disable(ctx context.Context, c Caller, account int64) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		if !st.admin && !st.has(access.RoleDepartmentManager) && !st.has(access.RoleVenueManager) {
			return forbidden()
		}
		if account == c.Account {
			return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre responsable.")
		}
		var a ledger.Account
		err = tx.Where("id = ?", account).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return passnum.NotFound("Il n’y a pas de compte %d.", account)
		}
		if err != nil {
			return err
		}
		members, err := s.members(tx.DB, account)
		if err != nil {
			return err
		}
		allowed, dept := st.admin, ""
		for _, m := range members {
			if m.Role == access.RoleAdmin && !st.admin {
				return forbidden()
			}
			if st.manages(m.Organisation) {
				allowed, dept = true, deref(m.Organisation.DepartmentCode)
			}
		}
		if !allowed {
			// Another organisation's account is as if it did not exist.
			return passnum.NotFound("Il n’y a pas de compte %d.", account)
		}
		r := tx.Model(&ledger.Account{}).Where("id = ? AND disabled_at IS NULL", account).Update("disabled_at", tx.Now())
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return passnum.Conflict("Le compte %d est déjà désactivé.", account)
		}
		if err := endSessions(tx, account); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "account", EntityID: itoa(account), Department: dept,
			Actor: c.Actor(), At: tx.Now(), Data: ledger.AccountDisabled{Account: account}})
	})
}

// RemoveRole takes a role from an account in an organisation: whoever may
// give that role there may take it (Invite), never from themselves, so
// that a manager does not lock the organisation out by mistake. The
// account's sessions lose the role at their next request. Errors:
// invalid (organisation), forbidden(), not_found (the account does not
// hold the role there).
func (s *Service) RemoveRole(ctx context.Context, c Caller, account int64, org Org, role string) error {
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		o, found, err := lookup(tx, org)
		if err != nil {
			return err
		}
		if !st.mayGrant(o, role) {
			return forbidden()
		}
		if account == c.Account {
			return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "Vous ne pouvez pas retirer vos propres rôles : demandez-le à un autre responsable.")
		}
		notHeld := passnum.NotFound("Le compte %d n’a pas le rôle %s dans cette organisation.", account, access.RoleName(role))
		if !found {
			return notHeld
		}
		r := tx.Where("account_id = ? AND organisation_id = ? AND role = ?", account, o.ID, role).Delete(&ledger.Membership{})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return notHeld
		}
		return tx.Append(ledger.Record{Entity: "account", EntityID: itoa(account), Department: deref(o.DepartmentCode),
			Actor: c.Actor(), At: tx.Now(), Data: ledger.MembershipRemoved{Account: account, Organisation: o.ID, Role: role}})
	})
}

// Pending is an invitation not accepted yet and not expired, as the
// organisation's managers see it (never its link).
type Pending struct {
	ID        int64
	Email     string
	Role      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Invitations lists an organisation's pending invitations, newest first,
// for those who manage its people. Errors: as People.
func (s *Service) Invitations(ctx context.Context, c Caller, org Org) ([]Pending, error) {
	var out []Pending
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		o, found, err := managedOrg(tx, c, org)
		if err != nil || !found {
			return err
		}
		return tx.Model(&ledger.Invitation{}).Select("id, email, role, created_at, expires_at").
			Where("organisation_id = ? AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > ?", o.ID, tx.Now()).
			Order("id DESC").Scan(&out).Error
	})
	return out, err
}

// Managed is an organisation whose people the caller manages, and the
// roles the caller may give there (Invite) and take (RemoveRole).
type Managed struct {
	Organisation ledger.Organisation
	Label        string
	Roles        []string
}

// Managed lists the organisations whose people the caller manages, as
// manages says: an admin (and the operator) every organisation that has
// a row; a département manager its département and its structures; a
// venue manager its venue. Errors: unauthorized (account disabled).
func (s *Service) Managed(ctx context.Context, c Caller) ([]Managed, error) {
	var out []Managed
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		q := tx.DB
		switch {
		case st.admin:
		case st.has(access.RoleDepartmentManager):
			q = q.Where("o.kind IN ? AND o.department_code = ?", []ledger.OrganisationKind{ledger.OrgDepartment, ledger.OrgStructure}, deref(st.org.DepartmentCode))
		case st.has(access.RoleVenueManager):
			q = q.Where("o.id = ?", st.org.ID)
		default:
			return nil
		}
		var rows []struct {
			ledger.Organisation
			Label string
		}
		// The installation first, then départements, structures, venues and
		// auditors' bodies, each by name.
		err = q.Table("organisations o").Select("o.*, " + labelColumn + " AS label").Joins(labelJoins).
			Order("CASE o.kind WHEN 'installation' THEN 0 WHEN 'department' THEN 1 WHEN 'structure' THEN 2 WHEN 'venue' THEN 3 ELSE 4 END, lower(" + labelColumn + "), o.id").
			Scan(&rows).Error
		for _, r := range rows {
			if !st.manages(r.Organisation) {
				continue
			}
			m := Managed{Organisation: r.Organisation, Label: labelOf(r.Organisation, r.Label)}
			for _, role := range roleOrder {
				if orgKinds[role] == r.Kind && st.mayGrant(r.Organisation, role) {
					m.Roles = append(m.Roles, role)
				}
			}
			out = append(out, m)
		}
		return err
	})
	return out, err
}
