package chat

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Service is what the transports call: it validates input, stores through
// its Store, and streams the store's events to subscribers through a Broker.
type Service struct {
	store   Store
	broker  *Broker
	known   knownNames  // names known to have joined: a join of one costs no store call
	names   *nameLimits // nil: names are not limited
	observe func(op string, d time.Duration, err error)
	now     func() time.Time
}

// ServiceOptions configures a Service. A nil *ServiceOptions means defaults.
type ServiceOptions struct {
	// QueueSize is how many events a subscriber may fall behind before it
	// is cut off with ErrTooSlow. Defaults to 256.
	QueueSize int
	// NameRate and NameBurst bound how fast one name posts: NameRate posts
	// a second on average, NameBurst at once. Zero NameRate means no limit.
	NameRate  float64
	NameBurst int
	// Observe, when set, hears of every store operation ("post", "join",
	// "messages", "users") with its duration and error, and of every
	// message delivered to this process's subscribers ("deliver") with its
	// lag since the message was stored. It is how metrics are kept.
	Observe func(op string, d time.Duration, err error)
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// NewService returns a Service over store and starts watching its events.
func NewService(store Store, opts *ServiceOptions) *Service {
	var o ServiceOptions
	if opts != nil {
		o = *opts
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observe == nil {
		o.Observe = func(string, time.Duration, error) {}
	}
	s := &Service{store: store, broker: NewBroker(o.QueueSize), observe: o.Observe, now: o.Now}
	if o.NameRate > 0 {
		s.names = newNameLimits(o.NameRate, max(1, o.NameBurst))
	}
	store.Watch(s.publish)
	return s
}

// timed runs a store operation and reports it to Observe.
func (s *Service) timed(op string, fn func() error) error {
	start := s.now()
	err := fn()
	s.observe(op, s.now().Sub(start), err)
	return err
}

// publish hands one stored event to the broker. The store calls it in store
// order, so every subscriber sees that order.
func (s *Service) publish(ev Event) {
	if ev.Message != nil {
		s.observe("deliver", s.now().Sub(ev.Message.CreatedAt), nil)
		s.broker.publish(topic{ev.Room, messagesKind}, ev.Message)
		return
	}
	s.broker.publish(topic{ev.Room, joinsKind}, ev.Joined)
}

// Post validates and stores a message, and returns it once it has been
// published. Posting joins user when the name is new. Posts are limited per
// name (ServiceOptions.NameRate) and per the Limiter in ctx (WithLimiter).
func (s *Service) Post(ctx context.Context, room, user, text string) (*Message, error) {
	user, err := ValidName(user)
	if err != nil {
		return nil, err
	}
	if err := ValidText(text); err != nil {
		return nil, err
	}
	if err := s.checkRate(ctx, user); err != nil {
		return nil, err
	}
	msg := &Message{Room: room, User: user, Text: text}
	if err := s.timed("post", func() error { _, err := s.store.Post(ctx, msg); return err }); err != nil {
		return nil, err
	}
	s.known.add(room, user)
	return msg, nil
}

// Join adds a name to room's users; the first time a name joins, every
// UserJoined subscriber of the room hears of it. It returns the name as
// stored (trimmed).
func (s *Service) Join(ctx context.Context, room, name string) (string, error) {
	name, err := ValidName(name)
	if err != nil {
		return "", err
	}
	if s.known.has(room, name) {
		return name, nil
	}
	if err := s.timed("join", func() error { _, err := s.store.Join(ctx, room, name); return err }); err != nil {
		return "", err
	}
	s.known.add(room, name)
	return name, nil
}

// Messages returns at most limit messages, newest first, older than the
// message with ID before (the newest when before is "").
func (s *Service) Messages(ctx context.Context, room string, limit int, before string) ([]Message, error) {
	if err := ValidLimit(limit); err != nil {
		return nil, err
	}
	if before != "" && !validID(before) {
		return nil, Errorf(Invalid, "before is not a message id")
	}
	var msgs []Message
	err := s.timed("messages", func() (err error) { msgs, err = s.store.Messages(ctx, room, limit, before); return err })
	return msgs, err
}

// Users returns every name that ever joined room, sorted.
func (s *Service) Users(ctx context.Context, room string) ([]string, error) {
	var users []string
	err := s.timed("users", func() (err error) { users, err = s.store.Users(ctx, room); return err })
	return users, err
}

// MessagePosted returns a queue of every *Message posted to room from now
// until ctx ends. A subscriber that falls behind receives ErrTooSlow, and
// then the queue closes.
func (s *Service) MessagePosted(ctx context.Context, room string) chan any {
	return s.broker.subscribe(ctx, topic{room, messagesKind})
}

// UserJoined returns a queue of every name (a string) that joins room for the
// first time from now until ctx ends, ending like MessagePosted's.
func (s *Service) UserJoined(ctx context.Context, room string) chan any {
	return s.broker.subscribe(ctx, topic{room, joinsKind})
}

// Ping reports whether the store is reachable.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Stats returns the broker's counters.
func (s *Service) Stats() BrokerStats { return s.broker.Stats() }

// validID reports whether id has the shape of a KSUID: 27 base62 characters.
func validID(id string) bool {
	const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if len(id) != 27 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if strings.IndexByte(base62, id[i]) < 0 {
			return false
		}
	}
	return true
}

// knownNames remembers names that have joined, so that subscribing again
// (every reconnect, every tab) does not ask the store. Names never leave a
// room, so a remembered name is never wrong; it is forgotten only to bound
// memory.
type knownNames struct {
	mu    sync.Mutex
	names map[string]struct{}
}

const maxKnownNames = 100000

func (k *knownNames) has(room, name string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.names[room+"\x00"+name]
	return ok
}

func (k *knownNames) add(room, name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.names == nil || len(k.names) >= maxKnownNames {
		k.names = make(map[string]struct{})
	}
	k.names[room+"\x00"+name] = struct{}{}
}
