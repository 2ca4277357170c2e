// Package passnum holds what every part of the system shares: the domain error
// type and its codes. The packages below it (issuing, redemption, ledger, …)
// return *Error for anything a user can act on; everything else is internal.
package passnum

import (
	"errors"
	"fmt"
)

// Generic error codes. Services may use more specific codes (for example
// "chequier_voided"); the API maps each code to an HTTP status in one place.
const (
	EInvalid  = "invalid"   // the request is malformed or breaks a rule
	ENotFound = "not_found" // the thing asked for does not exist
	EConflict = "conflict"  // the request clashes with the current state
	EInternal = "internal"  // anything else: a bug or an outage
)

// Error is an error a user can act on: a stable machine code and a message
// that says what went wrong and what to do. The message is safe to show.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
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
