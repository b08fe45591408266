package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/wsproto/wstest"
)

const (
	postMutation = `mutation($user: String!, $text: String!) { postMessage(user: $user, text: $text) { id user text createdAt } }`
	messagesSub  = `subscription($user: String!) { messagePosted(user: $user) { id user text createdAt } }`
	joinsSub     = `subscription($user: String!) { userJoined(user: $user) }`
)

// TestSeedOperations runs every operation of the seed's schema, over HTTP
// and WebSocket, on both stores.
func TestSeedOperations(t *testing.T) {
	eachStore(t, func(t *testing.T, store func(*Config)) {
		m := runMain(t, store)

		ws := wstest.Dial(t, m.URL()+"/graphql", "graphql-transport-ws")
		ws.Init()
		ws.Subscribe("msgs", messagesSub, wstest.Msg{"user": "ann"})
		waitForSubscriptions(t, m, 1) // ann has joined: the next subscription will not hear of it
		ws.Subscribe("joins", joinsSub, wstest.Msg{"user": "ann"})
		waitForSubscriptions(t, m, 2, 2)

		posted := mustGQL(t, m, postMutation, map[string]any{"user": "bob", "text": "hello <b>world</b>"})["postMessage"].(map[string]any)
		if posted["user"] != "bob" || posted["text"] != "hello <b>world</b>" || len(posted["id"].(string)) != 27 {
			t.Errorf("postMessage = %v", posted)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", posted["createdAt"].(string)); err != nil {
			t.Errorf("createdAt %q is not RFC 3339 UTC with milliseconds: %v", posted["createdAt"], err)
		}

		// bob's first post announces bob and delivers the message; the two
		// subscriptions' frames may come in either order.
		got := map[string]any{}
		for range 2 {
			f := ws.Next()
			got[f["id"].(string)] = wstest.Data(f)
		}
		if want := fmt.Sprint(map[string]any{"userJoined": "bob"}); fmt.Sprint(got["joins"]) != want {
			t.Errorf("joins got %v, want %v", got["joins"], want)
		}
		if want := fmt.Sprint(map[string]any{"messagePosted": posted}); fmt.Sprint(got["msgs"]) != want {
			t.Errorf("msgs got %v, want %v", got["msgs"], want)
		}

		data := mustGQL(t, m, `{ messages { id user text createdAt } users }`, nil)
		msgs := data["messages"].([]any)
		if len(msgs) != 1 || fmt.Sprint(msgs[0]) != fmt.Sprint(posted) {
			t.Errorf("messages = %v, want [%v]", msgs, posted)
		}
		if users := fmt.Sprint(data["users"]); users != "[ann bob]" {
			t.Errorf("users = %s, want [ann bob]", users)
		}

		// complete stops the stream: nothing more arrives for it.
		ws.Send(wstest.Msg{"id": "msgs", "type": "complete"})
		ws.Send(wstest.Msg{"type": "ping"}) // the reader takes frames in order: once pong comes, complete is done
		ws.Expect("pong", "")
		mustGQL(t, m, postMutation, map[string]any{"user": "bob", "text": "after complete"})
		ws.Send(wstest.Msg{"type": "ping"})
		if got := ws.Next(); got["type"] != "pong" {
			t.Errorf("after complete got %v, want only the pong", got)
		}
	})
}

// TestTwoTabsOneName is the seed's defect: a second subscription of one name
// replaced the first. Here both receive every message, in order.
func TestTwoTabsOneName(t *testing.T) {
	eachStore(t, func(t *testing.T, store func(*Config)) {
		m := runMain(t, store)
		tabs := []*wstest.Client{wstest.Dial(t, m.URL()+"/graphql", "graphql-transport-ws"), wstest.Dial(t, m.URL()+"/graphql", "graphql-transport-ws")}
		for _, tab := range tabs {
			tab.Init()
			tab.Subscribe("1", messagesSub, wstest.Msg{"user": "ann"})
		}
		waitForSubscriptions(t, m, 2)
		var want []string
		for i := range 20 {
			text := fmt.Sprint("message ", i)
			want = append(want, text)
			mustGQL(t, m, postMutation, map[string]any{"user": fmt.Sprint("user", i%3), "text": text})
		}
		for i, tab := range tabs {
			var got []string
			for range want {
				got = append(got, wstest.Data(tab.Expect("next", "1"))["messagePosted"].(map[string]any)["text"].(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("tab %d got %q, want %q", i+1, got, want)
			}
		}
	})
}

// TestPagingThroughHTTP pages through history with limit and before.
func TestPagingThroughHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, store func(*Config)) {
		m := runMain(t, store)
		for i := range 12 {
			mustGQL(t, m, postMutation, map[string]any{"user": "ann", "text": fmt.Sprint(i)})
		}
		var got []string
		before := any(nil)
		for range 5 {
			page := mustGQL(t, m, `query($before: String) { messages(limit: 5, before: $before) { id text } }`, map[string]any{"before": before})["messages"].([]any)
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				got = append(got, p.(map[string]any)["text"].(string))
			}
			before = page[len(page)-1].(map[string]any)["id"]
		}
		if want := "11 10 9 8 7 6 5 4 3 2 1 0"; strings.Join(got, " ") != want {
			t.Errorf("paged texts = %q, want %q", strings.Join(got, " "), want)
		}
	})
}

