package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHTTPStatuses checks every status the GraphQL endpoint promises.
func TestHTTPStatuses(t *testing.T) {
	m := runMain(t, func(c *Config) { c.MaxBody = 2048; c.Origins = []string{"*.allowed.test"} })
	gqlURL := m.URL() + "/graphql"
	get := func(q url.Values, header map[string]string) (int, string, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, gqlURL+"?"+q.Encode(), nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.StatusCode, b.String(), res.Header
	}
	users := map[string]any{"query": "{ users }"}
	for _, tc := range []struct {
		name        string
		contentType string
		body        any
		header      map[string]string
		status      int
		media       string // the response's media type, when it matters
	}{
		{"query", "application/json", users, nil, 200, "application/json"},
		{"charset", "application/json; charset=utf-8", users, nil, 200, ""},
		{"graphql-response+json", "application/json", users, map[string]string{"Accept": "application/graphql-response+json"}, 200, "application/graphql-response+json"},
		{"prefers graphql-response+json", "application/json", users, map[string]string{"Accept": "application/json;q=0.9, application/graphql-response+json"}, 200, "application/graphql-response+json"},
		{"any", "application/json", users, map[string]string{"Accept": "*/*"}, 200, "application/json"},
		{"not acceptable", "application/json", users, map[string]string{"Accept": "application/xml"}, 406, ""},
		{"text/plain is refused (CSRF)", "text/plain", users, nil, 415, ""},
		{"form is refused", "application/x-www-form-urlencoded", "query=%7B+users+%7D", nil, 415, ""},
		{"no content type", "", users, nil, 415, ""},
		{"latin1", "application/json; charset=latin1", users, nil, 415, ""},
		{"too large", "application/json", map[string]any{"query": "{ users }", "extensions": map[string]any{"pad": strings.Repeat("x", 4096)}}, nil, 413, ""},
		{"not JSON", "application/json", "{users", nil, 400, ""},
		{"JSON array", "application/json", "[]", nil, 400, ""},
		{"no query", "application/json", map[string]any{"variables": map[string]any{}}, nil, 400, ""},
		{"query not a string", "application/json", map[string]any{"query": 1}, nil, 400, ""},
		{"variables not an object", "application/json", map[string]any{"query": "{ users }", "variables": "x"}, nil, 400, ""},
		{"parse error, application/json", "application/json", map[string]any{"query": "{"}, nil, 200, ""},
		{"parse error, graphql-response+json", "application/json", map[string]any{"query": "{"}, map[string]string{"Accept": "application/graphql-response+json"}, 400, ""},
		{"validation error, graphql-response+json", "application/json", map[string]any{"query": "{ nope }"}, map[string]string{"Accept": "application/graphql-response+json"}, 400, ""},
		{"bad variables, graphql-response+json", "application/json", map[string]any{"query": "query($n: Int) { messages(limit: $n) { id } }", "variables": map[string]any{"n": "x"}}, map[string]string{"Accept": "application/graphql-response+json"}, 400, ""},
		{"subscription over HTTP", "application/json", map[string]any{"query": `subscription { userJoined(user: "a") }`}, nil, 400, ""},
		{"mutation", "application/json", map[string]any{"query": `mutation { postMessage(user: "ann", text: "hi") { id } }`}, nil, 200, ""},
		{"disallowed origin", "application/json", users, map[string]string{"Origin": "https://evil.test"}, 403, ""},
		{"allowed origin", "application/json", users, map[string]string{"Origin": "https://app.allowed.test"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, gqlURL, tc.contentType, tc.body, tc.header)
			if status != tc.status {
				t.Errorf("status = %d (%s), want %d", status, body, tc.status)
			}
			if !json.Valid(body) {
				t.Errorf("body is not JSON: %s", body)
			}
			// A request that never ran has no data entry, and no error
			// has an empty locations list.
			if status != 200 && strings.Contains(string(body), `"data"`) || strings.Contains(string(body), `"locations":[]`) {
				t.Errorf("body %s has a data entry or empty locations", body)
			}
		})
	}

	t.Run("media type of the answer", func(t *testing.T) {
		for accept, want := range map[string]string{"": "application/json", "application/graphql-response+json": "application/graphql-response+json"} {
			req, _ := http.NewRequest(http.MethodPost, gqlURL, strings.NewReader(`{"query":"{ users }"}`))
			req.Header.Set("Content-Type", "application/json")
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Content-Type"); got != want+"; charset=utf-8" {
				t.Errorf("Accept %q: Content-Type %q, want %s; charset=utf-8", accept, got, want)
			}
		}
	})
	t.Run("GET query", func(t *testing.T) {
		status, body, _ := get(url.Values{"query": {"query($n: Int) { messages(limit: $n) { id } }"}, "variables": {`{"n": 1}`}}, nil)
		if status != 200 || !strings.Contains(body, `"messages"`) {
			t.Errorf("GET = %d %s", status, body)
		}
	})
	t.Run("GET mutation is 405", func(t *testing.T) {
		status, body, h := get(url.Values{"query": {`mutation { postMessage(user: "a", text: "b") { id } }`}}, nil)
		if status != 405 || h.Get("Allow") != "POST" {
			t.Errorf("GET mutation = %d Allow %q %s", status, h.Get("Allow"), body)
		}
	})
	t.Run("GET without query is 400", func(t *testing.T) {
		if status, _, _ := get(nil, nil); status != 400 {
			t.Errorf("status = %d", status)
		}
	})
	t.Run("GET with bad variables is 400", func(t *testing.T) {
		if status, _, _ := get(url.Values{"query": {"{ users }"}, "variables": {"[1]"}}, nil); status != 400 {
			t.Errorf("status = %d", status)
		}
	})
	t.Run("PUT is 405", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, gqlURL, strings.NewReader(`{"query":"{ users }"}`))
		req.Header.Set("Content-Type", "application/json")
		if status, _ := do(t, req); status != 405 {
			t.Errorf("status = %d", status)
		}
	})
	t.Run("GraphiQL for browsers, without running the query", func(t *testing.T) {
		status, body, h := get(url.Values{"query": {`mutation { postMessage(user: "graphiql", text: "must not run") { id } }`}}, map[string]string{"Accept": "text/html,application/xhtml+xml"})
		if status != 200 || !strings.Contains(body, "graphiql") || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("GraphiQL = %d %s", status, h.Get("Content-Type"))
		}
		if msgs := mustGQL(t, m, `{ messages { text } }`, nil)["messages"].([]any); len(msgs) != 1 {
			t.Errorf("messages = %v: rendering GraphiQL ran the mutation in its URL", msgs)
		}
	})
	t.Run("CORS preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, gqlURL, nil)
		req.Header.Set("Origin", "https://app.allowed.test")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.allowed.test" || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
			t.Errorf("preflight = %d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("other routes", func(t *testing.T) {
		for path, want := range map[string]string{"/healthz": `"ok"`, "/playground": "GraphQLPlayground", "/": "<html"} {
			res, err := http.Get(m.URL() + path)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			buf := make([]byte, 1<<16)
			n, _ := res.Body.Read(buf)
			b.Write(buf[:n])
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(b.String(), want) {
				t.Errorf("GET %s = %d, want 200 containing %q", path, res.StatusCode, want)
			}
		}
	})
}

// TestHealthzWithoutStore answers 503 with the reason when the store is
// gone.
func TestHealthzWithoutStore(t *testing.T) {
	m := runMain(t)
	m.store.Close()
	if status, reason := health(t, m); status != 503 || reason == "" {
		t.Errorf("healthz = %d %q, want 503 with the reason", status, reason)
	}
}
