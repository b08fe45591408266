package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/gqlchat/gqlchat/chat/redis/redistest"
)

// BenchmarkHTTPPost posts over HTTP with keep-alive clients, as many at once
// as b.SetParallelism allows, over many names: on the embedded store, and on
// a private Redis with an append-only file synced every second.
func BenchmarkHTTPPost(b *testing.B) {
	b.Run("embedded", func(b *testing.B) { benchPost(b, runMain(b, unlimited)) })
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b, "--appendonly", "yes", "--appendfsync", "everysec")
		benchPost(b, runMain(b, unlimited, onRedis(srv.Addr)))
	})
}

func unlimited(c *Config) { c.NameRate, c.ConnRate = 0, 0 }

func benchPost(b *testing.B, m *Main) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(15) // 30 clients on two cores
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"query":"mutation($u: String!, $t: String!) { postMessage(user: $u, text: $t) { id } }","variables":{"u":"user%d","t":"message %d of the benchmark, about a hundred bytes long like a chat line"}}`, i%1000, i)
			res, err := client.Post(m.URL()+"/graphql", "application/json", bytes.NewBufferString(body))
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || bytes.Contains(out, []byte(`"errors"`)) {
				b.Fatalf("%d %s", res.StatusCode, out)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkHTTPHistory reads a page of 50 messages over HTTP.
func BenchmarkHTTPHistory(b *testing.B) {
	m := runMain(b, unlimited)
	for i := range 200 {
		mustGQL(b, m, postMutation, map[string]any{"user": "ann", "text": fmt.Sprint("message ", i)})
	}
	client := &http.Client{}
	body := []byte(`{"query":"{ messages(limit: 50) { id user text createdAt } }"}`)
	b.ReportAllocs()
	for b.Loop() {
		res, err := client.Post(m.URL()+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
