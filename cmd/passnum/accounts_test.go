package main

import (
	"context"
	"passnum"
	"strings"
	"testing"

	"passnum/accounts"
	"passnum/ledger"
)

// TestUserCommands: structures are added and listed; an invitation prints
// its link (the token in the fragment), which the person accepts; the
// account is listed with its role, is disabled and loses the role; a refusal is the
// service's French sentence; the ledger verifies.
func TestUserCommands(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ ledger.Dialect, _ string, env []string) {
		mustRun(t, env, "init")
		mustRun(t, env, "department", "add", "78", "Yvelines")
		if out := mustRun(t, env, "structure", "add", "--department", "78", "--name", "CCAS de Trappes", "--type", "ccas", "--commune", "Trappes"); !strings.Contains(out, "added structure 2 (CCAS de Trappes) to département 78") {
			t.Fatal(out)
		}
		if out := mustRun(t, env, "structure", "list", "--department", "78"); !strings.Contains(out, "2   ccas  Trappes  CCAS de Trappes") {
			t.Fatal(out)
		}
		r := run(t, env, "user", "invite", "agent@ccas-trappes.fr", "--role", "structure_agent", "--structure", "2", "--public-url", "https://passnum.example.fr/")
		link := strings.TrimSpace(r.stdout)
		token, ok := strings.CutPrefix(link, "https://passnum.example.fr/invitation#")
		if r.code != 0 || !ok || !strings.Contains(r.stderr, "send agent@ccas-trappes.fr this link") {
			t.Fatalf("invite: %+v", r)
		}
		_, db := issuingOf(t, env)
		if _, err := (&accounts.Service{DB: db}).Accept(context.Background(), token, "une longue phrase de passe"); err != nil {
			t.Fatal(err)
		}
		if out := mustRun(t, env, "user", "list", "--structure", "2"); !strings.Contains(out, "1        agent@ccas-trappes.fr  structure_agent  no    active") {
			t.Fatal(out)
		}
		// An invitation sent to a mistyped address is cancelled; its link
		// no longer opens an account.
		r = run(t, env, "user", "invite", "acceuil@ccas-trappes.fr", "--role", "structure_agent", "--structure", "2", "--public-url", "https://passnum.example.fr/")
		_, typo, _ := strings.Cut(strings.TrimSpace(r.stdout), "#")
		if out := mustRun(t, env, "user", "cancel-invitation", "2"); out != "invitation 2 cancelled\n" {
			t.Fatal(out)
		}
		if _, err := (&accounts.Service{DB: db}).Accept(context.Background(), typo, "une longue phrase de passe"); passnum.ErrorCode(err) != accounts.ELinkCancelled {
			t.Fatalf("a cancelled invitation accepted: %v", err)
		}
		if r := run(t, env, "user", "invite", "x@y.fr", "--role", "structure_agent", "--department", "78"); r.code == 0 ||
			r.stderr != "passnum: Le rôle structure_agent (agent de la structure) se donne dans une structure de distribution, pas dans un département.\n" {
			t.Fatalf("invite to the wrong organisation: %+v", r)
		}
		if out := mustRun(t, env, "user", "disable", "1"); out != "account 1 disabled\n" {
			t.Fatal(out)
		}
		if out := mustRun(t, env, "user", "list", "--structure", "2"); !strings.Contains(out, "disabled") {
			t.Fatal(out)
		}
		if r := run(t, env, "user", "remove-role", "1", "--role", "structure_agent", "--structure", "99"); r.code == 0 ||
			r.stderr != "passnum: L’organisation 99 n’existe pas.\n" {
			t.Fatalf("remove a role in no organisation: %+v", r)
		}
		if out := mustRun(t, env, "user", "remove-role", "1", "--role", "structure_agent", "--structure", "2"); out != "account 1 no longer has the role structure_agent there\n" {
			t.Fatal(out)
		}
		if out := mustRun(t, env, "user", "list", "--structure", "2"); strings.Contains(out, "agent@ccas-trappes.fr") {
			t.Fatalf("the role is still listed:\n%s", out)
		}
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatal(out)
		}
	})
}
