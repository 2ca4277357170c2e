package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"passnum/ledger"
)

// TestStockCommands: the operator allocates a batch's first chéquiers to
// a CCAS (structure 2: organisation 1 is the département), transfers some to an MDS, takes one back, and lists the stock
// per holder; a range with a chéquier elsewhere moves nothing, with the
// service's French sentence; the ledger verifies, on both databases.
func TestStockCommands(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ ledger.Dialect, _ string, env []string) {
		mustRun(t, env, "init")
		mustRun(t, env, "department", "add", "78", "Yvelines")
		mustRun(t, env, "structure", "add", "--department", "78", "--name", "CCAS de Trappes", "--type", "ccas", "--commune", "Trappes")
		mustRun(t, env, "structure", "add", "--department", "78", "--name", "MDS de Versailles", "--type", "mds", "--commune", "Versailles")
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "6", "--vouchers", "2", "--valid-until", nextYearEnd())
		n := func(seq int) string { return fmt.Sprintf("78-%d-%06d", time.Now().Year(), seq) }
		if out := mustRun(t, env, "stock", "allocate", "--department", "78", "--to", "2", "--batch", "1", "--count", "4"); out != "stock.allocated: 4 chéquiers, "+n(1)+" to "+n(4)+"\n" {
			t.Fatalf("allocate: %q", out)
		}
		if out := mustRun(t, env, "stock", "transfer", "--department", "78", "--from", "2", "--to", "3", "--first", n(3), "--last", n(4)); out != "stock.transferred: 2 chéquiers, "+n(3)+" to "+n(4)+"\n" {
			t.Fatalf("transfer: %q", out)
		}
		if r := run(t, env, "stock", "transfer", "--department", "78", "--from", "2", "--to", "3", "--first", n(2), "--last", n(3)); r.code == 0 ||
			r.stderr != "passnum: Le chéquier "+n(3)+" n'est pas dans le stock de « CCAS de Trappes » : choisissez d'autres numéros, ou déplacez-le d'abord de là où il est.\n" {
			t.Fatalf("a range with a chéquier elsewhere: %+v", r)
		}
		mustRun(t, env, "stock", "take-back", "--department", "78", "--from", "3", "--batch", "1", "--count", "1")
		out := mustRun(t, env, "stock", "list", "--department", "78")
		for _, want := range []string{"département  1      3", "2 CCAS de Trappes  1      2", "3 MDS de Versailles  1      1"} {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
				t.Errorf("stock list lacks %q:\n%s", want, out)
			}
		}
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatal(out)
		}
	})
}
