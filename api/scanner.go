package api

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// The venue scanner (docs/scanner.md) is a static page: HTML, CSS and
// JavaScript embedded in the binary, with the vendored libraries it needs,
// served under /scanner/. Its script calls the API on the same origin with
// the device's venue key, so every rule stays in the API's handlers; the
// page holds no secret of the server and needs no build step.

//go:embed web/scanner web/vendor
var scannerFiles embed.FS

// scannerCSP lets the page run its own scripts and styles and talk to its
// own origin, and nothing else: no inline script or style, no other origin,
// no framing, no form posted anywhere.
const scannerCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// scannerTypes are the content types of the files served; a file of any
// other kind is not served at all (the vendored READMEs, for instance).
var scannerTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".svg":         "image/svg+xml",
	".webmanifest": "application/manifest+json",
}

type scannerFile struct {
	body        []byte
	contentType string
	etag        string
}

// loadScanner indexes the embedded files by the path they are served at:
// web/scanner/x at /scanner/x, web/vendor/x at /scanner/vendor/x, and
// index.html at /scanner/ itself.
func loadScanner() (map[string]scannerFile, error) {
	files := map[string]scannerFile{}
	for _, dir := range []struct{ root, prefix string }{{"web/scanner", "/scanner/"}, {"web/vendor", "/scanner/vendor/"}} {
		err := fs.WalkDir(scannerFiles, dir.root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			ct, ok := scannerTypes[path.Ext(p)]
			if !ok {
				return nil
			}
			body, err := scannerFiles.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(body)
			url := dir.prefix + strings.TrimPrefix(p, dir.root+"/")
			if url == "/scanner/index.html" {
				url = "/scanner/"
			}
			files[url] = scannerFile{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// scannerRoutes serves the page. The routes go straight into the router
// rather than through e.GET: they are a web page, not part of the API, and
// e.Routes() stays the list of operations that openapi.yaml documents
// (TestRoutesMatchDocument). The API's middleware still runs on them.
func (s *server) scannerRoutes(e *echo.Echo) {
	files, err := loadScanner()
	if err != nil {
		panic("api: the embedded scanner page cannot be read: " + err.Error())
	}
	serve := func(c echo.Context) error {
		f, ok := files[c.Request().URL.Path]
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", scannerCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// The files hold no data and change only with the binary: a browser
		// may keep them but asks each time whether they changed, so a new
		// release reaches every phone at its next visit. (The page's service
		// worker keeps its own copy for when there is no network.)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
			return c.NoContent(http.StatusNotModified)
		}
		return c.Blob(http.StatusOK, f.contentType, f.body)
	}
	r := e.Router()
	r.Add(http.MethodGet, "/scanner", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/scanner/")
	})
	r.Add(http.MethodGet, "/scanner/*", serve)
}
