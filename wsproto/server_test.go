package wsproto_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gqlchat/gqlchat/wsproto"
	"github.com/gqlchat/gqlchat/wsproto/wstest"
	"github.com/graphql-go/graphql"
)

const (
	gtws   = wsproto.TransportWS
	legacy = wsproto.LegacyWS
)

// harness is a Server behind httptest with the test schema.
type harness struct {
	*wsproto.Server
	url    string
	feed   *feed
	schema graphql.Schema
}

func start(t testing.TB, opts *wsproto.Options) *harness {
	t.Helper()
	f := &feed{subs: map[chan any]bool{}}
	if opts == nil {
		opts = &wsproto.Options{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	schema := testSchema(t, f)
	srv := wsproto.NewServer(schema, opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return &harness{Server: srv, url: hs.URL, feed: f, schema: schema}
}

func (h *harness) dial(t *testing.T, protocols ...string) *wstest.Client {
	t.Helper()
	return wstest.Dial(t, h.url, protocols...)
}

// ready dials, inits and returns a connection of protocol.
func (h *harness) ready(t *testing.T, protocol string) *wstest.Client {
	t.Helper()
	c := h.dial(t, protocol)
	c.Init()
	return c
}

func (h *harness) waitSubscriptions(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.feed.count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d event subscriptions after 10s, want %d", h.feed.count(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type msg = wstest.Msg

func TestSubprotocolNegotiation(t *testing.T) {
	h := start(t, nil)
	for _, tc := range []struct {
		offer []string
		want  string
	}{
		{[]string{gtws}, gtws},
		{[]string{legacy}, legacy},
		{[]string{legacy, gtws}, gtws}, // the server prefers graphql-transport-ws
		{[]string{"graphql-ws-v9", gtws}, gtws},
	} {
		if got := h.dial(t, tc.offer...).Conn.Subprotocol(); got != tc.want {
			t.Errorf("offered %q: got %q, want %q", tc.offer, got, tc.want)
		}
	}
	for _, offer := range [][]string{nil, {"mqtt"}} {
		c := h.dial(t, offer...)
		if reason := c.ExpectClose(4406); reason != "Subprotocol not acceptable" {
			t.Errorf("offered %q: reason %q", offer, reason)
		}
	}
}

// TestCloseCodes drives each rule that closes a graphql-transport-ws
// connection.
func TestCloseCodes(t *testing.T) {
	h := start(t, &wsproto.Options{InitTimeout: 200 * time.Millisecond})
	sub := msg{"id": "1", "type": "subscribe", "payload": msg{"query": "subscription { events }"}}
	for _, tc := range []struct {
		name   string
		init   bool
		frames []any // strings are sent raw
		code   websocket.StatusCode
		reason string // a prefix
	}{
		{"no init", false, nil, 4408, "Connection initialisation timeout"},
		{"second init", true, []any{msg{"type": "connection_init"}}, 4429, "Too many initialisation requests"},
		{"subscribe before ack", false, []any{sub}, 4401, "Unauthorized"},
		{"duplicate id", true, []any{sub, sub}, 4409, "Subscriber for 1 already exists"},
		{"not JSON", true, []any{"{nope"}, 4400, "invalid message"},
		{"array", true, []any{"[1,2]"}, 4400, "invalid message: not a JSON object"},
		{"no type", true, []any{msg{"id": "1"}}, 4400, "invalid message: no type"},
		{"type not a string", true, []any{msg{"type": 5}}, 4400, "invalid message"},
		{"unknown type", true, []any{msg{"type": "hello"}}, 4400, `invalid message: unexpected type "hello"`},
		{"server-only type", true, []any{msg{"id": "1", "type": "next", "payload": msg{}}}, 4400, "invalid message: unexpected type"},
		{"subscribe without id", true, []any{msg{"type": "subscribe", "payload": msg{"query": "{ who }"}}}, 4400, "invalid message: subscribe has no id"},
		{"empty id", true, []any{msg{"id": "", "type": "subscribe", "payload": msg{"query": "{ who }"}}}, 4400, "invalid message: subscribe has no id"},
		{"id not a string", true, []any{msg{"id": 1, "type": "subscribe", "payload": msg{"query": "{ who }"}}}, 4400, "invalid message"},
		{"no payload", true, []any{msg{"id": "1", "type": "subscribe"}}, 4400, "invalid message: payload must be an object"},
		{"no query", true, []any{msg{"id": "1", "type": "subscribe", "payload": msg{}}}, 4400, "invalid message: payload has no query"},
		{"query not a string", true, []any{msg{"id": "1", "type": "subscribe", "payload": msg{"query": 1}}}, 4400, "invalid message"},
		{"variables not an object", true, []any{msg{"id": "1", "type": "subscribe", "payload": msg{"query": "{ who }", "variables": []int{1}}}}, 4400, "invalid message"},
		{"init payload not an object", false, []any{msg{"type": "connection_init", "payload": "hi"}}, 4400, "invalid message: connection_init payload must be an object"},
		{"complete without id", true, []any{msg{"type": "complete"}}, 4400, "invalid message: complete has no id"},
		{"long reason", true, []any{msg{"type": strings.Repeat("é", 200)}}, 4400, "invalid message: unexpected type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t, gtws)
			if tc.init {
				c.Init()
			}
			for _, f := range tc.frames {
				if s, ok := f.(string); ok {
					c.SendRaw(s)
				} else {
					c.Send(f)
				}
			}
			reason := c.ExpectClose(tc.code)
			if !strings.HasPrefix(reason, tc.reason) {
				t.Errorf("reason %q, want it to start with %q", reason, tc.reason)
			}
			if len(reason) > 123 {
				t.Errorf("reason is %d bytes, more than 123", len(reason))
			}
		})
	}
}

func TestBinaryFrameIsRefused(t *testing.T) {
	h := start(t, nil)
	c := h.ready(t, gtws)
	if err := c.Conn.Write(context.Background(), websocket.MessageBinary, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(4400)
}

func TestFrameOverReadLimit(t *testing.T) {
	h := start(t, &wsproto.Options{ReadLimit: 1024})
	c := h.ready(t, gtws)
	c.Send(msg{"id": "1", "type": "subscribe", "payload": msg{"query": "{ echo(text: \"" + strings.Repeat("x", 2000) + "\") }"}})
	c.ExpectClose(websocket.StatusMessageTooBig)
	// The server serves on.
	h.ready(t, gtws)
}

// TestOperations covers the messages of a working connection.
func TestOperations(t *testing.T) {
	h := start(t, nil)
	c := h.ready(t, gtws)

	t.Run("ping pong", func(t *testing.T) {
		c.Send(msg{"type": "ping", "payload": msg{"at": 1}})
		c.Expect("pong", "")
		c.Send(msg{"type": "pong"}) // an unsolicited pong is fine
	})
	t.Run("query", func(t *testing.T) {
		c.Send(msg{"id": "q", "type": "subscribe", "payload": msg{"query": "query($t: String!) { echo(text: $t) }", "variables": msg{"t": "<hi>"}}})
		if got := wstest.Data(c.Expect("next", "q"))["echo"]; got != "<hi>" {
			t.Errorf("echo = %v", got)
		}
		c.Expect("complete", "q")
	})
	t.Run("mutation", func(t *testing.T) {
		c.Subscribe("m", `mutation { shout(text: "hey") }`, nil)
		if got := wstest.Data(c.Expect("next", "m"))["shout"]; got != "HEY" {
			t.Errorf("shout = %v", got)
		}
		c.Expect("complete", "m")
	})
	t.Run("stream ends with complete", func(t *testing.T) {
		c.Subscribe("t", `subscription { ticks(n: 3) }`, nil)
		for want := 1.0; want <= 3; want++ {
			if got := wstest.Data(c.Expect("next", "t"))["ticks"]; got != want {
				t.Errorf("tick = %v, want %v", got, want)
			}
		}
		c.Expect("complete", "t")
	})
	t.Run("id is free again after complete", func(t *testing.T) {
		c.Subscribe("t", `subscription { ticks(n: 1) }`, nil)
		c.Expect("next", "t")
		c.Expect("complete", "t")
	})
	t.Run("validation error keeps the connection", func(t *testing.T) {
		c.Subscribe("v", `{ nope }`, nil)
		m := c.Expect("error", "v")
		errs, _ := m["payload"].([]any)
		if len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), "nope") {
			t.Errorf("error payload = %v", m["payload"])
		}
		c.Send(msg{"type": "ping"})
		c.Expect("pong", "")
	})
	t.Run("syntax error", func(t *testing.T) {
		c.Subscribe("s", `{`, nil)
		c.Expect("error", "s")
	})
	t.Run("execution errors ride in next", func(t *testing.T) {
		c.Subscribe("f", `{ fail echo(text: "x") }`, nil)
		m := c.Expect("next", "f")
		p := m["payload"].(msg)
		if p["errors"] == nil || wstest.Data(m)["echo"] != "x" {
			t.Errorf("payload = %v, want data and errors", p)
		}
		c.Expect("complete", "f")
	})
	t.Run("a subscription that fails to start", func(t *testing.T) {
		c.Subscribe("x", `subscription { failing }`, nil)
		m := c.Expect("next", "x")
		if !strings.Contains(fmt.Sprint(m["payload"]), "no stream for you") {
			t.Errorf("payload = %v", m["payload"])
		}
		c.Expect("complete", "x")
	})
	t.Run("complete from the client stops the stream", func(t *testing.T) {
		c.Subscribe("e", `subscription { events }`, nil)
		h.waitSubscriptions(t, 1)
		h.feed.publish("one")
		if got := wstest.Data(c.Expect("next", "e"))["events"]; got != "one" {
			t.Errorf("event = %v", got)
		}
		c.Send(msg{"id": "e", "type": "complete"})
		h.waitSubscriptions(t, 0)
		h.feed.publish("two")
		c.Send(msg{"type": "ping"})
		c.Expect("pong", "") // and no next for e
	})
	t.Run("complete of an unknown id is ignored", func(t *testing.T) {
		c.Send(msg{"id": "never", "type": "complete"})
		c.Send(msg{"type": "ping"})
		c.Expect("pong", "")
	})
}

func TestTooManyOperations(t *testing.T) {
	h := start(t, &wsproto.Options{MaxOperations: 2})
	c := h.ready(t, gtws)
	c.Subscribe("1", `subscription { events }`, nil)
	c.Subscribe("2", `subscription { events }`, nil)
	c.Subscribe("3", `subscription { events }`, nil)
	m := c.Expect("error", "3")
	if !strings.Contains(fmt.Sprint(m["payload"]), "too many operations") {
		t.Errorf("payload = %v", m["payload"])
	}
	c.Send(msg{"id": "1", "type": "complete"})
	h.waitSubscriptions(t, 1)
	c.Subscribe("3", `subscription { ticks(n: 1) }`, nil)
	c.Expect("next", "3")
}

func TestOnConnect(t *testing.T) {
	h := start(t, &wsproto.Options{OnConnect: func(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, error) {
		name, _ := payload["name"].(string)
		if name == "" {
			return nil, errors.New("who are you?")
		}
		return context.WithValue(ctx, ctxKey{}, name), nil
	}})
	c := h.dial(t, gtws)
	c.Send(msg{"type": "connection_init", "payload": msg{"name": "ann"}})
	c.Expect("connection_ack", "")
	c.Subscribe("1", `{ who }`, nil)
	if got := wstest.Data(c.Expect("next", "1"))["who"]; got != "ann" {
		t.Errorf("who = %v, want ann", got)
	}
	for _, protocol := range []string{gtws, legacy} {
		c = h.dial(t, protocol)
		c.Send(msg{"type": "connection_init"})
		if protocol == legacy {
			if m := c.Next(); m["type"] != "connection_error" {
				t.Errorf("legacy refusal: got %v, want connection_error", m)
			}
		}
		if reason := c.ExpectClose(4403); reason != "Forbidden: who are you?" {
			t.Errorf("%s: reason %q", protocol, reason)
		}
	}
}

// TestLegacyProtocol drives subscriptions-transport-ws's messages.
func TestLegacyProtocol(t *testing.T) {
	h := start(t, nil)
	c := h.dial(t, legacy)
	c.Send(msg{"type": "start", "id": "early", "payload": msg{"query": "{ who }"}})
	c.Expect("error", "early") // not initialised yet
	c.Send(msg{"type": "connection_init", "payload": msg{}})
	c.Expect("connection_ack", "")
	if m := c.Read(); m["type"] != "ka" {
		t.Errorf("after ack got %v, want ka", m)
	}

	c.Subscribe("1", `subscription { ticks(n: 2) }`, nil)
	c.Expect("data", "1")
	c.Expect("data", "1")
	c.Expect("complete", "1")

	c.Subscribe("2", `subscription { events }`, nil)
	h.waitSubscriptions(t, 1)
	h.feed.publish("hello")
	if got := wstest.Data(c.Expect("data", "2"))["events"]; got != "hello" {
		t.Errorf("event = %v", got)
	}
	c.Subscribe("2", `subscription { events }`, nil) // replaces the running one
	h.waitSubscriptions(t, 1)
	c.Send(msg{"type": "stop", "id": "2"})
	h.waitSubscriptions(t, 0)

	c.Subscribe("3", `{ nope }`, nil)
	m := c.Expect("data", "3")
	if m["payload"].(msg)["errors"] == nil {
		t.Errorf("validation failure = %v, want data with errors", m)
	}
	c.Expect("complete", "3")

	c.Send(msg{"type": "what", "id": "4"})
	c.Expect("error", "4")
	c.SendRaw("{broken")
	c.Expect("connection_error", "")

	c.Send(msg{"type": "connection_terminate"})
	c.ExpectClose(websocket.StatusNormalClosure)
}

func TestKeepAlive(t *testing.T) {
	h := start(t, &wsproto.Options{KeepAlive: 100 * time.Millisecond})
	// A legacy client hears ka on the schedule.
	c := h.ready(t, legacy)
	for range 3 {
		if m := c.Read(); m["type"] != "ka" {
			t.Fatalf("got %v, want ka", m)
		}
	}
	c.Conn.CloseNow()
	// A peer that reads answers the pings and keeps its connection...
	live := h.ready(t, gtws)
	go func() {
		for {
			if _, err := live.ReadErr(); err != nil {
				return
			}
		}
	}()
	// ...one that stops reading cannot, and is dropped.
	h.ready(t, gtws)
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats().DeadClosed == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a peer that answers no ping was not dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if s := h.Stats(); s.DeadClosed != 1 || s.Connections != 1 {
		t.Errorf("DeadClosed = %d with %d connections left, want 1 and the reading peer", s.DeadClosed, s.Connections)
	}
}

// TestSlowConsumerIsCutOff stalls one connection while another keeps up.
func TestSlowConsumerIsCutOff(t *testing.T) {
	h := start(t, &wsproto.Options{QueueSize: 8})
	stalled := h.ready(t, gtws)
	stalled.Subscribe("1", `subscription { events }`, nil)
	live := h.ready(t, gtws)
	live.Subscribe("1", `subscription { events }`, nil)
	h.waitSubscriptions(t, 2)

	big := strings.Repeat("x", 64<<10)
	const events = 400 // 25 MB: far past what socket buffers hold
	for i := range events {
		h.feed.publish(fmt.Sprint(i, big))
		// The live connection keeps up: it has each event before the next.
		if m := live.Next(); m["type"] != "next" || !strings.HasPrefix(wstest.Data(m)["events"].(string), fmt.Sprint(i, "x")) {
			t.Fatalf("live connection got %.80v for event %d", m, i)
		}
	}
	if s := h.Stats(); s.SlowClosed != 1 {
		t.Errorf("SlowClosed = %d, want 1", s.SlowClosed)
	}
}

func TestWriteTimeoutDropsStuckSocket(t *testing.T) {
	h := start(t, &wsproto.Options{WriteTimeout: 200 * time.Millisecond, QueueSize: 100000})
	stuck := h.ready(t, gtws)
	stuck.Subscribe("1", `subscription { events }`, nil)
	h.waitSubscriptions(t, 1)
	big := strings.Repeat("x", 64<<10)
	deadline := time.Now().Add(20 * time.Second)
	for h.Stats().DeadClosed == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a socket that takes nothing was not dropped")
		}
		h.feed.publish(big)
		time.Sleep(time.Millisecond)
	}
}

