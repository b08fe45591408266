package wsproto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
)

// The subprotocols, in the order the server prefers them.
const (
	TransportWS = "graphql-transport-ws"
	LegacyWS    = "graphql-ws"
)

// Server serves GraphQL over WebSocket. It is an http.Handler for the
// upgrade requests.
type Server struct {
	schema graphql.Schema
	opts   Options

	ctx    context.Context // parent of every connection; ends at Shutdown
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    map[*conn]struct{}
	gmu      sync.Mutex // guards groups; taken before a group's own lock
	groups   map[string]*group
	groupsWG sync.WaitGroup
	closing  bool
	handlers sync.WaitGroup
	tickStop chan struct{} // ends the keep-alive schedule, which runs while there are connections

	stats counters
}

// counters are the server's running totals.
type counters struct {
	accepted, refused, slow, dead atomic.Uint64
	operations, subscriptions     atomic.Int64
	frames                        atomic.Uint64
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	Connections   int    // open now
	Accepted      uint64 // connections accepted since start
	Refused       uint64 // upgrades refused because the server was full
	SlowClosed    uint64 // connections closed because their queue overflowed
	DeadClosed    uint64 // connections dropped for a missed pong or a stuck write
	Operations    int64  // operations running now
	Subscriptions int64  // subscriptions running now
	Frames        uint64 // frames written since start
}

// NewServer returns a Server for schema.
func NewServer(schema graphql.Schema, opts *Options) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{schema: schema, opts: opts.withDefaults(), ctx: ctx, cancel: cancel, conns: map[*conn]struct{}{}, groups: map[string]*group{}}
	if s.opts.Prepare == nil {
		s.opts.Prepare = s.prepare
	}
	return s
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{
		Connections: n, Accepted: s.stats.accepted.Load(), Refused: s.stats.refused.Load(),
		SlowClosed: s.stats.slow.Load(), DeadClosed: s.stats.dead.Load(),
		Operations: s.stats.operations.Load(), Subscriptions: s.stats.subscriptions.Load(),
		Frames: s.stats.frames.Load(),
	}
}

// ServeHTTP upgrades the request and returns: the connection is served by
// a goroutine of its own, so that net/http's request and response state
// (and the handler goroutine's stack) are not kept for the connection's
// life.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.admit() {
		s.stats.refused.Add(1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "server is full or shutting down, retry later", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols:   []string{TransportWS, LegacyWS},
		OriginPatterns: s.opts.OriginPatterns,
	})
	if err != nil {
		s.handlers.Done()
		s.opts.Logger.Info("websocket upgrade refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	c := newConn(s, ws, r)
	if !s.register(c) {
		s.handlers.Done()
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	go func() {
		defer s.handlers.Done()
		defer s.unregister(c)
		c.serve()
	}()
}

// admit counts a handler in, unless the server is full or shutting down.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || len(s.conns) >= s.opts.MaxConnections {
		return false
	}
	s.handlers.Add(1)
	return true
}

func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.stats.accepted.Add(1)
	if s.tickStop == nil {
		s.tickStop = make(chan struct{})
		go s.keepAlive(s.tickStop)
	}
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if len(s.conns) == 0 && s.tickStop != nil {
		close(s.tickStop)
		s.tickStop = nil
	}
}

// keepAlive is the one schedule of every connection's pings, and of the
// watchdog of their writes. It runs while the server has connections: it
// ends when stop is closed.
func (s *Server) keepAlive(stop chan struct{}) {
	ping := time.NewTicker(s.opts.KeepAlive)
	defer ping.Stop()
	watch := time.NewTicker(min(time.Second, s.opts.WriteTimeout/2))
	defer watch.Stop()
	var conns []*conn
	for {
		select {
		case <-stop:
			return
		case <-ping.C:
			conns = s.snapshot(conns)
			for _, c := range conns {
				c.keepAlive()
			}
		case <-watch.C:
			conns = s.snapshot(conns)
			now := time.Now().UnixNano()
			for _, c := range conns {
				if c.stuck(now) {
					s.stats.dead.Add(1)
					c.drop(fmt.Sprintf("a write took longer than %v", s.opts.WriteTimeout))
				}
			}
		}
		clear(conns) // hold no connection until the next tick
	}
}

// snapshot fills buf with the open connections.
func (s *Server) snapshot(buf []*conn) []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf = buf[:0]
	for c := range s.conns {
		buf = append(buf, c)
	}
	return buf
}

// Shutdown closes every connection with 1001 and waits for them to end, or
// for ctx; then it drops what is left. New upgrades are refused.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.close(websocket.StatusGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		s.groupsWG.Wait() // groups end with their last member
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel() // ends every operation
		for _, c := range conns {
			c.ws.CloseNow() // and every read
		}
		<-done
		return errors.Join(errors.New("failed to close every websocket in time"), ctx.Err())
	}
}

// prepare is the default Options.Prepare: parse and validate, no cache.
func (s *Server) prepare(_ context.Context, req *Request) (*Operation, []gqlerrors.FormattedError) {
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(req.Query), Name: "GraphQL request"})})
	if err != nil {
		return nil, gqlerrors.FormatErrors(err)
	}
	if r := graphql.ValidateDocument(&s.schema, doc, nil); !r.IsValid {
		return nil, r.Errors
	}
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok && (req.OperationName == "" || op.Name != nil && op.Name.Value == req.OperationName) {
			return &Operation{Doc: doc, Name: req.OperationName, Type: op.Operation, Variables: req.Variables}, nil
		}
	}
	return nil, gqlerrors.FormatErrors(errors.New("no operation to run"))
}
