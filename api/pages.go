package api

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"passnum"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"passnum/access"
	"passnum/api/static"
	"passnum/programme"
	"passnum/voucher"
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
// the permission it is for (opens says who may open it).
type sitePage struct {
	path   string
	file   string // under web/admin/pages/
	title  string
	script string // an ES module under web/admin/assets/
	perm   access.Permission
	// auditor: an auditor's page rather than a département's.
	auditor bool
	// vendor: classic scripts the page's module needs first, from the
	// scanner's vendored files (they define globals, such as jsQR).
	vendor []string
}

// opens tells whether p may open the page: the permission it is for, and
// the audience. An auditor reads with the auditor's pages, which show every
// département; the département's pages are for those who run one, an admin
// both.
func (pg sitePage) opens(p access.Principal) bool {
	auditor := p.May(access.ExportLedger)
	return p.May(pg.perm) && (pg.auditor == auditor || p.Has(access.RoleAdmin))
}

// sitePages are the pages behind a session. The dashboard of figures is
// served twice: to auditors, and to département staff for their own
// département (the API scopes the figures).
func sitePages() []sitePage {
	return []sitePage{
		{path: "/departement/", file: "accueil.html", title: "Tableau de bord", script: "accueil.js", perm: access.Read},
		{path: "/departement/commandes", file: "commandes.html", title: "Commandes de chéquiers", script: "commandes.js", perm: access.Order},
		// The camera and the QR decoder are the venue scanner's (scanner.go).
		{path: "/departement/remise", file: "remise.html", title: "Remise d'un chéquier", script: "remise.js", perm: access.HandOver,
			vendor: []string{"/scanner/vendor/jsqr/jsQR.js"}},
		{path: "/departement/annulation", file: "annulation.html", title: "Annuler un chéquier ou un chèque", script: "annulation.js", perm: access.Void},
		{path: "/departement/lieux", file: "lieux.html", title: "Lieux labellisés", script: "lieux.js", perm: access.ManageVenues},
		{path: "/departement/remboursements", file: "remboursements.html", title: "Remboursements des lieux", script: "remboursements.js", perm: access.Read},
		{path: "/departement/chiffres", file: "chiffres.html", title: "Chiffres du programme", script: "chiffres.js", perm: access.Read},
		// A venue's own redemptions and statements: its manager's home.
		{path: "/encaissements", file: "encaissements.html", title: "Encaissements et relevés", script: "encaissements.js", perm: access.VenueStatements},
		// A venue's manager has it too, for its volunteers: not under
		// /departement/.
		{path: "/personnes", file: "personnes.html", title: "Personnes et structures", script: "personnes.js", perm: access.ManagePeople},
		// A venue's devices: its manager's page, and the département's.
		{path: "/appareils", file: "appareils.html", title: "Appareils des lieux", script: "appareils.js", perm: access.Pair},
		{path: "/auditeur/", file: "chiffres.html", title: "Chiffres du programme", script: "chiffres.js", perm: access.ExportLedger, auditor: true},
	}
}

// navLink is an entry of the navigation bar.
type navLink struct {
	Path, Label string
	Current     bool
}

// navigation lists the pages p may open, in the order of the work.
func navigation(p access.Principal, current string) []navLink {
	labels := map[string]string{"/departement/": "Tableau de bord", "/departement/commandes": "Commandes", "/departement/remise": "Remise",
		"/departement/annulation": "Annulation", "/departement/lieux": "Lieux", "/departement/remboursements": "Remboursements",
		"/departement/chiffres": "Chiffres", "/personnes": "Personnes", "/encaissements": "Encaissements", "/appareils": "Appareils", "/auditeur/": "Audit"}
	var links []navLink
	for _, pg := range sitePages() {
		if pg.opens(p) {
			links = append(links, navLink{Path: pg.path, Label: labels[pg.path], Current: pg.path == current})
		}
	}
	if len(links) < 2 {
		return nil // an auditor has one page: no menu
	}
	return links
}

