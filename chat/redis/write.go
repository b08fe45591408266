package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/ksuid"
)

// postScript stores a message, joining its author first when the name is
// new. It returns {stream ID, 1 if joined else 0}. A retry with the same
// message ID returns the first result and changes nothing. The history is
// trimmed to ARGV[4] messages whenever it grows ARGV[6] past it, so that a
// post does not pay for a trim each time.
//
// KEYS: messages, ids, users, joins. ARGV: id, user, text, history, joins
// history, trim slack.
var postScript = goredis.NewScript(`
local sid = redis.call('HGET', KEYS[2], ARGV[1])
if sid then return {sid, 0} end
local joined = redis.call('SADD', KEYS[3], ARGV[2])
if joined == 1 then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'user', ARGV[2])
end
sid = redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'user', ARGV[2], 'text', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], sid)
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[4])
if excess > tonumber(ARGV[6]) then
  for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)) do
    redis.call('HDEL', KEYS[2], e[2][2])
  end
  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[4])
end
return {sid, joined}
`)

// joinScript adds a name and, when it is new, announces it on the joins
// stream. It returns the joins stream ID, or 0 when the name was known.
// KEYS: users, joins. ARGV: name, joins history.
var joinScript = goredis.NewScript(`
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'user', ARGV[1])
end
return 0
`)

// Post stores msg with one script, sent in a pipeline with the posts that
// wait at the same moment (pipeline.go), then waits until this instance's
// reader has published it, so that the poster's own subscriptions have it.
func (s *Store) Post(ctx context.Context, msg *chat.Message) (bool, error) {
	msg.ID = ksuid.New().String()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	p := &posting{ctx: ctx, msg: msg, keys: s.keys(msg.Room), done: make(chan struct{})}
	select {
	case s.posts <- p:
	case <-ctx.Done():
		return false, s.fail("post", ctx.Err())
	case <-s.ctx.Done():
		return false, &chat.Error{Code: chat.Unavailable, Message: "store is closed"}
	}
	<-p.done
	if p.err != nil {
		return false, s.fail("post", p.err)
	}
	msg.CreatedAt = p.sid.time()
	s.reader.wait(ctx, p.keys.messages, p.sid)
	return p.joined, nil
}

// Join adds name to room's users and reports whether it was new; a new name
// is answered once this instance's reader has published it.
func (s *Store) Join(ctx context.Context, room, name string) (bool, error) {
	k := s.keys(room)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := joinScript.Run(ctx, s.client, []string{k.users, k.joins}, name, joinsHistory).Result()
	if err != nil {
		return false, s.fail("join", err)
	}
	sid, joined := res.(string)
	if !joined {
		return false, nil
	}
	at, err := parseID(sid)
	if err != nil {
		return false, s.fail("join", err)
	}
	s.reader.wait(ctx, k.joins, at)
	return true, nil
}

// streamID is a Redis stream entry ID, "ms-seq", in comparable form.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("bad stream ID %q", s)
	}
	return streamID{a, b}, nil
}

func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// time is the moment Redis stored the entry: the message's CreatedAt, which
// therefore never goes backwards in the store's order.
func (id streamID) time() time.Time { return time.UnixMilli(int64(id.ms)).UTC() }
