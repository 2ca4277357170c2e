// Package passnum holds what every part of the system shares: the domain error
// type, its kinds and codes, and the check of free text. The packages below it
// (issuing, redemption, ledger, …) return *Error for anything a user can act
// on; everything else is internal.
package passnum

import (
	"errors"
	"fmt"
	"time"
)

// Kind is what sort of refusal an error is, the one thing an edge needs to
// answer it (the API maps each kind to an HTTP status). There are few kinds
// and they do not grow with the services; codes do.
type Kind string

// The kinds. Each generic code below is also the kind of that name.
const (
	KindInvalid      Kind = "invalid"      // the request is malformed or breaks a rule
	KindUnauthorized Kind = "unauthorized" // the caller is not known
	KindForbidden    Kind = "forbidden"    // the caller is known but may not do this
	KindNotFound     Kind = "not_found"    // the thing asked for does not exist
	KindConflict     Kind = "conflict"     // the request clashes with the current state
	KindRejected     Kind = "rejected"     // well formed, but refused as a whole (a basket with a refused voucher)
	KindRateLimited  Kind = "rate_limited" // too many attempts: wait and retry
	KindUnavailable  Kind = "unavailable"  // the service cannot answer now: retry the same request
	KindInternal     Kind = "internal"     // anything else: a bug or an outage
)

// Generic error codes, each of the kind of the same name. Services add
// specific codes (for example "chequier_voided", a conflict) that clients
// rely on: a code never changes once published.
const (
	EInvalid      = string(KindInvalid)
	EUnauthorized = string(KindUnauthorized)
	EForbidden    = string(KindForbidden)
	ENotFound     = string(KindNotFound)
	EConflict     = string(KindConflict)
	EInternal     = string(KindInternal)
)

// Error is an error a user can act on: its kind, a stable machine code and a
// message that says what went wrong and what to do. The message is safe to
// show.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// RetryAfter is how long to wait before sending the same request
	// again, when the service knows it (the first of two identical
	// requests is still running); zero leaves it to the edge.
	RetryAfter time.Duration
	// Field names the input that is wrong, as the API's request names it
	// ("siret", "beneficiary_ref"), when one field is: a page marks that
	// field and shows the message beside it. Empty for any other refusal.
	Field string
}

func (e *Error) Error() string { return e.Message }

// On sets the field the error is about, and returns the error.
func (e *Error) On(field string) *Error {
	e.Field = field
	return e
}

// Errorf builds an *Error of a specific code. The code's kind is named where
// the error is made, beside its message, rather than declared with the code:
// codes stay plain string constants, so every comparison
// (ErrorCode(err) == issuing.EChequierVoided), test table and published code
// is untouched, and the few specific codes pay one word each. A test in api
// reads the source and checks that a code always comes with the same kind.
// The generic codes, most errors, have their own constructors below.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds an *Error of code and kind invalid.
func Invalid(format string, args ...any) *Error {
	return Errorf(KindInvalid, EInvalid, format, args...)
}

// NotFound builds an *Error of code and kind not_found.
func NotFound(format string, args ...any) *Error {
	return Errorf(KindNotFound, ENotFound, format, args...)
}

// Conflict builds an *Error of code and kind conflict.
func Conflict(format string, args ...any) *Error {
	return Errorf(KindConflict, EConflict, format, args...)
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EInternal
	}
}

// ErrorMessage returns the safe message of an *Error, and a generic message
// for any other error so that internals never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
