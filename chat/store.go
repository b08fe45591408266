package chat

import "context"

// Store keeps messages and names, in one order that every reader sees.
//
// A Store reports every event that is stored in it, by this process or by
// any other sharing it, to the one function given to Watch, in store order.
// When Post or Join returns, its events have been passed to that function
// (unless the store's own reader lags past the call's deadline, which a
// store logs), so a client that sees its post answered finds it in its own
// subscriptions.
//
// Errors that mean the store cannot be reached are *Error with Code
// Unavailable.
type Store interface {
	// Post stores msg, setting its ID and CreatedAt. It joins msg.User first
	// when the name is new, and reports whether it did.
	Post(ctx context.Context, msg *Message) (joined bool, err error)
	// Join adds name to room's users and reports whether it was new.
	Join(ctx context.Context, room, name string) (joined bool, err error)
	// Messages returns at most limit messages of room, newest first, older
	// than the message with ID before (or the newest, when before is "").
	// A before that names no stored message returns no messages.
	Messages(ctx context.Context, room string, limit int, before string) ([]Message, error)
	// Users returns every name that ever joined room, sorted.
	Users(ctx context.Context, room string) ([]string, error)
	// Watch sets the function that receives every event from now on. It is
	// called once, before the store is used, and fn must not block.
	Watch(fn func(Event))
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close stops the store's goroutines and releases its resources.
	Close() error
}
