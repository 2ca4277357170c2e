package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/ledger"
)

// Error codes of the HTTP layer itself, beside those of the services. The
// services' codes need no mention here: each error carries its kind.
const (
	codeInvalidJSON          = "invalid_json"
	codeUnauthorized         = string(passnum.KindUnauthorized)
	codeForbidden            = string(passnum.KindForbidden)
	codeMethodNotAllowed     = "method_not_allowed"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeNotReady             = "not_ready"
	codeRateLimited          = string(passnum.KindRateLimited)
)

// Kinds of the HTTP layer's own refusals, which no service makes: they are
// about the request's transport, not about the programme.
const (
	kindMethodNotAllowed     passnum.Kind = "method_not_allowed"
	kindBodyTooLarge         passnum.Kind = "body_too_large"
	kindUnsupportedMediaType passnum.Kind = "unsupported_media_type"
)

// statuses is the one map from error kind to HTTP status. A kind missing
// here is a bug: it is answered as internal (500) and logged at error with
// its original code, so that it is noticed and added.
var statuses = map[passnum.Kind]int{
	passnum.KindInvalid:      http.StatusBadRequest,
	passnum.KindUnauthorized: http.StatusUnauthorized,
	passnum.KindForbidden:    http.StatusForbidden,
	passnum.KindNotFound:     http.StatusNotFound,
	kindMethodNotAllowed:     http.StatusMethodNotAllowed,
	passnum.KindConflict:     http.StatusConflict,
	kindBodyTooLarge:         http.StatusRequestEntityTooLarge,
	kindUnsupportedMediaType: http.StatusUnsupportedMediaType,
	passnum.KindRejected:     http.StatusUnprocessableEntity,
	passnum.KindRateLimited:  http.StatusTooManyRequests,
	passnum.KindUnavailable:  http.StatusServiceUnavailable,
	passnum.KindInternal:     http.StatusInternalServerError,
}

