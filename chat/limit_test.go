package chat

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(2, 3) // 2 a second, 3 at once
	for i := range 3 {
		if wait := l.Take(now); wait != 0 {
			t.Fatalf("take %d of the burst: wait %v, want 0", i+1, wait)
		}
	}
	if wait := l.Take(now); wait != 500*time.Millisecond {
		t.Errorf("past the burst: wait %v, want 500ms", wait)
	}
	now = now.Add(500 * time.Millisecond) // one token back
	if wait := l.Take(now); wait != 0 {
		t.Errorf("after 500ms: wait %v, want 0", wait)
	}
	if wait := l.Take(now); wait == 0 {
		t.Error("took a token that was not there")
	}
	now = now.Add(time.Hour)
	for i := range 3 { // refilled to the burst, never past it
		if wait := l.Take(now); wait != 0 {
			t.Fatalf("after an hour, take %d: wait %v", i+1, wait)
		}
	}
	if wait := l.Take(now); wait == 0 {
		t.Error("the bucket held more than its burst")
	}
}

func TestNameLimitsForgetIdleNames(t *testing.T) {
	now := time.Unix(1000, 0)
	n := newNameLimits(1, 2)
	for i := range 5000 {
		n.take(fmt.Sprint("name", i), now)
	}
	now = now.Add(time.Minute) // every bucket has refilled
	for i := range 4000 {
		n.take(fmt.Sprint("other", i), now)
	}
	// The map may grow to twice the names in use before a sweep forgets the
	// idle ones; here the sweep has run once.
	if got := len(n.buckets); got != 4000 {
		t.Errorf("%d buckets kept for 4000 recent names, want the 5000 idle ones forgotten", got)
	}
}
