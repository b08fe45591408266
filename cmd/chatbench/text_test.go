package main

import (
	"strings"
	"testing"
)

func TestTextRoundTrip(t *testing.T) {
	for _, size := range []int{1, 30, 100, 2000} {
		b := appendText(nil, 1735000000123456789, 42, "abcd1234", size)
		if want := max(size, len("1735000000123456789 42 abcd1234")); len(b) != want {
			t.Errorf("size %d: text is %d bytes, want %d: %q", size, len(b), want, b)
		}
		nanos, seq, ok := parseText(b, "abcd1234")
		if !ok || nanos != 1735000000123456789 || seq != 42 {
			t.Errorf("size %d: parsed %d %d %v from %q", size, nanos, seq, ok, b)
		}
		if strings.TrimSpace(string(b)) != string(b) {
			t.Errorf("size %d: text %q has surrounding space", size, b)
		}
	}
}

func TestParseTextRejects(t *testing.T) {
	for _, s := range []string{
		"", "hello", "123", "123 45", "123 45 other123 xx", "123 45 abcd12345", "12a 45 abcd1234",
		"123  abcd1234", "99999999999999999999 1 abcd1234",
	} {
		if _, _, ok := parseText([]byte(s), "abcd1234"); ok {
			t.Errorf("parseText(%q) accepted a text that is not this run's", s)
		}
	}
	// The fast path hands the text with the rest of the frame after it.
	if _, seq, ok := parseText([]byte(`5 7 abcd1234","createdAt":"x"}}}}`), "abcd1234"); !ok || seq != 7 {
		t.Errorf("text ending at its closing quote: seq %d ok %v", seq, ok)
	}
}

func TestClassify(t *testing.T) {
	msg := `{"id":"1","type":"next","payload":{"data":{"messagePosted":{"id":"9","user":"bench1","text":"5 7 abcd1234 xx","createdAt":"2026-01-01T00:00:00.000Z"}}}}`
	cases := []struct {
		frame   string
		kind    frameKind
		seq     uint64
		errText string
	}{
		{msg, frameMessage, 7, ""},
		// Other key orders and spacing take the slow path, with the same answer.
		{`{"type": "next", "id": "1", "payload": {"data": {"messagePosted": {"text": "5 7 abcd1234 xx", "id": "9"}}}}`, frameMessage, 7, ""},
		{`{"payload":{"data":{"messagePosted":{"text":"5 8 abcd1234"}}},"type":"next","id":"1"}`, frameMessage, 8, ""},
		// A user named like a key cannot fool the fast path.
		{`{"id":"1","type":"next","payload":{"data":{"messagePosted":{"user":"\"text\":\"1 2 abcd1234","text":"5 9 abcd1234"}}}}`, frameMessage, 9, ""},
		{`{"id":"1","type":"next","payload":{"errors":[{"message":"boom"}]}}`, frameNextError, 0, "boom"},
		{`{"id":"1","type":"error","payload":[{"message":"bad query"}]}`, frameError, 0, "bad query"},
		{`{"id":"1","type":"complete"}`, frameComplete, 0, ""},
		{`{"type":"ping"}`, framePing, 0, ""},
		{`{"type":"ping","payload":{}}`, framePing, 0, ""},
		{`{"type":"connection_ack"}`, frameAck, 0, ""},
		{`{"type":"pong"}`, frameOther, 0, ""},
		{`not json`, frameOther, 0, ""},
	}
	for _, c := range cases {
		kind, text, errText := classify([]byte(c.frame))
		if kind != c.kind || errText != c.errText {
			t.Errorf("classify(%s) = %v %q, want %v %q", c.frame, kind, errText, c.kind, c.errText)
			continue
		}
		if kind == frameMessage {
			if _, seq, ok := parseText(text, "abcd1234"); !ok || seq != c.seq {
				t.Errorf("classify(%s): text %q gave seq %d ok %v, want %d", c.frame, text, seq, ok, c.seq)
			}
		}
	}
}

func TestSubscribeFrame(t *testing.T) {
	want := `{"id":"1","type":"subscribe","payload":{"query":"subscription($u: String!) { messagePosted(user: $u) { id user text createdAt } }","variables":{"u":"sub7"}}}`
	if got := string(subscribeFrame("sub7")); got != want {
		t.Errorf("subscribe frame\n got %s\nwant %s", got, want)
	}
}

func TestPostAnswer(t *testing.T) {
	if err := postAnswer(200, []byte(`{"data":{"postMessage":{"id":"abc"}}}`)); err != nil {
		t.Errorf("ok answer: %v", err)
	}
	if err := postAnswer(200, []byte(`{"data": {"postMessage": {"id": "abc"}}}`)); err != nil {
		t.Errorf("ok answer with spaces: %v", err)
	}
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"data":{"postMessage":null},"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED"}}]}`, "RATE_LIMITED: slow down"},
		{200, `{"errors":[{"message":"no"}]}`, "HTTP 200: no"},
		{503, `{"data":{"postMessage":{"id":"abc"}}}`, "HTTP 503"},
		{200, `{"data":{"postMessage":null}}`, "HTTP 200"},
		{502, `<html>bad gateway</html>`, "HTTP 502"},
	} {
		err := postAnswer(c.status, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("postAnswer(%d, %s) = %v, want an error with %q", c.status, c.body, err, c.want)
		}
	}
}