func TestShutdownClosesWith1001(t *testing.T) {
	h := start(t, nil)
	clients := []*wstest.Client{h.ready(t, gtws), h.ready(t, legacy)}
	clients[0].Subscribe("1", `subscription { events }`, nil)
	h.waitSubscriptions(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- h.Shutdown(ctx) }()
	for _, c := range clients {
		c.ExpectClose(websocket.StatusGoingAway)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := wstest.DialErr(t, h.url, nil, gtws); err == nil {
		t.Error("dialed a server that shut down")
	}
}

func TestMaxConnections(t *testing.T) {
	h := start(t, &wsproto.Options{MaxConnections: 2})
	h.ready(t, gtws)
	h.ready(t, gtws)
	_, err := wstest.DialErr(t, h.url, nil, gtws)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("third connection: %v, want HTTP 503", err)
	}
	if got := h.Stats().Refused; got != 1 {
		t.Errorf("Refused = %d, want 1", got)
	}
}

func TestOrigins(t *testing.T) {
	h := start(t, &wsproto.Options{OriginPatterns: []string{"*.example.com"}})
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"", true}, {"https://chat.example.com", true}, {"https://evil.test", false}} {
		header := http.Header{}
		if tc.origin != "" {
			header.Set("Origin", tc.origin)
		}
		_, err := wstest.DialErr(t, h.url, header, gtws)
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: err %v, want allowed=%v", tc.origin, err, tc.ok)
		}
	}
}

