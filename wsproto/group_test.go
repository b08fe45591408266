package wsproto_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gqlchat/gqlchat/wsproto"
	"github.com/gqlchat/gqlchat/wsproto/wstest"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
)

// sharing returns a Prepare that makes every events subscription share one
// execution (whatever its variables), and counts the Start calls; Start
// refuses a subscriber whose variables say "refuse".
func sharing(schema func() graphql.Schema, starts *atomic.Int64) func(context.Context, *wsproto.Request) (*wsproto.Operation, []gqlerrors.FormattedError) {
	return func(_ context.Context, req *wsproto.Request) (*wsproto.Operation, []gqlerrors.FormattedError) {
		doc, err := parser.Parse(parser.ParseParams{Source: req.Query})
		if err != nil {
			return nil, gqlerrors.FormatErrors(err)
		}
		s := schema()
		if r := graphql.ValidateDocument(&s, doc, nil); !r.IsValid {
			return nil, r.Errors
		}
		op := &wsproto.Operation{Doc: doc, Type: doc.Definitions[0].(*ast.OperationDefinition).Operation, Variables: req.Variables}
		if op.Type == ast.OperationTypeSubscription && doc.Definitions[0].(*ast.OperationDefinition).SelectionSet.Selections[0].(*ast.Field).Name.Value == "events" {
			op.Share = "events:" + req.Query
			op.Start = func(context.Context) error {
				starts.Add(1)
				if req.Variables["refuse"] == true {
					return errors.New("refused by Start")
				}
				return nil
			}
		}
		return op, nil
	}
}

// startSharing is start with the sharing Prepare.
func startSharing(t *testing.T, starts *atomic.Int64) *harness { return startSharingTB(t, starts) }

func startSharingTB(t testing.TB, starts *atomic.Int64) *harness {
	var h *harness
	h = start(t, &wsproto.Options{Prepare: sharing(func() graphql.Schema { return h.schema }, starts)})
	return h
}

// TestSharedSubscriptionExecutesOnce subscribes 40 connections of both
// protocols to one shared subscription: the resolver subscribes once, each
// event executes once, and every subscriber gets it.
func TestSharedSubscriptionExecutesOnce(t *testing.T) {
	var starts atomic.Int64
	h := startSharing(t, &starts)
	var clients []*clientOp
	for i := range 40 {
		protocol := []string{gtws, legacy}[i%2]
		c := h.ready(t, protocol)
		c.Subscribe("s", `subscription { events }`, msg{"user": i})
		clients = append(clients, &clientOp{c, protocol})
	}
	h.waitSubscriptions(t, 1)
	waitStat(t, func() bool { return h.Stats().Subscriptions == 40 })
	if got := starts.Load(); got != 40 {
		t.Errorf("Start ran %d times, want once for each of the 40 subscribers", got)
	}
	for _, text := range []string{"one", "two"} {
		h.feed.publish(text)
		for i, c := range clients {
			if got := c.event(t); got != text {
				t.Fatalf("subscriber %d got %q, want %q", i, got, text)
			}
		}
	}
	if got := h.feed.resolved.Load(); got != 2 {
		t.Errorf("2 events were executed %d times, want once each", got)
	}

	// Members leave; the group lives while one remains.
	for _, c := range clients[1:] {
		c.complete(t)
	}
	waitStat(t, func() bool { return h.Stats().Subscriptions == 1 })
	h.feed.publish("three")
	if got := clients[0].event(t); got != "three" {
		t.Errorf("the last member got %q, want three", got)
	}
	clients[0].complete(t)
	h.waitSubscriptions(t, 0) // the group ended: its stream is unsubscribed
	if s := h.Stats(); s.Subscriptions != 0 || s.Operations != 0 {
		t.Errorf("after every member left: %+v", s)
	}
}

func TestSharedSubscriptionStartRefuses(t *testing.T) {
	var starts atomic.Int64
	h := startSharing(t, &starts)
	c := h.ready(t, gtws)
	c.Subscribe("s", `subscription { events }`, msg{"refuse": true})
	m := c.Expect("next", "s")
	if errs, _ := m["payload"].(msg)["errors"].([]any); len(errs) != 1 {
		t.Errorf("payload = %v, want the Start error", m["payload"])
	}
	c.Expect("complete", "s")
	c.Send(msg{"type": "ping"})
	c.Expect("pong", "")
	if h.feed.count() != 0 {
		t.Error("a refused subscriber started a stream")
	}
}

// TestSharedStreamEnds completes every member when the source runs dry.
func TestSharedStreamEnds(t *testing.T) {
	var starts atomic.Int64
	h := startSharing(t, &starts)
	a, b := h.ready(t, gtws), h.ready(t, legacy)
	a.Subscribe("1", `subscription { events }`, nil)
	b.Subscribe("2", `subscription { events }`, nil)
	waitStat(t, func() bool { return h.Stats().Subscriptions == 2 && h.feed.count() == 1 })
	h.feed.end()
	a.Expect("complete", "1")
	b.Expect("complete", "2")
	waitStat(t, func() bool { s := h.Stats(); return s.Subscriptions == 0 && s.Operations == 0 })
	// The ID is free, and a new group starts.
	a.Subscribe("1", `subscription { events }`, nil)
	h.waitSubscriptions(t, 1)
}

// clientOp is a connection with one subscription.
type clientOp struct {
	c        *wstest.Client
	protocol string
}

func (o *clientOp) event(t *testing.T) any {
	t.Helper()
	typ := "next"
	if o.protocol == legacy {
		typ = "data"
	}
	return o.c.Expect(typ, "s")["payload"].(msg)["data"].(msg)["events"]
}

func (o *clientOp) complete(t *testing.T) {
	t.Helper()
	typ := "complete"
	if o.protocol == legacy {
		typ = "stop"
	}
	o.c.Send(msg{"id": "s", "type": typ})
}

// TestJoinedBeforeTheNextFrame: a subscriber that joins a running group is
// live once the server has read its next frame, so a pong is a promise that
// the next event reaches it.
func TestJoinedBeforeTheNextFrame(t *testing.T) {
	var starts atomic.Int64
	h := startSharing(t, &starts)
	first := h.ready(t, gtws)
	first.Subscribe("s", `subscription { events }`, nil)
	h.waitSubscriptions(t, 1)
	for i := range 20 {
		c := h.ready(t, gtws)
		c.Subscribe("s", `subscription { events }`, nil)
		c.Send(msg{"type": "ping"})
		c.Expect("pong", "")
		h.feed.publish(i)
		if got := c.Expect("next", "s")["payload"].(msg)["data"].(msg)["events"]; got != fmt.Sprint(i) {
			t.Fatalf("subscriber %d got %v", i, got)
		}
	}
}
