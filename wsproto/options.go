package wsproto

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/graphql-go/graphql/gqlerrors"
)

// Options configures a Server. A nil *Options means defaults.
type Options struct {
	// InitTimeout is how long a client has to send connection_init.
	// Defaults to 3s, as graphql-ws's own server.
	InitTimeout time.Duration
	// KeepAlive is the interval of the server's pings (and legacy ka
	// messages); a peer that does not answer one within the interval is
	// dropped. Defaults to 12s, under the 30s after which legacy clients
	// give up on a silent server.
	KeepAlive time.Duration
	// WriteTimeout bounds every write; a connection stuck longer is
	// dropped. Defaults to 10s.
	WriteTimeout time.Duration
	// ReadLimit is the largest frame a client may send, in bytes; a larger
	// one closes the connection with 1009. Defaults to 64 KiB.
	ReadLimit int64
	// QueueSize is how many frames may wait for a connection's writer
	// before the connection is closed as too slow (1013). Defaults to 512.
	QueueSize int
	// MaxOperations is how many operations one connection may run at once;
	// a subscribe past it gets an error message. Defaults to 100.
	MaxOperations int
	// MaxConnections is how many connections the server holds at once; an
	// upgrade past it is refused with HTTP 503. Defaults to 10000.
	MaxConnections int
	// OriginPatterns lists the browser origins allowed besides the
	// request's own host, as coder/websocket's AcceptOptions.OriginPatterns
	// (host patterns such as "example.com" or "*.example.com"). Requests
	// without an Origin header are not from browsers and always pass.
	OriginPatterns []string
	// OnConnect, when set, runs on connection_init with its payload (nil
	// when absent). An error refuses the connection (4403, with the error's
	// text as the reason); otherwise the context it returns is the parent of
	// every operation's context, which is where authentication puts the
	// user. r is the upgrade request.
	OnConnect func(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, error)
	// Prepare checks a request and returns the operation to run, or the
	// errors to send back (the operation then does not run). It is where a
	// document cache, extra validation rules and sharing keys belong.
	// Defaults to parsing and validating with the specified rules, with no
	// cache.
	Prepare func(ctx context.Context, req *Request) (*Operation, []gqlerrors.FormattedError)
	// Logger receives one line per connection and its errors. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var d Options
	if o != nil {
		d = *o
	}
	if d.InitTimeout <= 0 {
		d.InitTimeout = 3 * time.Second
	}
	if d.KeepAlive <= 0 {
		d.KeepAlive = 12 * time.Second
	}
	if d.WriteTimeout <= 0 {
		d.WriteTimeout = 10 * time.Second
	}
	if d.ReadLimit <= 0 {
		d.ReadLimit = 64 << 10
	}
	if d.QueueSize <= 0 {
		d.QueueSize = 512
	}
	if d.MaxOperations <= 0 {
		d.MaxOperations = 100
	}
	if d.MaxConnections <= 0 {
		d.MaxConnections = 10000
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return d
}
