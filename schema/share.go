package schema

import (
	"context"
	"encoding/json"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/printer"
)

// subscriberArgs names, for each subscription field, the argument that
// names the subscriber. Subscribing joins that name, but the events do not
// depend on it: two subscriptions that differ only there receive the same
// bytes. That is what lets a transport execute each event once for every
// subscriber (Operation.Share) instead of once per subscriber.
var subscriberArgs = map[string]string{
	"messagePosted": "user",
	"userJoined":    "user",
}

// share sets op.Share and op.Start when op is a subscription whose results
// do not depend on its subscriber: Share is the document printed without
// the subscriber argument, with the variables it still uses; Start joins the
// subscriber, which the resolvers, run once for all sharers, cannot do for
// each.
func (s *Schema) share(op *Operation) {
	if op.Type() != ast.OperationTypeSubscription || len(op.Def.SelectionSet.Selections) != 1 {
		return
	}
	root, ok := op.Def.SelectionSet.Selections[0].(*ast.Field)
	if !ok {
		return // selected through a fragment: rare, and not worth sharing
	}
	argName, ok := subscriberArgs[root.Name.Value]
	if !ok {
		return
	}
	var user any
	kept := make([]*ast.Argument, 0, len(root.Arguments))
	for _, a := range root.Arguments {
		if a.Name.Value != argName {
			kept = append(kept, a)
			continue
		}
		switch v := a.Value.(type) {
		case *ast.StringValue:
			user = v.Value
		case *ast.Variable:
			user = op.Variables[v.Name.Value]
		}
	}
	var name string
	switch u := user.(type) {
	case string:
		name = u
	case *string: // see fastStrings
		name = *u
	default:
		return
	}

	// Print the document with the root field stripped of the argument.
	stripped := *root
	stripped.Arguments = kept
	def := *op.Def
	def.SelectionSet = &ast.SelectionSet{Kind: op.Def.SelectionSet.Kind, Selections: []ast.Selection{&stripped}}
	doc := *op.Doc
	doc.Definitions = make([]ast.Node, len(op.Doc.Definitions))
	for i, d := range op.Doc.Definitions {
		doc.Definitions[i] = d
		if d == op.Def {
			doc.Definitions[i] = &def
		}
	}
	used := map[string]any{}
	for v := range variablesIn(def.SelectionSet, fragments(op.Doc)) {
		used[v] = op.Variables[v]
	}
	vars, err := json.Marshal(used) // maps marshal with sorted keys
	if err != nil {
		return
	}
	op.Share = printer.Print(&doc).(string) + "\x00" + op.OperationName + "\x00" + string(vars)
	responseName := root.Name.Value
	if root.Alias != nil {
		responseName = root.Alias.Value
	}
	op.Start = func(ctx context.Context) error {
		if _, err := s.svc.Join(ctx, chat.DefaultRoom, name); err != nil {
			return fieldError(clientError(s.log, root.Name.Value, err), root, []any{responseName})
		}
		return nil
	}
}

// variablesIn returns the names of the variables that set uses, through
// fragments.
func variablesIn(set *ast.SelectionSet, frags map[string]*ast.FragmentDefinition) map[string]bool {
	used := map[string]bool{}
	var value func(ast.Value)
	value = func(v ast.Value) {
		switch v := v.(type) {
		case *ast.Variable:
			used[v.Name.Value] = true
		case *ast.ListValue:
			for _, x := range v.Values {
				value(x)
			}
		case *ast.ObjectValue:
			for _, f := range v.Fields {
				value(f.Value)
			}
		}
	}
	directives := func(ds []*ast.Directive) {
		for _, d := range ds {
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	seen := map[string]bool{}
	var walk func(*ast.SelectionSet)
	walk = func(set *ast.SelectionSet) {
		if set == nil {
			return
		}
		for _, sel := range set.Selections {
			switch sel := sel.(type) {
			case *ast.Field:
				for _, a := range sel.Arguments {
					value(a.Value)
				}
				directives(sel.Directives)
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				directives(sel.Directives)
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				directives(sel.Directives)
				if f := frags[sel.Name.Value]; f != nil && !seen[f.Name.Value] {
					seen[f.Name.Value] = true
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return used
}
