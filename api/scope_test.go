package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/settlement"
	"passnum/voucher"
)

// progEnv is a programme in December 2026 seen by every role: the env's
// batch of 78 (two chéquiers handed over), a batch of 92, a venue labelled
// for 92 only, November closed for 78 with venue 1's redemption in it, and
// 78's paying office set.
type progEnv struct {
	*env
	batch78, batch92 int64
	venue92          int64
	redemption       int64
}

var (
	decemberSecond = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	iban           = programmetest.IBAN
)

func newProgEnv(t *testing.T, db *ledger.DB) *progEnv {
	t.Helper()
	ctx := context.Background()
	e := &progEnv{env: newEnv(t, db, 2)}
	e.batch78 = e.batch.Batch.ID
	req := issuingtest.Request("92", 3, 2)
	e.batch92 = e.Issue(t, req).Batch.ID
	v, err := e.prog.AddVenue(ctx, programmetest.Venue(92, "Maison de quartier de Nanterre", "92"), "test")
	if err != nil {
		t.Fatal(err)
	}
	e.venue92 = v.ID
	r := e.redeem(t, "venue1", e.code(0), e.code(1))
	r.expect(t, http.StatusCreated, "")
	var res resultJSON
	r.decode(t, &res)
	e.redemption = res.RedemptionID
	programmetest.PayingOffice(t, e.prog, "78", "Paierie départementale des Yvelines", iban)
	e.Clock.T = decemberSecond
	if _, err := e.settle.Close(ctx, "78", settlement.Month{Year: 2026, Month: time.November}, "test"); err != nil {
		t.Fatal(err)
	}
	return e
}

// chequier is the number of the n-th chéquier of 78's batch.
func chequier78(n int) string { return voucher.FormatChequierNumber("78", 2026, uint32(n)) }

// roles are the keys every endpoint is tried with, in this order.
var roles = []string{"admin", "department", "department92", "venue1", "auditor"}