// TestInputRules checks that every input rule answers with its code.
func TestInputRules(t *testing.T) {
	m := runMain(t)
	long := strings.Repeat("x", 2001)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		code        string
	}{
		{"empty name", postMutation, map[string]any{"user": " ", "text": "hi"}, "BAD_USER_INPUT"},
		{"long name", postMutation, map[string]any{"user": strings.Repeat("n", 33), "text": "hi"}, "BAD_USER_INPUT"},
		{"control character", postMutation, map[string]any{"user": "a\u0000b", "text": "hi"}, "BAD_USER_INPUT"},
		{"blank text", postMutation, map[string]any{"user": "ann", "text": "  "}, "BAD_USER_INPUT"},
		{"long text", postMutation, map[string]any{"user": "ann", "text": long}, "BAD_USER_INPUT"},
		{"text not a string", postMutation, map[string]any{"user": "ann", "text": map[string]any{"a": 1}}, "BAD_USER_INPUT"},
		{"name not a string", postMutation, map[string]any{"user": 5, "text": "hi"}, "BAD_USER_INPUT"},
		{"missing variable", postMutation, map[string]any{"user": "ann"}, "BAD_USER_INPUT"},
		{"limit 0", `{ messages(limit: 0) { id } }`, nil, "BAD_USER_INPUT"},
		{"limit 501", `{ messages(limit: 501) { id } }`, nil, "BAD_USER_INPUT"},
		{"fractional limit", `query($n: Int) { messages(limit: $n) { id } }`, map[string]any{"n": 3.5}, "BAD_USER_INPUT"},
		{"limit as string", `query($n: Int) { messages(limit: $n) { id } }`, map[string]any{"n": "3"}, "BAD_USER_INPUT"},
		{"bad before", `{ messages(before: "x") { id } }`, nil, "BAD_USER_INPUT"},
		{"syntax error", `{ messages { id }`, nil, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", `{ nope }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		{"too deep", "{ __schema { types { fields { type {" + strings.Repeat(" ofType {", 12) + " name" + strings.Repeat(" }", 17), nil, "GRAPHQL_VALIDATION_FAILED"},
		{"absurdly deep", "{" + strings.Repeat(" messages {", 5000) + " id" + strings.Repeat(" }", 5000) + " }", nil, "GRAPHQL_VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gql(t, m, tc.query, tc.vars)
			if r.code() != tc.code {
				t.Errorf("code = %q (%+v), want %q", r.code(), r.Errors, tc.code)
			}
		})
	}
	if msgs := mustGQL(t, m, `{ messages { id } }`, nil)["messages"].([]any); len(msgs) != 0 {
		t.Errorf("%d messages stored by refused posts", len(msgs))
	}
	t.Run("bad name on a subscription", func(t *testing.T) {
		ws := wstest.Dial(t, m.URL()+"/graphql", "graphql-transport-ws")
		ws.Init()
		ws.Subscribe("1", messagesSub, wstest.Msg{"user": " "})
		errs, _ := ws.Expect("next", "1")["payload"].(map[string]any)["errors"].([]any)
		e, _ := errs[0].(map[string]any)
		if code := fmt.Sprint(e["extensions"].(map[string]any)["code"]); code != "BAD_USER_INPUT" || fmt.Sprint(e["path"]) != "[messagePosted]" || e["locations"] == nil {
			t.Errorf("error = %v, want BAD_USER_INPUT at messagePosted with its location", e)
		}
		ws.Expect("complete", "1")
	})
	// Introspection, as GraphiQL sends it, fits the depth limit.
	mustGQL(t, m, introspectionQuery, nil)
}

// TestHistorySurvivesRestart restarts the embedded store's server.
func TestHistorySurvivesRestart(t *testing.T) {
	m := runMain(t)
	data := m.Config.Data
	mustGQL(t, m, postMutation, map[string]any{"user": "ann", "text": "still here"})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = runMain(t, func(c *Config) { c.Data = data })
	msgs := mustGQL(t, m, `{ messages { text } users }`, nil)
	if fmt.Sprint(msgs) != "map[messages:[map[text:still here]] users:[ann]]" {
		t.Errorf("after restart: %v", msgs)
	}
}

// waitForSubscriptions waits until n subscriptions run over WebSocket, fed
// by at least streams broker subscriptions (1 when not given: subscribers
// of one query share one stream), so that a post is sure to reach them.
func waitForSubscriptions(t *testing.T, m *Main, n int64, streams ...int) {
	t.Helper()
	want := 1
	if len(streams) > 0 {
		want = streams[0]
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.ws.Stats().Subscriptions < n || m.service.Stats().Subscriptions < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions on %d streams after 10s, want %d on %d", m.ws.Stats().Subscriptions, m.service.Stats().Subscriptions, n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// introspectionQuery is GraphiQL's.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`
