package wsproto_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/graphql-go/graphql"
)

// feed is a tiny broker for the test schema: publish reaches every open
// events subscription, without blocking.
type feed struct {
	mu       sync.Mutex
	subs     map[chan any]bool
	resolved atomic.Int64 // executions of an events result
}

func (f *feed) subscribe(ctx context.Context) chan any {
	ch := make(chan any, 4096)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		if f.subs[ch] {
			delete(f.subs, ch)
			close(ch)
		}
		f.mu.Unlock()
	})
	return ch
}

func (f *feed) publish(v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- v:
		default:
		}
	}
}

// end closes every events stream, as a source that runs dry.
func (f *feed) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
}

func (f *feed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

type ctxKey struct{}

// testSchema has a query, a mutation and subscriptions that end, never end,
// fail, and carry a value from OnConnect.
func testSchema(t testing.TB, f *feed) graphql.Schema {
	str := graphql.NewNonNull(graphql.String)
	source := func(p graphql.ResolveParams) (any, error) { return p.Source, nil }
	s, err := graphql.NewSchema(graphql.SchemaConfig{
		Query: graphql.NewObject(graphql.ObjectConfig{Name: "Query", Fields: graphql.Fields{
			"echo": {Type: str, Args: graphql.FieldConfigArgument{"text": {Type: str}},
				Resolve: func(p graphql.ResolveParams) (any, error) { return p.Args["text"], nil }},
			"fail": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (any, error) { return nil, errors.New("it failed") }},
			"who": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (any, error) {
				v, _ := p.Context.Value(ctxKey{}).(string)
				return v, nil
			}},
		}}),
		Mutation: graphql.NewObject(graphql.ObjectConfig{Name: "Mutation", Fields: graphql.Fields{
			"shout": {Type: str, Args: graphql.FieldConfigArgument{"text": {Type: str}},
				Resolve: func(p graphql.ResolveParams) (any, error) { return strings.ToUpper(p.Args["text"].(string)), nil }},
		}}),
		Subscription: graphql.NewObject(graphql.ObjectConfig{Name: "Subscription", Fields: graphql.Fields{
			// ticks counts to n and ends.
			"ticks": {Type: graphql.NewNonNull(graphql.Int), Args: graphql.FieldConfigArgument{"n": {Type: graphql.NewNonNull(graphql.Int)}},
				Resolve: source,
				Subscribe: func(p graphql.ResolveParams) (any, error) {
					ch := make(chan any)
					go func() {
						defer close(ch)
						for i := 1; i <= p.Args["n"].(int); i++ {
							select {
							case ch <- i:
							case <-p.Context.Done():
								return
							}
						}
					}()
					return ch, nil
				}},
			// events never ends: it streams what the feed publishes.
			"events": {Type: str,
				Resolve:   func(p graphql.ResolveParams) (any, error) { f.resolved.Add(1); return p.Source, nil },
				Subscribe: func(p graphql.ResolveParams) (any, error) { return f.subscribe(p.Context), nil }},
			// failing refuses to start.
			"failing": {Type: str, Resolve: source,
				Subscribe: func(p graphql.ResolveParams) (any, error) { return nil, errors.New("no stream for you") }},
		}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
