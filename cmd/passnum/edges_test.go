package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestRulesSameOnBothEdges: a rule is written once, in its service, so the
// command line and the API refuse the same input with the same message
// (the API also says the code; the command line prints the message alone).
func TestRulesSameOnBothEdges(t *testing.T) {
	env := []string{"PASSNUM_DATA_DIR=" + t.TempDir()}
	mustRun(t, env, "init")
	mustRun(t, env, "department", "add", "78", "Yvelines")
	out := mustRun(t, env, "issue", "--department", "78", "--chequiers", "2", "--vouchers", "2", "--valid-until", nextYearEnd())
	number := firstChequier(t, out)
	admin := strings.TrimSpace(mustRun(t, env, "apikey", "create", "--role", "admin", "--name", "exploitation"))
	base := startServer(t, env)

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
		// apikeys: a device's name is the one rule of keys that both edges
		// reach (keys themselves are made on the command line only).
		{"DeviceNameWithControlCharacter",
			[]string{"apikey", "pair", "--venue", "1", "--name", "tablette\x07accueil"},
			"/api/v1/pairings", map[string]any{"venue_id": 1, "name": "tablette\x07accueil"}, "invalid",
			"Le nom de l'appareil fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « tablette accueil »."},
		{"DeviceNameTooLong",
			[]string{"apikey", "pair", "--venue", "1", "--name", long},
			"/api/v1/pairings", map[string]any{"venue_id": 1, "name": long}, "invalid",
			"Le nom de l'appareil fait de 1 à 100 caractères, sans caractère de contrôle. Par exemple : « tablette accueil »."},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, env, c.cli...)
			cliMessage, ok := strings.CutPrefix(strings.TrimSuffix(r.stderr, "\n"), "passnum: ")
			if r.code != 1 || !ok || cliMessage != c.want {
				t.Fatalf("command line: exit %d, stderr %q", r.code, r.stderr)
			}
			data, _ := json.Marshal(c.body)
			req, _ := http.NewRequest("POST", base+c.path, strings.NewReader(string(data)))
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("API: status %d, %v", resp.StatusCode, err)
			}
			if answer.Error.Code != c.code || answer.Error.Message != cliMessage {
				t.Fatalf("API says %s %q, command line %q", answer.Error.Code, answer.Error.Message, cliMessage)
			}
		})
	}
	// Nothing refused was written.
	if out := mustRun(t, env, "venue", "list"); strings.Contains(out, "thèque") || strings.Contains(out, "éé") {
		t.Fatalf("a refused venue was recorded:\n%s", out)
	}
}
