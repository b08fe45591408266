package redis

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	goredis "github.com/redis/go-redis/v9"
)

// reader is the one goroutine of an instance that follows the rooms'
// streams and reports every entry to the store's Watch function. One
// blocking connection serves every client of the instance.
type reader struct {
	s       *Store
	rooms   []string
	streams []string // for each room: joins, then messages, so that a join is published before its post
	last    []string // the last ID seen of each stream; nil until the first read

	mu        sync.Mutex
	published map[string]streamID // stream -> last entry published
	changed   chan struct{}       // closed and replaced whenever published moves
}

// readBatch bounds the entries one XREAD returns for each stream.
const readBatch = 1000

func newReader(s *Store, rooms []string) *reader {
	r := &reader{s: s, rooms: rooms, published: map[string]streamID{}, changed: make(chan struct{})}
	for _, room := range rooms {
		k := s.keys(room)
		r.streams = append(r.streams, k.joins, k.messages)
	}
	return r
}

// run follows the streams until ctx ends, retrying with backoff while Redis
// is unreachable. It resumes from the last ID it saw, so it catches up on
// everything stored meanwhile.
func (r *reader) run(ctx context.Context) {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 2 * time.Second
	backoff := minBackoff
	var down time.Time
	for ctx.Err() == nil {
		err := r.step(ctx)
		if err == nil {
			if !down.IsZero() {
				r.s.log.Info("redis reader recovered", "down", time.Since(down).Round(time.Millisecond))
				down = time.Time{}
			}
			backoff = minBackoff
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if down.IsZero() {
			down = time.Now()
			r.s.log.Warn("redis reader lost its connection, retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// step reads one batch (or waits up to the block time for one) and
// publishes it.
func (r *reader) step(ctx context.Context) error {
	if r.last == nil {
		if err := r.start(ctx); err != nil {
			return err
		}
	}
	res, err := r.s.client.XRead(ctx, &goredis.XReadArgs{
		Streams: append(append([]string(nil), r.streams...), r.last...),
		Count:   readBatch,
		Block:   5 * time.Second,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, st := range res {
		i := r.index(st.Stream)
		if i < 0 || len(st.Messages) == 0 {
			continue
		}
		room := r.rooms[i/2]
		for _, e := range st.Messages {
			r.publish(room, i%2 == 1, e)
		}
		r.last[i] = st.Messages[len(st.Messages)-1].ID
		if id, err := parseID(r.last[i]); err == nil {
			r.advance(st.Stream, id)
		}
	}
	return nil
}

// start finds where each stream ends now, which is where reading begins.
func (r *reader) start(ctx context.Context) error {
	cmds := make([]*goredis.XMessageSliceCmd, len(r.streams))
	_, err := r.s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, stream := range r.streams {
			cmds[i] = p.XRevRangeN(ctx, stream, "+", "-", 1)
		}
		return nil
	})
	if err != nil {
		return err
	}
	last := make([]string, len(r.streams))
	for i, cmd := range cmds {
		last[i] = "0-0"
		if msgs := cmd.Val(); len(msgs) > 0 {
			last[i] = msgs[0].ID
		}
		id, _ := parseID(last[i])
		r.advance(r.streams[i], id)
	}
	r.last = last
	return nil
}

func (r *reader) index(stream string) int {
	for i, s := range r.streams {
		if s == stream {
			return i
		}
	}
	return -1
}

// publish reports one entry to the Watch function.
func (r *reader) publish(room string, isMessage bool, e goredis.XMessage) {
	if !isMessage {
		user, _ := e.Values["user"].(string)
		r.s.watch(chat.Event{Room: room, Joined: user})
		return
	}
	m, err := decodeMessage(room, e)
	if err != nil {
		r.s.log.Error("skipping a malformed stream entry", "stream", r.s.keys(room).messages, "id", e.ID, "err", err)
		return
	}
	r.s.watch(chat.Event{Room: room, Message: m})
}

// advance records that stream's entries up to id are published, and wakes
// the writers waiting for that.
func (r *reader) advance(stream string, id streamID) {
	r.mu.Lock()
	r.published[stream] = id
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// wait returns once the entry id of stream is published, or when ctx ends
// (the entry is stored either way; this only orders the answer after the
// event, as the embedded store does).
func (r *reader) wait(ctx context.Context, stream string, id streamID) {
	if r.s.watch == nil || r.index(stream) < 0 {
		return // no reader, or not a stream it follows
	}
	for {
		r.mu.Lock()
		at, started := r.published[stream]
		changed := r.changed
		r.mu.Unlock()
		if started && !at.less(id) {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			r.s.log.Warn("answering before the reader published the entry", "stream", stream, "id", id.String())
			return
		}
	}
}
