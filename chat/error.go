package chat

import (
	"errors"
	"fmt"
	"time"
)

// Code says why an operation failed, in terms a client can act on.
type Code string

// The codes a client can see. Anything else is Internal, and its details
// stay in the log.
const (
	Invalid     Code = "invalid"      // the input breaks a rule; fix it and retry
	RateLimited Code = "rate_limited" // too many requests; retry after Error.RetryAfter
	Unavailable Code = "unavailable"  // the store cannot be reached; retry later
	TooSlow     Code = "too_slow"     // a subscriber fell behind and was cut off
	Internal    Code = "internal"     // a bug or an unexpected failure
)

// Error is an error with a Code and a message that is safe to show to the
// client. Err, when set, is the cause, for the log only.
type Error struct {
	Code       Code
	Message    string
	RetryAfter time.Duration // set with RateLimited
	Err        error
}

// Errorf returns an *Error with a formatted client-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the Code of err, or Internal when err carries none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrTooSlow ends the event stream of a subscriber whose queue overflowed.
// The transport reports it to the client, which reconnects and catches up
// from history.
var ErrTooSlow = &Error{Code: TooSlow, Message: "subscriber fell behind and was cut off; reconnect and reload history"}
