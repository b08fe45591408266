package main

import (
	"net/http"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/wsproto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is what /metrics serves: the counters of the WebSocket server and
// the broker, read when scraped, and the histograms of store operations and
// delivery lag, fed by chat.ServiceOptions.Observe.
type metrics struct {
	store   *prometheus.HistogramVec
	errors  *prometheus.CounterVec
	posts   *prometheus.CounterVec
	lag     prometheus.Histogram
	handler http.Handler
}

func newMetrics(m *Main) *metrics {
	reg := prometheus.NewRegistry()
	x := &metrics{
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chat_store_seconds", Help: "Duration of store operations: post, join, messages, users.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chat_store_errors_total", Help: "Store operations that failed, by operation and code.",
		}, []string{"op", "code"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chat_posts_total", Help: "Posts that reached the store, by result (ok, or the error code).",
		}, []string{"result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chat_delivery_lag_seconds", Help: "Time from a message's createdAt (the store's clock) to its fan-out in this process.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	ws := func() wsproto.Stats { return m.ws.Stats() }
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		x.store, x.errors, x.posts, x.lag,
		gauge("chat_ws_connections", "WebSocket connections open.", func() float64 { return float64(ws().Connections) }),
		gauge("chat_ws_operations", "Operations running on WebSocket connections.", func() float64 { return float64(ws().Operations) }),
		gauge("chat_ws_subscriptions", "Subscriptions running on WebSocket connections.", func() float64 { return float64(ws().Subscriptions) }),
		counter("chat_ws_accepted_total", "WebSocket connections accepted.", func() float64 { return float64(ws().Accepted) }),
		counter("chat_ws_refused_total", "WebSocket upgrades refused because the server was full.", func() float64 { return float64(ws().Refused) }),
		counter("chat_ws_slow_closed_total", "WebSocket connections closed because their queue overflowed (slow consumers).", func() float64 { return float64(ws().SlowClosed) }),
		counter("chat_ws_dropped_total", "WebSocket connections dropped for a missed pong or a stuck write.", func() float64 { return float64(ws().DeadClosed) }),
		counter("chat_ws_frames_total", "Frames written to WebSocket connections.", func() float64 { return float64(ws().Frames) }),
		gauge("chat_broker_subscriptions", "Subscriptions of the in-process broker.", func() float64 { return float64(m.service.Stats().Subscriptions) }),
		counter("chat_broker_deliveries_total", "Events the broker offered to subscriptions.", func() float64 { return float64(m.service.Stats().Delivered) }),
		counter("chat_broker_cut_off_total", "Subscriptions the broker cut off for falling behind.", func() float64 { return float64(m.service.Stats().CutOff) }),
	)
	x.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return x
}

// observe is chat.ServiceOptions.Observe.
func (x *metrics) observe(op string, d time.Duration, err error) {
	if op == "deliver" {
		x.lag.Observe(max(0, d.Seconds()))
		return
	}
	x.store.WithLabelValues(op).Observe(d.Seconds())
	result := "ok"
	if err != nil {
		result = string(chat.ErrorCode(err))
		x.errors.WithLabelValues(op, result).Inc()
	}
	if op == "post" {
		x.posts.WithLabelValues(result).Inc()
	}
}
