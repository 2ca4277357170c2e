package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"passnum/apikeys"
)

// The pages of département staff and auditors (docs/pages.md): a page is a
// small HTML shell rendered here (layout, navigation for the role, who is
// logged in, the CSRF token), and its script fills it from the JSON API
// with the session cookie. Every rule (scope, validation, French messages)
// therefore stays in the API's handlers; the pages add no second way to
// change anything.

//go:embed web/admin
var adminFiles embed.FS

// pageCSP lets a page load its own scripts, styles and images and nothing
// else: no inline script or style, no other origin, no framing.
const pageCSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// sitePage is one page: where it is served, its template and script, and
// the roles that may open it.
type sitePage struct {
	path   string
	file   string // under web/admin/pages/
	title  string
	script string // an ES module under web/admin/assets/
	roles  []string
	// vendor: classic scripts the page's module needs first, from the
	// scanner's vendored files (they define globals, such as jsQR).
	vendor []string
}

var (
	departmentRoles = []string{apikeys.RoleAdmin, apikeys.RoleDepartment}
	auditorRoles    = []string{apikeys.RoleAdmin, apikeys.RoleAuditor}
)

// sitePages are the pages behind a session. The dashboard of figures is
// served twice: to auditors, and to département staff for their own
// département (the API scopes the figures).
func sitePages() []sitePage {
	return []sitePage{
		{path: "/departement/", file: "accueil.html", title: "Tableau de bord", script: "accueil.js", roles: departmentRoles},
		{path: "/departement/commandes", file: "commandes.html", title: "Commandes de chéquiers", script: "commandes.js", roles: departmentRoles},
		// The camera and the QR decoder are the venue scanner's (scanner.go).
		{path: "/departement/remise", file: "remise.html", title: "Remise d'un chéquier", script: "remise.js", roles: departmentRoles,
			vendor: []string{"/scanner/vendor/jsqr/jsQR.js"}},
		{path: "/departement/annulation", file: "annulation.html", title: "Annuler un chéquier ou un chèque", script: "annulation.js", roles: departmentRoles},
		{path: "/departement/lieux", file: "lieux.html", title: "Lieux labellisés", script: "lieux.js", roles: departmentRoles},
		{path: "/departement/remboursements", file: "remboursements.html", title: "Remboursements des lieux", script: "remboursements.js", roles: departmentRoles},
		{path: "/departement/chiffres", file: "chiffres.html", title: "Chiffres du programme", script: "chiffres.js", roles: departmentRoles},
		{path: "/auditeur/", file: "chiffres.html", title: "Chiffres du programme", script: "chiffres.js", roles: auditorRoles},
	}
}

// navLink is an entry of the navigation bar.
type navLink struct {
	Path, Label string
	Current     bool
}

// navigation lists the pages a role may open, in the order of the work.
func navigation(role, current string) []navLink {
	var links []navLink
	add := func(p, label string) {
		links = append(links, navLink{Path: p, Label: label, Current: p == current})
	}
	if slices.Contains(departmentRoles, role) {
		add("/departement/", "Tableau de bord")
		add("/departement/commandes", "Commandes")
		add("/departement/remise", "Remise")
		add("/departement/annulation", "Annulation")
		add("/departement/lieux", "Lieux")
		add("/departement/remboursements", "Remboursements")
		add("/departement/chiffres", "Chiffres")
	}
	if slices.Contains(auditorRoles, role) {
		add("/auditeur/", "Audit")
	}
	if len(links) < 2 {
		return nil // an auditor has one page: no menu
	}
	return links
}

// pageData is what the layout and the pages' templates are given.
type pageData struct {
	Title      string
	Script     string
	Vendor     []string
	Nav        []navLink
	Role       string // "" on the login page
	RoleLabel  string
	Department string
	KeyName    string
	CSRFToken  string
}

