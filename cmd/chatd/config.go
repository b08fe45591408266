package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is everything chatd can be told. Each field has a flag and an
// environment variable; a flag wins over the variable.
type Config struct {
	Addr        string
	Data        string
	Redis       string
	RedisPrefix string
	Origins     []string
	PprofAddr   string
	History     int
	LogLevel    slog.Level

	NameRate  float64 // posts a second per name; 0: no limit
	NameBurst int
	ConnRate  float64 // posts a second per client connection; 0: no limit
	ConnBurst int

	MaxBody        int64
	MaxDepth       int
	MaxFrame       int64
	MaxConnections int
	MaxOperations  int
	WriteTimeout   time.Duration
}

// DefaultConfig is what chatd runs with when told nothing.
func DefaultConfig() Config {
	return Config{
		Addr:           "localhost:8080",
		Data:           "chat.db",
		RedisPrefix:    "chat",
		History:        10000,
		LogLevel:       slog.LevelInfo,
		NameRate:       5,
		NameBurst:      20,
		ConnRate:       20,
		ConnBurst:      60,
		MaxBody:        64 << 10,
		MaxDepth:       16,
		MaxFrame:       64 << 10,
		MaxConnections: 10000,
		MaxOperations:  100,
		WriteTimeout:   10 * time.Second,
	}
}

// ParseFlags reads the environment (through getenv) and then args into
// m.Config. It returns flag.ErrHelp after printing the usage for -h.
func (m *Main) ParseFlags(args []string, getenv func(string) string, out io.Writer) error {
	c := &m.Config
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	fs.SetOutput(out)
	var envErrs []string
	env := func(name string, set func(string) error) string {
		if v := getenv(name); v != "" {
			if err := set(v); err != nil {
				envErrs = append(envErrs, fmt.Sprintf("%s=%q: %v", name, v, err))
			}
		}
		return name
	}
	str := func(p *string, name, envName, usage string) {
		env(envName, func(v string) error { *p = v; return nil })
		fs.StringVar(p, name, *p, usage+" ($"+envName+")")
	}
	num := func(p *int, name, envName, usage string) {
		env(envName, func(v string) error { n, err := strconv.Atoi(v); *p = n; return err })
		fs.IntVar(p, name, *p, usage+" ($"+envName+")")
	}
	rate := func(p *float64, name, envName, usage string) {
		env(envName, func(v string) error { f, err := strconv.ParseFloat(v, 64); *p = f; return err })
		fs.Float64Var(p, name, *p, usage+" ($"+envName+")")
	}
	size := func(p *int64, name, envName, usage string) {
		env(envName, func(v string) error { n, err := strconv.ParseInt(v, 10, 64); *p = n; return err })
		fs.Int64Var(p, name, *p, usage+" ($"+envName+")")
	}
	str(&c.Addr, "addr", "CHAT_ADDR", "address to listen on, host:port")
	str(&c.Data, "data", "CHAT_DATA", "file of the embedded store, used when no Redis is set")
	str(&c.Redis, "redis", "REDIS_URL", "Redis to store in, as host:port or redis://[user:pass@]host:port/db; when set, instances sharing it form one chat")
	str(&c.RedisPrefix, "redis-prefix", "CHAT_REDIS_PREFIX", "prefix of every Redis key")
	origins := strings.Join(c.Origins, ",")
	str(&origins, "origins", "CHAT_ORIGINS", "extra browser origins allowed, comma-separated host patterns (example.com, *.example.com, https://app.example.com); the server's own origin is always allowed")
	num(&c.History, "history", "CHAT_HISTORY", "messages kept, the most recent")
	str(&c.PprofAddr, "pprof", "CHAT_PPROF", "address of a separate listener for net/http/pprof, e.g. localhost:6060; off when empty")
	level := c.LogLevel.String()
	str(&level, "log-level", "CHAT_LOG_LEVEL", "log level: debug, info, warn or error")
	rate(&c.NameRate, "name-rate", "CHAT_NAME_RATE", "posts a second one name may make on average; 0 for no limit")
	num(&c.NameBurst, "name-burst", "CHAT_NAME_BURST", "posts one name may make at once")
	rate(&c.ConnRate, "conn-rate", "CHAT_CONN_RATE", "posts a second one client connection may make on average, whatever names it uses; 0 for no limit")
	num(&c.ConnBurst, "conn-burst", "CHAT_CONN_BURST", "posts one client connection may make at once")
	size(&c.MaxBody, "max-body", "CHAT_MAX_BODY", "largest HTTP request body, in bytes")
	num(&c.MaxDepth, "max-depth", "CHAT_MAX_DEPTH", "deepest query, in nested fields")
	size(&c.MaxFrame, "max-frame", "CHAT_MAX_FRAME", "largest WebSocket frame a client may send, in bytes")
	num(&c.MaxConnections, "max-conns", "CHAT_MAX_CONNS", "most WebSocket connections at once")
	num(&c.MaxOperations, "max-ops", "CHAT_MAX_OPS", "most operations at once on one WebSocket connection")
	fs.Usage = func() {
		fmt.Fprintf(out, "chatd serves a GraphQL chat: queries and mutations over HTTP, subscriptions over WebSocket,\nand a chat page, all on one port.\n\nUsage: chatd [flags]\n\nEach flag can also be set by the environment variable named in its description.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if len(envErrs) > 0 {
		return fmt.Errorf("bad environment: %s", strings.Join(envErrs, "; "))
	}
	c.Origins = nil
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.Origins = append(c.Origins, o)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}
	return c.validate()
}

func (c *Config) validate() error {
	switch {
	case c.History < 1:
		return fmt.Errorf("-history must be at least 1")
	case c.MaxBody < 1024:
		return fmt.Errorf("-max-body must be at least 1024 bytes")
	case c.MaxDepth < 2:
		return fmt.Errorf("-max-depth must be at least 2")
	case c.MaxFrame < 1024:
		return fmt.Errorf("-max-frame must be at least 1024 bytes")
	case c.MaxConnections < 1 || c.MaxOperations < 1:
		return fmt.Errorf("-max-conns and -max-ops must be at least 1")
	case c.NameRate < 0 || c.ConnRate < 0 || c.NameRate > 0 && c.NameBurst < 1 || c.ConnRate > 0 && c.ConnBurst < 1:
		return fmt.Errorf("rates must not be negative, and a limited rate needs a burst of at least 1")
	}
	return nil
}
