package wsproto

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Close codes of graphql-transport-ws.
const (
	CodeBadRequest      websocket.StatusCode = 4400
	CodeUnauthorized    websocket.StatusCode = 4401
	CodeForbidden       websocket.StatusCode = 4403
	CodeBadSubprotocol  websocket.StatusCode = 4406
	CodeInitTimeout     websocket.StatusCode = 4408
	CodeDuplicateID     websocket.StatusCode = 4409
	CodeTooManyInits    websocket.StatusCode = 4429
	CodeInternalError   websocket.StatusCode = 4500
	CodeSlowConsumer                         = websocket.StatusTryAgainLater // 1013
	CodeServerGoingAway                      = websocket.StatusGoingAway     // 1001
	maxCloseReason                           = 123                           // bytes: a control frame holds 125, the code takes 2
)

// The states of a connection's handshake.
const (
	stateNew int32 = iota
	stateAcked
)

// conn is one WebSocket connection. One goroutine reads; a writer goroutine
// runs only while frames are queued (write.go); a shared subscription lives
// in its group (group.go) and anything else runs in a goroutine of its own
// (operation.go).
type conn struct {
	srv    *Server
	ws     *websocket.Conn
	req    *http.Request // the upgrade request, for OnConnect; dropped after init
	remote string
	legacy bool
	start  time.Time

	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	opCtx  context.Context // the parent of operations, from OnConnect; set by the reader at init
	state  atomic.Int32
	timer  *time.Timer // the init deadline, until connection_init arrives

	wg sync.WaitGroup // the writer and the operations

	// The write side, guarded by wmu.
	wmu     sync.Mutex
	queue   []frame
	writing bool
	closing bool          // no more frames are taken
	idle    chan struct{} // closed when the writer stops, if someone waits for it

	writeStart atomic.Int64 // when the write under way began, in Unix nanoseconds; 0 when none is

	// The operations, guarded by omu (held only for map access).
	omu   sync.Mutex
	ops   map[string]*operation
	total int // operations started, for the log

	closeOnce sync.Once
	closedBy  atomic.Value // string: why the server closed it, for the log
}

func newConn(s *Server, ws *websocket.Conn, r *http.Request) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	return &conn{
		srv: s, ws: ws, req: r, remote: r.RemoteAddr, legacy: ws.Subprotocol() == LegacyWS, start: time.Now(),
		ctx: ctx, cancel: cancel, opCtx: ctx, ops: map[string]*operation{},
	}
}

// serve reads frames until the connection ends, then cleans up.
func (c *conn) serve() {
	defer c.end()
	if c.ws.Subprotocol() == "" {
		c.close(CodeBadSubprotocol, "Subprotocol not acceptable")
		return
	}
	c.ws.SetReadLimit(c.srv.opts.ReadLimit)
	c.timer = time.AfterFunc(c.srv.opts.InitTimeout, func() {
		if c.state.Load() == stateNew {
			c.close(CodeInitTimeout, "Connection initialisation timeout")
		}
	})
	for {
		// No context: one that can end costs an AfterFunc per read, and
		// closing the connection ends the read anyway.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.close(CodeBadRequest, "binary frames are not part of the protocol")
			return
		}
		if !c.handleAside(data) {
			return
		}
	}
}

// handleAside handles a frame on a goroutine of its own and waits for it,
// so frames are still taken in order. Decoding, parsing, validation and
// joining run deep; a stack they grew would stay with the reader, which
// spends the connection's life idle in Read, and at 10,000 connections
// that is the largest cost of all. A client sends few frames, so a
// goroutine each is cheap.
func (c *conn) handleAside(data []byte) bool {
	done := make(chan bool)
	go func() { done <- c.handle(data) }()
	return <-done
}

// handle acts on one frame and reports whether to read on.
func (c *conn) handle(data []byte) bool {
	m, err := decode(data, c.legacy)
	if err != nil {
		if c.legacy { // subscriptions-transport-ws answers, and reads on
			c.send(frame{body: connectionErrorFrame(err.Error())})
			return true
		}
		c.close(CodeBadRequest, err.Error())
		return false
	}
	if c.legacy {
		return c.handleLegacy(m)
	}
	return c.handleTransport(m)
}

// handleTransport is graphql-transport-ws.
func (c *conn) handleTransport(m *message) bool {
	switch m.Type {
	case typeConnectionInit:
		return c.init(m)
	case typePing:
		c.send(frame{body: pongFrame})
	case typePong:
	case typeSubscribe:
		if c.state.Load() != stateAcked {
			c.close(CodeUnauthorized, "Unauthorized")
			return false
		}
		return c.subscribe(m)
	case typeComplete:
		c.stop(m.ID)
	default:
		c.close(CodeBadRequest, fmt.Sprintf("invalid message: unexpected type %q", m.Type))
		return false
	}
	return true
}

