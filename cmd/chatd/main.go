// Command chatd serves the GraphQL chat: queries and mutations over HTTP,
// subscriptions over WebSocket (graphql-transport-ws and the legacy
// graphql-ws), GraphiQL, GraphQL Playground and the chat page, on one port.
//
// It stores in an embedded file by default, or in Redis when -redis is set,
// and then any number of instances sharing that Redis form one chat.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/chat/bolt"
	"github.com/gqlchat/gqlchat/chat/redis"
	"github.com/gqlchat/gqlchat/schema"
	"github.com/gqlchat/gqlchat/wsproto"
)

func main() {
	// A chat server's memory is mostly idle connections, and little of its
	// work allocates (events are encoded once for all subscribers): a
	// smaller heap goal than Go's default trades a little CPU for a quarter
	// less memory per connection. GOGC, when set, decides instead.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain()
	if err := m.ParseFlags(os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "chatd:", err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		m.Logger.Error("failed to start", "err", err)
		m.Close()
		os.Exit(1)
	}
	<-ctx.Done()
	stop()
	m.Logger.Info("shutting down")
	if err := m.Close(); err != nil {
		m.Logger.Error("failed to shut down cleanly", "err", err)
		os.Exit(1)
	}
}

// Main is the whole program, so that tests can run it on port 0.
type Main struct {
	Config Config
	// Logger defaults to JSON-free text on stderr at Config.LogLevel.
	Logger *slog.Logger

	store   chat.Store
	service *chat.Service
	metrics *metrics
	schema  *schema.Schema
	ws      *wsproto.Server
	server  *http.Server
	pprof   *http.Server
	ln      net.Listener
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main { return &Main{Config: DefaultConfig()} }

// Run opens the store and starts serving; it returns once the server
// listens. Close stops it.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: m.Config.LogLevel}))
	}
	var err error
	if m.store, err = m.openStore(); err != nil {
		return err
	}
	m.metrics = newMetrics(m)
	m.service = chat.NewService(m.store, &chat.ServiceOptions{
		NameRate: m.Config.NameRate, NameBurst: m.Config.NameBurst, Observe: m.metrics.observe,
	})
	if m.schema, err = schema.New(m.service, &schema.Options{MaxDepth: m.Config.MaxDepth, Logger: m.Logger}); err != nil {
		return err
	}
	m.ws = wsproto.NewServer(m.schema.Schema, &wsproto.Options{
		ReadLimit:      m.Config.MaxFrame,
		MaxConnections: m.Config.MaxConnections,
		MaxOperations:  m.Config.MaxOperations,
		WriteTimeout:   m.Config.WriteTimeout,
		OriginPatterns: m.Config.Origins,
		OnConnect:      m.onConnect,
		Prepare:        m.prepare,
		Logger:         m.Logger,
	})
	if m.ln, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	m.server = &http.Server{
		Handler:           m.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
		ConnContext:       m.connContext,
	}
	go m.server.Serve(m.ln)
	m.Logger.Info("serving", "url", m.URL(), "graphql", m.URL()+"/graphql")
	if m.Config.PprofAddr != "" {
		if err := m.servePprof(); err != nil {
			return err
		}
	}
	return nil
}

// servePprof serves net/http/pprof on its own listener, so that profiles
// are never exposed on the public port.
func (m *Main) servePprof() error {
	ln, err := net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return fmt.Errorf("failed to listen for pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go m.pprof.Serve(ln)
	m.Logger.Info("pprof", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}

// openStore opens Redis when configured, else the embedded file. Its log
// line is the first: it says which store is used and where.
func (m *Main) openStore() (chat.Store, error) {
	if m.Config.Redis != "" {
		m.Logger.Info("store: redis", "addr", m.Config.Redis, "prefix", m.Config.RedisPrefix, "history", m.Config.History)
		return redis.Open(m.Config.Redis, &redis.Options{Prefix: m.Config.RedisPrefix, History: m.Config.History, Logger: m.Logger})
	}
	m.Logger.Info("store: embedded", "file", m.Config.Data, "history", m.Config.History)
	return bolt.Open(m.Config.Data, &bolt.Options{History: m.Config.History})
}

// URL is where the server listens, as http://host:port.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close shuts down gracefully: it stops accepting, lets HTTP requests in
// flight finish, ends WebSocket connections with 1001, and closes the store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if m.server != nil {
		errs = append(errs, m.server.Shutdown(ctx))
	}
	if m.ws != nil {
		errs = append(errs, m.ws.Shutdown(ctx))
	}
	if m.pprof != nil {
		errs = append(errs, m.pprof.Close())
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	return errors.Join(errs...)
}
