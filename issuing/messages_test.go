package issuing_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"passnum"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

// wantError fails the test unless err has this code and this message, the
// words both edges show.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if passnum.ErrorCode(err) != code || passnum.ErrorMessage(err) != msg {
		t.Fatalf("got %s %q\nwant %s %q", passnum.ErrorCode(err), passnum.ErrorMessage(err), code, msg)
	}
}

func day(t *testing.T, s string) voucher.Day {
	t.Helper()
	d, err := voucher.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBatchMessages: each rule of an order refuses it in French, worded
// for the programme (the same words for 'passnum issue' and POST
// /api/v1/batches), and a refused order writes nothing. The fixture's
// today is 26/11/2026.
func TestBatchMessages(t *testing.T) {
	// Validate writes these limits out in words.
	if issuing.MaxChequiers != 100_000 || issuing.MaxFaceValueCents != 100_000 {
		t.Fatal("MaxChequiers or MaxFaceValueCents changed: change Validate's messages with them")
	}
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		f := issuingtest.New(t, db)
		events := ledgertest.Count(t, db, &ledger.Event{})
		for _, c := range []struct {
			name   string
			change func(r *issuing.BatchRequest)
			code   string
			msg    string
		}{
			{"DepartmentCode", func(r *issuing.BatchRequest) { r.Department = "7" }, passnum.EInvalid,
				"« 7 » n'est pas un code de département : donnez le code officiel, comme 78, 2A ou 971."},
			{"DepartmentUnknown", func(r *issuing.BatchRequest) { r.Department = "75" }, passnum.ENotFound,
				"Le département 75 ne fait pas partie du programme : il doit y être ajouté avant sa première commande."},
			{"NoChequier", func(r *issuing.BatchRequest) { r.Chequiers = 0 }, passnum.EInvalid,
				"Un lot compte de 1 à 100 000 chéquiers, pas 0."},
			{"TooManyVouchers", func(r *issuing.BatchRequest) { r.VouchersPerChequier = 51 }, passnum.EInvalid,
				"Un chéquier compte de 1 à 50 chèques, pas 51."},
			{"FreeVouchers", func(r *issuing.BatchRequest) { r.FaceValueCents = 0 }, passnum.EInvalid,
				"Un chèque vaut de 0,01 € à 1 000,00 €."},
			{"NoEnd", func(r *issuing.BatchRequest) { r.ValidUntil = 0 }, passnum.EInvalid,
				"Donnez le dernier jour du programme, ou le dernier jour de validité des chèques."},
			{"ValidityPast", func(r *issuing.BatchRequest) { r.ValidUntil = day(t, "2026-01-01") }, passnum.EInvalid,
				"Les chèques seraient valables jusqu'au 01/01/2026, un jour déjà passé : choisissez une date à venir."},
			{"ValidityBeforeEnd", func(r *issuing.BatchRequest) {
				r.ProgrammeEnd, r.ValidUntil = day(t, "2027-11-30"), day(t, "2027-10-31")
			}, passnum.EInvalid,
				"Les chèques seraient valables jusqu'au 31/10/2027, avant la fin du programme (30/11/2027) : leur dernier jour de validité est le 30/11/2027 ou plus tard."},
			{"EndTooSoon", func(r *issuing.BatchRequest) { r.ProgrammeEnd, r.ValidUntil = day(t, "2026-12-05"), 0 }, passnum.EInvalid,
				"Le programme finirait le 05/12/2026 : la remise des chéquiers, qui s'arrête 15 jours avant la fin, serait déjà close. Choisissez une fin après le 11/12/2026."},
			{"StartsAfterEnd", func(r *issuing.BatchRequest) { r.ValidFrom = day(t, "2028-01-01") }, passnum.EInvalid,
				"Les chèques seraient valables à partir du 01/01/2028, après leur dernier jour de validité (31/12/2027)."},
			{"FarFuture", func(r *issuing.BatchRequest) { r.ValidUntil = day(t, "2040-01-01") }, passnum.EInvalid,
				"Les chèques seraient valables jusqu'au 01/01/2040, dans plus de 10 ans : vérifiez l'année."},
		} {
			t.Run(c.name, func(t *testing.T) {
				req := issuingtest.Request("78", 2, 10)
				c.change(&req)
				_, err := f.Issuing.Issue(context.Background(), req, nil)
				wantError(t, err, c.code, c.msg)
			})
		}
		if n := ledgertest.Count(t, db, &ledger.Batch{}) + ledgertest.Count(t, db, &ledger.Chequier{}) + ledgertest.Count(t, db, &ledger.Voucher{}); n != 0 || ledgertest.Count(t, db, &ledger.Event{}) != events {
			t.Fatalf("refused orders wrote %d rows or events", n)
		}
	})
}

