package main

import (
	"bytes"
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
// (the API also says the code; the command line prints the message alone),
// each edge adding its own hint for some codes (hints.go).
func TestRulesSameOnBothEdges(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "2", "--valid-until", nextYearEnd())
	number := firstChequier(t, out)
	admin := strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "admin", "--name", "exploitation"))
	const taken = "44306184100047" // venue 1's SIRET
	mustRun(t, env, "venue", "add", "France Services", "--department", "78", "--siret", taken, "--iban", "FR7630006000011234567890189")
	mustRun(t, env, "venue", "suspend", "1", "--department", "78", "--reason", "enquête")
	// settlement: a venue the Essonne labels, not the Yvelines; a month of
	// the Yvelines closed long ago, empty, that the paying office would pay.
	mustRun(t, env, "department", "add", "91", "Essonne")
	out = mustRun(t, env, "venue", "add", "Cybercentre d'Évry", "--department", "91", "--siret", "78210456700014", "--iban", "FR7630006000011234567890189")
	venue91 := strings.Fields(out)[2] // "added venue 2 (…)"
	mustRun(t, env, "settlement", "close", "--department", "78", "--month", "2020-01")
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
	// api sends body to path as the admin (a GET without one) and returns
	// the answer's status and error.
	api := func(t *testing.T, path string, body map[string]any) (int, struct{ Code, Message, Hint string }) {
		method, data := "GET", []byte(nil)
		if body != nil {
			method = "POST"
			data, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(data))
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
		name   string
		cli    []string
		path   string
		body   map[string]any
		status int
		code   string
		want   string // the French message, the service's
		// The edges' own hints for the code ("": none).
		cliHint, apiHint string
	}{
		{"ReasonWithControlCharacter",
			[]string{"void", number, "--reason", "perdu\x1b[2J"},
			"/api/v1/chequiers/" + number + "/void", map[string]any{"reason": "perdu\x1b[2J"}, 400, "invalid",
			"Le motif fait de 1 à 200 caractères, sans caractère de contrôle. Par exemple : « perdu ».", "", ""},
		{"VenueNameTooLong",
			[]string{"venue", "add", long, "--department", "78", "--siret", siret, "--iban", iban},
			"/api/v1/venues", map[string]any{"name": long, "siret": siret, "iban": iban, "departments": []string{"78"}}, 400, "invalid",
			"Le nom du lieu fait de 1 à 200 caractères, sans caractère de contrôle.", "", ""},
		{"VenueNameWithControlCharacter", // refused by programme since issue #13, as the API did
			[]string{"venue", "add", "Média\x07thèque", "--department", "78", "--siret", siret, "--iban", iban},
			"/api/v1/venues", map[string]any{"name": "Média\x07thèque", "siret": siret, "iban": iban, "departments": []string{"78"}}, 400, "invalid",
			"Le nom du lieu fait de 1 à 200 caractères, sans caractère de contrôle.", "", ""},
		{"BeneficiaryReferenceLooksLikeAName",
			[]string{"activate", number, "--beneficiary-ref", "Jean Dupont"},
			"/api/v1/chequiers/activation", map[string]any{"number": number, "beneficiary_ref": "Jean Dupont"}, 400, "invalid",
			"La référence du bénéficiaire est une référence de dossier de 1 à 64 lettres, chiffres, « . », « _ », « / » ou « - », sans espace (par exemple CCAS-17-0193) : jamais un nom.", "", ""},

		// programme: the checks the API made again before issue #13, and a
		// label's status.
		{"SIRETWrongKey",
			[]string{"venue", "add", "Médiathèque de Trappes", "--department", "78", "--siret", "732 829 320 00075", "--iban", iban},
			"/api/v1/venues", map[string]any{"name": "Médiathèque de Trappes", "siret": "732 829 320 00075", "iban": iban, "departments": []string{"78"}}, 400, "invalid",
			"Le SIRET 73282932000075 a une clé de contrôle fausse : un chiffre a été mal saisi. Recopiez-le depuis l'avis de situation INSEE.", "", ""},
		{"IBANWrongKey",
			[]string{"venue", "add", "Médiathèque de Trappes", "--department", "78", "--siret", siret, "--iban", "FR7630006000011234567890198"},
			"/api/v1/venues", map[string]any{"name": "Médiathèque de Trappes", "siret": siret, "iban": "FR7630006000011234567890198", "departments": []string{"78"}}, 400, "invalid",
			`L'IBAN "FR7630006000011234567890198" n'est pas valable (pays, longueur ou clé de contrôle) : recopiez-le depuis le RIB du titulaire du compte.`, "", ""},
		{"SIRETAlreadyRegistered",
			[]string{"venue", "add", "Médiathèque de Trappes", "--department", "78", "--siret", taken, "--iban", iban},
			"/api/v1/venues", map[string]any{"name": "Médiathèque de Trappes", "siret": taken, "iban": iban, "departments": []string{"78"}}, 409, "venue_siret_taken",
			"Un lieu de SIRET " + taken + " est déjà enregistré : c'est le même établissement.",
			"find it with: passnum venue list", "Retrouvez le lieu avec GET /api/v1/venues plutôt que de le créer une seconde fois."},
		{"LabelSuspendedVenue",
			[]string{"venue", "label", "1", "--department", "78", "--reason", "comité du 12/10"},
			"/api/v1/venues/1/label", map[string]any{"department": "78", "reason": "comité du 12/10"}, 409, "venue_label_suspended",
			"Le lieu 1 est suspendu pour le département 78 : levez la suspension plutôt que de le labelliser à nouveau.",
			"end the suspension instead: passnum venue reinstate ID --department CODE --reason TEXT", "Levez la suspension : POST /api/v1/venues/{id}/reinstatement."},

		// apikeys: a device's name is the one rule of keys that both edges
		// reach (keys themselves are made on the command line only).
		{"DeviceNameWithControlCharacter",
			[]string{"apikey", "pair", "--venue", "1", "--name", "tablette\x07accueil"},
			"/api/v1/pairings", map[string]any{"venue_id": 1, "name": "tablette\x07accueil"}, 400, "invalid",
			"Le nom de l'appareil fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « tablette accueil ».", "", ""},
		{"DeviceNameTooLong",
			[]string{"apikey", "pair", "--venue", "1", "--name", long},
			"/api/v1/pairings", map[string]any{"venue_id": 1, "name": long}, 400, "invalid",
			"Le nom de l'appareil fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « tablette accueil ».", "", ""},
		// settlement (a case without a body is a GET)
		{"AdjustmentVenueNotLabelledForThePayer", // the API's rule alone before issue #13
			[]string{"settlement", "adjust", "--department", "78", "--venue", venue91, "--amount", "5.00", "--reason", "payé deux fois"},
			"/api/v1/settlement/adjustments", map[string]any{"department": "78", "venue_id": json.Number(venue91), "amount_cents": 500, "reason": "payé deux fois"}, 400, "invalid",
			"Le lieu " + venue91 + " n'est pas labellisé pour le département 78 : un ajustement ne porte que sur un lieu du département qui paie.", "", ""},
		{"MonthClosedBeforeItsEnd",
			[]string{"settlement", "close", "--department", "78", "--month", "2149-05"},
			"/api/v1/settlement/78/2149-05/close", map[string]any{}, 409, "period_not_over",
			"Le mois 2149-05 ne peut être clos qu'à partir du 01/06/2149 à 00:15 (heure de Paris), quand tous ses encaissements sont enregistrés.", "", ""},
		{"MonthOutOfRange",
			[]string{"settlement", "show", "--department", "78", "--month", "2150-01"},
			"/api/v1/settlement/78/2150-01", nil, 400, "invalid",
			"« 2150-01 » n'est pas un mois possible : écrivez-le AAAA-MM, entre 1970-01 et 2149-05, par exemple 2026-10.", "", ""},
		{"MonthUnparsable",
			[]string{"settlement", "show", "--department", "78", "--month", "2026-13"},
			"/api/v1/settlement/78/2026-13", nil, 400, "invalid",
			"« 2026-13 » n'est pas un mois possible : écrivez-le AAAA-MM, entre 1970-01 et 2149-05, par exemple 2026-10.", "", ""},
		{"PaymentWithoutPayer",
			[]string{"settlement", "export", "--department", "78", "--month", "2020-01", "--out", t.TempDir()},
			"/api/v1/settlement/78/2020-01/sepa.xml", nil, 409, "payer_missing",
			"Le département 78 n'a pas de payeur : il faut le nom et l'IBAN de son service payeur pour payer les lieux.",
			"passnum department set CODE --payer-name … --payer-iban …", "PATCH /api/v1/departments/{code} avec payer_name et payer_iban."},
		// issuing
		{"BatchValidityInPast",
			[]string{"issue", "--department", "78", "--chequiers", "1", "--valid-until", "2020-01-01"},
			"/api/v1/batches", map[string]any{"department": "78", "chequiers": 1, "vouchers_per_chequier": 10, "face_value_cents": 1000, "valid_until": "2020-01-01"}, 400, "invalid",
			"Les chèques seraient valables jusqu'au 01/01/2020, un jour déjà passé : choisissez une date à venir.", "", ""},
		{"ActivateVoidedChequier",
			[]string{"activate", voided},
			"/api/v1/chequiers/activation", map[string]any{"number": voided}, 409, "chequier_voided",
			"Le chéquier " + voided + " a été annulé le " + frenchToday() + " : il ne peut pas être remis. Remettez-en un autre.", "", ""},
		{"VoidRedeemedVoucher",
			[]string{"void", redeemed, "--reason", "erreur"},
			"/api/v1/vouchers/" + strings.ReplaceAll(redeemed, " ", "") + "/void", map[string]any{"reason": "erreur"}, 409, "voucher_not_voidable",
			"Le chèque " + redeemed + " a déjà été utilisé : seul un chèque qui n'a pas servi peut être annulé. Un encaissement fait par erreur s'annule par le lieu qui l'a fait, ou par un ajustement du département.", "", ""},
		{"UnknownChequier",
			[]string{"activate", "78-2020-000999"},
			"/api/v1/chequiers/activation", map[string]any{"number": "78-2020-000999"}, 404, "not_found",
			"Chéquier 78-2020-000999 introuvable : vérifiez son numéro sur la couverture.", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, env, c.cli...)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			cliMessage, ok := strings.CutPrefix(lines[0], "passnum: ")
			hint := ""
			if len(lines) > 1 {
				hint, _ = strings.CutPrefix(lines[1], "passnum: hint: ")
			}
			if r.code != 1 || !ok || cliMessage != c.want || len(lines) > 2 || hint != c.cliHint {
				t.Fatalf("command line: exit %d, stderr %q", r.code, r.stderr)
			}
			status, answer := api(t, c.path, c.body)
			if status != c.status || answer.Code != c.code || answer.Message != cliMessage || answer.Hint != c.apiHint {
				t.Fatalf("API says %d %s %q (hint %q), command line %q", status, answer.Code, answer.Message, answer.Hint, cliMessage)
			}
		})
	}
	// Nothing refused was written.
	if out := mustRun(t, env, "venue", "list"); strings.Contains(out, "thèque") || strings.Contains(out, "éé") || !strings.Contains(out, "78 suspended") {
		t.Fatalf("a refused change was recorded:\n%s", out)
	}
	if out := mustRun(t, env, "settlement", "show", "--department", "78"); strings.Count(out, "\n") != 3 {
		t.Fatalf("a refused adjustment was recorded:\n%s", out)
	}
	if out := mustRun(t, env, "settlement", "list"); strings.Contains(out, "2149") {
		t.Fatalf("a month was closed before its end:\n%s", out)
	}
	var batches, active int64
	db.Read(context.Background()).Model(&ledger.Batch{}).Count(&batches)
	db.Read(context.Background()).Model(&ledger.Chequier{}).Where("status = ?", ledger.ChequierActive).Count(&active)
	if batches != 1 || active != 0 {
		t.Fatalf("refused orders or hand-overs were recorded: %d batches, %d chéquiers handed over", batches, active)
	}

	// One message, one hint per edge: a chéquier of a revoked key (last:
	// it changes what every chéquier of the batch answers).
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
