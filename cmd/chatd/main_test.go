package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gqlchat/gqlchat/chat/redis/redistest"
)

func TestMain(m *testing.M) {
	// The shutdown test runs this binary as chatd itself.
	if os.Getenv("CHATD_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"chatd"}, strings.Fields(os.Getenv("CHATD_TEST_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

// runMain starts the whole server on a free port with an embedded store in
// a temporary directory, changed by configure, and stops it when the test
// ends.
func runMain(tb testing.TB, configure ...func(*Config)) *Main {
	tb.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.Data = filepath.Join(tb.TempDir(), "chat.db")
	for _, f := range configure {
		f(&m.Config)
	}
	level := slog.LevelWarn
	if os.Getenv("CHATD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	var out io.Writer = io.Discard
	if t, ok := tb.(interface{ Output() io.Writer }); ok {
		out = t.Output()
	}
	m.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// eachStore runs test once on the embedded store and once on a private
// redis-server.
func eachStore(t *testing.T, test func(t *testing.T, store func(*Config))) {
	t.Run("embedded", func(t *testing.T) { test(t, func(*Config) {}) })
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		test(t, func(c *Config) { c.Redis = srv.Addr })
	})
}

// response is a GraphQL response.
type response struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code is the extensions.code of the first error, or "".
func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql posts a request to /graphql and decodes the answer, which must be 200.
func gql(tb testing.TB, m *Main, query string, vars map[string]any) *response {
	tb.Helper()
	status, body := post(tb, m.URL()+"/graphql", "application/json", map[string]any{"query": query, "variables": vars}, nil)
	if status != http.StatusOK {
		tb.Fatalf("POST /graphql = %d %s", status, body)
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		tb.Fatalf("bad response %s: %v", body, err)
	}
	return &r
}

// mustGQL is gql that fails on any GraphQL error.
func mustGQL(tb testing.TB, m *Main, query string, vars map[string]any) map[string]any {
	tb.Helper()
	r := gql(tb, m, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("%s: errors %+v", query, r.Errors)
	}
	return r.Data
}

// post sends body (JSON-encoded unless it is a string) with the content
// type and headers given, and returns the status and body.
func post(tb testing.TB, url, contentType string, body any, header map[string]string) (int, []byte) {
	tb.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(tb, req)
}

func do(tb testing.TB, req *http.Request) (int, []byte) {
	tb.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}
