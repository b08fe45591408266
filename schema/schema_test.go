package schema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/chat/bolt"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
)

func newSchema(t testing.TB) (*Schema, *chat.Service, *bytes.Buffer) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "chat.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := chat.NewService(store, nil)
	var log bytes.Buffer
	s, err := New(svc, &Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, svc, &log
}

func prepare(t *testing.T, s *Schema, query string, vars map[string]any) *Operation {
	t.Helper()
	op, errs := s.Prepare(&Request{Query: query, Variables: vars})
	if errs != nil {
		t.Fatalf("Prepare(%s): %v", query, errs)
	}
	return op
}

// TestShareKeys: subscriptions that differ only in who subscribes share;
// anything that could change the result does not.
func TestShareKeys(t *testing.T) {
	s, svc, _ := newSchema(t)
	const sub = `subscription($user: String!) { messagePosted(user: $user) { id text } }`
	key := func(query string, vars map[string]any) string { return prepare(t, s, query, vars).Share }

	ann, bob := key(sub, map[string]any{"user": "ann"}), key(sub, map[string]any{"user": "bob"})
	if ann == "" || ann != bob {
		t.Errorf("two subscribers of one query: keys %q and %q, want equal and set", ann, bob)
	}
	if a, b := key(`subscription { messagePosted(user: "ann") { id } }`, nil), key(`subscription { messagePosted(user: "bob") { id } }`, nil); a == "" || a != b {
		t.Errorf("names written in the query: keys %q and %q, want equal", a, b)
	}
	for name, other := range map[string]string{
		"another selection": key(`subscription($user: String!) { messagePosted(user: $user) { id text user } }`, map[string]any{"user": "ann"}),
		"another field":     key(`subscription($user: String!) { userJoined(user: $user) }`, map[string]any{"user": "ann"}),
		"an alias":          key(`subscription($user: String!) { m: messagePosted(user: $user) { id text } }`, map[string]any{"user": "ann"}),
	} {
		if other == ann {
			t.Errorf("%s shares the key of the plain subscription", name)
		}
	}
	withText := `subscription($user: String!, $t: Boolean!) { messagePosted(user: $user) { id text @include(if: $t) } }`
	if a, b := key(withText, map[string]any{"user": "ann", "t": true}), key(withText, map[string]any{"user": "bob", "t": false}); a == b {
		t.Error("a variable that shapes the result is left out of the key")
	}
	if a, b := key(withText, map[string]any{"user": "ann", "t": true}), key(withText, map[string]any{"user": "bob", "t": true}); a != b {
		t.Error("the subscriber's name is in the key")
	}
	if op := prepare(t, s, `{ users }`, nil); op.Share != "" || op.Start != nil {
		t.Error("a query is shared")
	}

	// Start joins each subscriber; a bad name is the client's error.
	op := prepare(t, s, sub, map[string]any{"user": " zed "})
	if err := op.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if users, _ := svc.Users(context.Background(), chat.DefaultRoom); !slices.Contains(users, "zed") {
		t.Errorf("users = %q: Start did not join zed", users)
	}
	op = prepare(t, s, sub, map[string]any{"user": strings.Repeat("x", 40)})
	var e gqlerrors.FormattedError
	err := op.Start(context.Background())
	if !errors.As(err, &e) || e.Extensions["code"] != CodeBadUserInput || fmt.Sprint(e.Path) != "[messagePosted]" || len(e.Locations) != 1 {
		t.Errorf("Start with a 40-character name: %#v, want BAD_USER_INPUT at messagePosted with its location", err)
	}
}

func TestDocumentsAreCached(t *testing.T) {
	s, _, _ := newSchema(t)
	a := prepare(t, s, `{ users }`, nil)
	b := prepare(t, s, `{ users }`, nil)
	if a.Doc != b.Doc {
		t.Error("a repeated query was parsed again")
	}
	_, errs1 := s.Prepare(&Request{Query: `{ nope }`})
	_, errs2 := s.Prepare(&Request{Query: `{ nope }`})
	if errs1 == nil || &errs1[0] != &errs2[0] {
		t.Error("a repeated invalid query was validated again")
	}
}

func TestCacheKeepsWhatIsUsed(t *testing.T) {
	c := newCache(2)
	hot := &parsed{}
	c.put("hot", hot)
	for _, q := range []string{"a", "b", "c", "d", "e"} {
		c.put(q, &parsed{})
		if c.get("hot") != hot {
			t.Fatalf("a query used all along was evicted after %q", q)
		}
	}
	if len(c.cur)+len(c.old) > 4 {
		t.Errorf("the cache holds %d documents, want at most twice its size", len(c.cur)+len(c.old))
	}
}

func TestTimeSerializesInOneShape(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 12, 4, 19, 27, 59, 123456789, time.UTC):               "2026-12-04T19:27:59.123Z",
		time.Date(2026, 12, 4, 19, 27, 59, 0, time.UTC):                       "2026-12-04T19:27:59.000Z",
		time.Date(2026, 12, 4, 20, 27, 59, 5e6, time.FixedZone("CET", 3600)):  "2026-12-04T19:27:59.005Z",
		time.Date(2026, 12, 4, 12, 27, 59, 0, time.FixedZone("MST", -7*3600)): "2026-12-04T19:27:59.000Z",
	} {
		if got := timeScalar.Serialize(in); got != want {
			t.Errorf("Serialize(%v) = %v, want %s", in, got, want)
		}
	}
	if got := timeScalar.ParseValue("2026-12-04T20:27:59.5+01:00"); got != time.Date(2026, 12, 4, 19, 27, 59, 5e8, time.UTC) {
		t.Errorf("ParseValue = %v", got)
	}
	if got := timeScalar.ParseValue("yesterday"); got != nil {
		t.Errorf("ParseValue(yesterday) = %v, want nil", got)
	}
}

// TestPanicsAreRecovered: a panicking resolver answers INTERNAL_SERVER_ERROR
// without its text, and the log has the panic with its stack.
func TestPanicsAreRecovered(t *testing.T) {
	var log bytes.Buffer
	g := guard(slog.New(slog.NewTextHandler(&log, nil)), "boom", func(graphql.ResolveParams) (any, error) {
		panic("secret internals")
	})
	v, err := g(graphql.ResolveParams{})
	var e *Error
	if v != nil || !errors.As(err, &e) || e.Code != CodeInternal || strings.Contains(e.Message, "secret") {
		t.Errorf("got %v, %v; want an internal error that keeps the panic to itself", v, err)
	}
	if !strings.Contains(log.String(), "secret internals") || !strings.Contains(log.String(), "schema_test.go") {
		t.Errorf("log = %q, want the panic and its stack", log.String())
	}
}

func TestTooDeepIgnoresStringsAndComments(t *testing.T) {
	for q, want := range map[string]bool{
		`{ a { b { c } } }`:                     false,
		`{ a { b { c { d } } } }`:               true,
		`{ a(x: "{{{{{{{{") { b } }`:            false,
		"{ a # {{{{{{{{\n { b } }":              false,
		`{ a(x: """{{{{{{{{ "" """) { b } }`:    false,
		`{ a(x: [[[[[1]]]]]) { b } }`:           true,
		`{ a(x: "esc \" {{{{{{{{{{") { b } }`:   false,
		`{ a(x: """ \""" {{{{{{{{ """) { b } }`: false,
	} {
		if got := tooDeep(q, 3); got != want {
			t.Errorf("tooDeep(%s, 3) = %v, want %v", q, got, want)
		}
	}
}
