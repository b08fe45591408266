// Package bolt is the embedded chat.Store: everything in one local file,
// kept by go.etcd.io/bbolt, so that the server runs with nothing else
// installed and keeps its history across restarts.
//
// Writes go through one committer goroutine that groups the posts waiting at
// the same time into one transaction (one fsync), and reports their events
// in commit order. That order is the store's order.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"go.etcd.io/bbolt"
)

// Options configures a Store. A nil *Options means defaults.
type Options struct {
	// History is how many of the most recent messages each room keeps.
	// Defaults to 10000.
	History int
}

// Store is a chat.Store in one bbolt file.
type Store struct {
	db      *bbolt.DB
	history int
	watch   func(chat.Event)

	writes    chan *write // unbuffered: a write is either taken or refused
	lastStamp time.Time   // the last createdAt given; only the committer uses it
	quit      chan struct{}
	done      chan struct{}
	close     sync.Once
}

var _ chat.Store = (*Store)(nil)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 512

// errClosed answers writes that arrive after Close.
var errClosed = &chat.Error{Code: chat.Unavailable, Message: "store is closed"}

// Open opens (creating when missing) the store in the file at path.
func Open(path string, opts *Options) (*Store, error) {
	history := 10000
	if opts != nil && opts.History > 0 {
		history = opts.History
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		history: history,
		writes:  make(chan *write),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.commit()
	return s, nil
}

// Watch sets the function that receives every event after it commits.
func (s *Store) Watch(fn func(chat.Event)) { s.watch = fn }

// Close waits for the transaction in flight and closes the file.
func (s *Store) Close() error {
	var err error
	s.close.Do(func() {
		close(s.quit)
		<-s.done
		err = s.db.Close()
	})
	return err
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.quit:
		return errClosed
	default:
		return nil
	}
}

func internal(op string, err error) error {
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return errClosed
	}
	return &chat.Error{Code: chat.Internal, Message: "store failed", Err: fmt.Errorf("failed to %s: %w", op, err)}
}
