package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"go.etcd.io/bbolt"
)

// The file holds one bucket a room, named "room:" + the room's name, and in
// it three buckets:
//
//	messages  8-byte big-endian sequence -> JSON record (the store's order)
//	ids       message ID -> sequence (to page with before)
//	users     name -> nothing (bbolt keeps keys sorted)
var (
	messagesBucket = []byte("messages")
	idsBucket      = []byte("ids")
	usersBucket    = []byte("users")
)

// room is one room's buckets inside a transaction.
type room struct {
	name                 string
	messages, ids, users *bbolt.Bucket
}

// record is a message as stored; the room and ID are known from the keys.
type record struct {
	ID   string `json:"id"`
	User string `json:"u"`
	Text string `json:"t"`
	Time int64  `json:"ms"` // Unix milliseconds
}

func roomKey(name string) []byte { return []byte("room:" + name) }

// openRoom returns the buckets of room name, creating them in a writable tx.
func openRoom(tx *bbolt.Tx, name string) (*room, error) {
	r := &room{name: name}
	if !tx.Writable() {
		b := tx.Bucket(roomKey(name))
		if b == nil {
			return nil, nil
		}
		r.messages, r.ids, r.users = b.Bucket(messagesBucket), b.Bucket(idsBucket), b.Bucket(usersBucket)
		return r, nil
	}
	b, err := tx.CreateBucketIfNotExists(roomKey(name))
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		b   **bbolt.Bucket
		key []byte
	}{{&r.messages, messagesBucket}, {&r.ids, idsBucket}, {&r.users, usersBucket}} {
		if *x.b, err = b.CreateBucketIfNotExists(x.key); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// join adds name and reports whether it was new.
func (r *room) join(name string) (bool, error) {
	if r.users.Get([]byte(name)) != nil {
		return false, nil
	}
	return true, r.users.Put([]byte(name), []byte{})
}

// add appends msg and drops the oldest messages past history.
func (r *room) add(msg *chat.Message, history int) error {
	seq, err := r.messages.NextSequence()
	if err != nil {
		return err
	}
	value, err := json.Marshal(record{ID: msg.ID, User: msg.User, Text: msg.Text, Time: msg.CreatedAt.UnixMilli()})
	if err != nil {
		return err
	}
	key := seqKey(seq)
	if err := r.messages.Put(key, value); err != nil {
		return err
	}
	if err := r.ids.Put([]byte(msg.ID), key); err != nil {
		return err
	}
	return r.trim(seq, history)
}

// trim deletes messages whose sequence is history or more below seq.
func (r *room) trim(seq uint64, history int) error {
	if seq <= uint64(history) {
		return nil
	}
	oldest := seq - uint64(history) // the newest sequence to drop
	c := r.messages.Cursor()
	for k, v := c.First(); k != nil && binary.BigEndian.Uint64(k) <= oldest; k, v = c.First() {
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("failed to decode message %x: %w", k, err)
		}
		if err := r.ids.Delete([]byte(rec.ID)); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// page returns at most limit messages, newest first, older than before.
func (r *room) page(limit int, before string) ([]chat.Message, error) {
	c := r.messages.Cursor()
	var k, v []byte
	if before == "" {
		k, v = c.Last()
	} else {
		at := r.ids.Get([]byte(before))
		if at == nil {
			return nil, nil
		}
		if k, _ = c.Seek(at); k != nil {
			k, v = c.Prev()
		}
	}
	var msgs []chat.Message
	for ; k != nil && len(msgs) < limit; k, v = c.Prev() {
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("failed to decode message %x: %w", k, err)
		}
		msgs = append(msgs, chat.Message{
			ID: rec.ID, Room: r.name, User: rec.User, Text: rec.Text,
			CreatedAt: time.UnixMilli(rec.Time).UTC(),
		})
	}
	return msgs, nil
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}
