package redis_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/chat/chattest"
	"github.com/gqlchat/gqlchat/chat/redis"
	"github.com/gqlchat/gqlchat/chat/redis/redistest"
)

func TestStore(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	chattest.Run(t, func(t *testing.T) chattest.Backing {
		prefix := fmt.Sprint("test", n.Add(1)) // each subtest its own keys
		return func(history int) chat.Store {
			return open(t, srv.Addr, &redis.Options{Prefix: prefix, History: history})
		}
	})
}

func open(t *testing.T, addr string, opts *redis.Options) *redis.Store {
	t.Helper()
	s, err := redis.Open(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
