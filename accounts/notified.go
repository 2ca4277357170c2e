package accounts

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"passnum/access"
	"passnum/ledger"
)

// MoneyPeople are the emails of the enabled accounts that decide over the
// départements' money (manager and finance roles), sorted and each once:
// whom to tell of a venue's new IBAN. Emails leave this package only to
// be written to.
func (s *Service) MoneyPeople(ctx context.Context, departments []string) ([]string, error) {
	out := []string{}
	if len(departments) == 0 {
		return out, nil
	}
	err := s.DB.Read(ctx).Raw(`SELECT DISTINCT a.email FROM accounts a
		JOIN memberships m ON m.account_id = a.id JOIN organisations o ON o.id = m.organisation_id
		WHERE a.disabled_at IS NULL AND o.kind = 'department' AND o.department_code IN ? AND m.role IN ?
		ORDER BY a.email`, departments, []string{access.RoleDepartmentManager, access.RoleDepartmentFinance}).Scan(&out).Error
	return out, err
}

// Describe says who a ledger actor is, as the people of the programme may
// read it: "l’agent 17 de Yvelines (78)", "la clé d’accès pn_abc…",
// "l’exploitant alice". Pseudonymous as the ledger is: no name, no email.
func (s *Service) Describe(ctx context.Context, actor string) (string, error) {
	switch kind, rest, _ := strings.Cut(actor, ":"); kind {
	case "apikey":
		return "la clé d’accès " + rest, nil
	case "cli":
		return "l’exploitant " + rest, nil
	case "account":
		acc, org, _ := strings.Cut(rest, "@organisation:")
		id, err := strconv.ParseInt(org, 10, 64)
		if err != nil {
			return "l’agent " + acc, nil
		}
		var o ledger.Organisation
		if err := s.DB.Read(ctx).Where("id = ?", id).Take(&o).Error; err != nil {
			return "", err
		}
		l, err := label(s.DB.Read(ctx), o)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("l’agent %s de %s", acc, l), nil
	}
	return actor, nil
}
