package api

import (
	"embed"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"passnum/api/static"
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

// webTypes are the content types of the files served, the scanner's and
// the pages'; a file of any other kind is not served at all (the vendored
// READMEs and licences, for instance).
var webTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".svg":         "image/svg+xml",
	".webmanifest": "application/manifest+json",
}

// loadScanner reads the embedded files once per process, however many
// servers it starts (the tests start hundreds): compressing them is most
// of a server's start-up. web/scanner/x is served at /scanner/x, under its
// hash at /scanner/h/<hash>/x (api/static says why), web/vendor/x at
// /scanner/vendor/x, and index.html at /scanner/ itself. The service
// worker and the manifest keep their URL: a worker's URL is its identity,
// and the manifest's start_url and scope are relative to its own.
var loadScanner = sync.OnceValues(func() (*static.Tree, error) {
	return static.Load(static.Config{
		Prefix: "/scanner/",
		Dirs: []static.Dir{{FS: scannerFiles, Root: "web/scanner"},
			{FS: scannerFiles, Root: "web/vendor", At: "vendor/"}},
		Types:     webTypes,
		Index:     "index.html",
		Documents: []string{"sw.js", "manifest.webmanifest"},
	})
})

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
		f, ok := files.Find(c.Request().URL.Path)
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", scannerCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// The files hold no data. The page, its service worker and its
		// manifest are asked for again at each visit, so a new release
		// reaches every phone at its next one; the files they name carry
		// the release's hash and are kept for good (api/static). (The
		// service worker keeps its own copy for when there is no network.)
		f.Serve(c.Response(), c.Request())
		return nil
	}
	r := e.Router()
	r.Add(http.MethodGet, "/scanner", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/scanner/")
	})
	r.Add(http.MethodGet, "/scanner/*", serve)
}
