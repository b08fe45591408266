package redis

import (
	"context"
	"sort"

	"github.com/gqlchat/gqlchat/chat"
	goredis "github.com/redis/go-redis/v9"
)

// Messages returns at most limit messages of room, newest first, older than
// the message with ID before.
func (s *Store) Messages(ctx context.Context, room string, limit int, before string) ([]chat.Message, error) {
	k := s.keys(room)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := "+"
	if before != "" {
		sid, err := s.client.HGet(ctx, k.ids, before).Result()
		if err == goredis.Nil {
			return []chat.Message{}, nil
		}
		if err != nil {
			return nil, s.fail("find message", err)
		}
		start = "(" + sid
	}
	entries, err := s.client.XRevRangeN(ctx, k.messages, start, "-", int64(limit)).Result()
	if err != nil {
		return nil, s.fail("read messages", err)
	}
	msgs := make([]chat.Message, 0, len(entries))
	for _, e := range entries {
		m, err := decodeMessage(room, e)
		if err != nil {
			return nil, s.fail("read messages", err)
		}
		msgs = append(msgs, *m)
	}
	return msgs, nil
}

// Users returns every name that joined room, sorted.
func (s *Store) Users(ctx context.Context, room string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	users, err := s.client.SMembers(ctx, s.keys(room).users).Result()
	if err != nil {
		return nil, s.fail("read users", err)
	}
	sort.Strings(users)
	return users, nil
}

// decodeMessage turns a messages stream entry into a Message.
func decodeMessage(room string, e goredis.XMessage) (*chat.Message, error) {
	at, err := parseID(e.ID)
	if err != nil {
		return nil, err
	}
	id, _ := e.Values["id"].(string)
	user, _ := e.Values["user"].(string)
	text, _ := e.Values["text"].(string)
	return &chat.Message{ID: id, Room: room, User: user, Text: text, CreatedAt: at.time()}, nil
}
