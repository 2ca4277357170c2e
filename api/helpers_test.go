package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"passnum/access"
	"passnum/accounts"
	"passnum/api"
	"passnum/apikeys"
	"passnum/figures"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/mail"
	"passnum/notices"
	"passnum/programme"
	"passnum/redemption"
	"passnum/settlement"
)

// The OpenAPI document every request and answer of these tests is checked
// against: a handler that drifts from it fails the test that calls it.
var contract struct {
	once   sync.Once
	data   []byte
	doc    *openapi3.T
	router routers.Router
	err    error
}

func openAPI(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	contract.once.Do(func() {
		if contract.data, contract.err = os.ReadFile("openapi.yaml"); contract.err != nil {
			return
		}
		loader := openapi3.NewLoader()
		if contract.doc, contract.err = loader.LoadFromData(contract.data); contract.err != nil {
			return
		}
		if contract.err = contract.doc.Validate(loader.Context); contract.err != nil {
			return
		}
		contract.router, contract.err = legacy.NewRouter(contract.doc)
		// The files the API serves are checked for their content type; their
		// bytes by the tests that read them.
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/xml", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
	})
	if contract.err != nil {
		t.Fatalf("openapi.yaml: %v", contract.err)
	}
	return contract.doc, contract.router
}

// env is a programme served over HTTP: venue 1 labelled for 78, venue 2 for
// 78 and 92, a batch of 78 with its first chéquiers handed over, and one API
// key per role.
type env struct {
	*issuingtest.Fixture
	svc      *redemption.Service
	prog     *programme.Service
	settle   *settlement.Service
	apikeys  *apikeys.Service
	pairings *apikeys.Pairings
	accounts *accounts.Service
	mails    *syncBuffer // the operator's outbox: the emails sent
	handler  http.Handler
	srv      *httptest.Server
	logs     *syncBuffer
	batch    issuing.Issued           // 78's batch of 20 chéquiers of 10 vouchers
	vouchers []issuing.PrintedVoucher // of the handed-over chéquiers
	venue1   int64
	venue2   int64
	keys     map[string]string // venue1, venue2, department, auditor, admin → secret
}

func newEnv(t testing.TB, db *ledger.DB, handedOver int, tune ...func(*api.Config)) *env {
	t.Helper()
	ctx := context.Background()
	f := issuingtest.New(t, db)
	db.Clock = f.Clock.Now
	r := f.Redeemable(t, handedOver)
	e := &env{Fixture: f, logs: &syncBuffer{}, keys: map[string]string{}, vouchers: r.Vouchers, venue1: r.Venue1, venue2: r.Venue2, batch: r.Batch}
	v1, v2 := r.Venue1, r.Venue2
	e.svc = &redemption.Service{DB: db, Keys: f.Keys}
	e.prog = &programme.Service{DB: db}
	db.Clock = f.Clock.Now
	e.settle = &settlement.Service{DB: db}
	e.apikeys = &apikeys.Service{DB: db}
	e.pairings = &apikeys.Pairings{Keys: e.apikeys, Sign: f.Keys}
	e.accounts = &accounts.Service{DB: db}
	e.mails = &syncBuffer{}
	for name, spec := range map[string]apikeys.Spec{
		"venue1":       {Role: access.RoleVenue, VenueID: v1, Name: "tablette accueil"},
		"venue2":       {Role: access.RoleVenue, VenueID: v2, Name: "téléphone animateur"},
		"department":   {Role: access.RoleDepartment, Department: "78", Name: "CCAS de Trappes"},
		"department92": {Role: access.RoleDepartment, Department: "92", Name: "Direction de l'action sociale 92"},
		"auditor":      {Role: access.RoleAuditor, Name: "Chambre régionale des comptes"},
		"admin":        {Role: access.RoleAdmin, Name: "exploitation"},
	} {
		secret, _, err := e.apikeys.Create(ctx, spec, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.keys[name] = secret
	}
	// Tests of what the API answers send more wrong keys and checks than a
	// venue ever would: the limits are tested on their own (ratelimit_test.go).
	cfg := api.Config{Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RateLimits: &unlimited, PublicURL: "https://passnum.example.fr"}
	for _, fn := range tune {
		fn(&cfg)
	}
	e.handler = api.New(e.services(db), cfg)
	e.srv = httptest.NewServer(e.handler)
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() { e.checkLogs(t) })
	return e
}

// services are the env's services on db.
func (e *env) services(db *ledger.DB) api.Services {
	return api.Services{DB: db, Keys: e.apikeys, Pairings: e.pairings, Redemption: e.svc,
		Issuing: e.Issuing, Programme: e.prog, Settlement: e.settle, Figures: &figures.Service{DB: db},
		Accounts: e.accounts, Mail: &mail.Outbox{W: e.mails},
		Notices: &notices.Service{DB: db, Accounts: e.accounts, Mail: &mail.Outbox{W: e.mails}}}
}

