package chat

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// drained subscribes n queues to t and empties them in the background until
// the test ends.
func drained(tb testing.TB, b *Broker, t topic, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		ch := b.subscribe(ctx, t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
			}
		}()
	}
	tb.Cleanup(func() { cancel(); wg.Wait() })
}

// BenchmarkPublish offers one event to n subscriptions.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint("subscribers=", n), func(b *testing.B) {
			br := NewBroker(1 << 16)
			t := topic{DefaultRoom, messagesKind}
			drained(b, br, t, n)
			msg := &Message{ID: "x", Text: "hello"}
			b.ReportAllocs()
			for b.Loop() {
				br.publish(t, msg)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// TestPublishDoesNotAllocate guards the fan-out's design: publishing costs
// no allocation, however many subscribers there are.
func TestPublishDoesNotAllocate(t *testing.T) {
	br := NewBroker(1 << 16)
	tp := topic{DefaultRoom, messagesKind}
	drained(t, br, tp, 100)
	msg := &Message{ID: "x", Text: "hello"}
	if allocs := testing.AllocsPerRun(1000, func() { br.publish(tp, msg) }); allocs != 0 {
		t.Errorf("publish to 100 subscribers allocates %v times, want 0", allocs)
	}
}
