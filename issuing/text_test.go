package issuing_test

import (
	"context"
	"strings"
	"testing"

	"passnum"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestFreeText: the reasons of voids, reprints and replacements follow the
// one text rule, and the beneficiary reference its own stricter rule; both
// answer in French, whichever edge calls.
func TestFreeText(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 1, 2))
		number, voucherNumber := res.FirstChequier, res.FirstVoucher
		reason := func(example string) string {
			return "Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « " + example + " »."
		}
		const ref = "La référence du bénéficiaire est une référence de dossier de 1 à 64 lettres, chiffres, « . », « _ », « / » ou « - », sans espace (par exemple CCAS-17-0193) : jamais un nom."
		for _, c := range []struct {
			name string
			call func() error
			msg  string
		}{
			{"VoidNoReason", func() error { _, err := f.Issuing.Void(ctx, number, " ", "test"); return err }, reason("perdu")},
			{"VoidReasonControl", func() error { _, err := f.Issuing.Void(ctx, number, "perdu\x00", "test"); return err }, reason("perdu")},
			{"VoidVoucherReasonTooLong", func() error {
				_, err := f.Issuing.VoidVoucher(ctx, voucherNumber, strings.Repeat("x", 201), "test")
				return err
			}, reason("détaché et perdu")},
			{"ReprintReasonBadUTF8", func() error { _, err := f.Issuing.Reprint(ctx, number, "ab\xffmé", "test"); return err }, reason("abîmé à l'impression")},
			{"ReplaceReasonControl", func() error {
				_, err := f.Issuing.Replace(ctx, voucherNumber, "code\nphotographié", "test", func(issuing.Replaced) error { return nil })
				return err
			}, reason("code photographié")},
			{"RefLooksLikeAName", func() error { _, err := f.Issuing.Activate(ctx, number, "Jean Dupont", "test"); return err }, ref},
			{"RefControl", func() error { _, err := f.Issuing.Activate(ctx, number, "CCAS\x00-17", "test"); return err }, ref},
			{"RefTooLong", func() error { _, err := f.Issuing.Activate(ctx, number, strings.Repeat("A", 65), "test"); return err }, ref},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := c.call()
				if passnum.ErrorCode(err) != passnum.EInvalid || passnum.ErrorMessage(err) != c.msg {
					t.Fatalf("%v, want invalid %q", err, c.msg)
				}
			})
		}
	})
}
