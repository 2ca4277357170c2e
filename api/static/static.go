// Package static serves the embedded files of the web pages (the venue
// scanner, the staff pages) as a phone on a slow network needs them: each
// file compressed once, when the tree is loaded, with Brotli and gzip, the
// best coding the browser accepts sent; and every file but the documents
// served under a URL that carries the tree's content hash, cached for a
// year and never asked for again.
//
// Why one hash for the whole tree rather than one per file: the scanner's
// ES modules import each other by relative path ("./state.js"). Served
// together under /scanner/h/<hash>/, those imports stay correct without
// any JavaScript being parsed or rewritten, and a module added to the tree
// needs no list kept by hand. A per-file hash would mean rewriting every
// import specifier, a hash that covers the hashes of the modules a file
// imports, and some answer for modules that import each other. The cost
// of the tree hash: a release that changes one file makes each phone fetch
// the whole tree once again (about 90 KB compressed for the scanner), which
// a release a month can bear. An import map would avoid the rewriting too,
// but an inline one needs its hash in the scanner's CSP and changes with
// every release, and an external one is not yet supported by browsers.
//
// The documents (the HTML page, the service worker, the web manifest) keep
// their fixed URL and are revalidated at each visit, so that a new release
// reaches a phone at its next visit; the quoted references they make to
// the tree's other files ("app.js") are rewritten to the hashed URLs when
// the tree is loaded. Those files are also still served under their plain
// names, revalidated each time, for anything that names them that way.
// Old hashes are not served: a page of the previous release that asks for
// one gets 404, and its service worker's copy.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// BrotliQuality is the Brotli level the files are compressed at. The
// files are compressed at every start, so the level is chosen for that
// (docs/BENCHMARKS.md): 5 compresses the scanner's and the pages' 437 KB
// to 109 KB in about 70 ms, where 11 saves 19 KB more for 1.4 s.
const BrotliQuality = 5

// Immutable is the Cache-Control of a file under a hashed URL: its content
// can never change, since another content has another URL.
const Immutable = "public, max-age=31536000, immutable"

// Dir is a folder of an fs.FS served at a path under the tree's prefix.
type Dir struct {
	FS   fs.FS
	Root string // the folder in FS
	At   string // where its files are served under the prefix: "" or "vendor/"
}

// Config says what a tree holds and how it is served.
type Config struct {
	Prefix string // the URL path the tree is served under, ending in "/"
	Dirs   []Dir
	// Types gives the content type by file extension; a file of any other
	// kind is not served at all (licences, READMEs).
	Types map[string]string
	// Index is the name of the document served at Prefix itself, and only
	// there ("" for none).
	Index string
	// Documents are the other names served only at their fixed URL,
	// revalidated at each visit, with their references rewritten.
	Documents []string
	// Links are trees already loaded whose absolute URLs ("/scanner/x.js")
	// are rewritten to their hashed URLs in this tree's files.
	Links []*Tree
}

// Tree is a loaded set of files.
type Tree struct {
	prefix string
	hash   string           // of every hashed file's name and content
	files  map[string]*file // by name under the prefix ("app.js", "vendor/jsqr/jsQR.js")
	index  string
}

type file struct {
	document bool
	// codings: the file's representations, in order of preference (br,
	// gzip, identity); a compressed one only where it is smaller.
	codings     []coding
	contentType string
}

type coding struct {
	name string // "br", "gzip", or "" for identity
	body []byte
	etag string
}

// Load reads, rewrites, hashes and compresses the files of cfg.
func Load(cfg Config) (*Tree, error) {
	t := &Tree{prefix: cfg.Prefix, files: map[string]*file{}, index: cfg.Index}
	bodies := map[string][]byte{}
	for _, d := range cfg.Dirs {
		err := fs.WalkDir(d.FS, d.Root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			ct, ok := cfg.Types[path.Ext(p)]
			if !ok {
				return nil
			}
			body, err := fs.ReadFile(d.FS, p)
			if err != nil {
				return err
			}
			name := d.At + strings.TrimPrefix(p, d.Root+"/")
			t.files[name] = &file{contentType: ct, document: name == cfg.Index || slices.Contains(cfg.Documents, name)}
			bodies[name] = rewrite(body, nil, cfg.Links)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The hash covers the hashed files only: a document refers to them by
	// it, so it cannot be part of it.
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range t.files {
			if !yield(name) {
				return
			}
		}
	})
	h := sha256.New()
	for _, name := range names {
		if !t.files[name].document {
			sum := sha256.Sum256(bodies[name])
			h.Write([]byte(name + "\x00"))
			h.Write(sum[:])
		}
	}
	t.hash = hex.EncodeToString(h.Sum(nil)[:8])
	for _, name := range names {
		if t.files[name].document {
			bodies[name] = rewrite(bodies[name], t, nil)
		}
	}
	// Both cores: Brotli and gzip of the largest file are most of the
	// tree's start-up time.
	var wg sync.WaitGroup
	for _, name := range names {
		f, body := t.files[name], bodies[name]
		wg.Go(func() { f.codings = compress(body) })
	}
	wg.Wait()
	return t, nil
}