// checkLogs: every line names its request, and no secret key is ever logged.
func (e *env) checkLogs(t testing.TB) {
	for _, line := range e.logLines(t) {
		if line["request_id"] == nil || line["request_id"] == "" {
			t.Errorf("log line without a request id: %v", line)
		}
	}
	for name, secret := range e.keys {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the %s key's secret is in the log", name)
		}
		if _, s, _ := strings.Cut(strings.TrimPrefix(secret, "pn_"), "_"); strings.Contains(e.logs.String(), s) {
			t.Errorf("the %s key's secret part is in the log", name)
		}
	}
}

func (e *env) logLines(t testing.TB) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line is not JSON: %s", sc.Text())
			continue
		}
		out = append(out, m)
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// code is a scanned voucher as the API takes it.
func (e *env) code(i int) map[string]string { return map[string]string{"code": e.vouchers[i].Code} }

func (e *env) typed(i int) map[string]string {
	return map[string]string{"number": e.vouchers[i].Number, "verification_code": e.vouchers[i].VerificationCode}
}

func basket(items ...map[string]string) map[string]any { return map[string]any{"items": items} }

var keyCounter atomic.Int64

func newKey() string { return fmt.Sprintf("api-test-%08d", keyCounter.Add(1)) }

func specVenue(id int64) apikeys.Spec {
	return apikeys.Spec{Role: access.RoleVenue, VenueID: id, Name: "ancienne tablette"}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// request is one call to the API.
type request struct {
	method, path string
	as           string  // the role whose key authenticates the call (a key of env.keys)
	auth         string  // a raw Authorization header, instead of as
	json         any     // the body, encoded as JSON
	body         *string // a raw body, instead of json
	contentType  string  // default application/json when there is a body; "-" for none
	header       map[string]string
	chunked      bool // send the body without a Content-Length
	// offContract: the request breaks the OpenAPI document on purpose (a bad
	// input test), so only the answer is checked against it.
	offContract bool
	unrouted    bool // a path the API does not have: the answer is checked against the error schema only
	allow5xx    bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func raw(s string) *string { return &s }

// redeem posts a basket for a venue under a fresh idempotency key.
func (e *env) redeem(t testing.TB, as string, items ...map[string]string) response {
	t.Helper()
	return e.do(t, request{method: "POST", path: "/api/v1/redemptions", as: as, json: basket(items...),
		header: map[string]string{"Idempotency-Key": newKey()}})
}

func (e *env) check(t testing.TB, as string, in map[string]string) verdictJSON {
	t.Helper()
	r := e.do(t, request{method: "POST", path: "/api/v1/vouchers/check", as: as, json: in})
	if r.status != http.StatusOK {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	var v verdictJSON
	r.decode(t, &v)
	return v
}

// do sends the request to the server over HTTP and checks, whatever the
// test: the request (unless off contract) and the answer against the
// OpenAPI document, no 5xx, and the headers every answer carries. It uses
// t.Errorf only, so that it may run in goroutines.
func (e *env) do(t testing.TB, r request) response {
	t.Helper()
	_, router := openAPI(t)
	var body []byte
	switch {
	case r.body != nil:
		body = []byte(*r.body)
	case r.json != nil:
		var err error
		if body, err = json.Marshal(r.json); err != nil {
			t.Errorf("encode the request: %v", err)
			return response{}
		}
	}
	build := func() *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
			if r.chunked {
				rd = io.MultiReader(rd) // hides the length: the client sends it chunked
			}
		}
		req, err := http.NewRequest(r.method, e.srv.URL+r.path, rd)
		if err != nil {
			panic(err) // a test's own mistake
		}
		ct := r.contentType
		if ct == "" && body != nil {
			ct = "application/json"
		}
		if ct != "-" && ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if r.as != "" {
			req.Header.Set("Authorization", "Bearer "+e.keys[r.as])
		}
		if r.auth != "" {
			req.Header.Set("Authorization", r.auth)
		}
		for k, v := range r.header {
			req.Header.Set(k, v)
		}
		return req
	}
	ctx := context.Background()
	vreq := build()
	var input *openapi3filter.RequestValidationInput
	route, params, err := router.FindRoute(vreq)
	switch {
	case r.unrouted:
	case err == nil:
		input = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if !r.offContract {
			if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
				t.Errorf("%s %s breaks the OpenAPI document: %v", r.method, r.path, err)
			}
		}
	case !r.offContract:
		t.Errorf("%s %s is not in the OpenAPI document: %v", r.method, r.path, err)
	}

	res, err := e.srv.Client().Do(build())
	if err != nil {
		t.Errorf("%s %s: %v", r.method, r.path, err)
		return response{}
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Errorf("%s %s: read the answer: %v", r.method, r.path, err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: data}

	if out.status >= 500 && !r.allow5xx {
		t.Errorf("%s %s: %d %s", r.method, r.path, out.status, data)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s %s: %s is %q, want %q", r.method, r.path, h, got, want)
		}
	}
	cacheable := out.status == http.StatusOK && (r.path == "/api/v1/keys" || r.path == "/api/v1/openapi.yaml")
	if cc := res.Header.Get("Cache-Control"); !cacheable && strings.HasPrefix(r.path, "/api/") && cc != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", r.method, r.path, cc)
	}
	if id := res.Header.Get("X-Request-Id"); id == "" {
		t.Errorf("%s %s: no X-Request-Id", r.method, r.path)
	}
	if out.status >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: error with Content-Type %q", r.method, r.path, ct)
		}
	}
	if input != nil {
		rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: out.status, Header: res.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		rv.SetBodyBytes(data)
		if err := openapi3filter.ValidateResponse(ctx, rv); err != nil {
			t.Errorf("%s %s: the answer breaks the OpenAPI document: %v\n%s", r.method, r.path, err, data)
		}
	} else {
		validateError(t, data)
	}
	return out
}

