package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"passnum/access"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// requestState is what the middleware learns about a request and the error
// handler and access log need: it lives in the request's context.
type requestState struct {
	id        string
	principal *access.Principal
}

type stateKey struct{}

// state returns the request's state; an empty one if the request did not go
// through requestID (it always does, but a nil would crash the error path).
func state(c echo.Context) *requestState {
	if st, ok := c.Request().Context().Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{}
}

// requestID takes the client's X-Request-Id if it is a plain token, or makes
// one, and echoes it back, so that a venue's support call, the access log
// and the error log name the same request.
func (s *server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		st := &requestState{id: id}
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), stateKey{}, st)))
		return next(c)
	}
}

// validRequestID accepts what request-id generators produce (UUIDs, hex,
// base64url) and nothing that could forge a log line or inject markup.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// accessLog writes one line per request. It hands errors to the error
// handler itself, so that the status it logs is the one the client got.
func (s *server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		req, res, st := c.Request(), c.Response(), state(c)
		attrs := []slog.Attr{
			slog.String("request_id", st.id),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("route", c.Path()),
			slog.Int("status", res.Status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", res.Size),
		}
		if st.principal != nil {
			// The key's prefix or the account's number; never a secret, a
			// name or an email.
			attrs = append(attrs, slog.String("principal", st.principal.Actor()), slog.String("role", strings.Join(st.principal.Roles, ",")))
		}
		s.log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
		s.metrics.Request(c.Path(), req.Method, res.Status)
		return nil
	}
}

// securityHeaders are on every response. Nothing in the API may be stored
// by a shared cache unless a handler says otherwise (the public keys and the
// OpenAPI document do); answers name vouchers and money.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		// The API serves only data: a browser tricked into rendering an answer
		// as a page may run nothing and may not frame it.
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		return next(c)
	}
}

// recoverPanic turns a handler's panic into an internal error, answered and
// logged with its stack by the error handler like any other.
func (s *server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r) // net/http's way to drop a connection: not ours to stop
				}
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

// limitBody refuses a body larger than the limit: at once when its declared
// length says so, else when reading passes the limit (chunked bodies).
func (s *server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.bodyLimit {
			return s.tooLarge(nil)
		}
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, s.bodyLimit)
		return next(c)
	}
}

func (s *server) tooLarge(cause error) *problem {
	size := fmt.Sprintf("%d octets", s.bodyLimit)
	if s.bodyLimit%1024 == 0 {
		size = fmt.Sprintf("%d Kio", s.bodyLimit/1024)
	}
	return &problem{kind: kindBodyTooLarge, code: codeBodyTooLarge, cause: cause,
		message: "Le corps de la requête dépasse " + size + " : envoyez moins de chèques à la fois."}
}
