package chat

import (
	"context"
	"sync"
	"sync/atomic"
)

// Broker fans events out to the subscriptions of this process.
//
// Publishing never blocks: it takes a read lock and offers the event to each
// subscription's bounded queue. A subscription whose queue is full is cut
// off: its queue ends with ErrTooSlow and is closed, and everyone else keeps
// receiving. No lock is held while anyone waits.
type Broker struct {
	queueSize int

	mu     sync.RWMutex
	topics map[topic][]*subscription

	delivered atomic.Uint64
	cutOff    atomic.Uint64
}

// topic names a stream of events: one kind of event in one room.
type topic struct {
	room string
	kind kind
}

type kind uint8

const (
	messagesKind kind = iota
	joinsKind
)

// subscription is one subscriber's queue. Its mutex orders sends against the
// close, so that publishers may run concurrently.
type subscription struct {
	mu     sync.Mutex
	ch     chan any
	closed bool
}

// NewBroker returns a Broker whose subscriptions may fall queueSize events
// behind before they are cut off.
func NewBroker(queueSize int) *Broker {
	return &Broker{queueSize: queueSize, topics: make(map[topic][]*subscription)}
}

// subscribe returns a queue that receives every event published to t until
// ctx ends, when the queue is closed. The type is exactly chan any, because
// that is what graphql-go takes from a subscription resolver.
func (b *Broker) subscribe(ctx context.Context, t topic) chan any {
	// One slot more than the queue size, kept for ErrTooSlow.
	s := &subscription{ch: make(chan any, b.queueSize+1)}
	b.mu.Lock()
	b.topics[t] = append(b.topics[t], s)
	b.mu.Unlock()
	context.AfterFunc(ctx, func() { b.unsubscribe(t, s) })
	return s.ch
}

func (b *Broker) unsubscribe(t topic, s *subscription) {
	b.mu.Lock()
	subs := b.topics[t]
	for i, x := range subs {
		if x == s {
			last := len(subs) - 1
			subs[i], subs[last] = subs[last], nil
			subs = subs[:last]
			break
		}
	}
	if len(subs) == 0 {
		delete(b.topics, t)
	} else {
		b.topics[t] = subs
	}
	b.mu.Unlock()
	s.close()
}

// publish offers v to every subscription of t without blocking.
func (b *Broker) publish(t topic, v any) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	subs := b.topics[t]
	for _, s := range subs {
		if !s.offer(v) {
			b.cutOff.Add(1)
		}
	}
	b.delivered.Add(uint64(len(subs)))
}

// offer queues v, or cuts the subscription off when its queue is full. It
// reports false when it cut the subscription off.
func (s *subscription) offer(v any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return true
	case len(s.ch) >= cap(s.ch)-1:
		s.ch <- ErrTooSlow // the kept slot: never blocks
		close(s.ch)
		s.closed = true
		return false
	default:
		s.ch <- v
		return true
	}
}

func (s *subscription) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		close(s.ch)
		s.closed = true
	}
}

// BrokerStats counts what the broker did since it started.
type BrokerStats struct {
	Subscriptions int    // open now
	Delivered     uint64 // events offered to subscriptions
	CutOff        uint64 // subscriptions cut off for falling behind
}

// Stats returns the broker's counters.
func (b *Broker) Stats() BrokerStats {
	b.mu.RLock()
	n := 0
	for _, subs := range b.topics {
		n += len(subs)
	}
	b.mu.RUnlock()
	return BrokerStats{Subscriptions: n, Delivered: b.delivered.Load(), CutOff: b.cutOff.Load()}
}