// TestRolesAndScopes calls every endpoint of the programme with each role
// and checks the status: who may call it, and which département or venue
// each key reaches (78's data for every case).
func TestRolesAndScopes(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		e := newProgEnv(t, db)
		// Fresh things for each role to change, so that each call is the
		// first of its kind.
		fresh := func(status ledger.VenueStatus, siret int) []int64 {
			ids := make([]int64, len(roles))
			for i := range roles {
				v, err := e.prog.AddVenue(ctx, programmetest.Venue(siret+i, fmt.Sprintf("Lieu %s %d", status, i), "78"), "test")
				if err != nil {
					t.Fatal(err)
				}
				if status == ledger.VenueSuspended {
					if _, err := e.prog.Suspend(ctx, v.ID, programme.LabelOf{Department: "78"}, "enquête", "test"); err != nil {
						t.Fatal(err)
					}
				}
				ids[i] = v.ID
			}
			return ids
		}
		toSuspend, toReinstate, toUnlabel := fresh(ledger.VenueLabelled, 1000), fresh(ledger.VenueSuspended, 1010), fresh(ledger.VenueUnlabelled, 1020)
		pc, err := e.Fixture.Issuing.Chequier(ctx, chequier78(13))
		if err != nil {
			t.Fatal(err)
		}
		renamed := "France Services de Trappes"
		asked, err := e.prog.UpdateVenue(ctx, e.venue2, programme.VenueChanges{Name: &renamed}, "statuts du 02/12", "78", "test")
		if err != nil || asked.Request == nil {
			t.Fatal(err, asked)
		}
		b78, v1 := itoa(e.batch78), itoa(e.venue1)
		reason := map[string]string{"reason": "décision du comité"}

		cases := []struct {
			name string
			req  func(i int) request
			want [5]int // admin, 78, 92, venue, auditor
		}{
			{"CreateBatch", func(int) request {
				return request{method: "POST", path: "/api/v1/batches", json: map[string]any{"department": "78", "chequiers": 2,
					"vouchers_per_chequier": 2, "face_value_cents": 1000, "programme_end": "2027-11-30"}}
			}, [5]int{201, 201, 403, 403, 403}},
			{"ListBatches", func(int) request { return request{method: "GET", path: "/api/v1/batches"} }, [5]int{200, 200, 200, 403, 200}},
			{"GetBatch", func(int) request { return request{method: "GET", path: "/api/v1/batches/" + b78} }, [5]int{200, 200, 404, 403, 200}},
			{"BatchFiles", func(int) request { return request{method: "GET", path: "/api/v1/batches/" + b78 + "/files"} }, [5]int{200, 200, 404, 403, 403}},
			{"BatchFile", func(int) request { return request{method: "GET", path: "/api/v1/batches/" + b78 + "/files/1"} }, [5]int{200, 200, 404, 403, 403}},
			{"Warnings", func(int) request { return request{method: "GET", path: "/api/v1/warnings"} }, [5]int{200, 200, 200, 403, 200}},
			{"ListChequiers", func(int) request { return request{method: "GET", path: "/api/v1/chequiers?batch=" + b78} }, [5]int{200, 200, 404, 403, 200}},
			{"GetChequier", func(int) request { return request{method: "GET", path: "/api/v1/chequiers/" + chequier78(1)} }, [5]int{200, 200, 404, 403, 200}},
			{"Activate", func(i int) request {
				return request{method: "POST", path: "/api/v1/chequiers/activation", json: map[string]string{"number": chequier78(3 + i)}}
			}, [5]int{200, 200, 404, 403, 403}},
			{"VoidChequier", func(i int) request {
				return request{method: "POST", path: "/api/v1/chequiers/" + chequier78(8+i) + "/void", json: map[string]string{"reason": "perdu"}}
			}, [5]int{200, 200, 404, 403, 403}},
			{"VoidVoucher", func(i int) request {
				return request{method: "POST", path: "/api/v1/vouchers/" + strings.ReplaceAll(pc.Vouchers[i].Number, " ", "") + "/void", json: map[string]string{"reason": "perdu"}}
			}, [5]int{200, 200, 404, 403, 403}},
			{"CreateVenue", func(i int) request {
				return request{method: "POST", path: "/api/v1/venues", json: map[string]any{"name": fmt.Sprintf("Nouveau lieu %d", i),
					"siret": programmetest.SIRET(500 + i), "iban": iban, "departments": []string{"78"}}}
			}, [5]int{201, 201, 403, 403, 403}},
			{"ListVenues", func(int) request { return request{method: "GET", path: "/api/v1/venues"} }, [5]int{200, 200, 200, 403, 200}},
			{"GetVenue", func(int) request { return request{method: "GET", path: "/api/v1/venues/" + v1} }, [5]int{200, 200, 404, 200, 200}},
			{"UpdateVenue", func(int) request {
				return request{method: "PATCH", path: "/api/v1/venues/" + v1, json: map[string]string{"address": "2 rue Neuve, 78190 Trappes", "reason": "déménagement"}}
			}, [5]int{200, 200, 404, 403, 403}},
			{"Label", func(int) request {
				return request{method: "POST", path: "/api/v1/venues/" + v1 + "/label", json: map[string]string{"until": "2027-06-30", "reason": "renouvellement"}}
			}, [5]int{200, 200, 404, 403, 403}},
			{"Suspend", func(i int) request {
				return request{method: "POST", path: "/api/v1/venues/" + itoa(toSuspend[i]) + "/suspension", json: reason}
			}, [5]int{200, 200, 404, 403, 403}},
			{"Reinstate", func(i int) request {
				return request{method: "POST", path: "/api/v1/venues/" + itoa(toReinstate[i]) + "/reinstatement", json: reason}
			}, [5]int{200, 200, 404, 403, 403}},
			{"Unlabel", func(i int) request {
				return request{method: "POST", path: "/api/v1/venues/" + itoa(toUnlabel[i]) + "/unlabelling", json: reason}
			}, [5]int{200, 200, 404, 403, 403}},
			{"ListChangeRequests", func(int) request { return request{method: "GET", path: "/api/v1/venue-change-requests?status=pending"} }, [5]int{200, 200, 200, 403, 200}},
			{"GetChangeRequest", func(int) request {
				return request{method: "GET", path: "/api/v1/venue-change-requests/" + itoa(asked.Request.ID)}
			}, [5]int{200, 200, 200, 403, 200}},
			{"ListDepartments", func(int) request { return request{method: "GET", path: "/api/v1/departments"} }, [5]int{200, 200, 200, 403, 200}},
			{"UpdateDepartment", func(int) request {
				return request{method: "PATCH", path: "/api/v1/departments/78", json: map[string]string{"contact_phone": "01 39 07 78 78"}}
			}, [5]int{200, 200, 403, 403, 403}},
			{"ListPeriods", func(int) request { return request{method: "GET", path: "/api/v1/settlement/periods"} }, [5]int{200, 200, 200, 403, 200}},
			{"GetPeriod", func(int) request { return request{method: "GET", path: "/api/v1/settlement/78/2026-11?lines=true"} }, [5]int{200, 200, 403, 403, 200}},
			{"ClosePeriod", func(i int) request {
				return request{method: "POST", path: fmt.Sprintf("/api/v1/settlement/78/2026-%02d/close", 5+i)}
			}, [5]int{200, 200, 403, 403, 403}},
			{"PeriodCSV", func(int) request { return request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements.csv"} }, [5]int{200, 200, 403, 403, 200}},
			{"StatementPDF", func(int) request {
				return request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + v1 + ".pdf"}
			}, [5]int{200, 200, 403, 200, 200}},
			{"SEPA", func(int) request { return request{method: "GET", path: "/api/v1/settlement/78/2026-11/sepa.xml"} }, [5]int{200, 200, 403, 403, 200}},
			{"Adjust", func(int) request {
				return request{method: "POST", path: "/api/v1/settlement/adjustments", json: map[string]any{"department": "78",
					"venue_id": e.venue1, "amount_cents": 100, "reason": "séance du 28/11 oubliée"}}
			}, [5]int{201, 201, 403, 403, 403}},
			{"MyStatements", func(int) request { return request{method: "GET", path: "/api/v1/statements"} }, [5]int{403, 403, 403, 200, 403}},
			{"Figures", func(int) request { return request{method: "GET", path: "/api/v1/figures"} }, [5]int{200, 200, 200, 403, 200}},
			{"FiguresOf78", func(int) request { return request{method: "GET", path: "/api/v1/figures?department=78"} }, [5]int{200, 200, 403, 403, 200}},
			{"Report", func(int) request { return request{method: "GET", path: "/api/v1/reports/programme.pdf?department=78"} }, [5]int{200, 200, 403, 403, 200}},
			{"LedgerExport", func(int) request { return request{method: "GET", path: "/api/v1/ledger/export"} }, [5]int{200, 403, 403, 403, 200}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for i, role := range roles {
					r := c.req(i)
					r.as = role
					res := e.do(t, r)
					if res.status != c.want[i] {
						t.Errorf("%s as %s: %d, want %d: %.300s", r.path, role, res.status, c.want[i], res.body)
					}
					if c.want[i] >= 400 {
						want := map[int]string{403: "forbidden", 404: "not_found"}[c.want[i]]
						res.expect(t, c.want[i], want)
					}
				}
			})
		}
		// Every change through the API names its key in the ledger.
		var actors []string
		if err := db.Read(ctx).Model(&ledger.Event{}).Where("actor LIKE ?", "apikey:%").Distinct().Pluck("actor", &actors).Error; err != nil {
			t.Fatal(err)
		}
		slices.Sort(actors)
		want := []string{e.actor("admin"), e.actor("department"), e.actor("venue1")}
		slices.Sort(want)
		if !slices.Equal(actors, want) {
			t.Fatalf("actors in the ledger %v, want %v", actors, want)
		}
	})
}

