package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// bareServer is the reference for a measurement: the same protocol surface
// as chatd for what chatbench uses, with nothing behind it. A post is not
// parsed as GraphQL, not validated, not stored; its variables go straight
// into one encoded frame written to every subscriber. Whatever it reaches
// on a machine is the ceiling of that machine for this fan-out, which is
// what chatd's figures are worth comparing against.
type bareServer struct {
	log    *slog.Logger
	nextID atomic.Uint64

	mu    sync.Mutex
	conns map[*bareConn]struct{} // every open WebSocket connection
	subs  map[*bareConn]struct{} // the subscribed ones
}

// bareQueue is how many frames one connection may fall behind before it is
// closed, so that one stalled client cannot hold the others back or grow
// memory without bound.
const bareQueue = 1024

// bareConn is one WebSocket connection: a reader goroutine (the handler)
// and a writer goroutine fed by out.
type bareConn struct {
	c     *websocket.Conn
	out   chan []byte
	done  chan struct{}
	once  sync.Once
	subID string // guarded by bareServer.mu
}

// stop ends the writer; the caller has removed c from the server's sets
// under its lock, so nothing sends to out any more.
func (c *bareConn) stop() { c.once.Do(func() { close(c.done) }) }

func newBareServer(log *slog.Logger) *bareServer {
	return &bareServer{log: log, conns: map[*bareConn]struct{}{}, subs: map[*bareConn]struct{}{}}
}

func (s *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/graphql" {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		s.serveWS(w, r)
	case r.Method == http.MethodPost:
		s.servePost(w, r)
	default:
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST a mutation or open a WebSocket", http.StatusMethodNotAllowed)
	}
}

// servePost broadcasts variables.u and variables.t as a messagePosted and
// answers once every subscriber has the frame in its queue.
func (s *bareServer) servePost(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Variables struct {
			U string `json:"u"`
			T string `json:"t"`
		} `json:"variables"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	w.Header().Set("Content-Type", "application/json")
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.Variables.U == "" || req.Variables.T == "" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"errors":[{"message":"the bare server takes variables u and t","extensions":{"code":"BAD_USER_INPUT"}}]}`)
		return
	}
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	msg, _ := json.Marshal(struct {
		ID        string `json:"id"`
		User      string `json:"user"`
		Text      string `json:"text"`
		CreatedAt string `json:"createdAt"`
	}{id, req.Variables.U, req.Variables.T, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")})
	s.broadcast(msg)
	io.WriteString(w, `{"data":{"postMessage":{"id":"`+id+`"}}}`)
}

// broadcast queues one next frame for every subscriber. The frame is
// encoded once per subscription id (clients all use "1", so once) and the
// same bytes go to every connection. The lock makes every subscriber see
// posts in one order.
func (s *bareServer) broadcast(msg []byte) {
	tail := append(append([]byte(`,"type":"next","payload":{"data":{"messagePosted":`), msg...), `}}}`...)
	frames := map[string][]byte{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.subs {
		f, ok := frames[c.subID]
		if !ok {
			id, _ := json.Marshal(c.subID)
			f = append(append([]byte(`{"id":`), id...), tail...)
			frames[c.subID] = f
		}
		select {
		case c.out <- f:
		default:
			s.dropSlowLocked(c)
		}
	}
}

// dropLocked forgets c and stops its writer; s.mu is held.
func (s *bareServer) dropLocked(c *bareConn) {
	delete(s.subs, c)
	delete(s.conns, c)
	c.stop()
}

// dropSlowLocked closes c, whose queue is full; s.mu is held.
func (s *bareServer) dropSlowLocked(c *bareConn) {
	s.dropLocked(c)
	s.log.Warn("closing a subscriber more than a queue behind", "queue", bareQueue)
	go c.c.Close(websocket.StatusPolicyViolation, "slow subscriber")
}

// serveWS speaks the part of graphql-transport-ws that chatbench uses:
// connection_init, ping, subscribe and complete.
func (s *bareServer) serveWS(w http.ResponseWriter, r *http.Request) {
	wc, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return
	}
	if wc.Subprotocol() != "graphql-transport-ws" {
		wc.Close(4406, "subprotocol not acceptable")
		return
	}
	c := &bareConn{c: wc, out: make(chan []byte, bareQueue), done: make(chan struct{})}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.dropLocked(c)
		s.mu.Unlock()
		wc.CloseNow()
	}()
	go s.write(c)

	ctx := context.Background() // the connection ends reads by closing
	initialised := false
	for {
		_, data, err := wc.Read(ctx)
		if err != nil {
			return
		}
		var m struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &m) != nil {
			wc.Close(4400, "invalid message")
			return
		}
		switch m.Type {
		case "connection_init":
			if initialised {
				wc.Close(4429, "too many initialisation requests")
				return
			}
			initialised = true
			s.send(c, []byte(`{"type":"connection_ack"}`))
		case "ping":
			s.send(c, []byte(`{"type":"pong"}`))
		case "pong":
		case "subscribe":
			if !initialised {
				wc.Close(4401, "unauthorized")
				return
			}
			s.mu.Lock()
			if _, open := s.conns[c]; open {
				c.subID = m.ID
				s.subs[c] = struct{}{}
			}
			s.mu.Unlock()
		case "complete":
			s.mu.Lock()
			if c.subID == m.ID {
				delete(s.subs, c)
			}
			s.mu.Unlock()
		default:
			wc.Close(4400, "unexpected message type "+strconv.Quote(m.Type))
			return
		}
	}
}

// send queues a control frame for c, closing c if its queue is full.
func (s *bareServer) send(c *bareConn, f []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, open := s.conns[c]; !open {
		return
	}
	select {
	case c.out <- f:
	default:
		s.dropSlowLocked(c)
	}
}

// write is c's writer goroutine.
func (s *bareServer) write(c *bareConn) {
	ctx := context.Background()
	for {
		select {
		case f := <-c.out:
			if err := c.c.Write(ctx, websocket.MessageText, f); err != nil {
				c.c.CloseNow()
				return
			}
		case <-c.done:
			return
		}
	}
}

// closeAll closes every WebSocket connection, for shutdown: http.Server's
// Shutdown does not touch hijacked connections.
func (s *bareServer) closeAll() {
	s.mu.Lock()
	conns := make([]*bareConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
		s.dropLocked(c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.c.CloseNow()
	}
}

// subscribers counts subscribed connections.
func (s *bareServer) subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}
