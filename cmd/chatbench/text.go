package main

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// A posted text is "<unix nanos> <seq> <run> " followed by 'x' padding up to
// the configured size. The send time makes every delivery its own latency
// sample on one machine's clock; the sequence number finds losses and
// duplicates; the run id keeps apart messages that are not this run's (a
// person chatting, another chatbench) so that they are never counted.
// Sequence 0 is the warm-up message.

// appendText appends the text of post seq sent at nanos to dst.
func appendText(dst []byte, nanos int64, seq uint64, run string, size int) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, nanos, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ' ')
	dst = append(dst, run...)
	if len(dst)-start < size {
		dst = append(dst, ' ')
	}
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

// parseText reads the send time and sequence number out of a text (or its
// start) and reports whether it is one of this run's.
func parseText(b []byte, run string) (nanos int64, seq uint64, ok bool) {
	n, i := scanUint(b, 0)
	if i == 0 || i >= len(b) || b[i] != ' ' || n > 1<<63-1 {
		return 0, 0, false
	}
	s, j := scanUint(b, i+1)
	if j == i+1 || j >= len(b) || b[j] != ' ' {
		return 0, 0, false
	}
	rest := b[j+1:]
	if len(rest) < len(run) || string(rest[:len(run)]) != run {
		return 0, 0, false
	}
	if len(rest) > len(run) && rest[len(run)] != ' ' && rest[len(run)] != '"' {
		return 0, 0, false
	}
	return int64(n), s, true
}

// scanUint parses the decimal digits of b from i on and returns the value and
// the index after them; at most 19 digits are taken, so it cannot overflow.
func scanUint(b []byte, i int) (uint64, int) {
	var n uint64
	start := i
	for i < len(b) && i-start < 19 && '0' <= b[i] && b[i] <= '9' {
		n = n*10 + uint64(b[i]-'0')
		i++
	}
	return n, i
}

// frameKind is what a graphql-transport-ws frame from the server is.
type frameKind int

const (
	frameOther     frameKind = iota // anything else
	frameMessage                    // next with a messagePosted text
	frameNextError                  // next whose payload carries errors and no message
	frameError                      // error: the subscription was refused
	frameComplete                   // complete: the server ended the subscription
	framePing                       // ping: answer pong
	frameAck                        // connection_ack
)

var (
	keyTypeNext = []byte(`"type":"next"`)
	keyPayload  = []byte(`"payload":`)
	keyText     = []byte(`"text":"`)
)

// classify tells what frame is and, for a message, returns its text (or, on
// the fast path, the text and everything after it; parseText needs only its
// start). errText is the first error message of error frames.
//
// The fast path avoids decoding JSON for the frames that matter, which are
// nearly all of them: `"type":"next"` before `"payload":` can only be the
// top-level type (the id before it is a string, in which quotes are
// escaped), and `"text":"` can only be the key of the one object that has a
// text, the message. Anything else is decoded in full.
func classify(frame []byte) (kind frameKind, text []byte, errText string) {
	if t := bytes.Index(frame, keyTypeNext); t >= 0 {
		if p := bytes.Index(frame, keyPayload); p > t {
			if x := bytes.Index(frame[p:], keyText); x >= 0 {
				return frameMessage, frame[p+x+len(keyText):], ""
			}
		}
	}
	return classifySlow(frame)
}

// classifySlow decodes frame with encoding/json.
func classifySlow(frame []byte) (frameKind, []byte, string) {
	var f struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		return frameOther, nil, ""
	}
	switch f.Type {
	case "next":
		var p struct {
			Data struct {
				MessagePosted *struct {
					Text string `json:"text"`
				} `json:"messagePosted"`
			} `json:"data"`
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			return frameOther, nil, ""
		}
		if m := p.Data.MessagePosted; m != nil {
			return frameMessage, []byte(m.Text), ""
		}
		if len(p.Errors) > 0 {
			return frameNextError, nil, p.Errors[0].Message
		}
		return frameOther, nil, ""
	case "error":
		var errs []struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(f.Payload, &errs)
		msg := string(f.Payload)
		if len(errs) > 0 {
			msg = errs[0].Message
		}
		return frameError, nil, msg
	case "complete":
		return frameComplete, nil, ""
	case "ping":
		return framePing, nil, ""
	case "connection_ack":
		return frameAck, nil, ""
	}
	return frameOther, nil, ""
}
