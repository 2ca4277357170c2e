package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/voucher"
)

// TestRulesSameOnBothEdges: a rule is written once, in its service, so the
// command line and the API refuse the same input with the same message
// (the API also says the code; the command line prints the message, then
// its own hint on a second line).
func TestRulesSameOnBothEdges(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "2", "--valid-until", nextYearEnd())
	number := firstChequier(t, out)
	admin := strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "admin", "--name", "exploitation"))
	base := startServer(t, env)
	// issuing: the second chéquier voided, a voucher of the first redeemed.
	voided := strings.Replace(number, "000001", "000002", 1)
	mustRun(t, env, "void", voided, "--reason", "perdu")
	svc, db := issuingOf(t, env)
	first, err := svc.Chequier(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	redeemed := first.Vouchers[0].Number
	if err := db.Read(context.Background()).Model(&ledger.Voucher{}).Where("serial = ?", first.Vouchers[0].Serial).Update("status", ledger.VoucherRedeemed).Error; err != nil {
		t.Fatal(err)
	}
	// api sends body to path as the admin and returns its answer.
	api := func(t *testing.T, path string, body map[string]any) (int, struct{ Code, Message, Hint string }) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(string(data)))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var answer struct {
			Error struct{ Code, Message, Hint string } `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
			t.Fatalf("API: status %d, %v", resp.StatusCode, err)
		}
		return resp.StatusCode, answer.Error
	}

	long := strings.Repeat("é", 201)
	const siret, iban = "73282932000074", "FR7630006000011234567890189"
	for _, c := range []struct {
		name string
		cli  []string
		path string
		body map[string]any
		code string
		want string // the French message, the service's
	}{
		{"ReasonWithControlCharacter",
			[]string{"void", number, "--reason", "perdu\x1b[2J"},
			"/api/v1/chequiers/" + number + "/void", map[string]any{"reason": "perdu\x1b[2J"}, "invalid",
			"Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « perdu »."},
		{"VenueNameTooLong",
			[]string{"venue", "add", long, "--department", "78", "--siret", siret, "--iban", iban},
			"/api/v1/venues", map[string]any{"name": long, "siret": siret, "iban": iban, "departments": []string{"78"}}, "invalid",
			"Le nom du lieu fait de 1 à 200 caractères, sans caractère de contrôle."},
		{"VenueNameWithControlCharacter", // refused by programme since issue #13, as the API did
			[]string{"venue", "add", "Média\x07thèque", "--department", "78", "--siret", siret, "--iban", iban},
			"/api/v1/venues", map[string]any{"name": "Média\x07thèque", "siret": siret, "iban": iban, "departments": []string{"78"}}, "invalid",
			"Le nom du lieu fait de 1 à 200 caractères, sans caractère de contrôle."},
		{"BeneficiaryReferenceLooksLikeAName",
			[]string{"activate", number, "--beneficiary-ref", "Jean Dupont"},
			"/api/v1/chequiers/activation", map[string]any{"number": number, "beneficiary_ref": "Jean Dupont"}, "invalid",
			"La référence du bénéficiaire est une référence de dossier de 1 à 64 lettres, chiffres, « . », « _ », « / » ou « - », sans espace (par exemple CCAS-17-0193) : jamais un nom."},

		// issuing
		{"BatchValidityInPast",
			[]string{"issue", "--department", "78", "--chequiers", "1", "--valid-until", "2020-01-01"},
			"/api/v1/batches", map[string]any{"department": "78", "chequiers": 1, "vouchers_per_chequier": 10, "face_value_cents": 1000, "valid_until": "2020-01-01"}, "invalid",
			"Les chèques seraient valables jusqu'au 01/01/2020, un jour déjà passé : choisissez une date à venir."},
		{"ActivateVoidedChequier",
			[]string{"activate", voided},
			"/api/v1/chequiers/activation", map[string]any{"number": voided}, "chequier_voided",
			"Le chéquier " + voided + " a été annulé le " + frenchToday() + " : il ne peut pas être remis. Remettez-en un autre."},
		{"VoidRedeemedVoucher",
			[]string{"void", redeemed, "--reason", "erreur"},
			"/api/v1/vouchers/" + strings.ReplaceAll(redeemed, " ", "") + "/void", map[string]any{"reason": "erreur"}, "voucher_not_voidable",
			"Le chèque " + redeemed + " a déjà été utilisé : seul un chèque qui n'a pas servi peut être annulé. Un encaissement fait par erreur s'annule par le lieu qui l'a fait, ou par un ajustement du département."},
		{"UnknownChequier",
			[]string{"activate", "78-2020-000999"},
			"/api/v1/chequiers/activation", map[string]any{"number": "78-2020-000999"}, "not_found",
			"Chéquier 78-2020-000999 introuvable : vérifiez son numéro sur la couverture."},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, env, c.cli...)
			firstLine, _, _ := strings.Cut(r.stderr, "\n") // a hint may follow
			cliMessage, ok := strings.CutPrefix(firstLine, "passnum: ")
			if r.code != 1 || !ok || cliMessage != c.want {
				t.Fatalf("command line: exit %d, stderr %q", r.code, r.stderr)
			}
			status, answer := api(t, c.path, c.body)
			if status < 400 || answer.Code != c.code || answer.Message != cliMessage {
				t.Fatalf("API says %d %s %q, command line %q", status, answer.Code, answer.Message, cliMessage)
			}
		})
	}
	// Nothing refused was written.
	if out := mustRun(t, env, "venue", "list"); strings.Contains(out, "thèque") || strings.Contains(out, "éé") {
		t.Fatalf("a refused venue was recorded:\n%s", out)
	}
	var batches, active int64
	db.Read(context.Background()).Model(&ledger.Batch{}).Count(&batches)
	db.Read(context.Background()).Model(&ledger.Chequier{}).Where("status = ?", ledger.ChequierActive).Count(&active)
	if batches != 1 || active != 0 {
		t.Fatalf("refused orders or hand-overs were recorded: %d batches, %d chéquiers handed over", batches, active)
	}

	// One message, one hint per edge: a chéquier of a revoked key.
	mustRun(t, env, "keys", "new")
	mustRun(t, env, "keys", "revoke", "1")
	t.Run("ActivateRevokedKeyHints", func(t *testing.T) {
		r := run(t, env, "activate", number)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		status, answer := api(t, "/api/v1/chequiers/activation", map[string]any{"number": number})
		if r.code != 1 || len(lines) != 2 || status != http.StatusConflict || answer.Code != "chequier_key_revoked" || "passnum: "+answer.Message != lines[0] ||
			lines[1] != `passnum: hint: void it: passnum void CHEQUIER-NUMBER --reason "clé révoquée"` ||
			answer.Hint != "Annulez-le par POST /api/v1/chequiers/{number}/void, avec un motif." {
			t.Fatalf("command line: exit %d %q; API: %d %+v", r.code, r.stderr, status, answer)
		}
	})
}

// frenchToday is today's date as messages write it, in Paris.
func frenchToday() string { return voucher.Today(time.Now()).French() }