// statusOf returns the HTTP status of an error kind.
func statusOf(kind passnum.Kind) int {
	if s, ok := statuses[kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// retryAfter says how long a client should wait before retrying the kinds
// that are worth a retry, when the error does not know better.
var retryAfter = map[passnum.Kind]time.Duration{
	passnum.KindUnavailable: 5 * time.Second,
	passnum.KindRateLimited: time.Minute,
}

const internalMessage = "Erreur interne du serveur : rien n'a été enregistré. Réessayez dans un moment ; si le problème persiste, contactez l'assistance en donnant l'identifiant de requête %s."

// problem is an error made by the HTTP layer, or one that carries more than
// a code and a message: the internal cause (for the log only) and, for a
// refused basket, the verdict on each voucher.
type problem struct {
	kind    passnum.Kind
	code    string
	message string // French, safe to show
	cause   error
	result  *redemptionResult
	retry   time.Duration // Retry-After, when the wait is known (rate limits)
	field   string        // the request's member that is wrong (passnum.Error.Field)
}

func (p *problem) Error() string {
	if p.cause != nil {
		return p.code + ": " + p.cause.Error()
	}
	return p.code + ": " + p.message
}

func (p *problem) Unwrap() error { return p.cause }

func newProblem(kind passnum.Kind, code, format string, args ...any) *problem {
	return &problem{kind: kind, code: code, message: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error  errorDetail       `json:"error"`
	Result *redemptionResult `json:"result,omitempty"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"` // hints.go
	Field   string `json:"field,omitempty"`
}

// classify turns any error into what the client is told.
func classify(err error) *problem {
	var (
		p  *problem
		he *echo.HTTPError
		pe *passnum.Error
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &he):
		return classifyEcho(he)
	case errors.As(err, &pe):
		return &problem{kind: pe.Kind, code: pe.Code, message: pe.Message, retry: pe.RetryAfter, field: pe.Field}
	case ledger.Unavailable(err):
		// Whether a commit whose connection broke went through is unknown:
		// the client retries the same request (the same idempotency key for
		// a basket), which the server answers once and for all.
		return newProblem(passnum.KindUnavailable, codeNotReady, "Le service est momentanément indisponible. Réessayez dans quelques secondes avec la même demande : un panier n'est jamais encaissé deux fois.")
	}
	return &problem{kind: passnum.KindInternal, code: passnum.EInternal}
}

// classifyEcho translates Echo's own errors (no route, wrong method, …)
// into the same envelope as ours.
func classifyEcho(he *echo.HTTPError) *problem {
	switch he.Code {
	case http.StatusNotFound:
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Cette adresse n'existe pas dans l'API : voir /api/v1/openapi.yaml.")
	case http.StatusMethodNotAllowed:
		return newProblem(kindMethodNotAllowed, codeMethodNotAllowed, "Cette méthode HTTP n'est pas permise à cette adresse : voir l'en-tête Allow.")
	case http.StatusRequestEntityTooLarge:
		return newProblem(kindBodyTooLarge, codeBodyTooLarge, "Le corps de la requête est trop grand.")
	case http.StatusUnsupportedMediaType:
		return newProblem(kindUnsupportedMediaType, codeUnsupportedMediaType, "Envoyez le corps en JSON, avec l'en-tête Content-Type: application/json.")
	case http.StatusUnauthorized:
		return newProblem(passnum.KindUnauthorized, codeUnauthorized, "Clé d'accès absente, inconnue ou révoquée.")
	}
	if he.Code >= 400 && he.Code < 500 {
		return newProblem(passnum.KindInvalid, passnum.EInvalid, "Requête invalide.")
	}
	return &problem{kind: passnum.KindInternal, code: passnum.EInternal}
}

// handleError is Echo's HTTPErrorHandler: the one place that writes an
// error response and logs it, 4xx at warn and 5xx at error with the cause.
func (s *server) handleError(err error, c echo.Context) {
	log := s.logger(c)
	if c.Response().Committed {
		// Nothing can be said to the client any more; the operator must know.
		log.Error("error after the response was sent", "error", err.Error())
		return
	}
	p := classify(err)
	code, message, result, field := p.code, p.message, p.result, p.field
	status := statusOf(p.kind)
	if status == http.StatusInternalServerError {
		if p.kind != passnum.KindInternal {
			log.Error("error kind without an HTTP status: add it to api.statuses", "kind", p.kind, "code", code)
		}
		code, message, result, field = passnum.EInternal, fmt.Sprintf(internalMessage, state(c).id), nil, ""
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store") // an error is never worth caching, even on a cacheable route
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	if after := cmp.Or(p.retry, retryAfter[p.kind]); after > 0 && status != http.StatusInternalServerError {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(after)))
	}
	switch {
	case status >= 500 && c.Request().Context().Err() != nil:
		// The client hung up and the work was cancelled (a transaction rolls
		// back whole): worth a trace, not an alert.
		log.Warn("request abandoned by the client", "status", status, "code", code, "error", err.Error())
	case status >= 500:
		log.Error("request failed", "status", status, "code", code, "error", err.Error())
	default:
		log.Warn("request refused", "status", status, "code", code, "detail", err.Error())
	}

	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		data, merr := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: message, Hint: hints[code], Field: field}, Result: result})
		if merr != nil {
			log.Error("encode the error response", "error", merr.Error())
			data = []byte(`{"error":{"code":"internal","message":"Erreur interne du serveur."}}`)
			status = http.StatusInternalServerError
		}
		err = c.JSONBlob(status, data)
	}
	if err != nil {
		log.Debug("write the error response", "error", err.Error()) // the client went away
	}
}

// logger is the server's logger with the request id, for every line a
// request causes.
func (s *server) logger(c echo.Context) *slog.Logger {
	return s.log.With("request_id", state(c).id)
}
