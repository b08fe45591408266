package schema

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// plan is an operation compiled to direct calls of the schema's own
// resolvers. It exists for the documents clients send most (postMessage,
// messages, users, with plain fields): graphql-go's executor costs more
// than a post's store write, and several times a history page's read. A
// plan is made only for documents of plain fields (no fragments, no
// directives, no introspection, no repeated keys) and answers exactly as
// graphql-go would, but that fields come in the order of the selection; the
// tests hold the two side by side. A query whose resolver fails is run
// again by graphql-go, so that its errors are graphql-go's to the letter; a
// mutation is not (it would post twice), and reports its field's error
// itself.
type plan struct {
	mutation bool
	fields   []planField
}

// planField is one root field.
type planField struct {
	node    *ast.Field
	key     string // the response key: the alias, or the name
	def     *graphql.FieldDefinition
	args    []planArg
	message []messageField // the selection on Message; nil for users
}

// planArg is one argument, written in the document or a variable.
type planArg struct {
	name     string
	literal  any
	variable string
}

// messageField writes one field of a Message.
type messageField struct {
	key   string
	write func(b []byte, m *chat.Message) []byte
}

var messageFields = map[string]func([]byte, *chat.Message) []byte{
	"id":         func(b []byte, m *chat.Message) []byte { return appendString(b, m.ID) },
	"user":       func(b []byte, m *chat.Message) []byte { return appendString(b, m.User) },
	"text":       func(b []byte, m *chat.Message) []byte { return appendString(b, m.Text) },
	"createdAt":  func(b []byte, m *chat.Message) []byte { return appendString(b, m.CreatedAt.UTC().Format(TimeLayout)) },
	"__typename": func(b []byte, m *chat.Message) []byte { return append(b, `"Message"`...) },
}

// compile returns the plan of op, or nil when graphql-go must run it.
func (s *Schema) compile(op *ast.OperationDefinition) *plan {
	var root *graphql.Object
	switch op.Operation {
	case ast.OperationTypeQuery:
		root = s.QueryType()
	case ast.OperationTypeMutation:
		root = s.MutationType()
	default:
		return nil
	}
	if len(op.Directives) > 0 {
		return nil
	}
	for _, v := range op.VariableDefinitions {
		if v.DefaultValue != nil {
			return nil
		}
	}
	p := &plan{mutation: op.Operation == ast.OperationTypeMutation}
	keys := map[string]bool{}
	for _, sel := range op.SelectionSet.Selections {
		f, ok := sel.(*ast.Field)
		if !ok || len(f.Directives) > 0 || keys[responseKey(f)] {
			return nil
		}
		keys[responseKey(f)] = true
		pf := planField{node: f, key: responseKey(f), def: root.Fields()[f.Name.Value]}
		switch f.Name.Value {
		case "messages", "postMessage":
			if pf.message = compileMessage(f.SelectionSet); pf.message == nil {
				return nil
			}
		case "users":
		default:
			return nil // __typename, introspection, or a field this file does not know
		}
		for _, a := range f.Arguments {
			arg := planArg{name: a.Name.Value}
			switch v := a.Value.(type) {
			case *ast.IntValue:
				n, err := strconv.Atoi(v.Value)
				if err != nil {
					return nil
				}
				arg.literal = n
			case *ast.StringValue:
				arg.literal = v.Value
			case *ast.Variable:
				arg.variable = v.Name.Value
			default:
				return nil
			}
			pf.args = append(pf.args, arg)
		}
		p.fields = append(p.fields, pf)
	}
	return p
}

// compileMessage compiles a selection on Message, or returns nil.
func compileMessage(set *ast.SelectionSet) []messageField {
	if set == nil {
		return nil
	}
	keys := map[string]bool{}
	var fields []messageField
	for _, sel := range set.Selections {
		f, ok := sel.(*ast.Field)
		if !ok || len(f.Directives) > 0 || len(f.Arguments) > 0 || f.SelectionSet != nil || keys[responseKey(f)] {
			return nil
		}
		write := messageFields[f.Name.Value]
		if write == nil {
			return nil
		}
		keys[responseKey(f)] = true
		fields = append(fields, messageField{key: responseKey(f), write: write})
	}
	return fields
}

func responseKey(f *ast.Field) string {
	if f.Alias != nil {
		return f.Alias.Value
	}
	return f.Name.Value
}

// errFallBack tells Execute to let graphql-go run the query.
var errFallBack = errors.New("run through graphql-go")

// run executes the plan with the request's variables, which Prepare has
// checked. It returns errFallBack when graphql-go must run the operation.
func (p *plan) run(ctx context.Context, vars map[string]any) (*graphql.Result, error) {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	var errs []gqlerrors.FormattedError
	for i, f := range p.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f.key), ':')
		v, err := f.def.Resolve(graphql.ResolveParams{Context: ctx, Args: f.arguments(vars)})
		if err != nil {
			if !p.mutation {
				return nil, errFallBack
			}
			// A mutation ran: never again. postMessage is nullable: the
			// field is null, and the error located.
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Message: "internal server error", Code: CodeInternal}
			}
			errs = append(errs, fieldError(e, f.node, []any{f.key}))
			b = append(b, "null"...)
			continue
		}
		switch v := v.(type) {
		case []*chat.Message:
			b = append(b, '[')
			for j, m := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendMessage(b, f.message, m)
			}
			b = append(b, ']')
		case *chat.Message:
			if v == nil {
				b = append(b, "null"...)
			} else {
				b = appendMessage(b, f.message, v)
			}
		case []*string:
			b = append(b, '[')
			for j, s := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, *s)
			}
			b = append(b, ']')
		default:
			return nil, errFallBack
		}
	}
	b = append(b, '}')
	return &graphql.Result{Data: json.RawMessage(b), Errors: errs}, nil
}

// arguments builds a resolver's arguments as graphql-go would: variables
// already coerced by Prepare, Int as int, *string as string, and a missing
// or null argument replaced by its default.
func (f *planField) arguments(vars map[string]any) map[string]any {
	args := make(map[string]any, len(f.def.Args))
	for _, a := range f.args {
		v := a.literal
		if a.variable != "" {
			v = vars[a.variable]
		}
		switch x := v.(type) {
		case *string:
			v = *x
		case float64:
			v = int(x) // an Int variable: Prepare checked it is whole
		}
		if v != nil {
			args[a.name] = v
		}
	}
	for _, d := range f.def.Args {
		if _, ok := args[d.PrivateName]; !ok && d.DefaultValue != nil {
			args[d.PrivateName] = d.DefaultValue
		}
	}
	return args
}

func appendMessage(b []byte, fields []messageField, m *chat.Message) []byte {
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f.key), ':')
		b = f.write(b, m)
	}
	return append(b, '}')
}
