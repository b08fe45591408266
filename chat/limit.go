package chat

import (
	"context"
	"sync"
	"time"
)

// Limiter is a token bucket: it allows Rate events a second on average and
// up to Burst at once. It is safe for concurrent use.
type Limiter struct {
	rate, burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter returns a full bucket.
func NewLimiter(rate float64, burst int) *Limiter {
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// Take takes one token at now. It returns 0 when it could, or how long until
// one will be there.
func (l *Limiter) Take(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}

// full reports whether the bucket has refilled by now, so that forgetting it
// changes nothing.
func (l *Limiter) full(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last.IsZero() || l.tokens+now.Sub(l.last).Seconds()*l.rate >= l.burst
}

type limiterKey struct{}

// WithLimiter returns a context whose posts also take from l: a transport
// gives each client connection one, so that no connection posts faster than
// l allows, whatever names it uses.
func WithLimiter(ctx context.Context, l *Limiter) context.Context {
	return context.WithValue(ctx, limiterKey{}, l)
}

// LimiterFrom returns the Limiter that WithLimiter put in ctx, or nil.
func LimiterFrom(ctx context.Context) *Limiter {
	l, _ := ctx.Value(limiterKey{}).(*Limiter)
	return l
}

// nameLimits holds one Limiter a name. Full buckets are forgotten, so memory
// follows the names that posted recently, not every name ever seen.
type nameLimits struct {
	rate  float64
	burst int

	mu      sync.Mutex
	buckets map[string]*Limiter
	sweepAt int // sweep when the map reaches this size
}

func newNameLimits(rate float64, burst int) *nameLimits {
	return &nameLimits{rate: rate, burst: burst, buckets: map[string]*Limiter{}, sweepAt: 1024}
}

func (n *nameLimits) take(name string, now time.Time) time.Duration {
	n.mu.Lock()
	l := n.buckets[name]
	if l == nil {
		if len(n.buckets) >= n.sweepAt {
			for k, b := range n.buckets {
				if b.full(now) {
					delete(n.buckets, k)
				}
			}
			n.sweepAt = max(1024, 2*len(n.buckets))
		}
		l = NewLimiter(n.rate, n.burst)
		n.buckets[name] = l
	}
	n.mu.Unlock()
	return l.Take(now)
}

// checkRate takes a post from the connection's limiter and the name's, and
// returns a RateLimited error with the longer wait when either is empty.
func (s *Service) checkRate(ctx context.Context, name string) error {
	now := s.now()
	var wait time.Duration
	if l := LimiterFrom(ctx); l != nil {
		wait = l.Take(now)
	}
	if s.names != nil {
		wait = max(wait, s.names.take(name, now))
	}
	if wait > 0 {
		return &Error{Code: RateLimited, Message: "posting too fast; retry in " + wait.Round(100*time.Millisecond).String(), RetryAfter: wait}
	}
	return nil
}