// homePage is where p lands after logging in: the first page it may open;
// if none, a person's account page (where a second factor still to enrol
// comes first) or the public home page.
func homePage(p access.Principal) string {
	for _, pg := range sitePages() {
		if pg.opens(p) {
			return pg.path
		}
	}
	if p.Account != 0 {
		return accountPath
	}
	return "/"
}

// audience is how the pages' scripts tell their readers apart: "admin",
// "auditor", "department" (a département's key or people) or the role.
func audience(p access.Principal) string {
	switch {
	case p.Has(access.RoleAdmin):
		return access.RoleAdmin
	case p.Has(access.RoleAuditor):
		return access.RoleAuditor
	case p.Department != "":
		return access.RoleDepartment
	case len(p.Roles) > 0:
		return p.Roles[0]
	}
	return ""
}

// pageData is what the layout and the pages' templates are given.
type pageData struct {
	Title      string
	Script     string
	Vendor     []string
	Nav        []navLink
	Role       string // audience; "" on the login page
	Home       string // the first page of the one logged in
	RoleLabel  string
	Department string
	KeyName    string // the key's name, or the account's email
	CSRFToken  string
	// A person's session: the organisation it acts for, and a link to
	// their account's page.
	Account      bool
	Organisation string
	// VenuesInfo is where beneficiaries find labelled venues (Config), on
	// the home page; VenuesURL is set when it is a web address to link.
	VenuesInfo string
	VenuesURL  string
	// SSO names the identity provider people may log in with ("" when
	// none is configured), on the login and invitation pages.
	SSO string
	// Directory is the public list of venues (/lieux).
	Directory *directory
}

// directory is what the public list of venues shows.
type directory struct {
	DepartmentName string // the one chosen, "" for all
	Departments    []directoryDepartment
	Search         string
	Count          string // "3 lieux"
	Venues         []programme.Listed
}

type directoryDepartment struct {
	Code, Name string
	Selected   bool
}

// pageSet is the parsed templates and the assets.
type pageSet struct {
	templates map[string]*template.Template // by page file
	assets    *static.Tree                  // web/admin/assets at /pages/
	scanner   *static.Tree                  // for the scanner's files a page uses
}

// loadAssets, like loadScanner, compresses the pages' assets once per
// process. A page's module that imports a scanner's module by its URL
// ("/scanner/camera.js") gets the scanner's hashed URL.
var loadAssets = sync.OnceValues(func() (*static.Tree, error) {
	scanner, err := loadScanner()
	if err != nil {
		return nil, err
	}
	return static.Load(static.Config{
		Prefix: "/pages/",
		Dirs:   []static.Dir{{FS: adminFiles, Root: "web/admin/assets"}},
		Types:  webTypes,
		Links:  []*static.Tree{scanner},
	})
})

