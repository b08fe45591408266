package wsproto

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary frames to the decoder: it must never panic, and
// a frame it accepts must have a type, and an id where its type needs one.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"connection_init"}`,
		`{"type":"connection_init","payload":{"token":"x"}}`,
		`{"type":"ping","payload":null}`,
		`{"id":"1","type":"subscribe","payload":{"query":"subscription { messagePosted(user: \"ann\") { id } }","variables":{"a":1},"operationName":null}}`,
		`{"id":"1","type":"start","payload":{"query":"{ users }"}}`,
		`{"id":"1","type":"complete"}`,
		`{"id":"1","type":"stop"}`,
		`{"type":"connection_terminate"}`,
		`{"id":1,"type":"subscribe"}`,
		`{"type":"subscribe","payload":[]}`,
		`[]`, `null`, `"x"`, `{`, ``, `{"type":null}`,
		`{"id":"\u0000","type":"complete"}`,
		`{"type":"subscribe","id":"a","payload":{"query":"q","variables":"v"}}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, legacy bool) {
		m, err := decode(data, legacy)
		if err != nil {
			if !errors.Is(err, errInvalid) {
				t.Fatalf("error %v does not wrap errInvalid", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		switch m.Type {
		case typeSubscribe, typeStart:
			if m.ID == "" {
				t.Fatalf("accepted %s without id: %q", m.Type, data)
			}
			if _, err := decodeRequest(m.Payload); err != nil {
				t.Fatalf("accepted %s with a bad payload: %v", m.Type, err)
			}
		case typeComplete, typeStop:
			if m.ID == "" {
				t.Fatalf("accepted %s without id: %q", m.Type, data)
			}
		}
	})
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // never half a character
		{"héllo", 3, "hé"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
