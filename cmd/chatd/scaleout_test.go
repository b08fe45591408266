package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/chat/redis/redistest"
	"github.com/gqlchat/gqlchat/wsproto/wstest"
)

func onRedis(addr string) func(*Config) {
	return func(c *Config) { c.Redis = addr }
}

// subscriber is a connection with one messagePosted subscription, id "m".
func subscriber(t *testing.T, m *Main, user string) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, m.URL()+"/graphql", "graphql-transport-ws")
	c.Init()
	c.Subscribe("m", messagesSub, wstest.Msg{"user": user})
	return c
}

// texts reads n messagePosted events and returns their texts.
func texts(t *testing.T, c *wstest.Client, n int) []string {
	t.Helper()
	var out []string
	for range n {
		out = append(out, wstest.Data(c.Expect("next", "m"))["messagePosted"].(map[string]any)["text"].(string))
	}
	return out
}

// history returns every text in m's history, oldest first.
func history(t *testing.T, m *Main) []string {
	t.Helper()
	var out []string
	before := any(nil)
	for {
		page := mustGQL(t, m, `query($b: String) { messages(limit: 500, before: $b) { id text } }`, map[string]any{"b": before})["messages"].([]any)
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			out = append(out, p.(map[string]any)["text"].(string))
		}
		before = page[len(page)-1].(map[string]any)["id"]
	}
	slices.Reverse(out)
	return out
}

func health(t *testing.T, m *Main) (int, string) {
	t.Helper()
	res, err := http.Get(m.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body["error"]
}

func waitHealthy(t *testing.T, m *Main) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, reason := health(t, m)
		if status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz = %d %s 15s after Redis came back", status, reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoInstancesOneChat runs two servers on one Redis: posts alternate
// between them, and subscribers of both see every post in one order, the
// order of the history, which reads the same on both.
func TestTwoInstancesOneChat(t *testing.T) {
	srv := redistest.Start(t)
	a, b := runMain(t, onRedis(srv.Addr)), runMain(t, onRedis(srv.Addr))
	subA, subB := subscriber(t, a, "sa"), subscriber(t, b, "sb")
	waitForSubscriptions(t, a, 1)
	waitForSubscriptions(t, b, 1)
	// Once b has delivered a post of a's, b's reader is past both joins.
	mustGQL(t, a, postMutation, map[string]any{"user": "warmup", "text": "warm-up"})
	texts(t, subA, 1)
	texts(t, subB, 1)
	joins := wstest.Dial(t, b.URL()+"/graphql", "graphql-transport-ws")
	joins.Init()
	joins.Subscribe("j", joinsSub, wstest.Msg{"user": "watcher"})
	waitForSubscriptions(t, b, 2, 2)

	var want []string
	for i := range 20 {
		text := fmt.Sprint("post ", i)
		want = append(want, text)
		mustGQL(t, []*Main{a, b}[i%2], postMutation, map[string]any{"user": fmt.Sprint("poster", i%4), "text": text})
	}
	gotA, gotB := texts(t, subA, 20), texts(t, subB, 20)
	if !slices.Equal(gotA, want) || !slices.Equal(gotB, want) {
		t.Errorf("subscriber on a got %q\nsubscriber on b got %q\nwant %q", gotA, gotB, want)
	}
	histA, histB := history(t, a), history(t, b)
	if !slices.Equal(histA, histB) || !slices.Equal(histA[1:], want) {
		t.Errorf("history on a %q\nhistory on b %q\nwant warm-up then %q", histA, histB, want)
	}
	// poster0 and poster2 joined on a, poster1 and poster3 on b: b's
	// subscriber hears of all four, in order.
	var joined []string
	for range 4 {
		joined = append(joined, wstest.Data(joins.Expect("next", "j"))["userJoined"].(string))
	}
	if want := []string{"poster0", "poster1", "poster2", "poster3"}; !slices.Equal(joined, want) {
		t.Errorf("joins heard on b = %q, want %q", joined, want)
	}
}

// TestRedisOutage kills redis-server (SIGKILL) and starts it again on the
// same port and data: meanwhile posts fail fast with UNAVAILABLE, /healthz
// says 503 and clients stay connected; afterwards both instances work
// without a restart, and every acknowledged post is still there.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	a, b := runMain(t, onRedis(srv.Addr)), runMain(t, onRedis(srv.Addr))
	subA, subB := subscriber(t, a, "sa"), subscriber(t, b, "sb")
	waitForSubscriptions(t, a, 1)
	waitForSubscriptions(t, b, 1)

	var acked []string
	for i := range 6 {
		text := fmt.Sprint("before ", i)
		mustGQL(t, []*Main{a, b}[i%2], postMutation, map[string]any{"user": "ann", "text": text})
		acked = append(acked, text)
	}
	texts(t, subA, 6)
	texts(t, subB, 6)

	srv.Kill()
	for _, m := range []*Main{a, b} {
		start := time.Now()
		r := gql(t, m, postMutation, map[string]any{"user": "ann", "text": "during the outage"})
		if took := time.Since(start); r.code() != "UNAVAILABLE" || took > 2*time.Second {
			t.Errorf("post during the outage: code %q after %v, want UNAVAILABLE within 2s", r.code(), took)
		}
		if status, reason := health(t, m); status != http.StatusServiceUnavailable || reason == "" {
			t.Errorf("healthz during the outage = %d %q, want 503 with the reason", status, reason)
		}
	}
	for _, c := range []*wstest.Client{subA, subB} { // still connected
		c.Send(wstest.Msg{"type": "ping"})
		c.Expect("pong", "")
	}

	srv.Restart()
	waitHealthy(t, a)
	waitHealthy(t, b)
	mustGQL(t, a, postMutation, map[string]any{"user": "ann", "text": "after 1"})
	mustGQL(t, b, postMutation, map[string]any{"user": "bob", "text": "after 2"})
	want := []string{"after 1", "after 2"}
	if gotA, gotB := texts(t, subA, 2), texts(t, subB, 2); !slices.Equal(gotA, want) || !slices.Equal(gotB, want) {
		t.Errorf("after the outage a got %q, b got %q, want %q", gotA, gotB, want)
	}
	if got, want := history(t, b), append(acked, "after 1", "after 2"); !slices.Equal(got, want) {
		t.Errorf("history = %q, want %q: an acknowledged post was lost", got, want)
	}
}

