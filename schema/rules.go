package schema

import (
	"fmt"
	"strings"

	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/location"
)

// tooDeep reports whether query nests braces, brackets or parentheses deeper
// than limit, ignoring strings and comments. It is a cheap guard that runs
// before the recursive parser; checkDepth is the exact rule.
func tooDeep(query string, limit int) bool {
	depth := 0
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '{', '[', '(':
			if depth++; depth > limit {
				return true
			}
		case '}', ']', ')':
			depth--
		case '#':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case '"':
			if strings.HasPrefix(query[i:], `"""`) { // a block string, where \""" is not its end
				for i += 3; i < len(query) && !(strings.HasPrefix(query[i:], `"""`) && query[i-1] != '\\'); i++ {
				}
				i += 2
				continue
			}
			for i++; i < len(query) && query[i] != '"' && query[i] != '\n'; i++ {
				if query[i] == '\\' {
					i++
				}
			}
		}
	}
	return false
}

// checkDepth rejects operations whose fields nest deeper than max, counting
// through fragments. It runs after validation, which has ruled out fragment
// cycles.
func checkDepth(doc *ast.Document, max int) []gqlerrors.FormattedError {
	frags := fragments(doc)
	var errs []gqlerrors.FormattedError
	for _, d := range doc.Definitions {
		op, ok := d.(*ast.OperationDefinition)
		if !ok {
			continue
		}
		if depth := selectionDepth(op.SelectionSet, frags); depth > max {
			errs = append(errs, located(doc, op.Loc, fmt.Sprintf("the operation is %d fields deep; the limit is %d", depth, max)))
		}
	}
	return errs
}

func selectionDepth(set *ast.SelectionSet, frags map[string]*ast.FragmentDefinition) int {
	if set == nil {
		return 0
	}
	deepest := 0
	for _, sel := range set.Selections {
		d := 0
		switch sel := sel.(type) {
		case *ast.Field:
			d = 1 + selectionDepth(sel.SelectionSet, frags)
		case *ast.InlineFragment:
			d = selectionDepth(sel.SelectionSet, frags)
		case *ast.FragmentSpread:
			if f := frags[sel.Name.Value]; f != nil {
				d = selectionDepth(f.SelectionSet, frags)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// checkSingleRootField rejects a subscription that selects more than one
// root field: graphql-go would run one of them, picked at random.
func checkSingleRootField(doc *ast.Document) []gqlerrors.FormattedError {
	frags := fragments(doc)
	var errs []gqlerrors.FormattedError
	for _, d := range doc.Definitions {
		op, ok := d.(*ast.OperationDefinition)
		if !ok || op.Operation != ast.OperationTypeSubscription {
			continue
		}
		names := map[string]bool{}
		rootFields(op.SelectionSet, frags, names)
		if len(names) != 1 {
			errs = append(errs, located(doc, op.Loc, fmt.Sprintf("a subscription must select exactly one root field; this one selects %d", len(names))))
		}
	}
	return errs
}

// rootFields adds the response names that set selects, through fragments.
func rootFields(set *ast.SelectionSet, frags map[string]*ast.FragmentDefinition, names map[string]bool) {
	for _, sel := range set.Selections {
		switch sel := sel.(type) {
		case *ast.Field:
			name := sel.Name.Value
			if sel.Alias != nil {
				name = sel.Alias.Value
			}
			names[name] = true
		case *ast.InlineFragment:
			rootFields(sel.SelectionSet, frags, names)
		case *ast.FragmentSpread:
			if f := frags[sel.Name.Value]; f != nil {
				rootFields(f.SelectionSet, frags, names)
			}
		}
	}
}

func fragments(doc *ast.Document) map[string]*ast.FragmentDefinition {
	frags := map[string]*ast.FragmentDefinition{}
	for _, d := range doc.Definitions {
		if f, ok := d.(*ast.FragmentDefinition); ok {
			frags[f.Name.Value] = f
		}
	}
	return frags
}

// located is an error pointing at loc in doc.
func located(doc *ast.Document, loc *ast.Location, msg string) gqlerrors.FormattedError {
	e := gqlerrors.NewFormattedError(msg)
	if loc != nil && loc.Source != nil {
		e.Locations = []location.SourceLocation{location.GetLocation(loc.Source, loc.Start)}
	}
	return e
}
