package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"testing/quick"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
)

// TestPlansAnswerAsGraphQLGo runs each request by its plan and by
// graphql-go, and compares the answers: data, and errors with their
// messages, locations, paths and extensions.
func TestPlansAnswerAsGraphQLGo(t *testing.T) {
	s, svc, _ := newSchema(t)
	ctx := context.Background()
	for _, text := range []string{"hello", `<b>"quoted" & \back\slashed</b>`, "line\nbreak\ttab \u2028 \x01 é 😀"} {
		if _, err := svc.Post(ctx, chat.DefaultRoom, "ann", text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Join(ctx, chat.DefaultRoom, "bob"); err != nil {
		t.Fatal(err)
	}
	oldest := must(svc.Messages(ctx, chat.DefaultRoom, 3, ""))[2].ID
	for _, tc := range []struct {
		query string
		vars  map[string]any
	}{
		{`{ messages { id user text createdAt } }`, nil},
		{`{ messages { __typename text id } users }`, nil},
		{`query { m: messages(limit: 2) { t: text at: createdAt } u: users }`, nil},
		{`query($n: Int, $b: String) { messages(limit: $n, before: $b) { id text } }`, map[string]any{"n": 1.0}},
		{`query($n: Int, $b: String) { messages(limit: $n, before: $b) { id text } }`, map[string]any{"b": oldest}},
		{`query($n: Int, $b: String) { messages(limit: $n, before: $b) { id text } }`, map[string]any{"n": nil, "b": nil}},
		{`{ messages(before: "2ZZZZZZZZZZZZZZZZZZZZZZZZZZ") { id } }`, nil},
		{`{ users }`, nil},
		// Resolver errors: a query falls back to graphql-go.
		{`{ messages(limit: 0) { id } }`, nil},
		{`{ users messages(before: "x") { id } }`, nil},
		// A mutation refused: null and a located error, posted by neither.
		{`mutation($u: String!, $t: String!) { postMessage(user: $u, text: $t) { id } }`, map[string]any{"u": " ", "t": "hi"}},
		{"mutation {\n  p: postMessage(user: \"ann\", text: \"   \") { id user }\n}", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			viaPlan := s.Execute(ctx, prepareWithPlan(t, s, tc.query, tc.vars))
			op := prepare(t, s, tc.query, maps.Clone(tc.vars))
			viaGo := graphql.Execute(graphql.ExecuteParams{Schema: s.Schema, AST: op.Doc, Args: op.Variables, Context: ctx})
			if got, want := normalize(t, viaPlan), normalize(t, viaGo); !reflect.DeepEqual(got, want) {
				t.Errorf("plan answered\n%s\ngraphql-go answered\n%s", got, want)
			}
		})
	}

	// A post that succeeds answers in the same shape, with what was posted.
	res := s.Execute(ctx, prepareWithPlan(t, s, `mutation { p: postMessage(user: " zoe ", text: "new") { text user __typename } }`, nil))
	if got := normalize(t, res); got != `{"data":{"p":{"__typename":"Message","text":"new","user":"zoe"}}}` {
		t.Errorf("postMessage by plan = %s", got)
	}
}

func TestNoPlanForWhatGraphQLGoMustRun(t *testing.T) {
	s, _, _ := newSchema(t)
	for _, q := range []string{
		`{ ...F } fragment F on Query { users }`,
		`{ messages { ... on Message { id } } }`,
		`query($x: Boolean!) { users @include(if: $x) }`,
		`{ __typename users }`,
		`{ __schema { queryType { name } } }`,
		`{ users users }`,
		`{ messages { id id } }`,
		`query($n: Int = 3) { messages(limit: $n) { id } }`,
		`subscription { userJoined(user: "a") }`,
	} {
		if op := prepare(t, s, q, map[string]any{"x": true}); op.plan != nil {
			t.Errorf("%s has a plan; graphql-go must run it", q)
		}
	}
}

// TestAppendStringIsJSON compares appendString with encoding/json.
func TestAppendStringIsJSON(t *testing.T) {
	check := func(s string) bool {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		return string(appendString(nil, s)) == strings.TrimSuffix(want.String(), "\n")
	}
	for _, s := range []string{"", "plain", "\"\\/", "\x00\x1f\x7f", "\b\f\n\r\t", "\u2028\u2029", "a\xffb", "\xed\xa0\x80", "😀é", "<>&"} {
		if !check(s) {
			t.Errorf("appendString(%q) = %s", s, appendString(nil, s))
		}
	}
	if err := quick.Check(check, &quick.Config{MaxCount: 10000}); err != nil {
		t.Error(err)
	}
}

// BenchmarkPlanHistory runs a history page of 50 messages by plan and by
// graphql-go.
func BenchmarkPlanHistory(b *testing.B) {
	s, svc, _ := newSchema(b)
	for i := range 50 {
		svc.Post(context.Background(), chat.DefaultRoom, "ann", fmt.Sprint("message ", i))
	}
	const q = `{ messages(limit: 50) { id user text createdAt } }`
	b.Run("plan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			op, _ := s.Prepare(&Request{Query: q})
			s.Execute(context.Background(), op)
		}
	})
	b.Run("graphql-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			op, _ := s.Prepare(&Request{Query: q})
			graphql.Execute(graphql.ExecuteParams{Schema: s.Schema, AST: op.Doc, Context: context.Background()})
		}
	})
}

func prepareWithPlan(t *testing.T, s *Schema, query string, vars map[string]any) *Operation {
	t.Helper()
	op := prepare(t, s, query, maps.Clone(vars))
	if op.plan == nil {
		t.Fatalf("no plan for %s", query)
	}
	return op
}

// normalize encodes a result with its data decoded, so that maps compare
// whatever their order.
func normalize(t *testing.T, res *graphql.Result) string {
	t.Helper()
	var data any
	switch d := res.Data.(type) {
	case json.RawMessage:
		if err := json.Unmarshal(d, &data); err != nil {
			t.Fatalf("plan wrote invalid JSON %s: %v", d, err)
		}
	default:
		b, _ := json.Marshal(d)
		json.Unmarshal(b, &data)
	}
	out, _ := json.Marshal(map[string]any{"data": data, "errors": res.Errors})
	if len(res.Errors) == 0 {
		out, _ = json.Marshal(map[string]any{"data": data})
	}
	return string(out)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
