package audit

import (
	"context"
	"fmt"

	"passnum/ledger"
)

// people is who may act as the events of accounts tell it: the
// organisations, the accounts and whether each is disabled, and every role
// given. Compared with the tables, it catches a role or an account granted
// behind the ledger's back, as compareAPIKeys does for keys.
type people struct {
	orgs     map[int64]*orgState
	accounts map[int64]*accountState
	roles    map[roleKey]string // -> the event that gave it
	// identities are the single sign-on identities bound, by account and
	// provider: a row behind the ledger's back would be a way into an
	// account.
	identities map[identityKey]string
}

type identityKey struct {
	account int64
	issuer  string
}

type orgState struct {
	ledger.OrganisationAdded
	event string
}

type accountState struct {
	disabled bool
	event    string
}

type roleKey struct {
	account, org int64
	role         string
}

func newPeople() *people {
	return &people{orgs: map[int64]*orgState{}, accounts: map[int64]*accountState{}, roles: map[roleKey]string{},
		identities: map[identityKey]string{}}
}

// applyPeople applies the events of accounts; handled is false for any
// other type.
func (s *state) applyPeople(ev *ledger.Event, ref string, bad func(string) error, decode func(any) error) (handled bool, err error) {
	p := s.people
	switch ev.Type {
	case ledger.EventOrganisationAdded:
		o := &orgState{event: ref}
		if err := decode(&o.OrganisationAdded); err != nil {
			return true, err
		}
		p.orgs[o.ID] = o
	case ledger.EventAccountCreated:
		var a ledger.AccountCreated
		if err := decode(&a); err != nil {
			return true, err
		}
		p.accounts[a.ID] = &accountState{event: ref}
	case ledger.EventMembershipAdded:
		var m ledger.MembershipAdded
		if err := decode(&m); err != nil {
			return true, err
		}
		if p.accounts[m.Account] == nil || p.orgs[m.Organisation] == nil {
			return true, bad(fmt.Sprintf("gives account %d a role in organisation %d, one of which no earlier event created", m.Account, m.Organisation))
		}
		p.roles[roleKey{m.Account, m.Organisation, m.Role}] = ref
	case ledger.EventMembershipRemoved:
		var m ledger.MembershipRemoved
		if err := decode(&m); err != nil {
			return true, err
		}
		k := roleKey{m.Account, m.Organisation, m.Role}
		if _, ok := p.roles[k]; !ok {
			return true, bad(fmt.Sprintf("takes from account %d the role %s in organisation %d, which no earlier event gave", m.Account, m.Role, m.Organisation))
		}
		delete(p.roles, k)
	case ledger.EventAccountDisabled:
		var d ledger.AccountDisabled
		if err := decode(&d); err != nil {
			return true, err
		}
		a := p.accounts[d.Account]
		if a == nil {
			return true, bad(fmt.Sprintf("disables account %d, which no earlier event created", d.Account))
		}
		a.disabled, a.event = true, ref
	case ledger.EventIdentityLinked:
		var l ledger.IdentityLinked
		if err := decode(&l); err != nil {
			return true, err
		}
		if p.accounts[l.Account] == nil {
			return true, bad(fmt.Sprintf("binds an identity to account %d, which no earlier event created", l.Account))
		}
		p.identities[identityKey{l.Account, l.Issuer}] = ref
	case ledger.EventAccountInvited, ledger.EventInvitationCancelled, ledger.EventPasswordResetRequested, ledger.EventPasswordReset, ledger.EventTOTPEnabled:
		// No state the audit compares: links and second factors are
		// there for auditors to read.
	default:
		return false, nil
	}
	return true, nil
}

// comparePeople checks the organisations, the accounts (and whether each
// is disabled) and every role against the events.
func (s *state) comparePeople(ctx context.Context, db *ledger.DB) error {
	p := s.people
	var orgs []ledger.Organisation
	if err := db.Read(ctx).Find(&orgs).Error; err != nil {
		return err
	}
	for _, o := range orgs {
		e := p.orgs[o.ID]
		if e == nil {
			return &StateError{Entity: "organisation", ID: fmt.Sprint(o.ID), Problem: "exists but no event added it"}
		}
		if o.Kind != e.Kind || deref(o.DepartmentCode) != e.Department || derefOr(o.VenueID) != e.VenueID || o.Name != e.Name {
			return &StateError{Entity: "organisation", ID: fmt.Sprint(o.ID), Problem: fmt.Sprintf("is %s %q %q %d but the ledger says %s %q %q %d",
				o.Kind, deref(o.DepartmentCode), o.Name, derefOr(o.VenueID), e.Kind, e.Department, e.Name, e.VenueID), Event: e.event}
		}
	}
	if len(orgs) != len(p.orgs) {
		return &StateError{Entity: "organisation", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(orgs), len(p.orgs))}
	}
	var accounts []ledger.Account
	if err := db.Read(ctx).Select("id", "disabled_at").Find(&accounts).Error; err != nil {
		return err
	}
	for _, a := range accounts {
		e := p.accounts[a.ID]
		if e == nil {
			return &StateError{Entity: "account", ID: fmt.Sprint(a.ID), Problem: "exists but no event created it"}
		}
		if (a.DisabledAt != nil) != e.disabled {
			return &StateError{Entity: "account", ID: fmt.Sprint(a.ID), Problem: fmt.Sprintf("disabled is %v but the ledger says %v", a.DisabledAt != nil, e.disabled), Event: e.event}
		}
	}
	if len(accounts) != len(p.accounts) {
		return &StateError{Entity: "account", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(accounts), len(p.accounts))}
	}
	var ms []ledger.Membership
	if err := db.Read(ctx).Find(&ms).Error; err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := p.roles[roleKey{m.AccountID, m.OrganisationID, m.Role}]; !ok {
			return &StateError{Entity: "membership", ID: fmt.Sprintf("%d/%d/%s", m.AccountID, m.OrganisationID, m.Role), Problem: "exists but no event gave it"}
		}
	}
	if len(ms) != len(p.roles) {
		return &StateError{Entity: "membership", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(ms), len(p.roles))}
	}
	var ids []ledger.AccountIdentity
	if err := db.Read(ctx).Find(&ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if _, ok := p.identities[identityKey{id.AccountID, id.Issuer}]; !ok {
			return &StateError{Entity: "account_identity", ID: fmt.Sprintf("%d/%s", id.AccountID, id.Issuer), Problem: "exists but no event bound it"}
		}
	}
	if len(ids) != len(p.identities) {
		return &StateError{Entity: "account_identity", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(ids), len(p.identities))}
	}
	return nil
}
