package bolt

import (
	"context"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/segmentio/ksuid"
	"go.etcd.io/bbolt"
)

// write is one Post or Join waiting for the committer.
type write struct {
	room, name string        // the name to join
	msg        *chat.Message // the message to post, or nil for a Join

	joined bool
	err    error
	done   chan struct{}
}

// Post stores msg and joins its author when the name is new.
func (s *Store) Post(ctx context.Context, msg *chat.Message) (bool, error) {
	msg.ID = ksuid.New().String()
	return s.do(ctx, &write{room: msg.Room, name: msg.User, msg: msg})
}

// Join adds name to room's users and reports whether it was new.
func (s *Store) Join(ctx context.Context, room, name string) (bool, error) {
	return s.do(ctx, &write{room: room, name: name})
}

// do hands w to the committer and waits for its commit. Once taken, a write
// is waited for even if ctx ends, so that its answer tells the truth.
func (s *Store) do(ctx context.Context, w *write) (bool, error) {
	w.done = make(chan struct{})
	select {
	case s.writes <- w:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-s.quit:
		return false, errClosed
	}
	<-w.done
	return w.joined, w.err
}

// commit is the one goroutine that writes. It takes every write waiting,
// commits them in one transaction, reports their events in order, then
// answers them.
func (s *Store) commit() {
	defer close(s.done)
	var batch []*write
	var events []chat.Event
	for {
		batch = batch[:0]
		select {
		case w := <-s.writes:
			batch = append(batch, w)
		case <-s.quit:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case w := <-s.writes:
				batch = append(batch, w)
			default:
				break more
			}
		}

		err := s.db.Update(func(tx *bbolt.Tx) error {
			events = events[:0]
			for _, w := range batch {
				var err error
				if events, err = s.apply(tx, w, events); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			err = internal("commit", err)
		} else if s.watch != nil {
			for _, ev := range events {
				s.watch(ev)
			}
		}
		for _, w := range batch {
			w.err = err
			close(w.done)
		}
	}
}

// apply performs one write inside tx and appends the events it causes.
func (s *Store) apply(tx *bbolt.Tx, w *write, events []chat.Event) ([]chat.Event, error) {
	r, err := openRoom(tx, w.room)
	if err != nil {
		return events, err
	}
	if w.joined, err = r.join(w.name); err != nil {
		return events, err
	}
	if w.joined {
		events = append(events, chat.Event{Room: w.room, Joined: w.name})
	}
	if w.msg != nil {
		// Stamped here, in commit order, so that createdAt never goes
		// backwards along the history.
		if now := time.Now().UTC().Truncate(time.Millisecond); now.After(s.lastStamp) {
			s.lastStamp = now
		}
		w.msg.CreatedAt = s.lastStamp
		if err := r.add(w.msg, s.history); err != nil {
			return events, err
		}
		events = append(events, chat.Event{Room: w.room, Message: w.msg})
	}
	return events, nil
}