// TestReaderCatchesUp cuts one instance off Redis while the other posts:
// when the link returns, its subscribers get everything they missed, in
// order.
func TestReaderCatchesUp(t *testing.T) {
	srv := redistest.Start(t)
	link := redistest.NewProxy(t, srv.Addr)
	a, b := runMain(t, onRedis(srv.Addr)), runMain(t, onRedis(link.Addr))
	sub := subscriber(t, b, "sb")
	waitForSubscriptions(t, b, 1)

	link.Cut()
	var want []string
	for i := range 10 {
		text := fmt.Sprint("while b was cut off ", i)
		want = append(want, text)
		mustGQL(t, a, postMutation, map[string]any{"user": "ann", "text": text})
	}
	if status, _ := health(t, b); status != http.StatusServiceUnavailable {
		t.Errorf("healthz of the cut-off instance = %d, want 503", status)
	}
	link.Restore()
	if got := texts(t, sub, 10); !slices.Equal(got, want) {
		t.Errorf("after the link returned b's subscriber got %q, want %q", got, want)
	}
}

// TestStalledSubscriber posts 10,000 messages while one subscriber never
// reads: the others get all of them in history order, the stalled one is
// cut off, and memory stays bounded.
func TestStalledSubscriber(t *testing.T) {
	eachStore(t, func(t *testing.T, store func(*Config)) {
		m := runMain(t, store, func(c *Config) { c.NameRate, c.ConnRate = 0, 0 })
		stalled := subscriber(t, m, "stalled")
		live := []*wstest.Client{subscriber(t, m, "live1"), subscriber(t, m, "live2")}
		waitForSubscriptions(t, m, 3)
		heapBefore := heap()

		const total, posters = 10000, 8
		pad := strings.Repeat("x", 1500) // 15 MB in all: far past what socket buffers hold
		got := make([][]string, len(live))
		var readers sync.WaitGroup
		for i, c := range live {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for range total {
					m, err := c.ReadErr()
					if err != nil {
						t.Errorf("live subscriber %d: %v after %d messages", i+1, err, len(got[i]))
						return
					}
					text := wstest.Data(m)["messagePosted"].(map[string]any)["text"].(string)
					got[i] = append(got[i], strings.TrimSuffix(text, pad))
				}
			}()
		}
		var wg sync.WaitGroup
		for p := range posters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := p; i < total; i += posters {
					if r := gql(t, m, postMutation, map[string]any{"user": fmt.Sprint("poster", p), "text": fmt.Sprint(i, pad)}); len(r.Errors) > 0 {
						t.Errorf("post %d: %+v", i, r.Errors)
						return
					}
				}
			}()
		}
		wg.Wait()
		readers.Wait()
		want := history(t, m)
		for i := range want {
			want[i] = strings.TrimSuffix(want[i], pad)
		}
		for i := range live {
			if !slices.Equal(got[i], want) {
				t.Errorf("live subscriber %d got %d messages, not the %d of the history in its order", i+1, len(got[i]), len(want))
			}
		}
		if s := m.ws.Stats(); s.SlowClosed != 1 {
			t.Errorf("SlowClosed = %d, want the stalled subscriber cut off", s.SlowClosed)
		}
		if grown := heap() - heapBefore; grown > 64<<20 {
			t.Errorf("the heap grew by %d MiB, want it bounded", grown>>20)
		}
		_ = stalled
	})
}

func heap() int64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return int64(s.HeapAlloc)
}