// validateError checks an answer to a route the document does not have
// (Echo's own 404 and 405) against its error schema.
func validateError(t testing.TB, data []byte) {
	t.Helper()
	doc, _ := openAPI(t)
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Errorf("the answer is not JSON: %v: %s", err, data)
		return
	}
	if err := doc.Components.Schemas["Error"].Value.VisitJSON(v); err != nil {
		t.Errorf("the answer is not the error envelope: %v\n%s", err, data)
	}
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// expect fails unless the answer has this status and, for an error, code.
func (r response) expect(t testing.TB, status int, code string) errorJSON {
	t.Helper()
	var e errorJSON
	json.Unmarshal(r.body, &e)
	if r.status != status || e.Error.Code != code {
		t.Errorf("got %d %q, want %d %q: %s", r.status, e.Error.Code, status, code, r.body)
	}
	if code != "" && !looksFrench(e.Error.Message) {
		t.Errorf("message %q does not look French", e.Error.Message)
	}
	return e
}

// looksFrench is a cheap guard against English (or empty) messages reaching
// a volunteer: French messages of this API all use one of these words.
func looksFrench(s string) bool {
	if strings.ContainsAny(s, "éèêàâçùûôî«") {
		return true
	}
	for _, w := range []string{" le ", " la ", " les ", " de ", " du ", " des ", " est ", " un ", " une ", " dans ", " pas "} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

type verdictJSON struct {
	Index        int        `json:"index"`
	Accepted     bool       `json:"accepted"`
	Reason       string     `json:"reason"`
	Message      string     `json:"message"`
	ValueCents   int64      `json:"value_cents"`
	Number       string     `json:"number"`
	Serial       int64      `json:"serial"`
	Department   string     `json:"department"`
	Manual       bool       `json:"manual"`
	RedeemedAt   *time.Time `json:"redeemed_at"`
	ByThisVenue  *bool      `json:"by_this_venue"`
	RedemptionID int64      `json:"redemption_id"`
}

type resultJSON struct {
	RedemptionID    int64         `json:"redemption_id"`
	Accepted        bool          `json:"accepted"`
	TotalCents      int64         `json:"total_cents"`
	ScannedAt       time.Time     `json:"scanned_at"`
	ReceivedAt      time.Time     `json:"received_at"`
	ReversibleUntil *time.Time    `json:"reversible_until"`
	Items           []verdictJSON `json:"items"`
	Receipt         string        `json:"receipt"`
}

type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Hint    string `json:"hint"`
		Field   string `json:"field"`
	} `json:"error"`
	Result *resultJSON `json:"result"`
}

type redemptionJSON struct {
	ID              int64     `json:"id"`
	Status          string    `json:"status"`
	TotalCents      int64     `json:"total_cents"`
	ScannedAt       time.Time `json:"scanned_at"`
	ReceivedAt      time.Time `json:"received_at"`
	ReversibleUntil time.Time `json:"reversible_until"`
	Session         string    `json:"session"`
	ReversalReason  string    `json:"reversal_reason"`
	Items           []struct {
		Number     string `json:"number"`
		Serial     int64  `json:"serial"`
		ValueCents int64  `json:"value_cents"`
	} `json:"items"`
}

// redemptions counts the redemptions in the database.
func (e *env) redemptions(t testing.TB) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Read(context.Background()).Model(&ledger.Redemption{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// actor is what the ledger records as the actor of a change made with the
// key of role.
func (e *env) actor(role string) string {
	prefix, _, _ := strings.Cut(strings.TrimPrefix(e.keys[role], "pn_"), "_")
	return "apikey:pn_" + prefix
}

// count counts the rows of a model's table.
func (e *env) count(t testing.TB, model any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Read(context.Background()).Model(model).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
