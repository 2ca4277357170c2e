package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/apikeys"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/programme"
	"passnum/redemption"
	"passnum/settlement"
)

// Error codes of the HTTP layer itself, beside those of the services.
const (
	codeInvalidJSON          = "invalid_json"
	codeForbidden            = "forbidden"
	codeMethodNotAllowed     = "method_not_allowed"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeNotReady             = "not_ready"
	codeRateLimited          = redemption.ReasonRateLimited
)

// statuses is the one map from error code to HTTP status. A code missing
// here is a bug: it is answered as internal (500) and logged at error with
// its original code, so that it is noticed and added.
var statuses = map[string]int{
	passnum.EInvalid:                http.StatusBadRequest,
	codeInvalidJSON:                 http.StatusBadRequest,
	apikeys.EUnauthorized:           http.StatusUnauthorized,
	codeForbidden:                   http.StatusForbidden,
	apikeys.EPairingRefused:         http.StatusForbidden,
	passnum.ENotFound:               http.StatusNotFound,
	codeMethodNotAllowed:            http.StatusMethodNotAllowed,
	passnum.EConflict:               http.StatusConflict,
	redemption.EInProgress:          http.StatusConflict,
	redemption.EAlreadyReversed:     http.StatusConflict,
	redemption.EReversalWindow:      http.StatusConflict,
	redemption.EPeriodSettled:       http.StatusConflict,
	issuing.EDistributionStopped:    http.StatusConflict,
	programme.EVenueStatus:          http.StatusConflict,
	settlement.EPeriodOpen:          http.StatusConflict,
	settlement.EPeriodClosed:        http.StatusConflict,
	settlement.EPeriodOrder:         http.StatusConflict,
	settlement.ENoPayer:             http.StatusConflict,
	codeBodyTooLarge:                http.StatusRequestEntityTooLarge,
	codeUnsupportedMediaType:        http.StatusUnsupportedMediaType,
	redemption.EBasketRejected:      http.StatusUnprocessableEntity,
	redemption.EIdempotencyMismatch: http.StatusUnprocessableEntity,
	codeRateLimited:                 http.StatusTooManyRequests,
	codeNotReady:                    http.StatusServiceUnavailable,
	passnum.EInternal:               http.StatusInternalServerError,
}

// statusOf returns the status of an error code. The issuing service's
// state conflicts (chequier_voided, voucher_redeemed, …) are 409 as a
// family, so that a new one needs no change here.
func statusOf(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	if strings.HasPrefix(code, "chequier_") || strings.HasPrefix(code, "voucher_") {
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// retryAfter says how many seconds a client should wait before retrying
// the codes that are worth a retry.
var retryAfter = map[string]string{
	redemption.EInProgress: "2",
	codeNotReady:           "5",
	codeRateLimited:        "60",
}

const internalMessage = "Erreur interne du serveur : rien n'a été enregistré. Réessayez dans un moment ; si le problème persiste, contactez l'assistance en donnant l'identifiant de requête %s."

// problem is an error made by the HTTP layer, or one that carries more than
// a code and a message: the internal cause (for the log only) and, for a
// refused basket, the verdict on each voucher.
type problem struct {
	code    string
	message string // French, safe to show
	cause   error
	result  *redemptionResult
	retry   time.Duration // Retry-After, when the wait is known (rate limits)
}

func (p *problem) Error() string {
	if p.cause != nil {
		return p.code + ": " + p.cause.Error()
	}
	return p.code + ": " + p.message
}

func (p *problem) Unwrap() error { return p.cause }

func newProblem(code, format string, args ...any) *problem {
	return &problem{code: code, message: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error  errorDetail       `json:"error"`
	Result *redemptionResult `json:"result,omitempty"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify turns any error into what the client is told.
func classify(err error) (code, message string, result *redemptionResult) {
	var (
		p  *problem
		he *echo.HTTPError
		pe *passnum.Error
	)
	switch {
	case errors.As(err, &p):
		return p.code, p.message, p.result
	case errors.As(err, &he):
		return classifyEcho(he)
	case errors.As(err, &pe):
		return pe.Code, pe.Message, nil
	case ledger.Unavailable(err):
		// Whether a commit whose connection broke went through is unknown:
		// the client retries the same request (the same idempotency key for
		// a basket), which the server answers once and for all.
		return codeNotReady, "Le service est momentanément indisponible. Réessayez dans quelques secondes avec la même demande : un panier n'est jamais encaissé deux fois.", nil
	}
	return passnum.EInternal, "", nil
}

// classifyEcho translates Echo's own errors (no route, wrong method, …)
// into the same envelope as ours.
func classifyEcho(he *echo.HTTPError) (code, message string, result *redemptionResult) {
	switch he.Code {
	case http.StatusNotFound:
		return passnum.ENotFound, "Cette adresse n'existe pas dans l'API : voir /api/v1/openapi.yaml.", nil
	case http.StatusMethodNotAllowed:
		return codeMethodNotAllowed, "Cette méthode HTTP n'est pas permise à cette adresse : voir l'en-tête Allow.", nil
	case http.StatusRequestEntityTooLarge:
		return codeBodyTooLarge, "Le corps de la requête est trop grand.", nil
	case http.StatusUnsupportedMediaType:
		return codeUnsupportedMediaType, "Envoyez le corps en JSON, avec l'en-tête Content-Type: application/json.", nil
	case http.StatusUnauthorized:
		return apikeys.EUnauthorized, "Clé d'accès absente, inconnue ou révoquée.", nil
	}
	if he.Code >= 400 && he.Code < 500 {
		return passnum.EInvalid, "Requête invalide.", nil
	}
	return passnum.EInternal, "", nil
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
	code, message, result := classify(err)
	status := statusOf(code)
	if status == http.StatusInternalServerError {
		if code != passnum.EInternal {
			log.Error("error code without an HTTP status: add it to api.statuses", "code", code)
		}
		code, message, result = passnum.EInternal, fmt.Sprintf(internalMessage, state(c).id), nil
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store") // an error is never worth caching, even on a cacheable route
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	if after, ok := retryAfter[code]; ok {
		h.Set("Retry-After", after)
	}
	if p := (*problem)(nil); errors.As(err, &p) && p.retry > 0 {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(p.retry)))
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
		data, merr := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: message}, Result: result})
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
