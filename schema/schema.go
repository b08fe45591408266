// Package schema is the chat's GraphQL schema, built code-first with
// github.com/graphql-go/graphql over a chat.Service, and the checks every
// request passes before it runs, whatever its transport.
//
// The schema is the seed's, kept exactly (messages gained optional limit and
// before arguments). Errors carry extensions.code: BAD_USER_INPUT,
// RATE_LIMITED, UNAVAILABLE, SLOW_SUBSCRIBER or INTERNAL_SERVER_ERROR, and
// GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED for documents that never
// ran.
package schema

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
)

// Options configures a Schema. A nil *Options means defaults.
type Options struct {
	// MaxDepth is the deepest selection a document may have, counting
	// fields through fragments. Defaults to 16, which admits the
	// introspection queries of GraphiQL and GraphQL Playground.
	MaxDepth int
	// CacheSize is how many parsed and validated documents are kept.
	// Defaults to 1000.
	CacheSize int
	// Logger receives resolver failures and panics. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Schema is the executable schema with its request checks and document
// cache.
type Schema struct {
	graphql.Schema
	svc      *chat.Service
	maxDepth int
	docs     *cache
	log      *slog.Logger
}

// New builds the schema over svc.
func New(svc *chat.Service, opts *Options) (*Schema, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 16
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Schema{svc: svc, maxDepth: o.MaxDepth, docs: newCache(o.CacheSize), log: o.Logger}
	g := func(field string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
		return guard(o.Logger, field, fn)
	}
	gs := func(field string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
		return guardSubscribe(o.Logger, field, fn)
	}
	var err error
	if s.Schema, err = graphql.NewSchema(root(svc, g, gs)); err != nil {
		return nil, fmt.Errorf("failed to build schema: %w", err)
	}
	return s, nil
}

// Execute runs a prepared query or mutation: by its plan when it has one,
// else by graphql-go.
func (s *Schema) Execute(ctx context.Context, op *Operation) *graphql.Result {
	if op.plan != nil {
		if res, err := op.plan.run(ctx, op.Variables); err == nil {
			return res
		}
	}
	return graphql.Execute(graphql.ExecuteParams{
		Schema:        s.Schema,
		AST:           op.Doc,
		OperationName: op.OperationName,
		Args:          op.Variables,
		Context:       ctx,
	})
}