// TestDepartmentIsolation: a département never sees another's data, in a
// list or by id, and cannot ask for it by name; an auditor sees everything
// but the venues' contacts.
func TestDepartmentIsolation(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		e := newProgEnv(t, db)
		own := map[string]struct {
			dept, other  string
			batch, alien int64
		}{
			"department":   {"78", "92", e.batch78, e.batch92},
			"department92": {"92", "78", e.batch92, e.batch78},
		}
		for role, o := range own {
			t.Run(role, func(t *testing.T) {
				get := func(path string, v any) {
					t.Helper()
					r := e.do(t, request{method: "GET", path: path, as: role})
					r.expect(t, http.StatusOK, "")
					r.decode(t, v)
				}
				var batches struct{ Batches []struct{ ID int64 } }
				get("/api/v1/batches", &batches)
				if len(batches.Batches) != 1 || batches.Batches[0].ID != o.batch {
					t.Errorf("batches %+v", batches)
				}
				var chequiers struct {
					Chequiers []struct{ Number, Department string }
					Next      string
				}
				get("/api/v1/chequiers?limit=1000", &chequiers)
				for _, c := range chequiers.Chequiers {
					if c.Department != o.dept {
						t.Errorf("chéquier %s of %s listed for %s", c.Number, c.Department, o.dept)
					}
				}
				if len(chequiers.Chequiers) == 0 {
					t.Error("no chéquier listed")
				}
				var venues struct {
					Venues []struct{ Departments []string }
				}
				get("/api/v1/venues", &venues)
				for _, v := range venues.Venues {
					if !slices.Contains(v.Departments, o.dept) {
						t.Errorf("venue of %v listed for %s", v.Departments, o.dept)
					}
				}
				if n := len(venues.Venues); n != 2 {
					t.Errorf("%d venues listed for %s, want 2", n, o.dept)
				}
				var depts struct{ Departments []struct{ Code string } }
				get("/api/v1/departments", &depts)
				if len(depts.Departments) != 1 || depts.Departments[0].Code != o.dept {
					t.Errorf("départements %+v", depts)
				}
				var periods struct{ Periods []struct{ Department string } }
				get("/api/v1/settlement/periods", &periods)
				for _, p := range periods.Periods {
					if p.Department != o.dept {
						t.Errorf("period of %s listed for %s", p.Department, o.dept)
					}
				}
				var fig struct {
					Department  string
					Departments []struct{ Code string }
					Batches     []struct{ Department string }
				}
				get("/api/v1/figures", &fig)
				if fig.Department != o.dept || len(fig.Departments) != 1 || len(fig.Batches) != 1 || fig.Batches[0].Department != o.dept {
					t.Errorf("figures %+v", fig)
				}
				var warnings struct{ Warnings []struct{ Department string } }
				get("/api/v1/warnings", &warnings)
				for _, w := range warnings.Warnings {
					if w.Department != o.dept {
						t.Errorf("warning of %s listed for %s", w.Department, o.dept)
					}
				}

				// Asking for the other by name is forbidden.
				for _, path := range []string{"/api/v1/batches?department=", "/api/v1/chequiers?department=", "/api/v1/venues?department=",
					"/api/v1/warnings?department=", "/api/v1/settlement/periods?department=", "/api/v1/figures?department=",
					"/api/v1/reports/programme.pdf?department="} {
					e.do(t, request{method: "GET", path: path + o.other, as: role}).expect(t, http.StatusForbidden, "forbidden")
				}
				for _, path := range []string{"/api/v1/settlement/" + o.other + "/2026-11", "/api/v1/settlement/" + o.other + "/2026-11/statements.csv",
					"/api/v1/settlement/" + o.other + "/2026-11/sepa.xml"} {
					e.do(t, request{method: "GET", path: path, as: role}).expect(t, http.StatusForbidden, "forbidden")
				}
				e.do(t, request{method: "PATCH", path: "/api/v1/departments/" + o.other, as: role, json: map[string]int{"commission_basis_points": 5}}).
					expect(t, http.StatusForbidden, "forbidden")
				// Its things, found by id, do not exist.
				otherChequier := voucher.FormatChequierNumber(o.other, 2026, 1)
				for _, path := range []string{"/api/v1/batches/" + itoa(o.alien), "/api/v1/batches/" + itoa(o.alien) + "/files",
					"/api/v1/batches/" + itoa(o.alien) + "/files/1", "/api/v1/chequiers?batch=" + itoa(o.alien), "/api/v1/chequiers/" + otherChequier} {
					e.do(t, request{method: "GET", path: path, as: role}).expect(t, http.StatusNotFound, "not_found")
				}
				e.do(t, request{method: "POST", path: "/api/v1/chequiers/" + otherChequier + "/void", as: role, json: map[string]string{"reason": "perdu"}}).
					expect(t, http.StatusNotFound, "not_found")
			})
		}
		// Venue 92 is 92's only; venue 2 serves both.
		e.do(t, request{method: "GET", path: "/api/v1/venues/" + itoa(e.venue92), as: "department"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: "/api/v1/venues/" + itoa(e.venue92), as: "department92"}).expect(t, http.StatusOK, "")
		e.do(t, request{method: "GET", path: "/api/v1/venues/" + itoa(e.venue2), as: "department92"}).expect(t, http.StatusOK, "")
		e.do(t, request{method: "POST", path: "/api/v1/venues/" + itoa(e.venue92) + "/suspension", as: "department", json: map[string]string{"reason": "enquête"}}).
			expect(t, http.StatusNotFound, "not_found")
		// A venue reaches only its own venue and statements.
		e.do(t, request{method: "GET", path: "/api/v1/venues/" + itoa(e.venue2), as: "venue1"}).expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + itoa(e.venue2) + ".pdf", as: "venue1"}).
			expect(t, http.StatusNotFound, "not_found")
		e.do(t, request{method: "GET", path: "/api/v1/settlement/78/2026-11/statements/" + itoa(e.venue1) + ".pdf", as: "venue2"}).
			expect(t, http.StatusNotFound, "not_found")

		// The auditor sees every département, and no contact.
		var all struct {
			Venues []map[string]any
		}
		e.do(t, request{method: "GET", path: "/api/v1/venues", as: "auditor"}).decode(t, &all)
		if len(all.Venues) != 3 {
			t.Fatalf("the auditor sees %d venues", len(all.Venues))
		}
		for _, v := range all.Venues {
			if _, ok := v["contact"]; ok || v["iban"] == nil {
				t.Fatalf("auditor's view of a venue: %v", v)
			}
		}
		var one map[string]any
		e.do(t, request{method: "GET", path: "/api/v1/venues/" + itoa(e.venue1), as: "department"}).decode(t, &one)
		if one["contact"] != "accueil@example.org" {
			t.Fatalf("the département does not see the contact: %v", one)
		}
		var batches struct{ Batches []struct{ ID int64 } }
		e.do(t, request{method: "GET", path: "/api/v1/batches", as: "auditor"}).decode(t, &batches)
		if len(batches.Batches) != 2 {
			t.Fatalf("the auditor sees %+v", batches)
		}
		e.do(t, request{method: "GET", path: "/api/v1/batches?department=92", as: "auditor"}).decode(t, &batches)
		if len(batches.Batches) != 1 || batches.Batches[0].ID != e.batch92 {
			t.Fatalf("the auditor's filter: %+v", batches)
		}
	})
}
