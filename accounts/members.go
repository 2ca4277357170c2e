package accounts

import (
	"context"
	"errors"

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
		st, err := standingOf(tx, c)
		if err != nil {
			return err
		}
		// A listing makes no organisation row: none yet means no one.
		o, found, err := lookup(tx, org)
		if err != nil {
			return err
		}
		if !st.manages(o) {
			return forbidden()
		}
		if !found {
			return nil
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
