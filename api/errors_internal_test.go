package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"passnum"
)

// codeStatuses pins the HTTP status of every error code the services and
// the API make, as they were answered when each code was mapped on its own
// (before errors carried a kind). Clients rely on both.
var codeStatuses = map[string]int{
	"invalid":                 400,
	"invalid_json":            400,
	"iban_missing":            400,
	"batch_too_large":         400,
	"unauthorized":            401,
	"forbidden":               403,
	"pairing_refused":         403,
	"login_failed":            401,
	"totp_required":           401,
	"totp_invalid":            401,
	"sso_failed":              401,
	"identity_unknown":        401,
	"sso_unavailable":         503,
	"account_disabled":        403,
	"link_invalid":            404,
	"link_used":               409,
	"link_expired":            409,
	"link_cancelled":          409,
	"login_locked":            429,
	"not_found":               404,
	"apikey_not_found":        404,
	"signing_key_not_found":   404,
	"method_not_allowed":      405,
	"conflict":                409,
	"request_in_progress":     409,
	"already_reversed":        409,
	"reversal_window_closed":  409,
	"period_settled":          409,
	"chequier_voided":         409,
	"chequier_already_active": 409,
	"chequier_expired":        409,
	"chequier_key_revoked":    409,
	"chequier_handed_over":    409,
	"distribution_stopped":    409,
	"voucher_not_voidable":    409,
	"voucher_redeemed":        409,
	"voucher_voided":          409,
	"venue_status":            409,
	"venue_label_suspended":   409,
	"venue_siret_taken":       409,
	"change_pending":          409,
	"change_decided":          409,
	"change_outdated":         409,
	"stock_short":             409,
	"not_in_stock":            403,
	"beneficiary_ref_used":    409,
	"department_unknown":      400,
	"period_not_over":         409,
	"period_closed":           409,
	"period_order":            409,
	"payer_missing":           409,
	"awaiting_second_person":  409,
	"nothing_asked":           404,
	"signing_key_missing":     409,
	"signing_key_active":      409,
	"body_too_large":          413,
	"unsupported_media_type":  415,
	"basket_rejected":         422,
	"idempotency_key_reused":  422,
	"rate_limited":            429,
	"not_ready":               503,
	"internal":                500,
}

// TestEveryCodeKeepsItsStatus reads the source of every package for the
// error codes declared (constants named E… in the services, code… in api)
// and for where each error is made with its kind, so that a new code cannot
// be forgotten: each declared code is made somewhere, always with the same
// kind, that kind's status is the pinned one, and the OpenAPI document lists
// exactly these codes.
func TestEveryCodeKeepsItsStatus(t *testing.T) {
	made, declared := madeCodes(t, "..")
	for code, kinds := range made {
		if len(kinds) != 1 {
			t.Errorf("code %s is made with several kinds: %v", code, kinds)
			continue
		}
		want, ok := codeStatuses[code]
		if !ok {
			t.Errorf("code %s (kind %s) has no pinned status: add it to codeStatuses and to openapi.yaml", code, kinds[0])
			continue
		}
		if got := statusOf(kinds[0]); got != want {
			t.Errorf("code %s (kind %s): status %d, pinned %d", code, kinds[0], got, want)
		}
	}
	for name, code := range declared {
		if _, ok := made[code]; !ok {
			t.Errorf("%s (%q) is declared but no error is made with it", name, code)
		}
	}
	for code := range codeStatuses {
		if _, ok := made[code]; !ok {
			t.Errorf("pinned code %s is made nowhere", code)
		}
	}
	if len(made) < 30 {
		t.Fatalf("only %d codes found: the source reading is broken", len(made))
	}

	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, c := range doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value.Enum {
		documented = append(documented, c.(string))
	}
	var codes []string
	for c := range made {
		codes = append(codes, c)
	}
	slices.Sort(documented)
	slices.Sort(codes)
	if !slices.Equal(documented, codes) {
		t.Errorf("openapi.yaml lists the codes\n%v\nthe code makes\n%v", documented, codes)
	}
}