func loadPages() (*pageSet, error) {
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	scanner, err := loadScanner()
	if err != nil {
		return nil, err
	}
	ps := &pageSet{templates: map[string]*template.Template{}, assets: assets, scanner: scanner}
	files := []string{"login.html", "accueil-public.html", "compte.html", "lieux-public.html"}
	for _, p := range publicPages() {
		files = append(files, p.file)
	}
	for _, p := range sitePages() {
		files = append(files, p.file)
	}
	for _, f := range files {
		if _, ok := ps.templates[f]; ok {
			continue
		}
		// The templates name the assets by their plain URL ("/pages/admin.css"):
		// they get the hashed ones.
		t := template.New("")
		for _, name := range []string{"web/admin/layout.html", "web/admin/pages/" + f} {
			text, err := adminFiles.ReadFile(name)
			if err != nil {
				return nil, err
			}
			if _, err := t.Parse(string(assets.Rewrite(text))); err != nil {
				return nil, err
			}
		}
		ps.templates[f] = t
	}
	return ps, nil
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
	r.Add(http.MethodPut, "/session/organisation", s.chooseOrganisation)
	r.Add(http.MethodPost, "/session/totp", s.enrolTOTP)
	r.Add(http.MethodPost, "/session/totp/confirm", s.confirmTOTP)
	r.Add(http.MethodGet, "/sessions", s.mySessions)
	r.Add(http.MethodDelete, "/sessions/:id", s.endMySession)
	r.Add(http.MethodPost, "/invitation", s.acceptInvitation)
	r.Add(http.MethodPost, "/password-reset", s.requestReset)
	r.Add(http.MethodPost, "/password-reset/new", s.resetPassword)
	r.Add(http.MethodPost, "/session/sso", s.startSSO)

	r.Add(http.MethodGet, "/", s.rootPage(ps))
	r.Add(http.MethodGet, "/connexion", s.loginPage(ps))
	r.Add(http.MethodGet, "/lieux", s.directoryPage(ps))
	r.Add(http.MethodGet, SSOReturnPath, s.ssoReturnPage(ps))
	r.Add(http.MethodGet, accountPath, s.accountPage(ps))
	for _, p := range publicPages() {
		r.Add(http.MethodGet, p.path, s.publicPage(ps, p))
	}
	r.Add(http.MethodGet, "/departement", redirectTo("/departement/"))
	r.Add(http.MethodGet, "/auditeur", redirectTo("/auditeur/"))
	for _, p := range sitePages() {
		r.Add(http.MethodGet, p.path, s.sessionPage(ps, p))
	}
	r.Add(http.MethodGet, "/pages/*", ps.serveAsset)
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
		state(c).principal = &ses.principal
		who := ses.principal
		if !p.opens(who) {
			return c.Redirect(http.StatusSeeOther, homePage(who))
		}
		d := s.sessionData(ps, ses, p.title, p.script, p.path)
		for _, u := range p.vendor {
			d.Vendor = append(d.Vendor, ps.scanner.URL(u))
		}
		return ps.render(c, p.file, d)
	}
}

// publicPages need no session: accepting an invitation, asking for a
// reset link and using it. A browser already logged in may open them too
// (a manager accepting a second role).
func publicPages() []sitePage {
	return []sitePage{
		{path: invitationPath, file: "invitation.html", title: "Ouvrir votre compte", script: "invitation.js"},
		{path: forgotPath, file: "mot-de-passe-oublie.html", title: "Mot de passe oublié", script: "mot-de-passe-oublie.js"},
		{path: resetPath, file: "mot-de-passe.html", title: "Nouveau mot de passe", script: "mot-de-passe.js"},
	}
}

func (s *server) publicPage(ps *pageSet, p sitePage) echo.HandlerFunc {
	return func(c echo.Context) error {
		return ps.render(c, p.file, pageData{Title: p.title, Script: ps.assets.URL("/pages/" + p.script), SSO: s.Accounts.SSOName()})
	}
}

// accountPage is a person's own page: second factor, organisations,
// sessions. A key's session has none of it and goes home.
func (s *server) accountPage(ps *pageSet) echo.HandlerFunc {
	return func(c echo.Context) error {
		ses, err := s.findSession(c)
		if noSession(err) {
			return c.Redirect(http.StatusSeeOther, "/connexion?suite="+url.QueryEscape(accountPath))
		}
		if err != nil {
			return err
		}
		state(c).principal = &ses.principal
		if ses.account == nil {
			return c.Redirect(http.StatusSeeOther, homePage(ses.principal))
		}
		return ps.render(c, "compte.html", s.sessionData(ps, ses, "Mon compte", "compte.js", accountPath))
	}
}