func compress(body []byte) []coding {
	sum := sha256.Sum256(body)
	etag := hex.EncodeToString(sum[:12])
	var br, gz bytes.Buffer
	bw := brotli.NewWriterLevel(&br, BrotliQuality)
	bw.Write(body) // a bytes.Buffer does not fail
	bw.Close()
	gw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level
	gw.Write(body)
	gw.Close()
	var cs []coding
	for _, c := range []coding{{"br", br.Bytes(), `"` + etag + `-br"`}, {"gzip", gz.Bytes(), `"` + etag + `-gz"`}} {
		if len(c.body) < len(body) {
			cs = append(cs, c)
		}
	}
	return append(cs, coding{"", body, `"` + etag + `"`})
}

// quoted is a reference in a file: a double-quoted string without spaces.
// The files of the trees name each other only so (attributes, import
// specifiers, JSON, the service worker's list).
var quoted = regexp.MustCompile(`"[^"\s]+"`)

// rewrite replaces the quoted references of text to files served under a
// hash: relative ones ("app.js") to self's files, absolute ones to the
// files of links.
func rewrite(text []byte, self *Tree, links []*Tree) []byte {
	return quoted.ReplaceAllFunc(text, func(q []byte) []byte {
		ref := string(q[1 : len(q)-1])
		if self != nil && self.hashed(ref) {
			return []byte(`"h/` + self.hash + "/" + ref + `"`)
		}
		for _, l := range links {
			if u := l.URL(ref); u != ref {
				return []byte(`"` + u + `"`)
			}
		}
		return q
	})
}

func (t *Tree) hashed(name string) bool {
	f, ok := t.files[name]
	return ok && !f.document
}

// URL gives the hashed URL of an absolute URL of the tree's files, or the
// URL itself if it names no file served under a hash.
func (t *Tree) URL(u string) string {
	if name, ok := strings.CutPrefix(u, t.prefix); ok && t.hashed(name) {
		return t.prefix + "h/" + t.hash + "/" + name
	}
	return u
}

// Rewrite replaces the quoted absolute URLs of the tree's files in text
// (an HTML template, say) by their hashed URLs.
func (t *Tree) Rewrite(text []byte) []byte { return rewrite(text, nil, []*Tree{t}) }

// Resource is a file as one URL serves it.
type Resource struct {
	f            *file
	cacheControl string
}

// Find gives the resource at the URL path p, if the tree serves it: a
// hashed file under its current hash, the index at the prefix, a document
// or a hashed file under its plain name.
func (t *Tree) Find(p string) (Resource, bool) {
	rest, ok := strings.CutPrefix(p, t.prefix)
	if !ok {
		return Resource{}, false
	}
	if under, ok := strings.CutPrefix(rest, "h/"); ok {
		hash, name, _ := strings.Cut(under, "/")
		if hash != t.hash || !t.hashed(name) {
			return Resource{}, false
		}
		return Resource{t.files[name], Immutable}, true
	}
	if rest == "" {
		rest = t.index
	} else if rest == t.index {
		return Resource{}, false
	}
	f, ok := t.files[rest]
	return Resource{f, "no-cache"}, ok
}

// Serve writes the resource in the best coding the request accepts, or
// 304 if the request holds that coding's ETag.
func (r Resource) Serve(w http.ResponseWriter, req *http.Request) {
	c := r.f.negotiate(strings.Join(req.Header.Values("Accept-Encoding"), ","))
	h := w.Header()
	if len(r.f.codings) > 1 {
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Cache-Control", r.cacheControl)
	h.Set("ETag", c.etag)
	if matches(req.Header.Get("If-None-Match"), c.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", r.f.contentType)
	if c.name != "" {
		h.Set("Content-Encoding", c.name)
	}
	h.Set("Content-Length", strconv.Itoa(len(c.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(c.body) // the client went away: nothing to do
}

// negotiate picks the coding of highest weight in Accept-Encoding (RFC
// 9110, 12.5.3), the file's order (br, gzip, identity) breaking ties.
// Without the header, identity: a client that says nothing (curl, a
// script) gets bytes it can read. Identity is acceptable unless the
// header excludes it ("identity;q=0", or "*;q=0" without naming it), and
// is sent all the same when nothing the file has is acceptable.
func (f *file) negotiate(header string) coding {
	identity := f.codings[len(f.codings)-1]
	if strings.TrimSpace(header) == "" {
		return identity
	}
	weights := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "x-gzip" {
			name = "gzip"
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || parsed < 0 || parsed > 1 {
				continue // not a weight: the element is ignored
			}
			q = parsed
		}
		if name != "" {
			weights[name] = q
		}
	}
	weight := func(name string) float64 {
		if name == "" {
			name = "identity"
		}
		if q, ok := weights[name]; ok {
			return q
		}
		if q, ok := weights["*"]; ok {
			return q
		}
		if name == "identity" {
			return 0.001 // acceptable, after anything named
		}
		return 0
	}
	best, bestWeight := identity, 0.0
	for _, c := range f.codings {
		if w := weight(c.name); w > bestWeight {
			best, bestWeight = c, w
		}
	}
	return best
}

// matches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for this header).
func matches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