// TestNoGoroutineOutlivesItsConnection opens 1,000 connections with live
// subscriptions, abandons them, and finds the goroutine count back where it
// started: once with a stream per subscription, once with shared streams.
func TestNoGoroutineOutlivesItsConnection(t *testing.T) {
	t.Run("own streams", func(t *testing.T) { abandon(t, start(t, nil), true) })
	t.Run("shared streams", func(t *testing.T) {
		var starts atomic.Int64
		abandon(t, startSharing(t, &starts), false)
	})
}

func abandon(t *testing.T, h *harness, ownStreams bool) {
	base := settledGoroutines()
	const n = 1000
	clients := make([]*wstest.Client, n)
	for i := range clients {
		clients[i] = h.ready(t, []string{gtws, legacy}[i%2])
		clients[i].Subscribe("1", `subscription { events }`, nil)
		if i%3 == 0 { // a few are mid-query too
			clients[i].Subscribe("2", `{ echo(text: "x") }`, nil)
		}
	}
	streams := 1
	if ownStreams {
		streams = n
	}
	h.waitSubscriptions(t, streams)
	waitStat(t, func() bool { return h.Stats().Subscriptions == n })
	h.feed.publish("to everyone")
	if got := runtime.NumGoroutine(); got < base+n {
		t.Fatalf("%d goroutines with %d connections open; the count below means nothing", got, n)
	}
	for _, c := range clients {
		c.Conn.CloseNow() // abandoned: no complete, no close handshake
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := settledGoroutines()
		if got <= base {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines 20s after closing, baseline %d:\n%s", got, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := h.Stats(); s.Connections != 0 || s.Operations != 0 || s.Subscriptions != 0 || h.feed.count() != 0 {
		t.Errorf("after closing: %+v, %d feed subscriptions", s, h.feed.count())
	}
}

// waitStat waits until cond holds, for up to 10s.
func waitStat(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func settledGoroutines() int {
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	return runtime.NumGoroutine()
}
