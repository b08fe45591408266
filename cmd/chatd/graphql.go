package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gqlchat/gqlchat/schema"
	"github.com/gqlchat/gqlchat/wsproto"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// The response media types of the GraphQL-over-HTTP specification.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// graphqlHTTP serves queries and mutations over HTTP by the rules of the
// GraphQL-over-HTTP specification. It replaces graphql-go/handler's
// execution path, which answers 200 to everything, takes any content type as
// JSON (a CSRF hole), runs mutations over GET and has no body limit.
type graphqlHTTP struct {
	schema  *schema.Schema
	maxBody int64
	timeout time.Duration
}

func (h *graphqlHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		h.refuse(w, http.StatusNotAcceptable, mediaJSON, "the response is application/json or application/graphql-response+json; the Accept header allows neither")
		return
	}
	var req *schema.Request
	var status int
	var msg string
	switch r.Method {
	case http.MethodPost:
		req, status, msg = h.readPost(w, r)
	case http.MethodGet:
		req, status, msg = readGet(r)
	default:
		w.Header().Set("Allow", "GET, POST")
		status, msg = http.StatusMethodNotAllowed, "use GET for queries and POST for queries and mutations"
	}
	if status != 0 {
		h.refuse(w, status, media, msg)
		return
	}

	op, errs := h.schema.Prepare(req)
	if errs != nil {
		// A request that never ran: 400 with graphql-response+json; with
		// application/json the specification keeps 200.
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		h.write(w, status, media, &graphql.Result{Errors: errs}, false)
		return
	}
	switch op.Type() {
	case ast.OperationTypeSubscription:
		h.refuse(w, http.StatusBadRequest, media, "subscriptions are served over WebSocket at /graphql (graphql-transport-ws)")
		return
	case ast.OperationTypeMutation:
		if r.Method == http.MethodGet {
			w.Header().Set("Allow", "POST")
			h.refuse(w, http.StatusMethodNotAllowed, media, "mutations need POST")
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	h.write(w, http.StatusOK, media, h.schema.Execute(ctx, op), true)
}

// readPost reads a JSON body within the size limit. It returns a status and
// a message when the request is refused.
func (h *graphqlHTTP) readPost(w http.ResponseWriter, r *http.Request) (*schema.Request, int, string) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != mediaJSON {
		return nil, http.StatusUnsupportedMediaType, "the body must be application/json"
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, http.StatusUnsupportedMediaType, "the body must be UTF-8"
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, "the body is larger than " + strconv.FormatInt(h.maxBody, 10) + " bytes"
		}
		return nil, http.StatusBadRequest, "failed to read the body"
	}
	return decodeRequest(body.Bytes())
}

// decodeRequest reads a request object strictly: query a string,
// operationName a string or null, variables and extensions objects or null.
func decodeRequest(body []byte) (*schema.Request, int, string) {
	var raw struct {
		Query         *string         `json:"query"`
		OperationName *string         `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, http.StatusBadRequest, "the body must be a JSON object"
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, http.StatusBadRequest, "the body is not a valid GraphQL request: " + err.Error()
	}
	if raw.Query == nil || *raw.Query == "" {
		return nil, http.StatusBadRequest, "the request has no query"
	}
	req := &schema.Request{Query: *raw.Query}
	if raw.OperationName != nil {
		req.OperationName = *raw.OperationName
	}
	if err := decodeObject(raw.Variables, &req.Variables); err != nil {
		return nil, http.StatusBadRequest, "variables must be an object: " + err.Error()
	}
	if err := decodeObject(raw.Extensions, &req.Extensions); err != nil {
		return nil, http.StatusBadRequest, "extensions must be an object: " + err.Error()
	}
	return req, 0, ""
}

// readGet reads a request from the URL's query, where variables and
// extensions are JSON text.
func readGet(r *http.Request) (*schema.Request, int, string) {
	q := r.URL.Query()
	req := &schema.Request{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if req.Query == "" {
		return nil, http.StatusBadRequest, "the request has no query"
	}
	if err := decodeObject([]byte(q.Get("variables")), &req.Variables); err != nil {
		return nil, http.StatusBadRequest, "variables must be a JSON object: " + err.Error()
	}
	if err := decodeObject([]byte(q.Get("extensions")), &req.Extensions); err != nil {
		return nil, http.StatusBadRequest, "extensions must be a JSON object: " + err.Error()
	}
	return req, 0, ""
}

// decodeObject decodes a JSON object, or nothing for empty or null input.
func decodeObject(b []byte, v *map[string]any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '{' {
		return errors.New("not an object")
	}
	return json.Unmarshal(b, v)
}

// negotiate picks the response media type from an Accept header: the
// acceptable type with the highest quality, application/json for */* or no
// header, as the specification asks while clients move to
// graphql-response+json.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		var media string
		switch mt {
		case mediaGraphQLResponse:
			media = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			media = mediaJSON
		default:
			continue
		}
		if q > bestQ || q == bestQ && media == mediaGraphQLResponse {
			best, bestQ = media, q
		}
	}
	return best, best != ""
}

// refuse answers a request that did not reach execution.
func (h *graphqlHTTP) refuse(w http.ResponseWriter, status int, media, msg string) {
	e := gqlerrors.NewFormattedError(msg)
	e.Extensions = map[string]any{"code": schema.CodeBadUserInput}
	if status == http.StatusMethodNotAllowed || status == http.StatusNotAcceptable || status == http.StatusUnsupportedMediaType {
		e.Extensions = nil
	}
	h.write(w, status, media, &graphql.Result{Errors: []gqlerrors.FormattedError{e}}, false)
}

// write answers with res; withData is false for a request that never ran,
// whose answer has no data entry.
func (h *graphqlHTTP) write(w http.ResponseWriter, status int, media string, res *graphql.Result, withData bool) {
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(wsproto.MarshalResult(res, withData))
}
