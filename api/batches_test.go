package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passnum/api"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/printing"
	"passnum/voucher"
)

type batchDetailJSON struct {
	ID                  int64
	Department          string
	Chequiers           int
	VouchersPerChequier int    `json:"vouchers_per_chequier"`
	FaceValueCents      int64  `json:"face_value_cents"`
	TotalCents          int64  `json:"total_cents"`
	ProgrammeEnd        string `json:"programme_end"`
	ValidUntil          string `json:"valid_until"`
	RequiresActivation  bool   `json:"requires_activation"`
	FirstChequier       string `json:"first_chequier"`
	LastChequier        string `json:"last_chequier"`
	Stage               string
	Timeline            struct {
		Stage               string
		DistributionStopsOn string `json:"distribution_stops_on"`
	}
	ChequiersByStatus struct{ Issued, Active, Void int64 } `json:"chequiers_by_status"`
}

const venuesInfo = "Lieux labellisés : www.yvelines.fr/pass-numerique"

func withVenuesInfo(c *api.Config) { c.VenuesInfo = venuesInfo }

// TestBatchOrder orders a batch over HTTP and reads it back; the order is
// recorded with the key as actor, and a bad order writes nothing.
func TestBatchOrder(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		order := map[string]any{"department": "78", "chequiers": 30, "vouchers_per_chequier": 5, "face_value_cents": 1000,
			"programme_end": "2027-11-30"}
		r := e.do(t, request{method: "POST", path: "/api/v1/batches", as: "department", json: order})
		r.expect(t, http.StatusCreated, "")
		var b batchDetailJSON
		r.decode(t, &b)
		if b.Department != "78" || b.Chequiers != 30 || b.TotalCents != 150_000 || b.ProgrammeEnd != "2027-11-30" ||
			b.ValidUntil != "2027-12-30" || !b.RequiresActivation || b.Stage != "running" || b.ChequiersByStatus.Issued != 30 ||
			b.Timeline.DistributionStopsOn != "2027-11-15" || r.header.Get("Location") != "/api/v1/batches/"+itoa(b.ID) {
			t.Fatalf("%+v %s", b, r.header.Get("Location"))
		}
		var ev ledger.Event
		if err := db.Read(context.Background()).Where("type = ? AND entity_id = ?", ledger.EventBatchIssued, itoa(b.ID)).Take(&ev).Error; err != nil || ev.Actor != e.actor("department") {
			t.Fatalf("batch event %+v %v", ev, err)
		}
		// An explicit validity, without activation.
		order["valid_until"], order["requires_activation"] = "2028-01-31", false
		r = e.do(t, request{method: "POST", path: "/api/v1/batches", as: "admin", json: order})
		r.expect(t, http.StatusCreated, "")
		r.decode(t, &b)
		if b.ValidUntil != "2028-01-31" || b.RequiresActivation {
			t.Fatalf("%+v", b)
		}
		delete(order, "valid_until")
		delete(order, "requires_activation")

		batches, vouchers := e.count(t, &ledger.Batch{}), e.count(t, &ledger.Voucher{})
		with := func(k string, v any) map[string]any {
			o := map[string]any{}
			for k, v := range order {
				o[k] = v
			}
			if v == nil {
				delete(o, k)
			} else {
				o[k] = v
			}
			return o
		}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
			text   string
			as     string // default the département 78
		}{
			{"TooManyChequiers", with("chequiers", 2001), 400, "batch_too_large", "au plus 2000 chéquiers", ""},
			{"NoChequier", with("chequiers", 0), 400, "invalid", "de 1 à 100 000", ""},
			{"TooManyVouchers", with("vouchers_per_chequier", 51), 400, "invalid", "de 1 à 50", ""},
			{"FreeVouchers", with("face_value_cents", 0), 400, "invalid", "0,01 €", ""},
			{"NoEnd", with("programme_end", nil), 400, "invalid", "dernier jour du programme", ""},
			{"BadEnd", with("programme_end", "30/11/2027"), 400, "invalid", "AAAA-MM-JJ", ""},
			{"ImpossibleDate", with("programme_end", "2027-02-30"), 400, "invalid", "AAAA-MM-JJ", ""},
			{"EndTooSoon", with("programme_end", "2026-12-05"), 400, "invalid", "déjà close", ""},
			{"ValidityAloneInPast", map[string]any{"department": "78", "chequiers": 3, "vouchers_per_chequier": 5, "face_value_cents": 1000,
				"valid_until": "2020-01-01"}, 400, "invalid", "01/01/2020, un jour déjà passé", ""},
			{"ValidityBeforeEnd", with("valid_until", "2027-10-31"), 400, "invalid", "avant la fin du programme", ""},
			{"FarFuture", with("programme_end", "2040-01-01"), 400, "invalid", "10 ans", ""},
			{"BadDepartment", with("department", "99"), 400, "invalid", "code de département", ""},
			{"UnknownDepartment", with("department", "75"), 404, "not_found", "ne fait pas partie du programme", "admin"},
			{"OtherDepartment", with("department", "92"), 403, "forbidden", "département 78", ""},
			{"UnknownField", with("montant", 10), 400, "invalid_json", "« montant »", ""},
			{"StringCount", with("chequiers", "30"), 400, "invalid_json", "« chequiers » doit être un nombre", ""},
			{"FloatValue", with("face_value_cents", 10.5), 400, "invalid_json", "« face_value_cents » doit être un nombre", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				as := c.as
				if as == "" {
					as = "department"
				}
				er := e.do(t, request{method: "POST", path: "/api/v1/batches", as: as, json: c.body, offContract: true}).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
				if hint := er.Error.Hint; (c.code == "batch_too_large") != strings.Contains(hint, "passnum issue") {
					t.Errorf("hint %q", hint)
				}
			})
		}
		e.do(t, request{method: "POST", path: "/api/v1/batches", as: "department", body: raw(`{"department":"78",`), offContract: true}).
			expect(t, http.StatusBadRequest, "invalid_json")
		if e.count(t, &ledger.Batch{}) != batches || e.count(t, &ledger.Voucher{}) != vouchers {
			t.Fatal("a refused order wrote something")
		}

		var list struct{ Batches []batchDetailJSON }
		e.do(t, request{method: "GET", path: "/api/v1/batches?department=78", as: "auditor"}).decode(t, &list)
		if len(list.Batches) != 3 || list.Batches[0].ID != b.ID {
			t.Fatalf("newest first: %+v", list)
		}
		e.do(t, request{method: "GET", path: "/api/v1/batches/999", as: "admin"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: "/api/v1/batches?department=7", as: "admin", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
	})
}