// TestChequierMessages: the refusals of hand-overs, voids, reprints,
// replacements and reads, in French (those the API showed before issue
// #13, now the service's), and the scope of the finding queries. A refusal
// writes nothing.
func TestChequierMessages(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		res := f.Issue(t, issuingtest.Request("78", 5, 2)) // valid until 31/12/2027, the programme's end
		number := func(seq int) string { return voucher.FormatChequierNumber("78", 2026, uint32(seq)) }
		if _, err := f.Issuing.Activate(ctx, number(1), "", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Issuing.Void(ctx, number(2), "perdu", "test"); err != nil {
			t.Fatal(err)
		}
		c1, err := f.Issuing.Chequier(ctx, number(1))
		if err != nil {
			t.Fatal(err)
		}
		c3, err := f.Issuing.Chequier(ctx, number(3))
		if err != nil {
			t.Fatal(err)
		}
		redeemed, voided := c1.Vouchers[0].Number, voucher.FormatNumber(uint64(res.Batch.FirstSerial+2)) // chéquier 2's first
		if err := db.Read(ctx).Model(&ledger.Voucher{}).Where("serial = ?", c1.Vouchers[0].Serial).Update("status", ledger.VoucherRedeemed).Error; err != nil {
			t.Fatal(err)
		}
		stranger, _ := voucher.NewSigner(9, ed25519.NewKeyFromSeed(make([]byte, 32)))
		forged, _ := stranger.Sign(voucher.Activation{Department: "78", Year: 2026, Seq: 3})
		unknown := voucher.FormatNumber(999_999)
		events := ledgertest.Count(t, db, &ledger.Event{})

		const (
			badNumber     = "Ce n'est pas un numéro de chéquier : il a la forme 78-2026-000042, comme sur la couverture."
			badVoucher    = "Ce n'est pas un numéro de chèque : il a 11 chiffres, dont le dernier de contrôle, comme 0000 0042 178 sous le QR code ; vérifiez la saisie."
			notActivation = "Ce code n'est pas le code d'activation d'un chéquier : scannez le QR code de sa couverture, ou saisissez son numéro."
			notAuthentic  = "Ce code d'activation n'est pas authentique ou n'est plus valable : saisissez le numéro du chéquier, imprimé sur sa couverture."
			notFound      = "Chéquier 78-2026-000999 introuvable : vérifiez son numéro sur la couverture."
		)
		// activateOn hands a chéquier over on another day.
		activateOn := func(when time.Time, number string) error {
			defer func(t0 time.Time) { f.Clock.T = t0 }(f.Clock.T)
			f.Clock.T = when
			_, err := f.Issuing.Activate(ctx, number, "", "test")
			return err
		}
		typo := []byte(redeemed)
		typo[3] = '9'
		for _, c := range []struct {
			name string
			call func() error
			code string
			msg  string
		}{
			{"ActivateBadNumber", func() error { _, err := f.Issuing.Activate(ctx, "78/2026/2", "", "test"); return err }, passnum.EInvalid, badNumber},
			{"ActivateUnknown", func() error { _, err := f.Issuing.Activate(ctx, "78-2026-999", "", "test"); return err }, passnum.ENotFound, notFound},
			{"ActivateAgain", func() error { _, err := f.Issuing.Activate(ctx, number(1), "", "test"); return err }, issuing.EChequierAlreadyActive,
				"Le chéquier 78-2026-000001 a déjà été remis, le 26/11/2026."},
			{"ActivateVoided", func() error { _, err := f.Issuing.Activate(ctx, number(2), "", "test"); return err }, issuing.EChequierVoided,
				"Le chéquier 78-2026-000002 a été annulé le 26/11/2026 : il ne peut pas être remis. Remettez-en un autre."},
			{"ActivateExpired", func() error { return activateOn(time.Date(2028, 1, 1, 12, 0, 0, 0, time.UTC), number(3)) }, issuing.EChequierExpired,
				"Le chéquier 78-2026-000003 n'est plus valable : ses chèques expiraient le 31/12/2027. Remettez-en un en cours de validité."},
			{"ActivateDistributionStopped", func() error { return activateOn(time.Date(2027, 12, 20, 12, 0, 0, 0, time.UTC), number(3)) }, issuing.EDistributionStopped,
				"La remise des chéquiers du lot " + fmt.Sprint(res.Batch.ID) + " est arrêtée depuis le 16/12/2027 (le programme finit le 31/12/2027) : le chéquier 78-2026-000003 ne peut plus être remis."},
			{"ActivateGarbageCode", func() error { _, err := f.Issuing.ActivateCode(ctx, "HELLO", issuing.HandOver{}, "test"); return err }, passnum.EInvalid, notActivation},
			{"ActivateVoucherCode", func() error {
				_, err := f.Issuing.ActivateCode(ctx, c3.Vouchers[0].Code, issuing.HandOver{}, "test")
				return err
			}, passnum.EInvalid, notActivation},
			{"ActivateForgedCode", func() error { _, err := f.Issuing.ActivateCode(ctx, forged, issuing.HandOver{}, "test"); return err }, passnum.EInvalid, notAuthentic},
			{"ActivationNumberGarbage", func() error { _, err := issuing.ActivationNumber("HELLO"); return err }, passnum.EInvalid, notActivation},
			{"VoidAgain", func() error { _, err := f.Issuing.Void(ctx, number(2), "perdu", "test"); return err }, issuing.EChequierVoided,
				"Le chéquier 78-2026-000002 est déjà annulé, depuis le 26/11/2026."},
			{"VoidVoucherTypo", func() error { _, err := f.Issuing.VoidVoucher(ctx, string(typo), "perdu", "test"); return err }, passnum.EInvalid, badVoucher},
			{"VoidVoucherUnknown", func() error { _, err := f.Issuing.VoidVoucher(ctx, unknown, "perdu", "test"); return err }, passnum.ENotFound,
				"Chèque " + unknown + " introuvable : vérifiez son numéro, imprimé sous le QR code."},
			{"VoidVoucherRedeemed", func() error { _, err := f.Issuing.VoidVoucher(ctx, redeemed, "erreur", "test"); return err }, issuing.EVoucherNotVoidable,
				"Le chèque " + redeemed + " a déjà été utilisé : seul un chèque qui n'a pas servi peut être annulé. Un encaissement fait par erreur s'annule par le lieu qui l'a fait, ou par un ajustement du département."},
			{"VoidVoucherVoid", func() error { _, err := f.Issuing.VoidVoucher(ctx, voided, "perdu", "test"); return err }, issuing.EVoucherNotVoidable,
				"Le chèque " + voided + " est déjà annulé."},
			{"ReprintHandedOver", func() error { _, err := f.Issuing.Reprint(ctx, number(1), "abîmé", "test"); return err }, issuing.EChequierHandedOver,
				"Le chéquier 78-2026-000001 a été remis le 26/11/2026 : le réimprimer mettrait en circulation une seconde copie de ses codes. Remplacez plutôt les chèques abîmés, un par un."},
			{"ReprintVoid", func() error { _, err := f.Issuing.Reprint(ctx, number(2), "abîmé", "test"); return err }, issuing.EChequierVoided,
				"Le chéquier 78-2026-000002 est annulé : il ne peut pas être réimprimé."},
			{"ReplaceRedeemed", func() error { _, err := f.Issuing.Replace(ctx, redeemed, "fuite", "test", nil); return err }, issuing.EVoucherRedeemed,
				"Le chèque " + redeemed + " a déjà été utilisé : il n'y a plus rien à remplacer."},
			{"ReplaceVoid", func() error { _, err := f.Issuing.Replace(ctx, voided, "fuite", "test", nil); return err }, issuing.EVoucherVoided,
				"Le chèque " + voided + " est annulé : il ne peut pas être remplacé."},
			{"ReplaceTypo", func() error { _, err := f.Issuing.Replace(ctx, string(typo), "fuite", "test", nil); return err }, passnum.EInvalid, badVoucher},
			// Scoped reads: another département's is not found, in the same words.
			{"FindChequierOtherDepartment", func() error { _, _, err := f.Issuing.FindChequier(ctx, number(3), "92"); return err }, passnum.ENotFound,
				"Chéquier 78-2026-000003 introuvable : vérifiez son numéro sur la couverture."},
			{"FindVoucherOtherDepartment", func() error { _, err := f.Issuing.FindVoucher(ctx, c3.Vouchers[0].Number, "92"); return err }, passnum.ENotFound,
				"Chèque " + c3.Vouchers[0].Number + " introuvable : vérifiez son numéro, imprimé sous le QR code."},
			{"BatchOtherDepartment", func() error { _, _, err := f.Issuing.Batch(ctx, res.Batch.ID, "92"); return err }, passnum.ENotFound,
				"Le lot " + fmt.Sprint(res.Batch.ID) + " est introuvable."},
			{"PrintBatchPartOtherDepartment", func() error { _, err := f.Issuing.PrintBatchPart(ctx, res.Batch.ID, 1, 500, "92"); return err }, passnum.ENotFound,
				"Le lot " + fmt.Sprint(res.Batch.ID) + " est introuvable."},
			{"PrintBatchNoPart", func() error { _, err := f.Issuing.PrintBatchPart(ctx, res.Batch.ID, 2, 500, "78"); return err }, passnum.ENotFound,
				"Le lot " + fmt.Sprint(res.Batch.ID) + " s'imprime en 1 fichier de 500 chéquiers au plus : il n'a pas de partie 2."},
			{"ListAfterNonsense", func() error {
				_, err := f.Issuing.Chequiers(ctx, issuing.ChequierFilter{After: "nonsense", Limit: 10})
				return err
			}, passnum.EInvalid, badNumber},
			{"ListUnknownStatus", func() error {
				_, err := f.Issuing.Chequiers(ctx, issuing.ChequierFilter{Status: "lost", Limit: 10})
				return err
			}, passnum.EInvalid, "Un chéquier est issued (imprimé, pas encore remis), active (remis) ou void (annulé), pas « lost »."},
			{"Layout", func() error { _, err := issuing.Layout("poster"); return err }, passnum.EInvalid,
				"Les chèques s'impriment en a4 (dix chèques par feuille A4, avec traits de coupe) ou en booklet (un chèque par page A6)."},
		} {
			t.Run(c.name, func(t *testing.T) { wantError(t, c.call(), c.code, c.msg) })
		}
		if n := ledgertest.Count(t, db, &ledger.Event{}); n != events {
			t.Fatalf("%d events after refusals, want %d", n, events)
		}
		if n := ledgertest.Count(t, db, &ledger.Chequier{}, "status = ?", ledger.ChequierIssued); n != 3 {
			t.Fatalf("%d chéquiers not handed over, want 3: a refusal changed one", n)
		}
		// Found in its own département, and by any typed form of its number.
		if ch, _, err := f.Issuing.FindChequier(ctx, "78-2026-3", "78"); err != nil || ch.Number != number(3) {
			t.Fatalf("%+v %v", ch, err)
		}
	})
}
