package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"passnum/access"
	"passnum/accounts"
	"passnum/accounts/accountstest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestPairingFlow pairs a device over HTTP as a venue would: an admin makes
// a code (a venue's own key and an auditor may not; a département only for
// a venue it labels), the device exchanges it for its own key and uses it,
// rolls it and finally unpairs.
func TestPairingFlow(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		create := request{method: "POST", path: "/api/v1/pairings", json: map[string]any{"venue_id": e.venue1, "name": "tablette accueil"}}
		for _, who := range []string{"venue1", "auditor"} {
			c := create
			c.as = who
			e.do(t, c).expect(t, http.StatusForbidden, "forbidden")
		}
		other := create
		other.as = "department92" // venue 1 is labelled for the Yvelines only
		e.do(t, other).expect(t, http.StatusNotFound, "not_found")
		byDepartment := create
		byDepartment.as = "department"
		e.do(t, byDepartment).expect(t, http.StatusCreated, "")
		create.as = "admin"
		r := e.do(t, create)
		if r.status != http.StatusCreated {
			t.Fatalf("create pairing: %d %s", r.status, r.body)
		}
		var pairing struct {
			Code string   `json:"code"`
			QR   []string `json:"qr"`
		}
		r.decode(t, &pairing)
		if len(pairing.QR) < 21 || len(pairing.QR[0]) != len(pairing.QR) {
			t.Fatalf("the code's QR: %v", pairing.QR)
		}

		pair := request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": pairing.Code}}
		r = e.do(t, pair)
		if r.status != http.StatusCreated {
			t.Fatalf("pair: %d %s", r.status, r.body)
		}
		var key struct {
			Key   string `json:"key"`
			Role  string `json:"role"`
			Venue struct {
				ID int64 `json:"id"`
			} `json:"venue"`
		}
		r.decode(t, &key)
		if key.Role != "venue" || key.Venue.ID != e.venue1 {
			t.Fatalf("paired key: %+v", key)
		}
		e.do(t, pair).expect(t, http.StatusForbidden, "pairing_refused")
		e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": e.vouchers[0].Code}}).
			expect(t, http.StatusForbidden, "pairing_refused")

		// The device's key works as its venue's.
		e.keys["device"] = key.Key
		if v := e.check(t, "device", e.code(0)); !v.Accepted {
			t.Fatalf("the paired device cannot check: %+v", v)
		}
		r = e.do(t, request{method: "POST", path: "/api/v1/apikey/roll", as: "device"})
		if r.status != http.StatusCreated {
			t.Fatalf("roll: %d %s", r.status, r.body)
		}
		var rolled struct {
			Key string `json:"key"`
		}
		r.decode(t, &rolled)
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "device", json: e.code(0)}).expect(t, http.StatusUnauthorized, "unauthorized")
		e.keys["device"] = rolled.Key
		if v := e.check(t, "device", e.code(0)); !v.Accepted {
			t.Fatalf("the rolled key cannot check: %+v", v)
		}
		if r := e.do(t, request{method: "DELETE", path: "/api/v1/apikey", as: "device"}); r.status != http.StatusNoContent {
			t.Fatalf("unpair: %d %s", r.status, r.body)
		}
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "device", json: e.code(0)}).expect(t, http.StatusUnauthorized, "unauthorized")
	})
}