// TestBatchFiles: the files served are the bytes 'passnum print' writes,
// part by part, after a voucher replacement too; the listing matches them.
func TestBatchFiles(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 0, withVenuesInfo)
		// Two parts: 500 chéquiers and 3.
		res := e.Issue(t, issuingtest.Request("78", issuing.DefaultPerFile+3, 1))
		id := res.Batch.ID
		// A voucher of the second part replaced: the part holds its new code.
		last, err := e.Fixture.Issuing.Chequier(ctx, res.LastChequier)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Fixture.Issuing.Replace(ctx, last.Vouchers[0].Number, "code photographié", "test", nil); err != nil {
			t.Fatal(err)
		}

		var files struct {
			BatchID          int64 `json:"batch_id"`
			Layout           string
			ChequiersPerFile int `json:"chequiers_per_file"`
			Files            []struct {
				Part                        int
				Name, URL                   string
				FirstChequier, LastChequier string `json:"-"`
				Chequiers, Vouchers         int
			}
		}
		e.do(t, request{method: "GET", path: "/api/v1/batches/" + itoa(id) + "/files?layout=booklet", as: "department"}).decode(t, &files)
		if files.Layout != "booklet" || files.ChequiersPerFile != 500 || len(files.Files) != 2 || files.Files[1].Chequiers != 3 ||
			files.Files[1].Name != "batch-"+itoa(id)+"-0002.pdf" || files.Files[1].URL != "/api/v1/batches/"+itoa(id)+"/files/2?layout=booklet" {
			t.Fatalf("%+v", files)
		}

		for _, layout := range []printing.Layout{printing.A4Sheets, printing.Booklet} {
			// What the command line writes.
			dir := t.TempDir()
			summary, chequiers, err := e.Fixture.Issuing.PrintBatch(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			m, err := printing.RenderFiles(dir, summary, chequiers, issuing.DefaultPerFile, printing.Options{Layout: layout, VenuesInfo: venuesInfo}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range m.Files {
				want, err := os.ReadFile(filepath.Join(dir, f.Name))
				if err != nil {
					t.Fatal(err)
				}
				path := "/api/v1/batches/" + itoa(id) + "/files/" + itoa(int64(f.Part)) + "?layout=" + string(layout)
				r := e.do(t, request{method: "GET", path: path, as: "admin"})
				r.expect(t, http.StatusOK, "")
				if ct := r.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
					t.Fatalf("%s: %s, %.20q", path, ct, r.body)
				}
				if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="`+f.Name+`"` {
					t.Fatalf("Content-Disposition %q", cd)
				}
				if !bytes.Equal(r.body, want) {
					t.Fatalf("%s: %d bytes differ from the %d bytes of 'passnum print' (%s)", path, len(r.body), len(want), f.Name)
				}
			}
		}
		base := "/api/v1/batches/" + itoa(id) + "/files/"
		e.do(t, request{method: "GET", path: base + "3", as: "admin"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: base + "0", as: "admin", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
		e.do(t, request{method: "GET", path: base + "1?layout=poster", as: "admin", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
		e.do(t, request{method: "GET", path: "/api/v1/batches/999/files/1", as: "admin"}).expect(t, http.StatusNotFound, "not_found")
	})
}

type chequierDetailJSON struct {
	Number         string
	BatchID        int64 `json:"batch_id"`
	Department     string
	Status         string
	BeneficiaryRef string     `json:"beneficiary_ref"`
	ActivatedAt    *time.Time `json:"activated_at"`
	VoidReason     string     `json:"void_reason"`
	Vouchers       []struct {
		Number, Status string
		Serial         int64
		Position       int
		ReplacedBy     string `json:"replaced_by"`
	}
	VoidedVouchers []string `json:"voided_vouchers"`
}

// TestChequierOperations hands chéquiers over by number and by scanned
// code, voids a chéquier and single vouchers, with every refusal in French
// and the key as the actor of each change.
func TestChequierOperations(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		activate := func(body any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/chequiers/activation", as: "department", json: body})
		}
		var ch chequierDetailJSON
		r := activate(map[string]string{"number": "78-2026-2", "beneficiary_ref": "CCAS-17-0193"})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &ch)
		if ch.Number != chequier78(2) || ch.Status != "active" || ch.BeneficiaryRef != "CCAS-17-0193" || ch.ActivatedAt == nil || !ch.ActivatedAt.Equal(e.Clock.T) {
			t.Fatalf("%+v", ch)
		}
		pc3, err := e.Fixture.Issuing.Chequier(ctx, chequier78(3))
		if err != nil {
			t.Fatal(err)
		}
		activate(map[string]string{"code": pc3.ActivationCode}).decode(t, &ch)
		if ch.Number != chequier78(3) || ch.Status != "active" {
			t.Fatalf("%+v", ch)
		}
		if v := e.check(t, "venue1", map[string]string{"code": pc3.Vouchers[0].Code}); !v.Accepted {
			t.Fatalf("a voucher of a chéquier activated by code: %+v", v)
		}

		// Refusals.
		stranger, _ := voucher.NewSigner(9, ed25519.NewKeyFromSeed(make([]byte, 32)))
		forged, _ := stranger.Sign(voucher.Activation{Department: "78", Year: 2026, Seq: 4})
		cases := []struct {
			name   string
			body   map[string]string
			status int
			code   string
			text   string
		}{
			{"Again", map[string]string{"number": chequier78(2)}, 409, "chequier_already_active", "déjà été remis"},
			{"Unknown", map[string]string{"number": "78-2026-000999"}, 404, "not_found", "78-2026-000999"},
			{"BadNumber", map[string]string{"number": "78/2026/2"}, 400, "invalid", "78-2026-000042"},
			{"VoucherCode", map[string]string{"code": pc3.Vouchers[1].Code}, 400, "invalid", "code d'activation"},
			{"Garbage", map[string]string{"code": "HELLO"}, 400, "invalid", "code d'activation"},
			{"Both", map[string]string{"number": chequier78(4), "code": pc3.ActivationCode}, 400, "invalid", "pas les deux"},
			{"Neither", map[string]string{"beneficiary_ref": "X1"}, 400, "invalid", "pas les deux"},
			{"NameAsRef", map[string]string{"number": chequier78(4), "beneficiary_ref": "Jean Dupont"}, 400, "invalid", "jamais un nom"},
			{"ForeignKey", map[string]string{"code": forged}, 400, "invalid", "authentique"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				er := e.do(t, request{method: "POST", path: "/api/v1/chequiers/activation", as: "department", json: c.body, offContract: true}).expect(t, c.status, c.code)
				if !strings.Contains(er.Error.Message, c.text) {
					t.Errorf("message %q lacks %q", er.Error.Message, c.text)
				}
				if want := map[bool]string{true: "beneficiary_ref"}[c.name == "NameAsRef"]; er.Error.Field != want {
					t.Errorf("field %q, want %q", er.Error.Field, want)
				}
			})
		}
		if pc4, _ := e.Fixture.Issuing.Chequier(ctx, chequier78(4)); pc4.Chequier.Status != ledger.ChequierIssued {
			t.Fatalf("a refused activation activated: %+v", pc4.Chequier)
		}

		// Voiding a chéquier voids its unused vouchers.
		e.redeem(t, "venue1", e.code(0)).expect(t, http.StatusCreated, "")
		r = e.do(t, request{method: "POST", path: "/api/v1/chequiers/" + chequier78(1) + "/void", as: "department", json: map[string]string{"reason": "volé"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &ch)
		if ch.Status != "void" || ch.VoidReason != "volé" || len(ch.VoidedVouchers) != 9 || ch.VoidedVouchers[0] != e.vouchers[1].Number {
			t.Fatalf("%+v", ch)
		}
		e.do(t, request{method: "POST", path: "/api/v1/chequiers/" + chequier78(1) + "/void", as: "department", json: map[string]string{"reason": "volé"}}).
			expect(t, http.StatusConflict, "chequier_voided")
		er := activate(map[string]string{"number": chequier78(1)}).expect(t, http.StatusConflict, "chequier_voided")
		if !strings.Contains(er.Error.Message, "annulé") {
			t.Fatal(er.Error.Message)
		}
		e.do(t, request{method: "POST", path: "/api/v1/chequiers/" + chequier78(5) + "/void", as: "department", json: map[string]string{"reason": " "}, offContract: true}).
			expect(t, http.StatusBadRequest, "invalid")

		// One voucher, its number typed with or without spaces.
		e.do(t, request{method: "GET", path: "/api/v1/chequiers/" + chequier78(3), as: "auditor"}).decode(t, &ch)
		target := ch.Vouchers[4].Number
		var vv struct{ Number, Chequier, Department, Status string }
		r = e.do(t, request{method: "POST", path: "/api/v1/vouchers/" + url.PathEscape(target) + "/void", as: "department", json: map[string]string{"reason": "détaché et perdu"}})
		r.expect(t, http.StatusOK, "")
		r.decode(t, &vv)
		if vv.Number != target || vv.Chequier != chequier78(3) || vv.Department != "78" || vv.Status != "void" {
			t.Fatalf("%+v", vv)
		}
		er = e.do(t, request{method: "POST", path: "/api/v1/vouchers/" + strings.ReplaceAll(target, " ", "") + "/void", as: "department", json: map[string]string{"reason": "encore"}}).
			expect(t, http.StatusConflict, "voucher_not_voidable")
		if !strings.Contains(er.Error.Message, "annulé") {
			t.Fatal(er.Error.Message)
		}
		er = e.do(t, request{method: "POST", path: "/api/v1/vouchers/" + strings.ReplaceAll(e.vouchers[0].Number, " ", "") + "/void", as: "admin", json: map[string]string{"reason": "erreur"}}).
			expect(t, http.StatusConflict, "voucher_not_voidable")
		if !strings.Contains(er.Error.Message, "déjà été utilisé") {
			t.Fatal(er.Error.Message)
		}
		typo := []byte(strings.ReplaceAll(target, " ", ""))
		typo[3] = '9'
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/" + string(typo) + "/void", as: "department", json: map[string]string{"reason": "x"}}).
			expect(t, http.StatusBadRequest, "invalid")
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/" + url.PathEscape(voucher.FormatNumber(999_999)) + "/void", as: "department", json: map[string]string{"reason": "x"}}).
			expect(t, http.StatusNotFound, "not_found")

		e.do(t, request{method: "GET", path: "/api/v1/chequiers/" + chequier78(3), as: "department"}).decode(t, &ch)
		if ch.Vouchers[4].Status != "void" || ch.Vouchers[0].Status != "active" || len(ch.Vouchers) != 10 {
			t.Fatalf("%+v", ch.Vouchers)
		}

		// The list pages through in number order, with filters.
		var page struct {
			Chequiers []chequierDetailJSON
			Next      string
		}
		e.do(t, request{method: "GET", path: "/api/v1/chequiers?status=active&limit=1", as: "department"}).decode(t, &page)
		if len(page.Chequiers) != 1 || page.Chequiers[0].Number != chequier78(2) || page.Next != chequier78(2) {
			t.Fatalf("%+v", page)
		}
		e.do(t, request{method: "GET", path: "/api/v1/chequiers?status=active&limit=1&after=" + page.Next, as: "department"}).decode(t, &page)
		if len(page.Chequiers) != 1 || page.Chequiers[0].Number != chequier78(3) {
			t.Fatalf("%+v", page)
		}
		page.Chequiers, page.Next = nil, ""
		e.do(t, request{method: "GET", path: "/api/v1/chequiers?status=active&after=" + chequier78(3), as: "department"}).decode(t, &page)
		if len(page.Chequiers) != 0 || page.Next != "" {
			t.Fatalf("%+v", page)
		}
		e.do(t, request{method: "GET", path: "/api/v1/chequiers?batch=" + itoa(e.batch.Batch.ID) + "&limit=1000", as: "auditor"}).decode(t, &page)
		if len(page.Chequiers) != 20 {
			t.Fatalf("%d chéquiers", len(page.Chequiers))
		}
		for _, q := range []string{"status=lost", "after=nonsense", "limit=0", "limit=1001", "batch=x"} {
			e.do(t, request{method: "GET", path: "/api/v1/chequiers?" + q, as: "department", offContract: true}).expect(t, http.StatusBadRequest, "invalid")
		}
		var batch batchDetailJSON
		e.do(t, request{method: "GET", path: "/api/v1/batches/" + itoa(e.batch.Batch.ID), as: "auditor"}).decode(t, &batch)
		if batch.ChequiersByStatus.Active != 2 || batch.ChequiersByStatus.Void != 1 || batch.ChequiersByStatus.Issued != 17 {
			t.Fatalf("%+v", batch.ChequiersByStatus)
		}

		// Every change names the key.
		var actors []string
		if err := db.Read(ctx).Model(&ledger.Event{}).Where("type IN ?", []string{ledger.EventChequierActivated, ledger.EventChequierVoided, ledger.EventVoucherVoided}).
			Where("actor <> ?", "test").Pluck("actor", &actors).Error; err != nil {
			t.Fatal(err)
		}
		if len(actors) != 4 {
			t.Fatalf("%v", actors)
		}
		for _, a := range actors {
			if a != e.actor("department") {
				t.Fatalf("actor %q, want %q", a, e.actor("department"))
			}
		}
	})
}

// TestDistributionStops: hand-overs stop 15 days before the programme
// ends, and the warnings say so.
func TestDistributionStops(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 0)
		r := e.do(t, request{method: "POST", path: "/api/v1/batches", as: "department", json: map[string]any{"department": "78", "chequiers": 3,
			"vouchers_per_chequier": 2, "face_value_cents": 1000, "programme_end": "2026-12-20"}})
		r.expect(t, http.StatusCreated, "")
		var b batchDetailJSON
		r.decode(t, &b)
		var w struct {
			AsOf     string `json:"as_of"`
			Warnings []struct {
				BatchID      int64 `json:"batch_id"`
				Stage        string
				NotHandedOut int64 `json:"not_handed_out"`
				Message      string
			}
		}
		e.do(t, request{method: "GET", path: "/api/v1/warnings", as: "department"}).decode(t, &w)
		if w.AsOf != "2026-11-26" || len(w.Warnings) != 1 || w.Warnings[0].Stage != "ending" || w.Warnings[0].NotHandedOut != 3 ||
			!strings.Contains(w.Warnings[0].Message, "05/12/2026") {
			t.Fatalf("%+v", w)
		}
		e.Clock.T = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		er := e.do(t, request{method: "POST", path: "/api/v1/chequiers/activation", as: "department", json: map[string]string{"number": b.FirstChequier}}).
			expect(t, http.StatusConflict, "distribution_stopped")
		if !strings.Contains(er.Error.Message, "05/12/2026") {
			t.Fatal(er.Error.Message)
		}
		e.do(t, request{method: "GET", path: "/api/v1/warnings?department=78", as: "auditor"}).decode(t, &w)
		if len(w.Warnings) != 1 || w.Warnings[0].Stage != "distribution_stopped" {
			t.Fatalf("%+v", w)
		}
	})
}

// TestActivateRevokedKeyChequier: a chéquier of a revoked key is not
// handed over through the API, by its number (409, in French).
func TestActivateRevokedKeyChequier(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 1)
		if _, err := e.Keys.New(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		if err := e.Keys.Revoke(ctx, 1, "test"); err != nil {
			t.Fatal(err)
		}
		number := chequier78(2)
		er := e.do(t, request{method: "POST", path: "/api/v1/chequiers/activation", as: "department", json: map[string]string{"number": number}}).
			expect(t, http.StatusConflict, "chequier_key_revoked")
		if !strings.Contains(er.Error.Message, "clé retirée pour raison de sécurité") || !strings.Contains(er.Error.Message, number) ||
			er.Error.Hint != "Annulez-le par POST /api/v1/chequiers/{number}/void, avec un motif." {
			t.Fatal(er.Error.Message, er.Error.Hint)
		}
	})
}