// madeCodes parses the module's non-test Go files under root. It returns,
// for each code an error is made with, the kinds it is made with, and the
// declared code constants by qualified name.
func madeCodes(t *testing.T, root string) (made map[string][]passnum.Kind, declared map[string]string) {
	t.Helper()
	fset := token.NewFileSet()
	var files []srcFile
	consts := map[string]ast.Expr{} // "pkg.Name" -> value
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := "passnum"
		if rel != "." {
			pkg += "/" + filepath.ToSlash(rel)
		}
		files = append(files, srcFile{pkg, f})
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							consts[pkg+"."+n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// value resolves a constant string expression: a literal, a constant
	// of this package or of an imported one, or string(a kind).
	var value func(pkg string, imports map[string]string, e ast.Expr) (string, bool)
	value = func(pkg string, imports map[string]string, e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				return s, err == nil
			}
		case *ast.Ident:
			if v, ok := consts[pkg+"."+e.Name]; ok {
				return value(pkg, imports, v)
			}
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok {
				if path, ok := imports[x.Name]; ok {
					if v, ok := consts[path+"."+e.Sel.Name]; ok {
						return value(path, importsOf(files, path), v)
					}
				}
			}
		case *ast.CallExpr:
			if fn, ok := e.Fun.(*ast.Ident); ok && fn.Name == "string" && len(e.Args) == 1 {
				return value(pkg, imports, e.Args[0])
			}
		}
		return "", false
	}

	made = map[string][]passnum.Kind{}
	add := func(kind, code string) {
		k := passnum.Kind(kind)
		if !slices.Contains(made[code], k) {
			made[code] = append(made[code], k)
		}
	}
	declared = map[string]string{}
	for _, fl := range files {
		imports := fileImports(fl.f)
		for name, v := range consts {
			ident, ok := strings.CutPrefix(name, fl.pkg+".")
			if !ok || strings.Contains(ident, ".") || !declaredIn(fl.f, ident) {
				continue
			}
			isCode := fl.pkg != "passnum/api" && len(ident) > 1 && ident[0] == 'E' && ident[1] >= 'A' && ident[1] <= 'Z' ||
				fl.pkg == "passnum/api" && strings.HasPrefix(ident, "code") && len(ident) > 4
			if isCode {
				if s, ok := value(fl.pkg, imports, v); ok {
					declared[name] = s
				}
			}
		}
		ast.Inspect(fl.f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := calleeName(n.Fun, fl.pkg)
				switch name {
				case "passnum.Errorf", "api.newProblem":
					if len(n.Args) >= 2 {
						k, kok := value(fl.pkg, imports, n.Args[0])
						c, cok := value(fl.pkg, imports, n.Args[1])
						if kok && cok {
							add(k, c)
						} else if name == "passnum.Errorf" && fl.pkg != "passnum" {
							t.Errorf("%s: %s with a kind or code that is not a constant", fset.Position(n.Pos()), name)
						}
					}
				case "passnum.Invalid":
					add(string(passnum.KindInvalid), passnum.EInvalid)
				case "passnum.NotFound":
					add(string(passnum.KindNotFound), passnum.ENotFound)
				case "passnum.Conflict":
					add(string(passnum.KindConflict), passnum.EConflict)
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "problem" && fl.pkg == "passnum/api" {
					var kind, code ast.Expr
					for _, el := range n.Elts {
						kv := el.(*ast.KeyValueExpr)
						switch kv.Key.(*ast.Ident).Name {
						case "kind":
							kind = kv.Value
						case "code":
							code = kv.Value
						}
					}
					k, kok := value(fl.pkg, imports, kind)
					c, cok := value(fl.pkg, imports, code)
					if kok && cok {
						add(k, c)
					}
				}
			}
			return true
		})
	}
	return made, declared
}

// calleeName is a call's function as "pkg.Name", with the package's last
// path element; "" for a method or a call through a value.
func calleeName(fun ast.Expr, pkg string) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return pkg[strings.LastIndex(pkg, "/")+1:] + "." + f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
	}
	return ""
}

// fileImports maps a file's import names to their paths.
func fileImports(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		m[name] = path
	}
	return m
}

type srcFile struct {
	pkg string // import path
	f   *ast.File
}

// declaredIn says whether a file declares the top-level name.
func declaredIn(f *ast.File, name string) bool {
	o := f.Scope.Lookup(name)
	return o != nil && o.Kind == ast.Con
}

// importsOf is the union of the imports of pkg's files, to resolve a
// constant defined in terms of another package's.
func importsOf(files []srcFile, pkg string) map[string]string {
	m := map[string]string{}
	for _, fl := range files {
		if fl.pkg == pkg {
			for k, v := range fileImports(fl.f) {
				m[k] = v
			}
		}
	}
	return m
}
