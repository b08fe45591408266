package chat_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/chat/bolt"
)

// clock is a fake time source: rate limits are about time, and tests must
// not sleep.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T, opts *chat.ServiceOptions) *chat.Service {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "chat.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return chat.NewService(store, opts)
}

func TestPostRateLimits(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	s := newService(t, &chat.ServiceOptions{NameRate: 1, NameBurst: 2, Now: c.now})
	ctx := context.Background()
	post := func(ctx context.Context, user string) error {
		_, err := s.Post(ctx, chat.DefaultRoom, user, "hi")
		return err
	}

	for range 2 {
		if err := post(ctx, "ann"); err != nil {
			t.Fatalf("within the burst: %v", err)
		}
	}
	err := post(ctx, "ann")
	var ce *chat.Error
	if !errors.As(err, &ce) || ce.Code != chat.RateLimited || ce.RetryAfter != time.Second {
		t.Fatalf("past the burst: %v, want RateLimited with RetryAfter 1s", err)
	}
	if err := post(ctx, "bob"); err != nil {
		t.Errorf("another name is limited too: %v", err)
	}
	c.t = c.t.Add(time.Second)
	if err := post(ctx, "ann"); err != nil {
		t.Errorf("a second later: %v", err)
	}

	// A connection's limiter holds whatever names it uses.
	conn := chat.WithLimiter(ctx, chat.NewLimiter(1, 3))
	for _, name := range []string{"x1", "x2", "x3"} {
		if err := post(conn, name); err != nil {
			t.Fatalf("connection burst: %v", err)
		}
	}
	if err := post(conn, "x4"); chat.ErrorCode(err) != chat.RateLimited {
		t.Errorf("fourth post on the connection: %v, want RateLimited", err)
	}
	if got := len(must(s.Messages(ctx, chat.DefaultRoom, 50, ""))); got != 7 {
		t.Errorf("%d messages stored, want the 7 allowed", got)
	}
}

func TestObserve(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	s := newService(t, &chat.ServiceOptions{Observe: func(op string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen[op]++
	}})
	ctx := context.Background()
	s.Post(ctx, chat.DefaultRoom, "ann", "hi")
	s.Join(ctx, chat.DefaultRoom, "bob")
	s.Messages(ctx, chat.DefaultRoom, 10, "")
	s.Users(ctx, chat.DefaultRoom)
	mu.Lock()
	defer mu.Unlock()
	for _, op := range []string{"post", "join", "messages", "users", "deliver"} {
		if seen[op] != 1 {
			t.Errorf("Observe heard %q %d times, want 1", op, seen[op])
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
