// Package chat is the domain of the chat server: messages, names, the rules
// they follow, and the Service that posts, lists and streams them.
//
// It imports nothing but the standard library. Persistence lives behind the
// Store interface (one subpackage per backend); GraphQL lives in package
// schema. Every operation takes a room, so that rooms can arrive without
// changing the stores; today every client uses DefaultRoom.
package chat

import "time"

// DefaultRoom is the room of every operation until clients can name one.
const DefaultRoom = "general"

// Message is one chat message as stored and as delivered.
type Message struct {
	// ID is a KSUID assigned by the store. KSUIDs made in the same second
	// are not ordered, so order comes from the store, never from IDs.
	ID        string
	Room      string
	User      string
	Text      string
	CreatedAt time.Time
}

// Event is something a store reports to its watcher: a message was posted,
// or a name joined for the first time. Exactly one of Message and Joined is
// set.
type Event struct {
	Room    string
	Message *Message
	Joined  string
}
