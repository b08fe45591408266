package bolt

import (
	"context"

	"github.com/gqlchat/gqlchat/chat"
	"go.etcd.io/bbolt"
)

// Messages returns at most limit messages of room, newest first, older than
// the message with ID before.
func (s *Store) Messages(ctx context.Context, room string, limit int, before string) ([]chat.Message, error) {
	msgs := []chat.Message{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		r, err := openRoom(tx, room)
		if err != nil || r == nil {
			return err
		}
		page, err := r.page(limit, before)
		msgs = append(msgs, page...)
		return err
	})
	if err != nil {
		return nil, internal("read messages", err)
	}
	return msgs, nil
}

// Users returns every name that joined room, sorted.
func (s *Store) Users(ctx context.Context, room string) ([]string, error) {
	users := []string{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		r, err := openRoom(tx, room)
		if err != nil || r == nil {
			return err
		}
		return r.users.ForEach(func(k, _ []byte) error {
			users = append(users, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, internal("read users", err)
	}
	return users, nil
}
