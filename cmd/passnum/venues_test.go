package main

import (
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

	out := mustRun(t, env, "venue", "request", "1", "--department", "78", "--iban", "FR14 2004 1010 0505 0001 3M02 606", "--reason", "RIB reçu le 02/11")
	if !strings.Contains(out, "change request 1 for venue 1 (France Services) awaits the approval of 92") {
		t.Fatal(out)
	}
	if out := mustRun(t, env, "venue", "requests", "--status", "pending"); !strings.Contains(out, "FR1420041010050500013M02606") || !strings.Contains(out, "92") {
		t.Fatal(out)
	}
	if r := run(t, env, "venue", "approve", "1", "--department", "78"); r.code == 0 || !strings.Contains(r.stderr, "ce sont les autres départements du lieu qui l'approuvent") {
		t.Fatalf("78 approved its own request: %+v", r)
	}
	if out := mustRun(t, env, "venue", "approve", "1", "--department", "92"); !strings.Contains(out, "is applied") {
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
	if r := run(t, env, "venue", "update", "1", "--name", "数字空间", "--reason", "x"); r.code == 0 || !strings.Contains(r.stderr, "virement SEPA") {
		t.Fatalf("a name SEPA cannot write: %+v", r)
	}
	if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Fatal(out)
	}
}
