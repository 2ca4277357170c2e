package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"passnum/access"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// TestRoutesMatchDocument: every route Echo serves is in the OpenAPI
// document with its method, and every operation of the document is served.
func TestRoutesMatchDocument(t *testing.T) {
	doc, _ := openAPI(t)
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	param := regexp.MustCompile(`:([a-zA-Z_]+)`)
	var served []string
	for _, r := range e.handler.(*echo.Echo).Routes() {
		served = append(served, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in openapi.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in openapi.yaml but not served", r)
		}
	}
	if len(served) == 0 {
		t.Fatal("no routes")
	}
}

// TestDocumentServed: the document served is the one the tests check
// against, and it says who may call each operation.
func TestDocumentServed(t *testing.T) {
	doc, _ := openAPI(t)
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	r := e.do(t, request{method: "GET", path: "/api/v1/openapi.yaml"})
	if r.status != http.StatusOK || !bytes.Equal(r.body, contract.data) {
		t.Fatalf("served %d, %d bytes; want the %d bytes of openapi.yaml", r.status, len(r.body), len(contract.data))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type %q", ct)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := op.Security != nil && len(*op.Security) == 0
			if _, ok := op.Extensions["x-roles"]; !ok && !public {
				t.Errorf("%s %s: neither public nor with x-roles", method, path)
			}
			if !strings.HasPrefix(path, "/api/v1/") && !public {
				t.Errorf("%s %s outside /api/v1 needs a key", method, path)
			}
			if op.Responses.Value("500") == nil && path != "/healthz" && path != "/readyz" && path != "/api/v1/openapi.yaml" {
				t.Errorf("%s %s: no 500 answer documented", method, path)
			}
		}
	}
}

// TestRolesMatchDocument: each operation's x-roles are exactly the roles
// that access's table grants the route's permissions, so that the document
// tells every client (and every person's role) what it may call.
func TestRolesMatchDocument(t *testing.T) {
	doc, _ := openAPI(t)
	e := newEnv(t, ledgertest.Open(t, ledger.SQLite), 0)
	param := regexp.MustCompile(`:([a-zA-Z_]+)`)
	guarded := 0
	for _, r := range e.handler.(*echo.Echo).Routes() {
		perms, ok := strings.CutPrefix(r.Name, "needs:")
		if !ok {
			continue
		}
		guarded++
		var want []string
		for _, p := range strings.Split(perms, ",") {
			want = append(want, access.RolesWith(access.Permission(p))...)
		}
		slices.Sort(want)
		want = slices.Compact(want)
		path := param.ReplaceAllString(r.Path, "{$1}")
		op := doc.Paths.Find(path).GetOperation(r.Method)
		if op == nil {
			t.Errorf("%s %s: not in openapi.yaml", r.Method, path)
			continue
		}
		var got []string
		if raw, ok := op.Extensions["x-roles"].([]any); ok {
			for _, x := range raw {
				got = append(got, fmt.Sprint(x))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: x-roles %v, want [%s] (permission %s)", r.Method, path, got, strings.Join(want, ", "), perms)
		}
	}
	if guarded < 40 {
		t.Fatalf("only %d routes behind a permission", guarded)
	}
}
