// Package redis is the chat.Store for Redis (github.com/redis/go-redis/v9),
// which any number of chatd instances can share.
//
// Each room has four keys under one hash tag, so that a script touching them
// all runs on one Redis Cluster slot:
//
//	{prefix:room}:messages  stream of messages: the history and the order
//	{prefix:room}:ids       hash, message ID -> stream ID, to page with before
//	{prefix:room}:users     set of every name that joined
//	{prefix:room}:joins     stream of first joins, for the other instances
//
// A post is one script: one round trip, atomic, and idempotent by message
// ID, so a retried post is never stored twice. Every instance runs one
// reader that follows both streams with XREAD BLOCK and reports each entry
// to the Watch function in stream order; that is how the posts of every
// instance reach the subscribers of every instance, in one order. After an
// outage the reader resumes from the last ID it saw, so nothing stored
// meanwhile is missed (unless trimmed from the history).
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	goredis "github.com/redis/go-redis/v9"
)

// Options configures a Store. A nil *Options means defaults.
type Options struct {
	// Prefix starts every key. Defaults to "chat".
	Prefix string
	// History is how many of the most recent messages each room keeps.
	// Defaults to 10000.
	History int
	// Timeout bounds each command, so that a post fails fast while Redis is
	// unreachable. Defaults to 1.5s.
	Timeout time.Duration
	// Logger receives the reader's outages and recoveries. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// joinsHistory bounds the joins stream; it only serves readers catching up.
const joinsHistory = 10000

// Store is a chat.Store on Redis.
type Store struct {
	client  *goredis.Client
	prefix  string
	history int
	timeout time.Duration
	log     *slog.Logger
	watch   func(chat.Event)

	reader    *reader
	posts     chan *posting   // to the committer; unbuffered: a post is either taken or refused
	ctx       context.Context // ends at Close
	cancel    context.CancelFunc
	done      chan struct{} // closed when the reader ends, once Watch started it
	committed chan struct{} // closed when the committer ends
	close     sync.Once
}

var _ chat.Store = (*Store)(nil)

// Open connects to the Redis at addr, given as host:port or as a redis:// or
// rediss:// URL, and starts the reader. It does not wait for Redis: while
// Redis is unreachable, operations fail with chat.Unavailable and the reader
// keeps trying.
func Open(addr string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "chat"
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, fmt.Errorf("redis key prefix %q must not contain braces", o.Prefix)
	}
	if o.History <= 0 {
		o.History = 10000
	}
	if o.Timeout <= 0 {
		o.Timeout = 1500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	copts, err := clientOptions(addr, o.Timeout)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		client:    goredis.NewClient(copts),
		prefix:    o.Prefix,
		history:   o.History,
		timeout:   o.Timeout,
		log:       o.Logger,
		cancel:    cancel,
		done:      make(chan struct{}),
		posts:     make(chan *posting),
		committed: make(chan struct{}),
	}
	s.reader = newReader(s, []string{chat.DefaultRoom})
	s.ctx = ctx
	go s.commit()
	// Find where the streams end now, so that reading starts at Open and
	// nothing posted from here on is missed. While Redis is unreachable the
	// reader does this when it first connects.
	startCtx, stop := context.WithTimeout(ctx, o.Timeout)
	defer stop()
	if err := s.reader.start(startCtx); err != nil {
		s.log.Warn("redis is unreachable; serving anyway and retrying", "addr", copts.Addr, "err", err)
	}
	return s, nil
}

// clientOptions parses addr and sets timeouts that fail fast.
func clientOptions(addr string, timeout time.Duration) (*goredis.Options, error) {
	var o *goredis.Options
	if strings.Contains(addr, "://") {
		var err error
		if o, err = goredis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("failed to parse redis URL: %w", err)
		}
	} else {
		o = &goredis.Options{Addr: addr}
	}
	o.DialTimeout = timeout / 2
	o.ReadTimeout = timeout
	o.WriteTimeout = timeout
	o.PoolTimeout = timeout
	o.MaxRetries = 1 // safe: every write is idempotent
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	return o, nil
}

// Watch sets the function that receives every event the reader sees, and
// starts the reader.
func (s *Store) Watch(fn func(chat.Event)) {
	s.watch = fn
	go func() {
		defer close(s.done)
		s.reader.run(s.ctx)
	}()
}

// Close stops the reader and closes the connections.
func (s *Store) Close() error {
	var err error
	s.close.Do(func() {
		s.cancel()
		<-s.committed
		// Closing the client closes the reader's connection too, which ends
		// its blocking XREAD at once; a cancelled context would not.
		err = s.client.Close()
		if s.watch != nil {
			<-s.done
		}
	})
	return err
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.fail("ping", s.client.Ping(ctx).Err())
}

// keys are one room's keys.
type keys struct{ messages, ids, users, joins string }

func (s *Store) keys(room string) keys {
	tag := "{" + s.prefix + ":" + room + "}"
	return keys{tag + ":messages", tag + ":ids", tag + ":users", tag + ":joins"}
}

// fail turns a Redis error into a chat error: Unavailable when Redis could
// not be reached or cannot serve now, Internal otherwise.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	cause := fmt.Errorf("failed to %s: %w", op, err)
	var reply goredis.Error
	if !errors.As(err, &reply) || unavailableReply(reply.Error()) {
		return &chat.Error{Code: chat.Unavailable, Message: "store unavailable, try again", Err: cause}
	}
	return &chat.Error{Code: chat.Internal, Message: "store failed", Err: cause}
}

// unavailableReply reports whether a Redis error reply means "not now".
func unavailableReply(msg string) bool {
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "MAXCLIENTS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
