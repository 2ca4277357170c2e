package main

import (
	"passnum/accounts"
	"slices"
	"strings"
	"testing"
)

// TestVenueChangeRequestsCLI: the command line's side of shared venues: a
// change asked for 78 waits for 92, who approves it; 78 cannot; a label
// suspended for 78 leaves 92's; a name SEPA cannot write is refused.
func TestVenueChangeRequestsCLI(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	mustRun(t, env, "department", "add", "92", "Hauts-de-Seine")
	mustRun(t, env, "venue", "add", "France Services", "--department", "78,92", "--siret", "73282932000074", "--iban", "FR7630006000011234567890189")

	out := mustRun(t, append(slices.Clone(env), "USER=alice"), "venue", "request", "1", "--department", "78", "--iban", "FR14 2004 1010 0505 0001 3M02 606", "--reason", "RIB reçu le 02/11")
	if !strings.Contains(out, "change request 1 for venue 1 (France Services) awaits the approval of 92") {
		t.Fatal(out)
	}
	if out := mustRun(t, env, "venue", "requests", "--status", "pending"); !strings.Contains(out, "FR1420041010050500013M02606") || !strings.Contains(out, "92") {
		t.Fatal(out)
	}
	if r := run(t, env, "venue", "approve", "1", "--department", "78"); r.code == 0 || !strings.Contains(r.stderr, "ce sont les autres départements du lieu qui l'approuvent") {
		t.Fatalf("78 approved its own request: %+v", r)
	}
	// Four eyes: the operator who asked does not approve, a second one does.
	asker := append(slices.Clone(env), "USER=alice")
	if r := run(t, asker, "venue", "approve", "1", "--department", "92"); r.code == 0 || !strings.Contains(r.stderr, "une autre personne doit l'approuver") {
		t.Fatalf("the operator who asked approved: %+v", r)
	}
	// Once applied, 92's finance agent is told (no SMTP server here: the
	// email is printed for the operator).
	invite := strings.TrimSpace(mustRun(t, env, "user", "invite", "finances@hauts-de-seine.fr", "--role", "department_finance", "--department", "92"))
	_, db := issuingOf(t, env)
	if _, err := (&accounts.Service{DB: db}).Accept(t.Context(), invite[strings.Index(invite, "#")+1:], "une longue phrase de passe"); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, append(slices.Clone(env), "USER=claire"), "venue", "approve", "1", "--department", "92"); !strings.Contains(out, "is applied") ||
		!strings.Contains(out, "To: finances@hauts-de-seine.fr\nSubject: Coordonnées bancaires changées : France Services") ||
		!strings.Contains(out, "l’IBAN qui finit par 2606") || !strings.Contains(out, "notices of the new IBAN sent: 1\n") {
		t.Fatal(out)
	}
	if out := mustRun(t, env, "venue", "list"); !strings.Contains(out, "78 labelled, 92 labelled") {
		t.Fatal(out)
	}
	mustRun(t, env, "venue", "add", "Médiathèque de Trappes", "--department", "78", "--siret", "44306184100047", "--iban", "FR7630006000011234567890189")
	if out := mustRun(t, env, "venue", "list", "--department", "78", "--limit", "1"); !strings.Contains(out, "France Services") ||
		strings.Contains(out, "Médiathèque") || !strings.Contains(out, "next page: --after 1") {
		t.Fatal(out)
	}
	if out := mustRun(t, env, "venue", "list", "--department", "78", "--after", "1"); strings.Contains(out, "France Services") ||
		!strings.Contains(out, "Médiathèque") || strings.Contains(out, "next page") {
		t.Fatal(out)
	}
	mustRun(t, env, "venue", "request", "1", "--department", "92", "--name", "Espace numérique", "--reason", "fusion")
	if out := mustRun(t, env, "venue", "refuse", "2", "--department", "78", "--reason", "pas de fusion votée"); !strings.Contains(out, "is refused") {
		t.Fatal(out)
	}
	if out := mustRun(t, env, "venue", "suspend", "1", "--department", "78", "--reason", "enquête"); !strings.Contains(out, "78 suspended, 92 labelled") {
		t.Fatal(out)
	}
	if r := run(t, env, "venue", "update", "1", "--iban", "FR7630001007941234567890185", "--reason", "RIB"); r.code == 0 || !strings.Contains(r.stderr, "deuxième personne") {
		t.Fatalf("an operator changed an IBAN alone: %+v", r)
	}
	if r := run(t, env, "venue", "update", "1", "--name", "数字空间", "--reason", "x"); r.code == 0 || !strings.Contains(r.stderr, "virement SEPA") {
		t.Fatalf("a name SEPA cannot write: %+v", r)
	}
	if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Fatal(out)
	}
}
