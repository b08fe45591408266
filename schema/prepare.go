package schema

import (
	"context"
	"fmt"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
)

// Request is a GraphQL request as a client sends it, over HTTP or WebSocket.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// Operation is a request that passed every check and is ready to run.
type Operation struct {
	*Request
	Doc *ast.Document
	Def *ast.OperationDefinition

	// Share, set on subscriptions whose events do not depend on who
	// subscribed, is equal for every subscription that receives the same
	// results: a transport may execute each event once for all of them.
	// Start then does, for each subscriber, what subscribing does beyond
	// the stream (joining the chat). See wsproto.Operation.
	Share string
	Start func(ctx context.Context) error

	plan *plan // how Execute runs it without graphql-go, when it can
}

// Type is "query", "mutation" or "subscription".
func (op *Operation) Type() string { return op.Def.Operation }

// Prepare checks req before it runs: it parses and validates the document
// (once per distinct query text, then from the cache), with a depth limit and
// one root field per subscription on top of the specification's rules; it
// picks the operation; and it checks the variables strictly, since
// graphql-go would turn 3.5 into the Int 3 and any JSON value into a String.
// The errors it returns are ready to send, each with extensions.code.
// Prepare rewrites the String values of req.Variables as *string, which
// graphql-go coerces without formatting them (see fastStrings).
func (s *Schema) Prepare(req *Request) (*Operation, []gqlerrors.FormattedError) {
	if req.Query == "" {
		return nil, requestError(CodeBadUserInput, "the request has no query")
	}
	p := s.docs.get(req.Query)
	if p == nil {
		p = s.parse(req.Query)
		s.docs.put(req.Query, p)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	def, err := pickOperation(p.doc, req.OperationName)
	if err != nil {
		return nil, requestError(CodeBadUserInput, err.Error())
	}
	if errs := s.checkVariables(def, req.Variables); len(errs) > 0 {
		return nil, errs
	}
	op := &Operation{Request: req, Doc: p.doc, Def: def, plan: p.plans[def]}
	s.share(op)
	return op, nil
}

// parse parses and validates query.
func (s *Schema) parse(query string) *parsed {
	if tooDeep(query, 2*s.maxDepth+2) {
		// Refused before parsing: the parser and validator recurse.
		return &parsed{errs: requestError(CodeValidation, fmt.Sprintf("the document is nested too deeply (the limit is %d fields)", s.maxDepth))}
	}
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"})})
	if err != nil {
		return &parsed{errs: withCode(gqlerrors.FormatErrors(err), CodeParseFailed)}
	}
	if r := graphql.ValidateDocument(&s.Schema, doc, nil); !r.IsValid {
		return &parsed{errs: withCode(r.Errors, CodeValidation)}
	}
	if errs := checkDepth(doc, s.maxDepth); len(errs) > 0 {
		return &parsed{errs: withCode(errs, CodeValidation)}
	}
	if errs := checkSingleRootField(doc); len(errs) > 0 {
		return &parsed{errs: withCode(errs, CodeValidation)}
	}
	plans := map[*ast.OperationDefinition]*plan{}
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok {
			plans[op] = s.compile(op)
		}
	}
	return &parsed{doc: doc, plans: plans}
}

// pickOperation returns the operation named name, or the only one.
func pickOperation(doc *ast.Document, name string) (*ast.OperationDefinition, error) {
	var found *ast.OperationDefinition
	n := 0
	for _, d := range doc.Definitions {
		op, ok := d.(*ast.OperationDefinition)
		if !ok {
			continue
		}
		n++
		if name == "" || (op.Name != nil && op.Name.Value == name) {
			found = op
		}
	}
	switch {
	case name == "" && n > 1:
		return nil, fmt.Errorf("the document has %d operations: name one with operationName", n)
	case found == nil && name != "":
		return nil, fmt.Errorf("unknown operation named %q", name)
	case found == nil:
		return nil, fmt.Errorf("the document has no operation")
	}
	return found, nil
}

// requestError is one error about the request as a whole.
func requestError(code, msg string) []gqlerrors.FormattedError {
	e := gqlerrors.NewFormattedError(msg)
	e.Extensions = map[string]any{"code": code}
	return []gqlerrors.FormattedError{e}
}

func withCode(errs []gqlerrors.FormattedError, code string) []gqlerrors.FormattedError {
	for i := range errs {
		if errs[i].Extensions == nil {
			errs[i].Extensions = map[string]any{"code": code}
		}
	}
	return errs
}