// TestDevices: a venue's manager sees its devices and open codes, unpairs
// one, cancels the codes alone, then unpairs all; a manager of another
// venue reaches none of it (not_found, as a venue that does not exist),
// nor a volunteer; both départements labelling a shared venue manage its
// devices, a third does not; every unpaired key stops at once.
func TestDevices(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newEnv(t, db, 1)
		ctx := context.Background()
		manager := accountstest.Person(t, e.accounts, "responsable@mediatheque.fr", accounts.Org{Venue: e.venue2}, access.RoleVenueManager)
		accountstest.Person(t, e.accounts, "benevole@mediatheque.fr", accounts.Org{Venue: e.venue2}, access.RoleVenueVolunteer)
		mb, _, _ := e.signIn(t, map[string]any{"email": "responsable@mediatheque.fr", "password": accountstest.Password})
		vb, _, _ := e.signIn(t, map[string]any{"email": "benevole@mediatheque.fr", "password": accountstest.Password})
		devices := "/api/v1/venues/" + itoa(e.venue2) + "/devices"

		// Two devices paired by the manager from its page (beside the
		// env's own), one code left open.
		var codes []string
		for _, name := range []string{"tablette accueil", "téléphone atelier", "téléphone oublié"} {
			r := mb.api(t, "POST", "/api/v1/pairings", map[string]any{"venue_id": e.venue2, "name": name}, mb.csrf)
			var p struct {
				Code string `json:"code"`
			}
			r.decode(t, &p)
			if r.status != http.StatusCreated {
				t.Fatalf("pairing by the manager: %d %s", r.status, r.body)
			}
			codes = append(codes, p.Code)
		}
		var keys []string
		for _, c := range codes[:2] {
			r := e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": c}})
			var k struct {
				Key    string `json:"key"`
				Prefix string `json:"prefix"`
			}
			r.decode(t, &k)
			keys = append(keys, k.Key)
		}
		mb.api(t, "POST", "/api/v1/pairings", map[string]any{"venue_id": e.venue1, "name": "x"}, mb.csrf).expect(t, http.StatusNotFound, "not_found")
		vb.api(t, "POST", "/api/v1/pairings", map[string]any{"venue_id": e.venue2, "name": "x"}, vb.csrf).expect(t, http.StatusForbidden, "forbidden")
		mb.api(t, "GET", "/api/v1/venues/"+itoa(e.venue1)+"/devices", nil, "").expect(t, http.StatusNotFound, "not_found")
		vb.api(t, "GET", devices, nil, "").expect(t, http.StatusForbidden, "forbidden")

		type listJSON struct {
			Devices []struct {
				Prefix    string     `json:"prefix"`
				Name      string     `json:"name"`
				RevokedAt *time.Time `json:"revoked_at"`
			} `json:"devices"`
			Pending []struct {
				Name string `json:"name"`
			} `json:"pending"`
		}
		var list listJSON
		mb.api(t, "GET", devices, nil, "").decode(t, &list)
		if len(list.Devices) != 3 || list.Devices[2].Name != "téléphone animateur" || list.Devices[0].Name != "téléphone atelier" || len(list.Pending) != 1 || list.Pending[0].Name != "téléphone oublié" {
			t.Fatalf("devices: %+v", list)
		}
		// Both départements that label venue 2 see them; no other venue's
		// device is reached through this one.
		for _, who := range []string{"department", "department92"} {
			e.do(t, request{method: "GET", path: devices, as: who}).expect(t, http.StatusOK, "")
		}
		e.do(t, request{method: "POST", path: devices + "/" + "pn_inconnu/revocation", as: "department"}).expect(t, http.StatusNotFound, "not_found")

		// A scanner reports its release and the baskets it holds offline;
		// a value that is not one is dropped, not refused.
		e.keys["d0"], e.keys["d1"] = keys[0], keys[1]
		report := func(version, pending string) {
			t.Helper()
			e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "d1", json: e.code(0),
				header: map[string]string{"Passnum-Scanner-Version": version, "Passnum-Scanner-Pending": pending}}).expect(t, http.StatusOK, "")
		}
		report("3f9a2c1b", "2")
		report("../../etc", "9")
		var reported struct {
			Devices []struct {
				Name           string `json:"name"`
				AppVersion     string `json:"app_version"`
				PendingBaskets *int   `json:"pending_baskets"`
			} `json:"devices"`
		}
		mb.api(t, "GET", devices, nil, "").decode(t, &reported)
		if d := reported.Devices[0]; d.Name != "téléphone atelier" || d.AppVersion != "3f9a2c1b" || d.PendingBaskets == nil || *d.PendingBaskets != 2 {
			t.Fatalf("the report: %+v", reported.Devices)
		}
		if reported.Devices[1].PendingBaskets != nil {
			t.Errorf("a device that reported nothing: %+v", reported.Devices[1])
		}

		// One device unpaired: its key stops at once, the other goes on.
		first := list.Devices[1].Prefix
		if r := mb.api(t, "POST", devices+"/"+first+"/revocation", nil, mb.csrf); r.status != http.StatusNoContent {
			t.Fatalf("unpair one: %d %s", r.status, r.body)
		}
		mb.api(t, "POST", devices+"/"+first+"/revocation", nil, mb.csrf).expect(t, http.StatusConflict, "conflict")
		e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: "d0", json: e.code(0)}).expect(t, http.StatusUnauthorized, "unauthorized")
		if v := e.check(t, "d1", e.code(0)); !v.Accepted {
			t.Fatalf("the other device: %+v", v)
		}
		// The open code alone, then everything.
		var u struct{ Devices, Pairings int }
		mb.api(t, "POST", devices+"/revocation", map[string]bool{"codes_only": true}, mb.csrf).decode(t, &u)
		if u.Devices != 0 || u.Pairings != 1 {
			t.Fatalf("codes only: %+v", u)
		}
		e.do(t, request{method: "POST", path: "/api/v1/pairing", json: map[string]string{"code": codes[2]}}).expect(t, http.StatusForbidden, "pairing_refused")
		r := e.do(t, request{method: "POST", path: devices + "/revocation", as: "department92", json: map[string]bool{}})
		r.decode(t, &u)
		if r.status != http.StatusOK || u.Devices != 2 || u.Pairings != 0 {
			t.Fatalf("all: %d %s", r.status, r.body)
		}
		for _, k := range []string{"d1", "venue2"} {
			e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: k, json: e.code(0)}).expect(t, http.StatusUnauthorized, "unauthorized")
		}
		var ev ledger.Event
		if err := db.Read(ctx).Where("type = ?", ledger.EventPairingCancelled).Take(&ev).Error; err != nil || ev.Actor != access.AccountActor(manager.Account, manager.Organisation) {
			t.Fatalf("the cancelled code's event: %+v %v", ev, err)
		}
	})
}
