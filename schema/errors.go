package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/location"
)

// The extensions.code values a client can see.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
	CodeTooSlow         = "SLOW_SUBSCRIBER"
	CodeParseFailed     = "GRAPHQL_PARSE_FAILED"
	CodeValidation      = "GRAPHQL_VALIDATION_FAILED"
	CodeRequestCanceled = "REQUEST_CANCELED"
)

// Error is a GraphQL error with extensions: graphql-go copies them into the
// response because Error implements gqlerrors.ExtendedError.
type Error struct {
	Message string
	Code    string
	Extra   map[string]any // more extensions, such as retryAfter
}

func (e *Error) Error() string { return e.Message }

// Extensions returns the error's extensions, code first.
func (e *Error) Extensions() map[string]any {
	ext := map[string]any{"code": e.Code}
	for k, v := range e.Extra {
		ext[k] = v
	}
	return ext
}

// clientError turns an error from the chat package into what the client
// sees. Internal details go to the log, never to the client.
func clientError(log *slog.Logger, field string, err error) *Error {
	var ce *chat.Error
	if errors.As(err, &ce) {
		switch ce.Code {
		case chat.Invalid:
			return &Error{Message: ce.Message, Code: CodeBadUserInput}
		case chat.RateLimited:
			secs := int(math.Ceil(ce.RetryAfter.Seconds()))
			return &Error{Message: ce.Message, Code: CodeRateLimited, Extra: map[string]any{"retryAfter": secs}}
		case chat.Unavailable:
			log.Warn("store unavailable", "field", field, "err", err)
			return &Error{Message: ce.Message, Code: CodeUnavailable}
		case chat.TooSlow:
			return &Error{Message: ce.Message, Code: CodeTooSlow}
		}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Message: "request canceled", Code: CodeRequestCanceled}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("resolver timed out", "field", field, "err", err)
		return &Error{Message: "timed out, try again", Code: CodeUnavailable}
	}
	log.Error("resolver failed", "field", field, "err", err)
	return &Error{Message: "internal server error", Code: CodeInternal}
}

// guard wraps a resolver: it recovers a panic (logged with its stack and
// answered as an internal error, since graphql-go would send the panic's
// text to the client) and maps errors with clientError.
func guard(log *slog.Logger, field string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("resolver panicked", "field", field, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				v, err = nil, &Error{Message: "internal server error", Code: CodeInternal}
			}
		}()
		v, err = fn(p)
		if err != nil {
			return nil, clientError(log, field, err)
		}
		return v, nil
	}
}

// fieldError is a client error at a field: its message and extensions, with
// the field's path and location, which graphql-go adds to the errors of
// field resolvers but not to those of a subscription's Subscribe.
func fieldError(e *Error, field *ast.Field, path []any) gqlerrors.FormattedError {
	fe := gqlerrors.FormattedError{Message: e.Message, Path: path, Extensions: e.Extensions()}
	if field != nil && field.Loc != nil && field.Loc.Source != nil {
		fe.Locations = []location.SourceLocation{location.GetLocation(field.Loc.Source, field.Loc.Start)}
	}
	return fe
}

// guardSubscribe is guard for a Subscribe resolver: its errors are located.
func guardSubscribe(log *slog.Logger, field string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
	g := guard(log, field, fn)
	return func(p graphql.ResolveParams) (any, error) {
		v, err := g(p)
		var e *Error
		if errors.As(err, &e) {
			var node *ast.Field
			if len(p.Info.FieldASTs) > 0 {
				node = p.Info.FieldASTs[0]
			}
			return nil, fieldError(e, node, p.Info.Path.AsArray())
		}
		return v, err
	}
}
