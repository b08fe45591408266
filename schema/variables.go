package schema

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// checkVariables checks each variable of op against its declared type, the
// way the specification coerces input: an Int is a whole number in 32 bits, a
// String is a string, and so on. graphql-go is lenient here. It rewrites
// String values in vars to *string (fastStrings).
func (s *Schema) checkVariables(op *ast.OperationDefinition, vars map[string]any) []gqlerrors.FormattedError {
	var errs []gqlerrors.FormattedError
	for _, def := range op.VariableDefinitions {
		name := def.Variable.Name.Value
		v, given := vars[name]
		if !given && def.DefaultValue != nil {
			continue
		}
		if problem := s.checkTyped(def.Type, v); problem != "" {
			value, _ := json.Marshal(v)
			if len(value) > 64 {
				value = append(value[:61], "..."...)
			}
			msg := fmt.Sprintf("Variable \"$%s\" got invalid value %s: %s", name, value, problem)
			if !given {
				msg = fmt.Sprintf("Variable \"$%s\" of required type %q was not provided", name, typeString(def.Type))
			}
			errs = append(errs, requestError(CodeBadUserInput, msg)...)
			continue
		}
		if given {
			vars[name] = fastStrings(def.Type, v)
		}
	}
	return errs
}

// fastStrings returns v with each String value of type t replaced by a
// pointer to it: graphql-go coerces a *string as it is, and a string with
// fmt.Sprintf (see messageType). v has passed checkTyped.
func fastStrings(t ast.Type, v any) any {
	switch t := t.(type) {
	case *ast.NonNull:
		return fastStrings(t.Type, v)
	case *ast.List:
		if list, ok := v.([]any); ok {
			for i, x := range list {
				list[i] = fastStrings(t.Type, x)
			}
			return list
		}
		return fastStrings(t.Type, v)
	case *ast.Named:
		if s, ok := v.(string); ok && t.Name.Value == "String" {
			return &s
		}
	}
	return v
}

// checkTyped checks v against a type as written in the document.
func (s *Schema) checkTyped(t ast.Type, v any) string {
	switch t := t.(type) {
	case *ast.NonNull:
		if v == nil {
			return "expected a value, found null"
		}
		return s.checkTyped(t.Type, v)
	case *ast.List:
		return checkList(v, func(x any) string { return s.checkTyped(t.Type, x) })
	case *ast.Named:
		typ, ok := s.Type(t.Name.Value).(graphql.Input)
		if !ok {
			return "unknown input type " + t.Name.Value
		}
		return checkInput(typ, v)
	}
	return "unknown type"
}

// checkInput checks v against a schema input type.
func checkInput(t graphql.Input, v any) string {
	if nn, ok := t.(*graphql.NonNull); ok {
		if v == nil {
			return "expected a value, found null"
		}
		t = nn.OfType
	}
	if v == nil {
		return ""
	}
	switch t := t.(type) {
	case *graphql.List:
		return checkList(v, func(x any) string { return checkInput(t.OfType, x) })
	case *graphql.InputObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return "expected an object"
		}
		fields := t.Fields()
		for name := range obj {
			if fields[name] == nil {
				return fmt.Sprintf("field %q is not defined by %s", name, t.Name())
			}
		}
		for name, f := range fields {
			if p := checkInput(f.Type, obj[name]); p != "" {
				return fmt.Sprintf("in field %q: %s", name, p)
			}
		}
		return ""
	case *graphql.Enum:
		if _, ok := v.(string); !ok || t.ParseValue(v) == nil {
			return "expected a value of enum " + t.Name()
		}
		return ""
	case *graphql.Scalar:
		return checkScalar(t, v)
	}
	return "not an input type"
}

func checkList(v any, each func(any) string) string {
	if v == nil {
		return ""
	}
	list, ok := v.([]any)
	if !ok {
		return each(v) // a single value stands for a list of one
	}
	for i, x := range list {
		if p := each(x); p != "" {
			return fmt.Sprintf("at index %d: %s", i, p)
		}
	}
	return ""
}

func checkScalar(t *graphql.Scalar, v any) string {
	switch t.Name() {
	case "Int":
		f, ok := number(v)
		if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return "Int cannot represent it: expected a whole number between -2^31 and 2^31-1"
		}
	case "Float":
		if _, ok := number(v); !ok {
			return "Float cannot represent it: expected a number"
		}
	case "String":
		switch v.(type) {
		case string, *string: // *string: a request prepared before (fastStrings)
		default:
			return "String cannot represent it: expected a string"
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return "Boolean cannot represent it: expected true or false"
		}
	case "ID":
		f, isNum := number(v)
		if _, isStr := v.(string); !isStr && !(isNum && f == math.Trunc(f)) {
			return "ID cannot represent it: expected a string or a whole number"
		}
	default:
		if t.ParseValue(v) == nil {
			return t.Name() + " cannot represent it"
		}
	}
	return ""
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int:
		return float64(n), true
	}
	return 0, false
}

func typeString(t ast.Type) string {
	switch t := t.(type) {
	case *ast.NonNull:
		return typeString(t.Type) + "!"
	case *ast.List:
		return "[" + typeString(t.Type) + "]"
	case *ast.Named:
		return t.Name.Value
	}
	return "?"
}