// pageSet is the parsed templates and the assets with their ETags.
type pageSet struct {
	templates map[string]*template.Template // by page file
	assets    map[string]asset              // by file name
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

func loadPages() (*pageSet, error) {
	ps := &pageSet{templates: map[string]*template.Template{}, assets: map[string]asset{}}
	files := []string{"login.html"}
	for _, p := range sitePages() {
		files = append(files, p.file)
	}
	for _, f := range files {
		if _, ok := ps.templates[f]; ok {
			continue
		}
		t, err := template.ParseFS(adminFiles, "web/admin/layout.html", "web/admin/pages/"+f)
		if err != nil {
			return nil, err
		}
		ps.templates[f] = t
	}
	err := fs.WalkDir(adminFiles, "web/admin/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := adminFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		ps.assets[path.Base(p)] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return ps, err
}

// pageRoutes serves the pages, their assets and the session endpoints.
// They live outside /api/v1: they are for browsers, not API clients. Like
// the scanner's (scanner.go), they go straight into the router rather than
// through e.GET, so that e.Routes() stays the list of operations that
// openapi.yaml documents; the API's middleware runs on them all the same.
func (s *server) pageRoutes(e *echo.Echo) {
	ps, err := loadPages()
	if err != nil {
		panic("api: the embedded pages do not parse: " + err.Error())
	}
	r := e.Router()
	r.Add(http.MethodGet, "/session", s.currentSession)
	r.Add(http.MethodPost, "/session", s.login)
	r.Add(http.MethodDelete, "/session", s.logout)

	r.Add(http.MethodGet, "/connexion", s.loginPage(ps))
	r.Add(http.MethodGet, "/departement", redirectTo("/departement/"))
	r.Add(http.MethodGet, "/auditeur", redirectTo("/auditeur/"))
	for _, p := range sitePages() {
		r.Add(http.MethodGet, p.path, s.sessionPage(ps, p))
	}
	r.Add(http.MethodGet, "/pages/:file", ps.serveAsset)
}

func redirectTo(to string) echo.HandlerFunc {
	return func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, to) }
}

// sessionPage serves a page to a session of one of its roles. Without a
// session the browser is sent to the login page, which brings it back
// here; a session of another role goes to its own home page.
func (s *server) sessionPage(ps *pageSet, p sitePage) echo.HandlerFunc {
	return func(c echo.Context) error {
		ses, err := s.findSession(c)
		if noSession(err) {
			return c.Redirect(http.StatusSeeOther, "/connexion?suite="+url.QueryEscape(c.Request().URL.Path))
		}
		if err != nil {
			return err
		}
		state(c).principal = &ses.Principal
		role := ses.Principal.Role
		if !slices.Contains(p.roles, role) {
			return c.Redirect(http.StatusSeeOther, homePage(role))
		}
		return ps.render(c, p.file, pageData{Title: p.title, Script: p.script, Vendor: p.vendor, Nav: navigation(role, p.path),
			Role: role, RoleLabel: roleFrench[role], Department: ses.Principal.Department,
			KeyName: ses.Principal.Name, CSRFToken: csrfToken(ses.Secret)})
	}
}

// loginPage asks for the key; a browser already logged in goes home.
func (s *server) loginPage(ps *pageSet) echo.HandlerFunc {
	return func(c echo.Context) error {
		ses, err := s.findSession(c)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, homePage(ses.Principal.Role))
		}
		if !noSession(err) {
			return err
		}
		return ps.render(c, "login.html", pageData{Title: "Connexion", Script: "login.js"})
	}
}

func (ps *pageSet) render(c echo.Context, file string, data pageData) error {
	var b bytes.Buffer
	if err := ps.templates[file].ExecuteTemplate(&b, "layout", data); err != nil {
		return err
	}
	pageHeaders(c.Response().Header())
	return c.HTMLBlob(http.StatusOK, b.Bytes())
}

// pageHeaders replace the API's "serve nothing" policy (securityHeaders)
// by the one a page needs. The camera is allowed to this origin only, for
// scanning a chéquier's activation code.
func pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// serveAsset serves a script, style sheet or image of the pages. They hold
// no data, so a browser may keep them, asking each time whether they
// changed (a new binary may change them).
func (ps *pageSet) serveAsset(c echo.Context) error {
	a, ok := ps.assets[c.Param("file")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.contentType, a.body)
}
