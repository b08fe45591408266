package wsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// Request is the payload of a subscribe message (start, in the legacy
// protocol).
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// Operation is a request that passed Options.Prepare and is ready to run.
type Operation struct {
	Doc       *ast.Document
	Name      string // the operation of Doc to run; "" when it has one
	Type      string // ast.OperationTypeQuery, OperationTypeMutation or OperationTypeSubscription
	Variables map[string]any

	// Share, when not "", says that every subscription with the same Share
	// receives the same results, whoever subscribed. The server then runs
	// one graphql.ExecuteSubscription for all of them, executes and encodes
	// each event once, and writes the same bytes to every subscriber: the
	// subscription field's resolvers run once per group, not once per
	// subscriber. Subscriptions whose results could differ must not share.
	Share string
	// Start, when set, runs for each subscriber of a shared subscription
	// before it joins its group: the place for what subscribing does for
	// one subscriber (such as joining the chat), since the resolvers run
	// once per group. An error ends the subscription: it is sent as the
	// result's errors, then complete. gqlerrors.ExtendedError extensions are
	// kept.
	Start func(ctx context.Context) error
}

// The message types of both protocols.
const (
	typeConnectionInit      = "connection_init"
	typeConnectionAck       = "connection_ack"
	typePing                = "ping"
	typePong                = "pong"
	typeSubscribe           = "subscribe"
	typeNext                = "next"
	typeError               = "error"
	typeComplete            = "complete"
	typeConnectionError     = "connection_error"     // legacy
	typeConnectionTerminate = "connection_terminate" // legacy
	typeKeepAlive           = "ka"                   // legacy
	typeStart               = "start"                // legacy
	typeStop                = "stop"                 // legacy
	typeData                = "data"                 // legacy
)

// message is one frame from a client.
type message struct {
	ID      string
	Type    string
	Payload json.RawMessage
}

// errInvalid marks a frame that breaks the protocol; its text is the close
// reason.
var errInvalid = errors.New("invalid message")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errInvalid}, args...)...)
}

// decode reads one frame: a JSON object with a string type, a string id
// where the type needs one, and a payload of the right shape.
func decode(data []byte, legacy bool) (*message, error) {
	var raw struct {
		ID      *string         `json:"id"`
		Type    *string         `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if !isObject(data) {
		return nil, invalid("not a JSON object")
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, invalid("%v", err)
	}
	if raw.Type == nil {
		return nil, invalid("no type")
	}
	m := &message{Type: *raw.Type, Payload: raw.Payload}
	if raw.ID != nil {
		m.ID = *raw.ID
	}
	needsID := false
	switch m.Type {
	case typeConnectionInit, typePing, typePong:
		if legacy && m.Type != typeConnectionInit {
			return m, nil // the legacy handler answers unknown types itself
		}
		if len(raw.Payload) > 0 && !isObject(raw.Payload) && !isNull(raw.Payload) {
			return nil, invalid("%s payload must be an object", m.Type)
		}
	case typeSubscribe, typeStart:
		needsID = true
		if _, err := decodeRequest(raw.Payload); err != nil {
			return nil, err
		}
	case typeComplete, typeStop:
		needsID = true
	}
	if needsID && (raw.ID == nil || *raw.ID == "") {
		return nil, invalid("%s has no id", m.Type)
	}
	return m, nil
}

// decodeRequest reads a subscribe payload strictly: query is a string,
// operationName a string or null, variables and extensions objects or null.
func decodeRequest(payload json.RawMessage) (*Request, error) {
	if !isObject(payload) {
		return nil, invalid("payload must be an object")
	}
	var p struct {
		Query         *string        `json:"query"`
		OperationName *string        `json:"operationName"`
		Variables     map[string]any `json:"variables"`
		Extensions    map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, invalid("payload: %v", err)
	}
	if p.Query == nil {
		return nil, invalid("payload has no query")
	}
	r := &Request{Query: *p.Query, Variables: p.Variables, Extensions: p.Extensions}
	if p.OperationName != nil {
		r.OperationName = *p.OperationName
	}
	return r, nil
}

func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// Frames the server sends that never change.
var (
	ackFrame       = []byte(`{"type":"connection_ack"}`)
	pongFrame      = []byte(`{"type":"pong"}`)
	keepAliveFrame = []byte(`{"type":"ka"}`)
)

// head returns the start of a message for operation id, up to where its
// payload goes: {"id":"1","type":"next","payload":
func head(id, typ string) []byte {
	b := append([]byte(`{"id":`), jsonString(id)...)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	return append(b, `","payload":`...)
}

func completeFrame(id string) []byte {
	return append(append([]byte(`{"id":`), jsonString(id)...), `,"type":"complete"}`...)
}

func connectionErrorFrame(msg string) []byte {
	return append(append([]byte(`{"type":"connection_error","payload":`), jsonMessage(msg)...), '}')
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// encodeResult encodes an execution result once; the bytes may be shared by
// every connection that receives it.
func encodeResult(res *graphql.Result) []byte { return MarshalResult(res, true) }

// MarshalResult is the wire form of a result as this package sends it, for
// other transports to answer the same way: errors carry locations and path
// only when they have them (graphql-go would send "locations":[]), and data
// is left out when withData is false, for a request that never ran.
func MarshalResult(res *graphql.Result, withData bool) []byte {
	type wireError struct {
		Message    string         `json:"message"`
		Locations  any            `json:"locations,omitempty"`
		Path       []any          `json:"path,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}
	var out struct {
		Data       any            `json:"data"`
		Errors     []wireError    `json:"errors,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}
	out.Data, out.Extensions = res.Data, res.Extensions
	for _, e := range res.Errors {
		w := wireError{Message: e.Message, Path: e.Path, Extensions: e.Extensions}
		if len(e.Locations) > 0 {
			w.Locations = e.Locations
		}
		out.Errors = append(out.Errors, w)
	}
	var v any = out
	if !withData {
		v = struct {
			Errors []wireError `json:"errors"`
		}{out.Errors}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"errors":[{"message":"failed to encode the result","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// encodeErrors encodes errors as the payload of an error message: a list in
// graphql-transport-ws, a single error in the legacy protocol.
func encodeErrors(errs []gqlerrors.FormattedError, legacy bool) []byte {
	b := MarshalResult(&graphql.Result{Errors: errs}, false)
	list := b[len(`{"errors":`) : len(b)-1]
	if legacy {
		var first []json.RawMessage
		if json.Unmarshal(list, &first) == nil && len(first) > 0 {
			return first[0]
		}
	}
	return list
}
