package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// A subscriber is one WebSocket connection with one messagePosted
// subscription, and the collector of what arrives on it. Its reader
// goroutine is the only one that touches the connection's frames; the
// figures it keeps are guarded by a mutex of its own, taken once per
// delivery and never contended except at the end of a step, when the run
// takes every subscriber's figures in turn. So there is no lock or cache
// line shared by all readers.
type subscriber struct {
	name string
	conn *websocket.Conn
	run  string // run id expected in texts

	warm atomic.Bool   // a warm-up message has arrived: the subscription is live
	got  atomic.Uint64 // distinct deliveries of the open step, for the drain to watch
	dead atomic.Bool   // the connection or subscription ended
	late atomic.Uint64 // deliveries of a step that had already been closed

	mu       sync.Mutex
	deadWhy  string    // why it ended, for the report
	base     uint64    // first sequence number of the open step
	n        uint64    // posts in the open step; 0 between steps
	seen     []uint64  // bitset over the open step's sequence numbers
	latency  Histogram // delivery latency of the open step
	dups     uint64    // deliveries of the open step seen before
	foreign  uint64    // messages that are not this run's
	nextErrs uint64    // next frames carrying errors instead of a message
	lastRecv int64     // unix nanos of the open step's last delivery
	firstErr string    // first error a next or error frame carried
}

// stepTotals is one subscriber's share of a closed step.
type stepTotals struct {
	received, unexpected, dups uint64
}

// wire frames the client sends.
var (
	frameInit = []byte(`{"type":"connection_init","payload":{}}`)
	framePong = []byte(`{"type":"pong"}`)
)

// subscribeFrame is the subscribe message for user name.
func subscribeFrame(name string) []byte {
	b := []byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription($u: String!) { messagePosted(user: $u) { id user text createdAt } }","variables":{"u":`)
	b = strconv.AppendQuote(b, name) // names are ASCII letters and digits
	return append(b, `}}}`...)
}

// connect dials the WebSocket endpoint, completes the graphql-transport-ws
// handshake and sends the subscription. It does not wait for the server to
// process the subscribe (the protocol has no answer for it); the warm-up
// does that.
func (s *subscriber) connect(ctx context.Context, wsURL string, client *http.Client, timeout time.Duration) error {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{
		HTTPClient:   client,
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return err
	}
	if conn.Subprotocol() != "graphql-transport-ws" {
		conn.CloseNow()
		return fmt.Errorf("server did not accept subprotocol graphql-transport-ws")
	}
	conn.SetReadLimit(1 << 20)
	// Reads and writes use a context that is never done: an expired context
	// closes a coder/websocket connection, and one without a Done channel
	// costs nothing per call. The handshake timeout closes the connection
	// instead, which ends a blocked read.
	timer := time.AfterFunc(timeout, func() { conn.CloseNow() })
	defer timer.Stop()
	bg := context.Background()
	if err := conn.Write(bg, websocket.MessageText, frameInit); err != nil {
		conn.CloseNow()
		return fmt.Errorf("connection_init: %w", err)
	}
	for {
		_, frame, err := conn.Read(bg)
		if err != nil {
			conn.CloseNow()
			return fmt.Errorf("waiting for connection_ack: %w", err)
		}
		kind, _, msg := classify(frame)
		if kind == frameAck {
			break
		}
		if kind == framePing {
			if err := conn.Write(bg, websocket.MessageText, framePong); err != nil {
				conn.CloseNow()
				return err
			}
			continue
		}
		conn.CloseNow()
		return fmt.Errorf("expected connection_ack, got %.200s %s", frame, msg)
	}
	if err := conn.Write(bg, websocket.MessageText, subscribeFrame(s.name)); err != nil {
		conn.CloseNow()
		return fmt.Errorf("subscribe: %w", err)
	}
	if !timer.Stop() {
		conn.CloseNow()
		return errors.New("handshake timed out")
	}
	s.conn = conn
	return nil
}

// read is the subscriber's reader goroutine: it reads frames into one reused
// buffer until the connection ends.
func (s *subscriber) read() {
	buf := make([]byte, 0, 4096)
	bg := context.Background()
	for {
		_, r, err := s.conn.Reader(bg)
		if err == nil {
			buf, err = readInto(r, buf[:0])
		}
		if err != nil {
			s.end(err.Error())
			return
		}
		now := time.Now().UnixNano()
		kind, text, msg := classify(buf)
		switch kind {
		case frameMessage:
			s.deliver(text, now)
		case framePing:
			if err := s.conn.Write(bg, websocket.MessageText, framePong); err != nil {
				s.end(err.Error())
				return
			}
		case frameNextError:
			s.mu.Lock()
			s.nextErrs++
			if s.firstErr == "" {
				s.firstErr = msg
			}
			s.mu.Unlock()
		case frameError:
			s.end("subscription refused: " + msg)
			s.conn.CloseNow()
			return
		case frameComplete:
			s.end("server completed the subscription")
			s.conn.CloseNow()
			return
		}
	}
}

