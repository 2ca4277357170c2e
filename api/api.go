// Package api is passnum's HTTP server: routes, authentication, JSON
// errors and the OpenAPI document. It holds no state between requests, so
// any number of replicas may run against one PostgreSQL; everything that
// must happen once is decided by the services below it, in the database.
//
// Handlers return errors and never write an error status themselves: one
// Echo HTTPErrorHandler (errors.go) maps every error's kind to its status,
// writes {"error":{"code","message","hint"}} and logs the internal cause, so that
// what a client sees and what an operator reads are decided in one place.
package api

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"passnum/accounts"
	"passnum/apikeys"
	"passnum/figures"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/mail"
	"passnum/metrics"
	"passnum/notices"
	"passnum/programme"
	"passnum/redemption"
	"passnum/settlement"
)

// Services are what the API exposes. Each is ready to use: the caller owns
// their configuration and, for the ledger, the sealer.
type Services struct {
	DB         *ledger.DB // readiness and public keys
	Keys       *apikeys.Service
	Pairings   *apikeys.Pairings
	Redemption *redemption.Service
	Issuing    *issuing.Service    // batches, chéquiers, printing
	Programme  *programme.Service  // départements and venues
	Settlement *settlement.Service // periods, statements, payments
	Figures    *figures.Service    // the programme's figures and report
	Accounts   *accounts.Service   // people, their logins and sessions
	// Mail sends what people are sent (password resets): an SMTP server,
	// or the operator's outbox (mail.FromConfig).
	Mail mail.Sender
	// Notices tell people of a venue's new IBAN, once applied.
	Notices *notices.Service
}

// Config tunes the HTTP layer.
type Config struct {
	Logger    *slog.Logger // nil: slog.Default()
	BodyLimit int64        // bytes of a request body; 0: DefaultBodyLimit
	// VenuesInfo is printed on chéquier covers (where to find labelled
	// venues), as passnum print's --venues-info: the same value gives the
	// same PDF bytes as the command line.
	VenuesInfo string
	// RateLimits bound failed authentications, voucher checks and baskets
	// (nil: DefaultRateLimits).
	RateLimits *RateLimits
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client, for the limits per address. Without them the peer's address
	// counts and the header is ignored: anyone could forge it.
	TrustedProxies []netip.Prefix
	// Now is the time of a request: today's date, default periods and
	// expiries (nil: the database's clock, Services.DB.Now). The services
	// keep to the database's clock whatever this is.
	Now func() time.Time
	// Metrics counts requests, baskets and limits for the operator (nil:
	// none); passnum serve serves them on their own address.
	Metrics *metrics.Metrics
	// PublicURL is the address people reach passnum at, which the links
	// sent by email start with ("https://passnum.yvelines.fr"). Never the
	// request's Host header: anyone may send one, and a reset link to
	// another site would hand it the person's token.
	PublicURL string
}

// DefaultBodyLimit is far above the largest valid request (a basket of
// redemption.MaxBasket scanned codes is about 15 KiB) and far below what
// could tie up a server.
const DefaultBodyLimit = 64 << 10

// server is what handlers share; it never changes after New.
type server struct {
	Services
	log        *slog.Logger
	bodyLimit  int64
	venuesInfo string
	limits     *limiters
	clock      func() time.Time // Config.Now
	metrics    *metrics.Metrics
	publicURL  string
}

// New returns the API as an *echo.Echo with every route, middleware and the
// error handler. It panics if a service is missing: that is a wiring bug,
// better found at start than on the first request.
func New(s Services, cfg Config) http.Handler {
	if s.DB == nil || s.Keys == nil || s.Pairings == nil || s.Redemption == nil || s.Issuing == nil ||
		s.Programme == nil || s.Settlement == nil || s.Figures == nil || s.Accounts == nil || s.Mail == nil || s.Notices == nil {
		panic("api.New: Services.DB, Keys, Pairings, Redemption, Issuing, Programme, Settlement, Figures, Accounts, Mail and Notices are required")
	}
	if cfg.PublicURL == "" {
		panic("api.New: Config.PublicURL is required (the links sent by email start with it)")
	}
	srv := &server{Services: s, log: cfg.Logger, bodyLimit: cfg.BodyLimit, venuesInfo: cfg.VenuesInfo, clock: cfg.Now, metrics: cfg.Metrics,
		publicURL: cfg.PublicURL}
	if srv.clock == nil {
		srv.clock = s.DB.Now
	}
	if srv.log == nil {
		srv.log = slog.Default()
	}
	if srv.bodyLimit <= 0 {
		srv.bodyLimit = DefaultBodyLimit
	}
	limits := DefaultRateLimits
	if cfg.RateLimits != nil {
		limits = *cfg.RateLimits
	}
	srv.limits = newLimiters(limits)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, p := range cfg.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(&net.IPNet{IP: p.Masked().Addr().AsSlice(),
				Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.HTTPErrorHandler = srv.handleError
	e.Use(srv.requestID, srv.accessLog, securityHeaders, srv.recoverPanic, srv.limitBody)
	srv.routes(e)
	return e
}

// now is the time of the request (Config.Now).
func (s *server) now() time.Time { return s.clock() }
