// Package wstest is a small GraphQL-over-WebSocket client for tests: it
// sends and reads JSON frames over a real coder/websocket connection and
// fails the test, never hangs, when a frame does not come.
package wstest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Timeout bounds every wait for a frame.
var Timeout = 10 * time.Second

// Client is one connection.
type Client struct {
	tb   testing.TB
	Conn *websocket.Conn
}

// Msg is a frame as decoded JSON.
type Msg = map[string]any

// Dial connects to url (http:// or ws://) offering subprotocols; the
// connection closes when the test ends.
func Dial(tb testing.TB, url string, subprotocols ...string) *Client {
	tb.Helper()
	c, err := DialErr(tb, url, nil, subprotocols...)
	if err != nil {
		tb.Fatalf("failed to dial %s: %v", url, err)
	}
	return c
}

// DialErr is Dial with a header, returning the error.
func DialErr(tb testing.TB, url string, header http.Header, subprotocols ...string) (*Client, error) {
	url = strings.Replace(url, "http://", "ws://", 1)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols, HTTPHeader: header})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	tb.Cleanup(func() { conn.CloseNow() })
	return &Client{tb: tb, Conn: conn}, nil
}

// Send writes v as a JSON text frame.
func (c *Client) Send(v any) {
	c.tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.SendRaw(string(b))
}

// SendRaw writes s as a text frame.
func (c *Client) SendRaw(s string) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := c.Conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.tb.Fatalf("failed to send %s: %v", s, err)
	}
}

// Read returns the next frame, or fails the test.
func (c *Client) Read() Msg {
	c.tb.Helper()
	m, err := c.ReadErr()
	if err != nil {
		c.tb.Fatalf("failed to read a frame: %v", err)
	}
	return m
}

// ReadErr returns the next frame or the error that ended the connection.
func (c *Client) ReadErr() (Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	_, data, err := c.Conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m Msg
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errors.New("frame is not JSON: " + string(data))
	}
	return m, nil
}

// Next returns the next frame that is not a keep-alive (ka, or a ping,
// which it answers).
func (c *Client) Next() Msg {
	c.tb.Helper()
	for {
		m := c.Read()
		switch m["type"] {
		case "ka":
			continue
		case "ping":
			c.Send(Msg{"type": "pong"})
			continue
		}
		return m
	}
}

// Expect returns the next frame, failing unless it has type typ (and id,
// when id is not "").
func (c *Client) Expect(typ, id string) Msg {
	c.tb.Helper()
	m := c.Next()
	if m["type"] != typ || (id != "" && m["id"] != id) {
		c.tb.Fatalf("got frame %v, want type %q id %q", m, typ, id)
	}
	return m
}

// Init sends connection_init and expects connection_ack.
func (c *Client) Init() {
	c.tb.Helper()
	c.Send(Msg{"type": "connection_init", "payload": Msg{}})
	c.Expect("connection_ack", "")
}

// Subscribe sends a subscribe message (start, for the legacy protocol).
func (c *Client) Subscribe(id, query string, vars Msg) {
	c.tb.Helper()
	typ := "subscribe"
	if c.Conn.Subprotocol() == "graphql-ws" {
		typ = "start"
	}
	c.Send(Msg{"id": id, "type": typ, "payload": Msg{"query": query, "variables": vars}})
}

// ExpectClose reads until the connection ends and fails unless the server
// closed it with code. It returns the close reason.
func (c *Client) ExpectClose(code websocket.StatusCode) string {
	c.tb.Helper()
	for {
		m, err := c.ReadErr()
		if err == nil {
			if m["type"] == "ka" || m["type"] == "ping" || m["type"] == "pong" {
				continue
			}
			c.tb.Fatalf("got frame %v, want close %d", m, code)
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.tb.Fatalf("connection ended with %v, want close %d", err, code)
		}
		if ce.Code != code {
			c.tb.Fatalf("closed with %d %q, want %d", ce.Code, ce.Reason, code)
		}
		return ce.Reason
	}
}

// Data returns the payload.data of a next (or data) frame.
func Data(m Msg) Msg {
	p, _ := m["payload"].(Msg)
	d, _ := p["data"].(Msg)
	return d
}
