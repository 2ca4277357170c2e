package static_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"passnum/api/static"
)

var types = map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

// module is large and repetitive enough for both codings to shrink it.
var module = []byte("// a module\nimport { b } from \"./b.js\";\n" + strings.Repeat("export const x = \"une chaîne assez longue\";\n", 200))

func testTree(t *testing.T) (*static.Tree, string) {
	t.Helper()
	tree, err := static.Load(static.Config{
		Prefix: "/app/",
		Dirs: []static.Dir{{FS: fstest.MapFS{
			"web/index.html":    {Data: []byte(`<script type="module" src="a.js"></script><link href="b.js"><a href="./">x</a>`)},
			"web/sw.js":         {Data: []byte(`const FILES = ["./", "a.js", "vendor/v.js", "other.js"];`)},
			"web/a.js":          {Data: module},
			"web/b.js":          {Data: []byte("export const b = 1;")},
			"web/README.md":     {Data: []byte("not served")},
			"web/sub/icon.svg":  {Data: []byte("<svg/>")},
			"web/sub/other.txt": {Data: []byte("not served")},
		}, Root: "web"}, {FS: fstest.MapFS{"lib/v.js": {Data: []byte("var v;")}, "lib/LICENSE": {Data: []byte("not served")}}, Root: "lib", At: "vendor/"}},
		Types:     types,
		Index:     "index.html",
		Documents: []string{"sw.js"},
	})
	if err != nil {
		t.Fatal(err)
	}
	page := string(get(t, tree, "/app/", "").body)
	m := regexp.MustCompile(`src="h/([0-9a-f]{16})/a.js"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("index.html does not name a.js under a hash: %s", page)
	}
	return tree, m[1]
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, tree *static.Tree, path, acceptEncoding string, header ...string) answer {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r, ok := tree.Find(path)
	if !ok {
		return answer{status: http.StatusNotFound}
	}
	w := httptest.NewRecorder()
	r.Serve(w, req)
	return answer{w.Code, w.Header(), w.Body.Bytes()}
}

func decode(t *testing.T, a answer) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(a.body)
	switch a.header.Get("Content-Encoding") {
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		gr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = gr
	case "":
	default:
		t.Fatalf("coding %q", a.header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCodings: each coding decodes to the file's bytes, with its length,
// its own ETag and Vary; a file that no coding shrinks is sent as it is.
func TestCodings(t *testing.T) {
	tree, hash := testTree(t)
	etags := map[string]bool{}
	for _, coding := range []string{"br", "gzip", ""} {
		a := get(t, tree, "/app/h/"+hash+"/a.js", coding)
		if a.status != http.StatusOK || a.header.Get("Content-Encoding") != coding {
			t.Fatalf("%q: %d, coding %q", coding, a.status, a.header.Get("Content-Encoding"))
		}
		if got := decode(t, a); !bytes.Equal(got, module) {
			t.Errorf("%q: decodes to %d bytes, not the %d of the file", coding, len(got), len(module))
		}
		if coding != "" && len(a.body) >= len(module)/4 {
			t.Errorf("%q: %d bytes of %d", coding, len(a.body), len(module))
		}
		if a.header.Get("Content-Length") != strconv.Itoa(len(a.body)) || a.header.Get("Vary") != "Accept-Encoding" ||
			a.header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%q: headers %v", coding, a.header)
		}
		etags[a.header.Get("ETag")] = true
	}
	if len(etags) != 3 {
		t.Errorf("ETags %v: want one per coding", etags)
	}
	if a := get(t, tree, "/app/h/"+hash+"/b.js", "br, gzip"); a.header.Get("Content-Encoding") != "" || string(a.body) != "export const b = 1;" ||
		a.header.Get("Vary") != "" || a.header.Get("Content-Length") != "19" {
		t.Errorf("a file too small to shrink: %v %q", a.header, a.body)
	}
}

// TestNegotiation: the coding of highest weight, br before gzip before
// identity at equal weights; q=0 refuses a coding; without the header,
// identity.
func TestNegotiation(t *testing.T) {
	tree, hash := testTree(t)
	for header, want := range map[string]string{
		"":                            "",
		"gzip, deflate, br, zstd":     "br",
		"gzip":                        "gzip",
		"GZIP":                        "gzip",
		"x-gzip":                      "gzip",
		"deflate":                     "",
		"identity":                    "",
		"*":                           "br",
		"br;q=0, gzip":                "gzip",
		"br;q=0, *":                   "gzip",
		"gzip;q=0.5, br;q=0.4":        "gzip",
		"gzip;q=0.5, br;q=0.5":        "br",
		"gzip;q=0.001":                "gzip",
		"identity;q=0.5, gzip;q=0.4":  "",
		"br;q=0, gzip;q=0":            "",
		"*;q=0":                       "", // nothing acceptable: identity all the same
		"br;q=nonsense, gzip":         "gzip",
		" br ; q=0.8 , gzip ; q=0.9 ": "gzip",
	} {
		if got := get(t, tree, "/app/h/"+hash+"/a.js", header).header.Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: %q, want %q", header, got, want)
		}
	}
}

// TestNotModified: a request holding the ETag of the coding it would get
// gets 304; the ETag of another coding is no match.
func TestNotModified(t *testing.T) {
	tree, hash := testTree(t)
	path := "/app/h/" + hash + "/a.js"
	br, gz := get(t, tree, path, "br").header.Get("ETag"), get(t, tree, path, "gzip").header.Get("ETag")
	for _, c := range []struct {
		accept, match string
		want          int
	}{
		{"br", br, http.StatusNotModified},
		{"br", `"other", W/` + br, http.StatusNotModified},
		{"br", "*", http.StatusNotModified},
		{"gzip", gz, http.StatusNotModified},
		{"gzip", br, http.StatusOK},
		{"", gz, http.StatusOK},
	} {
		a := get(t, tree, path, c.accept, "If-None-Match", c.match)
		if a.status != c.want || a.header.Get("ETag") == "" || a.header.Get("Cache-Control") != static.Immutable {
			t.Errorf("Accept-Encoding %q, If-None-Match %s: %d %v, want %d", c.accept, c.match, a.status, a.header, c.want)
		}
		if a.status == http.StatusNotModified && len(a.body) != 0 {
			t.Errorf("304 with a body")
		}
	}
}

// TestHashedURLs: the files under the current hash are immutable; the
// documents and the plain names are revalidated; a wrong hash, a
// document under a hash and a file of no served kind are 404; the
// documents' references name the hashed URLs.
func TestHashedURLs(t *testing.T) {
	tree, hash := testTree(t)
	for path, cache := range map[string]string{
		"/app/":                            "no-cache",
		"/app/sw.js":                       "no-cache",
		"/app/a.js":                        "no-cache",
		"/app/vendor/v.js":                 "no-cache",
		"/app/h/" + hash + "/a.js":         static.Immutable,
		"/app/h/" + hash + "/vendor/v.js":  static.Immutable,
		"/app/h/" + hash + "/sub/icon.svg": static.Immutable,
	} {
		if a := get(t, tree, path, "br"); a.status != http.StatusOK || a.header.Get("Cache-Control") != cache {
			t.Errorf("%s: %d, Cache-Control %q, want %q", path, a.status, a.header.Get("Cache-Control"), cache)
		}
	}
	wrong := strings.Repeat("0", len(hash))
	for _, path := range []string{"/app/h/" + wrong + "/a.js", "/app/h/" + hash[:8] + "/a.js", "/app/h/" + hash + "/sw.js",
		"/app/h/" + hash + "/index.html", "/app/h/" + hash + "/", "/app/index.html", "/app/README.md", "/app/vendor/LICENSE",
		"/app/sub/other.txt", "/app/nothing.js", "/other/a.js", "/app/h/" + hash + "/../../sw.js"} {
		if a := get(t, tree, path, ""); a.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, a.status)
		}
	}
	if got, want := string(get(t, tree, "/app/sw.js", "").body),
		`const FILES = ["./", "h/`+hash+`/a.js", "h/`+hash+`/vendor/v.js", "other.js"];`; got != want {
		t.Errorf("sw.js is\n%s\nwant\n%s", got, want)
	}
	if got := string(get(t, tree, "/app/", "").body); !strings.Contains(got, `<link href="h/`+hash+`/b.js">`) || !strings.Contains(got, `href="./"`) {
		t.Errorf("index.html is %s", got)
	}
	if got := tree.URL("/app/a.js"); got != "/app/h/"+hash+"/a.js" {
		t.Errorf("URL: %s", got)
	}
	if got := tree.URL("/app/sw.js"); got != "/app/sw.js" {
		t.Errorf("URL of a document: %s", got)
	}
}

// TestLinks: a tree's files name another tree's files by their hashed
// URL, and the tree's hash follows the other's.
func TestLinks(t *testing.T) {
	scanner, hash := testTree(t)
	pages, err := static.Load(static.Config{
		Prefix: "/pages/",
		Dirs: []static.Dir{{FS: fstest.MapFS{"assets/p.js": {Data: []byte(`import { x } from "/app/a.js"; import "./q.js";`)},
			"assets/q.js": {Data: []byte(`const u = "/app/sw.js";`)}}, Root: "assets"}},
		Types: types,
		Links: []*static.Tree{scanner},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(get(t, pages, pages.URL("/pages/p.js"), "").body),
		`import { x } from "/app/h/`+hash+`/a.js"; import "./q.js";`; got != want {
		t.Errorf("p.js is %s, want %s", got, want)
	}
	if got := string(pages.Rewrite([]byte(`<link href="/pages/q.js"><a href="/pages/">`))); !strings.Contains(got, `"`+pages.URL("/pages/q.js")+`"`) ||
		!strings.Contains(got, `href="/pages/"`) || !strings.HasPrefix(pages.URL("/pages/q.js"), "/pages/h/") {
		t.Errorf("Rewrite: %s", got)
	}
}

// BenchmarkLoad: what compressing the scanner's and the pages' files
// adds to a process's start (docs/BENCHMARKS.md).
func BenchmarkLoad(b *testing.B) {
	web := os.DirFS("../web")
	all := map[string]string{".html": "", ".css": "", ".js": "", ".svg": "", ".webmanifest": ""}
	for b.Loop() {
		_, err := static.Load(static.Config{Prefix: "/", Types: all,
			Dirs: []static.Dir{{FS: web, Root: "scanner"}, {FS: web, Root: "vendor", At: "vendor/"}, {FS: web, Root: "admin/assets", At: "pages/"}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
