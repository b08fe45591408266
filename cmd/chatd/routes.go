package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/schema"
	"github.com/gqlchat/gqlchat/web"
	"github.com/gqlchat/gqlchat/wsproto"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/handler"
)

// routes is every route of the one port.
func (m *Main) routes() http.Handler {
	api := &graphqlHTTP{schema: m.schema, maxBody: m.Config.MaxBody, timeout: 10 * time.Second}
	graphiql := handler.New(&handler.Config{Schema: &m.schema.Schema, GraphiQL: true})

	mux := http.NewServeMux()
	mux.Handle("/graphql", m.checkOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isWebSocket(r):
			m.ws.ServeHTTP(w, r)
		case r.Method == http.MethodGet && wantsHTML(r):
			// graphql-go/handler renders GraphiQL, but it would also run the
			// query in the URL (twice, mutations too): it gets none. The page
			// posts its queries to api.
			r2 := r.Clone(r.Context())
			r2.URL.RawQuery = ""
			graphiql.ServeHTTP(w, r2)
		default:
			api.ServeHTTP(w, r)
		}
	})))
	mux.Handle("/subscriptions", m.checkOrigin(m.ws)) // where GraphQL Playground looks
	mux.HandleFunc("GET /playground", servePlayground)
	mux.HandleFunc("GET /healthz", m.serveHealth)
	mux.Handle("GET /metrics", m.metrics.handler)
	mux.Handle("/", web.Handler())
	return mux
}

// serveHealth answers 200 when the server runs and its store answers, 503
// with the reason otherwise.
func (m *Main) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, body := http.StatusOK, map[string]string{"status": "ok"}
	if err := m.service.Ping(ctx); err != nil {
		status, body = http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// checkOrigin holds browsers to the origin allow-list: the server's own
// origin, and Config.Origins. Requests without an Origin header are not from
// browsers and pass. Allowed cross-origin requests get CORS headers, and
// preflights are answered here.
func (m *Main) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !originAllowed(origin, r.Host, m.Config.Origins) {
			m.Logger.Info("origin refused", "origin", origin, "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write(wsproto.MarshalResult(&graphql.Result{Errors: []gqlerrors.FormattedError{
				{Message: "origin " + origin + " is not allowed; start chatd with -origins to allow it"},
			}}, false))
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Accept, Authorization")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed reports whether origin is host's own or matches a pattern:
// a host pattern ("*.example.com") or, with "://", a scheme and host pattern,
// matched as coder/websocket matches them.
func originAllowed(origin, host string, patterns []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wantsHTML reports whether a browser navigated here, as graphql-go/handler
// decides it.
func wantsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	_, raw := r.URL.Query()["raw"]
	return !raw && strings.Contains(a, "text/html") && !strings.Contains(a, "application/json")
}

// connContext gives each client connection its own post limiter, which
// holds the connection to Config.ConnRate whatever names it posts as.
func (m *Main) connContext(ctx context.Context, _ net.Conn) context.Context {
	if m.Config.ConnRate <= 0 {
		return ctx
	}
	return chat.WithLimiter(ctx, chat.NewLimiter(m.Config.ConnRate, m.Config.ConnBurst))
}

// onConnect carries the connection's limiter from the upgrade request into
// the WebSocket operations' context.
func (m *Main) onConnect(ctx context.Context, r *http.Request, _ map[string]any) (context.Context, error) {
	if l := chat.LimiterFrom(r.Context()); l != nil {
		ctx = chat.WithLimiter(ctx, l)
	}
	return ctx, nil
}

// prepare adapts the schema's request checks to wsproto.
func (m *Main) prepare(_ context.Context, r *wsproto.Request) (*wsproto.Operation, []gqlerrors.FormattedError) {
	op, errs := m.schema.Prepare(&schema.Request{Query: r.Query, OperationName: r.OperationName, Variables: r.Variables, Extensions: r.Extensions})
	if errs != nil {
		return nil, errs
	}
	return &wsproto.Operation{Doc: op.Doc, Name: r.OperationName, Type: op.Type(), Variables: r.Variables, Share: op.Share, Start: op.Start}, nil
}
