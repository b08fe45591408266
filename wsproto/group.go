package wsproto

import (
	"context"
	"sync"

	"github.com/graphql-go/graphql"
)

// group is the subscriptions that share one execution (Operation.Share):
// one graphql.ExecuteSubscription, whose every result is encoded once and
// queued, as the same bytes, to each member's connection. Members cost no
// goroutine; the group has one, which ends when its last member leaves.
type group struct {
	key    string
	cancel context.CancelFunc

	mu      sync.RWMutex
	members map[*operation]*conn
}

// join adds op of c to the group of p.Share, starting the group when it is
// the first. op leaves when its context ends.
func (s *Server) join(ctx context.Context, c *conn, op *operation, p *Operation) {
	s.gmu.Lock()
	g := s.groups[p.Share]
	if g == nil {
		// The group outlives any one member, so its execution hangs off the
		// server's context, not the first subscriber's.
		gctx, cancel := context.WithCancel(s.ctx)
		g = &group{key: p.Share, cancel: cancel, members: map[*operation]*conn{}}
		s.groups[p.Share] = g
		s.groupsWG.Add(1)
		results := graphql.ExecuteSubscription(graphql.ExecuteParams{
			Schema: s.schema, AST: p.Doc, OperationName: p.Name, Args: p.Variables, Context: gctx,
		})
		go s.runGroup(g, results)
	}
	g.mu.Lock()
	g.members[op] = c
	g.mu.Unlock()
	s.gmu.Unlock()
	s.stats.subscriptions.Add(1)
	context.AfterFunc(ctx, func() { s.leave(g, op) })
}

// leave removes op from g, and ends g when op was its last member.
func (s *Server) leave(g *group, op *operation) {
	s.gmu.Lock()
	g.mu.Lock()
	_, member := g.members[op]
	delete(g.members, op)
	last := member && len(g.members) == 0
	g.mu.Unlock()
	if last {
		if s.groups[g.key] == g {
			delete(s.groups, g.key)
		}
		g.cancel()
	}
	s.gmu.Unlock()
	if member {
		s.stats.subscriptions.Add(-1)
	}
}

// runGroup fans each result out to the members, and completes them if the
// stream ends by itself.
func (s *Server) runGroup(g *group, results chan *graphql.Result) {
	defer s.groupsWG.Done()
	// graphql-go's sender does not watch the context: range until it closes
	// the channel, which it does once the group's context ends.
	for res := range results {
		body := encodeResult(res)
		g.mu.RLock()
		for op, c := range g.members {
			c.sendOp(op, frame{head: op.head, body: body})
		}
		g.mu.RUnlock()
	}
	s.gmu.Lock()
	if s.groups[g.key] == g {
		delete(s.groups, g.key)
	}
	g.mu.Lock()
	members := g.members
	g.members = map[*operation]*conn{}
	g.mu.Unlock()
	s.gmu.Unlock()
	g.cancel()
	for op, c := range members {
		s.stats.subscriptions.Add(-1)
		c.sendOp(op, frame{body: completeFrame(op.id)})
		c.finish(op)
	}
}
