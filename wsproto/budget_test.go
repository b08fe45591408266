package wsproto_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/wsproto/wstest"
)

// TestIdleConnectionBudget guards what makes connections small: an idle
// connection with a shared subscription costs one goroutine (its reader)
// and a bounded number of heap bytes, and the writer goroutine a delivery
// starts ends once the frame is written.
func TestIdleConnectionBudget(t *testing.T) {
	var starts atomic.Int64
	h := startSharing(t, &starts)
	const n = 300
	baseG, baseHeap := settledGoroutines(), heapInUse()
	clients := make([]*wstest.Client, n)
	for i := range clients {
		clients[i] = h.ready(t, gtws)
		clients[i].Subscribe("s", `subscription { events }`, nil)
	}
	waitStat(t, func() bool { return h.Stats().Subscriptions == n })
	h.feed.publish("one event for everyone") // starts and ends n writers

	// The group costs two goroutines (its fan-out, graphql-go's stream) and
	// the keep-alive schedule one; each connection one, its reader. The test's
	// clients read nothing and cost none.
	const fixed = 3
	deadline := time.Now().Add(10 * time.Second)
	for {
		g := settledGoroutines() - baseG
		if g <= n+fixed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines for %d idle connections, want at most %d", g, n, n+fixed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Heap of both ends of each connection: the server's and the test
	// client's bufio buffers (4 KiB each way on each side), conn state.
	perConn := (heapInUse() - baseHeap) / n
	t.Logf("heap per idle connection, server and client together: %d bytes", perConn)
	if perConn > 30<<10 {
		t.Errorf("heap per idle connection %d bytes, want at most 30 KiB for both ends", perConn)
	}
	runtime.KeepAlive(clients)
}

func heapInUse() int64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return int64(s.HeapInuse)
}
