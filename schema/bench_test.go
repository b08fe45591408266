package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
)

// BenchmarkExecuteEvent executes and encodes one messagePosted event, as
// graphql-go does for each event of a subscription: the cost that sharing
// pays once per event instead of once per subscriber.
func BenchmarkExecuteEvent(b *testing.B) {
	s, _, _ := newSchema(b)
	op, errs := s.Prepare(&Request{Query: `subscription($u: String!) { messagePosted(user: $u) { id user text createdAt } }`, Variables: map[string]any{"u": "ann"}})
	if errs != nil {
		b.Fatal(errs)
	}
	msg := &chat.Message{ID: "3N1g3grLV0qONMfybyIP8cUw4sJ", User: "ann", Text: "hello, world: a message of about a hundred bytes, as people write them in chats", CreatedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		res := graphql.Execute(graphql.ExecuteParams{Schema: s.Schema, AST: op.Doc, Args: op.Variables, Root: msg, Context: context.Background()})
		if _, err := json.Marshal(res); err != nil || res.HasErrors() {
			b.Fatal(err, res.Errors)
		}
	}
}

// BenchmarkPrepare checks a repeated request: a cache hit and the strict
// variable check.
func BenchmarkPrepare(b *testing.B) {
	s, _, _ := newSchema(b)
	req := &Request{Query: `mutation($u: String!, $t: String!) { postMessage(user: $u, text: $t) { id } }`, Variables: map[string]any{"u": "ann", "t": "hi"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := s.Prepare(req); errs != nil {
			b.Fatal(errs)
		}
	}
}

// BenchmarkPost runs postMessage through the schema on the embedded store,
// from as many goroutines as GOMAXPROCS, posts spread over many names: the
// store commits the posts that wait together in one transaction.
func BenchmarkPost(b *testing.B) {
	s, _, _ := newSchema(b)
	const query = `mutation($u: String!, $t: String!) { postMessage(user: $u, text: $t) { id } }`
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // as many clients as a busy server has waiting
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op, errs := s.Prepare(&Request{Query: query, Variables: map[string]any{"u": fmt.Sprint("user", n.Add(1)%1000), "t": "hello"}})
			if errs != nil {
				b.Fatal(errs)
			}
			if res := s.Execute(context.Background(), op); res.HasErrors() {
				b.Fatal(res.Errors)
			}
		}
	})
}
