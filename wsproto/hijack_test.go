package wsproto_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFrameSentWithTheUpgrade sends the upgrade request and the first
// frame in one write, as a fast client may: the frame must not be lost
// when the connection is handed to smaller buffers.
func TestFrameSentWithTheUpgrade(t *testing.T) {
	h := start(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	upgrade := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
	if _, err := conn.Write(append([]byte(upgrade), clientFrame(`{"type":"connection_init"}`)...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	head := make([]byte, 2)
	if _, err := r.Read(head[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(head[1:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, head[1]&0x7f)
	if _, err := r.Read(body); err != nil {
		t.Fatal(err)
	}
	if head[0] != 0x81 || string(body) != `{"type":"connection_ack"}` {
		t.Errorf("first frame %x %q, want a text frame with connection_ack", head[0], body)
	}
}

// clientFrame is a masked text frame, as clients send them.
func clientFrame(payload string) []byte {
	mask := []byte{1, 2, 3, 4}
	f := []byte{0x81, 0x80 | byte(len(payload))}
	f = append(f, mask...)
	for i := range len(payload) {
		f = append(f, payload[i]^mask[i%4])
	}
	return f
}
