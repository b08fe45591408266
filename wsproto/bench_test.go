package wsproto_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/wsproto/wstest"
)

// BenchmarkSharedFanout publishes one event to n subscribers of a shared
// subscription over real loopback connections, and waits until every one of
// them has read it: execute once, encode once, write n times.
func BenchmarkSharedFanout(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(fmt.Sprint("subscribers=", n), func(b *testing.B) {
			var starts atomic.Int64
			h := startSharingTB(b, &starts)
			var got, target atomic.Int64
			done := make(chan struct{}, 1)
			for range n {
				c := wstest.Dial(b, h.url, gtws)
				c.Init()
				c.Subscribe("s", `subscription { events }`, nil)
				go func() { // read raw frames: the client's own cost stays small
					for {
						if _, _, err := c.Conn.Read(context.Background()); err != nil {
							return
						}
						if got.Add(1) == target.Load() {
							done <- struct{}{}
						}
					}
				}()
			}
			deadline := time.Now().Add(10 * time.Second)
			for h.Stats().Subscriptions != int64(n) || h.feed.count() != 1 {
				if time.Now().After(deadline) {
					b.Fatal("subscribers did not start")
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportAllocs()
			want := int64(0)
			for b.Loop() {
				want += int64(n)
				target.Store(want)
				h.feed.publish("a message of about a hundred bytes, as people write them in a chat room")
				<-done
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(want), "ns/delivery")
		})
	}
}
