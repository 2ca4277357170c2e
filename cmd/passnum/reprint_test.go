package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"passnum/issuing"
	"passnum/ledger"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/redemption"
)

// printedQR rasterizes a PDF of one voucher with pdftoppm: the summary
// sheet, then one page (no cover) whose QR code it returns.
func printedQR(t *testing.T, pdf string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Fatal("pdftoppm is missing: install poppler-utils (make test-tools)")
	}
	dir := t.TempDir()
	if msg, err := exec.Command("pdftoppm", "-r", "150", "-png", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, msg)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(pages) != 2 {
		t.Fatalf("%s has %d pages, want the summary sheet and one page", filepath.Base(pdf), len(pages))
	}
	slices.Sort(pages)
	return decodeQR(t, readPNG(t, pages[1]))
}

// currentVoucher is the voucher now at a position of a chéquier.
func currentVoucher(t *testing.T, svc *issuing.Service, chequier string, position int) issuing.PrintedVoucher {
	t.Helper()
	pc, err := svc.Chequier(context.Background(), chequier)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pc.Vouchers {
		if int(v.Position) == position {
			return v
		}
	}
	t.Fatalf("chéquier %s has no voucher at position %d", chequier, position)
	return issuing.PrintedVoucher{}
}

// TestReprintReplacement replaces the voucher at every position of a
// chéquier of ten, in both layouts (on SQLite; at position 4 on PostgreSQL): each PDF holds one voucher, the
// replacement, whose QR code decodes to its code and which redeems, while
// the old code is refused as void. A replacement whose PDF cannot be made
// writes nothing, and the same command then succeeds.
func TestReprintReplacement(t *testing.T) {
	eachDialect(t, func(t *testing.T, d ledger.Dialect, dir string, env []string) {
		ctx := context.Background()
		mustRun(t, env, "init")
		mustRun(t, env, "department", "add", "78", "Yvelines")
		mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "10", "--no-activation", "--valid-until", nextYearEnd())
		svc, db := issuingOf(t, env)
		year := fmt.Sprint(time.Now().Year())
		out := t.TempDir()

		// Venues' information that does not fit on the paper is refused
		// before anything is done: no replacement, no event, no file. (A
		// printout failing inside the replacement is issuing's ErrPrint.)
		first := "78-" + year + "-000001"
		leaked := currentVoucher(t, svc, first, 4)
		long := strings.Repeat("www.yvelines.fr ", 11)
		if r := run(t, env, "reprint", "--voucher", leaked.Number, "--reason", "code photographié", "--out", out, "--venues-info", long); r.code != 1 {
			t.Fatalf("reprint with an impossible PDF: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		var replaced, vouchers int64
		db.Read(ctx).Model(&ledger.Event{}).Where("type = ?", ledger.EventVoucherReplaced).Count(&replaced)
		db.Read(ctx).Model(&ledger.Voucher{}).Count(&vouchers)
		files, _ := os.ReadDir(out)
		if now := currentVoucher(t, svc, first, 4); now.Serial != leaked.Serial || now.Status != ledger.VoucherActive || replaced != 0 || vouchers != 20 || len(files) != 0 {
			t.Fatalf("a failed reprint left voucher %s %s, %d replacements, %d vouchers, %d files", now.Number, now.Status, replaced, vouchers, len(files))
		}

		// Every position on SQLite; the printing does not depend on the
		// database, so PostgreSQL prints the position only.
		positions := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		if d == ledger.Postgres {
			positions = []int{4}
		}
		for _, layout := range []string{"a4", "booklet"} {
			chequier := map[string]string{"a4": first, "booklet": "78-" + year + "-000002"}[layout]
			for _, position := range positions {
				old := currentVoucher(t, svc, chequier, position)
				stdout := mustRun(t, env, "reprint", "--voucher", old.Number, "--reason", "code photographié", "--out", out, "--layout", layout)
				repl := currentVoucher(t, svc, chequier, position)
				name := "replacement-" + strings.ReplaceAll(repl.Number, " ", "") + ".pdf"
				if repl.Serial == old.Serial || !strings.Contains(stdout, name) {
					t.Fatalf("%s, position %d: %s", layout, position, stdout)
				}
				// Decoding is slow: once per layout, at the position of the issue.
				if position == 4 {
					if code := printedQR(t, filepath.Join(out, name)); code != repl.Code {
						t.Fatalf("%s, position %d: the PDF shows %.20s…, want the replacement's code %.20s…", layout, position, code, repl.Code)
					}
				}
				text, err := exec.Command("pdftotext", filepath.Join(out, name), "-").CombinedOutput()
				voucherPage := strings.ToLower(strings.Split(string(text), "\f")[1])
				// The département is named as in the batch's files: the
				// summary sheet is theirs (issuing.PrintReplacement).
				if err != nil || strings.Count(string(text), "\f") != 2 || !strings.Contains(voucherPage, fmt.Sprintf("chèque %d sur 10", position)) ||
					!strings.Contains(voucherPage, repl.Number) || strings.Contains(voucherPage, old.Number) || !strings.Contains(voucherPage, "yvelines (78)") {
					t.Fatalf("%s, position %d: the PDF is not one page of replacement %s « chèque %d sur 10 » (%v):\n%s", layout, position, repl.Number, position, err, text)
				}
			}
		}

		// The replacement at position 4 redeems; the code it replaced does not.
		prog := &programme.Service{DB: db}
		venue, err := prog.AddVenue(ctx, programmetest.Venue(1, "Médiathèque", "78"), "test")
		if err != nil {
			t.Fatal(err)
		}
		red := &redemption.Service{DB: db, Keys: svc.Keys}
		redeem := func(code string) redemption.Result {
			res, err := red.Redeem(ctx, redemption.Basket{VenueID: venue.ID, IdempotencyKey: "reprint-" + code[:20], Items: []redemption.Input{{Code: code}}, Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := redeem(leaked.Code); res.Accepted || res.Items[0].Reason != redemption.ReasonVoided {
			t.Fatalf("the replaced code: %+v", res.Items)
		}
		if res := redeem(currentVoucher(t, svc, first, 4).Code); !res.Accepted {
			t.Fatalf("the replacement at position 4 is refused: %+v", res.Items)
		}
		if out := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Fatal(out)
		}
	})
}