// sessionData is what the layout shows of a session: who, for whom, the
// navigation.
func (s *server) sessionData(ps *pageSet, ses pageSession, title, script, path string) pageData {
	who := ses.principal
	d := pageData{Title: title, Script: ps.assets.URL("/pages/" + script), Nav: navigation(who, path),
		Role: audience(who), Home: homePage(who), RoleLabel: who.RoleNames(), Department: who.Department,
		KeyName: who.Name, CSRFToken: csrfToken(ses.secret)}
	if as := ses.account; as != nil {
		d.Account = true
		for _, m := range as.Memberships {
			if m.Organisation.ID == who.Organisation {
				d.Organisation = m.Label
			}
		}
		if d.Role == "" {
			d.Role = "account" // logged in, with no role yet
		}
	}
	return d
}

// loginPage asks for the key; a browser already logged in goes home.
func (s *server) loginPage(ps *pageSet) echo.HandlerFunc {
	return func(c echo.Context) error {
		ses, err := s.findSession(c)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, homePage(ses.principal))
		}
		if !noSession(err) {
			return err
		}
		return ps.render(c, "login.html", pageData{Title: "Connexion", Script: ps.assets.URL("/pages/login.js"), SSO: s.Accounts.SSOName()})
	}
}

// directoryPage is the public list of the venues where beneficiaries use
// their vouchers (GET /lieux?departement=78&q=Trappes): no session, no
// script, a plain form that works on the cheapest phone. A département
// or a search that finds nothing says so; the list is the programme's
// rule of which venues redeem today (programme.Service.Directory).
func (s *server) directoryPage(ps *pageSet) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		ds, err := s.Programme.Departments(ctx, "")
		if err != nil {
			return err
		}
		code := strings.ToUpper(strings.TrimSpace(c.QueryParam("departement")))
		search := passnum.Shorten(strings.TrimSpace(c.QueryParam("q")), 80)
		d := &directory{Search: search}
		known := false
		for _, dep := range ds {
			name := dep.Name + " (" + dep.Code + ")"
			d.Departments = append(d.Departments, directoryDepartment{Code: dep.Code, Name: name, Selected: dep.Code == code})
			if dep.Code == code {
				d.DepartmentName, known = name, true
			}
		}
		if !known {
			code = "" // an unknown code shows every département, as the select does
		}
		if d.Venues, err = s.Programme.Directory(ctx, code, search, voucher.Today(s.now())); err != nil {
			return err
		}
		d.Count = fmt.Sprintf("%d %s", len(d.Venues), passnum.Plural(len(d.Venues), "lieu", "lieux"))
		return ps.render(c, "lieux-public.html", pageData{Title: "Où utiliser ses chèques", Directory: d})
	}
}

// ssoReturnPage is where the identity provider sends the person back: the
// login page, whose script passes the return to POST /session. It opens
// even with a session, since accepting an invitation may be the reason
// of the trip.
func (s *server) ssoReturnPage(ps *pageSet) echo.HandlerFunc {
	return func(c echo.Context) error {
		return ps.render(c, "login.html", pageData{Title: "Connexion", Script: ps.assets.URL("/pages/login.js"), SSO: s.Accounts.SSOName()})
	}
}

// rootPage is the root address: whoever opens the server's address in a
// browser (a venue's volunteer, département staff, someone trying the demo)
// finds the way to the scanner and the staff pages, not an API error. It
// needs no session and no script.
func (s *server) rootPage(ps *pageSet) echo.HandlerFunc {
	data := pageData{Title: "Accueil", VenuesInfo: s.venuesInfo}
	if u, err := url.Parse(s.venuesInfo); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		data.VenuesURL = u.String()
	}
	return func(c echo.Context) error { return ps.render(c, "accueil-public.html", data) }
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
// no data; under their hashed URL a browser keeps them for good.
func (ps *pageSet) serveAsset(c echo.Context) error {
	a, ok := ps.assets.Find(c.Request().URL.Path)
	if !ok {
		return echo.ErrNotFound
	}
	a.Serve(c.Response(), c.Request())
	return nil
}