// handleLegacy is the graphql-ws protocol of subscriptions-transport-ws.
func (c *conn) handleLegacy(m *message) bool {
	switch m.Type {
	case typeConnectionInit:
		return c.init(m)
	case typeStart:
		if c.state.Load() != stateAcked {
			c.send(frame{head: head(m.ID, typeError), body: jsonMessage("connection is not initialised: send connection_init first")})
			return true
		}
		c.stop(m.ID) // a start with the ID of an active operation replaces it
		return c.subscribe(m)
	case typeStop:
		c.stop(m.ID)
	case typeConnectionTerminate:
		c.close(websocket.StatusNormalClosure, "connection_terminate")
		return false
	default:
		c.send(frame{head: head(m.ID, typeError), body: jsonMessage("Invalid message type!")})
	}
	return true
}

// init handles connection_init: once only, then OnConnect, then the ack.
func (c *conn) init(m *message) bool {
	if c.state.Load() != stateNew {
		c.close(CodeTooManyInits, "Too many initialisation requests")
		return false
	}
	if !c.timer.Stop() {
		return false // the deadline passed first: 4408 is on its way
	}
	if hook := c.srv.opts.OnConnect; hook != nil {
		var payload map[string]any
		if isObject(m.Payload) {
			json.Unmarshal(m.Payload, &payload)
		}
		ctx, err := hook(c.ctx, c.req, payload)
		if err != nil {
			if c.legacy {
				c.send(frame{body: connectionErrorFrame(err.Error())})
			}
			c.close(CodeForbidden, "Forbidden: "+err.Error())
			return false
		}
		if ctx != nil {
			c.opCtx = ctx
		}
	}
	c.req = nil // no longer needed: let its headers go
	c.state.Store(stateAcked)
	c.send(frame{body: ackFrame})
	if c.legacy {
		c.send(frame{body: keepAliveFrame}) // legacy clients start watching for ka at the first one
	}
	return true
}

// keepAlive runs on the server's schedule: a WebSocket ping that must be
// answered within the interval, and a ka message for legacy clients.
func (c *conn) keepAlive() {
	if c.legacy && c.state.Load() == stateAcked {
		c.send(frame{body: keepAliveFrame})
	}
	c.spawn(func() {
		ctx, cancel := context.WithTimeout(c.ctx, c.srv.opts.KeepAlive)
		defer cancel()
		// Only a ping that times out means a dead peer; one that fails
		// because the connection closed meanwhile does not.
		if err := c.ws.Ping(ctx); err != nil && ctx.Err() == context.DeadlineExceeded && c.ctx.Err() == nil {
			c.srv.stats.dead.Add(1)
			c.drop("no pong within the keep-alive interval")
		}
	})
}

// spawn runs fn in a goroutine that end waits for, unless the connection is
// closing.
func (c *conn) spawn(fn func()) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

// close sends the frames already queued (for up to the write timeout), then
// closes the connection with code and reason. Only the first call counts;
// it blocks for the close handshake, so callers outside the reader run it
// in a goroutine.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		reason = truncate(reason, maxCloseReason)
		c.closedBy.Store(fmt.Sprintf("%d %s", code, reason))
		c.wmu.Lock()
		c.closing = true
		var idle chan struct{}
		if c.writing {
			idle = make(chan struct{})
			c.idle = idle
		}
		c.wmu.Unlock()
		if idle != nil {
			select {
			case <-idle:
			case <-time.After(c.srv.opts.WriteTimeout):
			}
		}
		c.ws.Close(code, reason)
	})
}

// drop closes the connection at once, without a handshake: the peer is
// dead or stuck.
func (c *conn) drop(why string) {
	c.closeOnce.Do(func() {
		c.closedBy.Store("dropped: " + why)
		c.ws.CloseNow()
	})
}

// end runs when the reader stops: it ends every operation and the writer,
// waits for their goroutines, and logs one line for the connection.
func (c *conn) end() {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.cancel()
	c.omu.Lock()
	total := c.total
	for id := range c.ops { // shared subscriptions have no goroutine to do this
		delete(c.ops, id)
		c.srv.stats.operations.Add(-1)
	}
	c.omu.Unlock()
	c.wmu.Lock()
	c.closing = true
	c.queue = nil
	c.wmu.Unlock()
	c.ws.CloseNow()
	c.wg.Wait()

	by, _ := c.closedBy.Load().(string)
	if by == "" {
		by = "client"
	}
	c.srv.opts.Logger.Info("websocket closed", "remote", c.remote, "protocol", c.ws.Subprotocol(),
		"duration", time.Since(c.start).Round(time.Millisecond), "operations", total, "closed", by)
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