// readInto reads r to EOF into buf, growing it only when a frame is bigger
// than any before.
func readInto(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// deliver counts one message received at now (unix nanos).
func (s *subscriber) deliver(text []byte, now int64) {
	sent, seq, ok := parseText(text, s.run)
	if ok && seq == 0 {
		s.warm.Store(true)
		return
	}
	s.mu.Lock()
	switch {
	case !ok:
		s.foreign++
	case seq >= s.base && seq < s.base+s.n:
		i := seq - s.base
		word, bit := i/64, uint64(1)<<(i%64)
		if s.seen[word]&bit != 0 {
			s.dups++
			break
		}
		s.seen[word] |= bit
		s.latency.Record(now - sent)
		s.lastRecv = max(s.lastRecv, now)
		s.got.Add(1)
	case seq < s.base:
		s.late.Add(1)
	default:
		s.foreign++ // a step not yet open: not something this run sent
	}
	s.mu.Unlock()
}

// end records that the connection or subscription is over.
func (s *subscriber) end(why string) {
	s.mu.Lock()
	if s.deadWhy == "" {
		s.deadWhy = why
	}
	s.mu.Unlock()
	s.dead.Store(true)
}

// open starts counting the step whose posts are numbered base..base+n-1.
func (s *subscriber) open(base, n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	words := int((n + 63) / 64)
	if cap(s.seen) < words {
		s.seen = make([]uint64, words)
	}
	s.seen = s.seen[:words]
	clear(s.seen)
	s.base, s.n = base, n
	s.latency.Reset()
	s.dups, s.lastRecv = 0, 0
	s.got.Store(0)
}

// cut closes the open step: deliveries of it that arrive later count as late.
// It adds the subscriber's latencies to into and returns its totals, judged
// against ok, the bitset of posts the server accepted.
func (s *subscriber) cut(ok []uint64, into *Histogram) (t stepTotals, lastRecv int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.seen {
		t.received += uint64(bits.OnesCount64(w & ok[i]))
		t.unexpected += uint64(bits.OnesCount64(w &^ ok[i]))
	}
	t.dups = s.dups
	into.Merge(&s.latency)
	lastRecv = s.lastRecv
	s.base += s.n
	s.n = 0
	return t, lastRecv
}

// counters returns the figures kept over the whole run.
func (s *subscriber) counters() (late, foreign, nextErrs uint64, firstErr, deadWhy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.late.Load(), s.foreign, s.nextErrs, s.firstErr, s.deadWhy
}

// settle waits until late deliveries stop arriving (none for 200ms) or
// maxWait has passed, so that the tail of one step does not load the next.
func settle(ctx context.Context, subs []*subscriber, maxWait time.Duration) {
	sum := func() (n uint64) {
		for _, s := range subs {
			n += s.late.Load()
		}
		return n
	}
	deadline := time.Now().Add(maxWait)
	prev, quietSince := sum(), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if n := sum(); n != prev {
			prev, quietSince = n, time.Now()
		} else if time.Since(quietSince) >= 200*time.Millisecond {
			return
		}
	}
}

// connectResult is how connecting went.
type connectResult struct {
	Attempted  int     `json:"attempted"`
	Connected  int     `json:"connected"`
	Failed     int     `json:"failed"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	// Handshake is the time from dial to subscribe sent, per connection.
	Handshake latencyFigures `json:"handshake"`
	// Live is how many subscriptions the warm-up proved live, after
	// WarmupSeconds and WarmupPosts warm-up messages.
	Live          int     `json:"live"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	WarmupPosts   int     `json:"warmup_posts"`
}

// connectAll opens n subscriptions at most rate a second with at most
// concurrency handshakes in flight, and starts their readers. It returns the
// subscribers that connected.
func connectAll(ctx context.Context, cfg *Config, d *dialers, run string, progress io.Writer) ([]*subscriber, connectResult) {
	res := connectResult{Attempted: cfg.Subscribers}
	clients := make([]*http.Client, max(1, len(cfg.SourceIPs)))
	for i := range clients {
		clients[i] = d.client(0)
	}
	var (
		mu        sync.Mutex
		subs      []*subscriber
		handshake Histogram
		wg        sync.WaitGroup
	)
	sem := make(chan struct{}, cfg.ConnectConcurrency)
	start := time.Now()
	lastReport := start
	for i := 0; i < cfg.Subscribers; i++ {
		if ctx.Err() != nil {
			break
		}
		if cfg.ConnectRate > 0 {
			due := start.Add(time.Duration(float64(i) / cfg.ConnectRate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			s := &subscriber{name: "sub" + strconv.Itoa(i), run: run}
			t0 := time.Now()
			err := s.connect(ctx, cfg.wsURL(), clients[i%len(clients)], cfg.ConnectTimeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failed++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
				return
			}
			handshake.RecordDuration(time.Since(t0))
			subs = append(subs, s)
			go s.read()
		}(i)
		if time.Since(lastReport) > 2*time.Second {
			lastReport = time.Now()
			mu.Lock()
			fmt.Fprintf(progress, "connecting: %d/%d connected, %d failed\n", len(subs), cfg.Subscribers, res.Failed)
			mu.Unlock()
		}
	}
	wg.Wait()
	res.Connected = len(subs)
	res.Seconds = time.Since(start).Seconds()
	res.Handshake = figuresOf(&handshake)
	return subs, res
}

// warmUp posts warm-up messages (sequence 0) until every subscriber has
// received one or timeout passes, and returns how many are live. A
// subscription is live only once the server has processed its subscribe,
// and graphql-transport-ws does not say when that is; a message arriving
// says it. Posting again each half second covers subscriptions that went
// live after the previous warm-up message was published.
func warmUp(ctx context.Context, subs []*subscriber, post func(seq uint64) error, timeout time.Duration) (live, posts int, took time.Duration, err error) {
	start := time.Now()
	deadline := start.Add(timeout)
	var lastPost time.Time
	for {
		live = 0
		for _, s := range subs {
			if s.warm.Load() {
				live++
			}
		}
		if live == len(subs) || time.Now().After(deadline) || ctx.Err() != nil {
			return live, posts, time.Since(start), err
		}
		if time.Since(lastPost) >= 500*time.Millisecond {
			lastPost = time.Now()
			posts++
			if perr := post(0); perr != nil && err == nil {
				err = perr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}
