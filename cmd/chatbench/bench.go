package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Config is what one `chatbench run` is told.
type Config struct {
	URL                string // HTTP base of the server; the endpoint is /graphql under it
	Subscribers        int
	Steps              []float64 // posts a second, one step each
	Duration           time.Duration
	Size               int
	Names              int
	Posters            int
	SourceIPs          []netip.Addr
	PID                int
	ConnectRate        float64
	ConnectConcurrency int
	ConnectTimeout     time.Duration
	Warmup             time.Duration
	Drain              time.Duration
	PostTimeout        time.Duration
}

// endpoint is the GraphQL URL: the base with /graphql added, unless the
// base already ends in it.
func (c *Config) endpoint() *url.URL {
	u, err := url.Parse(c.URL)
	if err != nil {
		return &url.URL{}
	}
	if !strings.HasSuffix(u.Path, "/graphql") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	return u
}

func (c *Config) postURL() string { return c.endpoint().String() }

// wsURL is the endpoint with ws:// for http:// and wss:// for https://.
func (c *Config) wsURL() string {
	u := c.endpoint()
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	return u.String()
}

// validate checks c before anything is dialled.
func (c *Config) validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		return fmt.Errorf("-url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("-url must be http://host:port or https://host:port, not %q", c.URL)
	case c.Subscribers < 1:
		return errors.New("-subscribers must be at least 1")
	case len(c.Steps) == 0:
		return errors.New("no rate: give -rate or -steps")
	case c.Duration <= 0:
		return errors.New("-duration must be positive")
	case c.Size < 1 || c.Size > 2000:
		return errors.New("-size must be 1..2000 (the server's text limit)")
	case c.Names < 1:
		return errors.New("-names must be at least 1")
	case c.Posters < 1:
		return errors.New("-posters must be at least 1")
	case c.ConnectRate < 0:
		return errors.New("-connect-rate must not be negative")
	case c.ConnectConcurrency < 1:
		return errors.New("-connect-concurrency must be at least 1")
	case c.Drain < 0 || c.Warmup < 0 || c.ConnectTimeout <= 0 || c.PostTimeout <= 0:
		return errors.New("-drain and -warmup must not be negative, -connect-timeout and -post-timeout must be positive")
	}
	for _, r := range c.Steps {
		if !(r > 0) || math.IsInf(r, 0) {
			return fmt.Errorf("rate %v: rates must be positive", r)
		}
		if postsIn(r, c.Duration) < 1 {
			return fmt.Errorf("rate %v for %v is not even one post", r, c.Duration)
		}
	}
	return nil
}

// postsIn is how many posts a step at rate for d makes.
func postsIn(rate float64, d time.Duration) uint64 {
	return uint64(math.Round(rate * d.Seconds()))
}

// Result is everything one run measured; it is also the -json output.
type Result struct {
	URL         string         `json:"url"`
	Started     time.Time      `json:"started"`
	Subscribers int            `json:"subscribers"`
	Posters     int            `json:"posters"`
	Size        int            `json:"size_bytes"`
	Names       int            `json:"names"`
	Rates       []float64      `json:"rates"`
	DurationS   float64        `json:"step_duration_seconds"`
	DrainS      float64        `json:"drain_seconds"`
	SourceIPs   int            `json:"source_ips"`
	GOMAXPROCS  int            `json:"gomaxprocs"`
	NumCPU      int            `json:"num_cpu"`
	NoFile      uint64         `json:"nofile_limit,omitempty"`
	Connect     connectResult  `json:"connect"`
	Server      *serverFigures `json:"server,omitempty"`
	Steps       []StepResult   `json:"steps"`
	// Late counts deliveries that arrived after their step had been closed
	// (they were counted as lost there); Foreign counts messages that were
	// not this run's; NextErrors counts next frames carrying errors.
	Late           uint64 `json:"late_deliveries"`
	Foreign        uint64 `json:"foreign_messages"`
	NextErrors     uint64 `json:"next_errors"`
	FirstNextError string `json:"first_next_error,omitempty"`
	Interrupted    bool   `json:"interrupted,omitempty"`
}

// serverFigures is what /proc says about the server (with -pid).
type serverFigures struct {
	PID                 int     `json:"pid"`
	RSSBeforeBytes      int64   `json:"rss_before_connect_bytes"`
	RSSAfterBytes       int64   `json:"rss_after_connect_bytes"`
	RSSPerConnBytes     float64 `json:"rss_per_connection_bytes"`
	RSSEndBytes         int64   `json:"rss_end_bytes"`
	Error               string  `json:"error,omitempty"`
	CPUConnectingSecond float64 `json:"cpu_seconds_connecting"`
}

// StepResult is one rate's figures.
type StepResult struct {
	Rate         float64        `json:"rate"`
	Interrupted  bool           `json:"interrupted,omitempty"` // cut short: partial figures
	Subscribers  int            `json:"subscribers"`           // live at the start of the step
	PostsPlanned uint64         `json:"posts_planned"`
	PostsOK      uint64         `json:"posts_ok"`
	PostsFailed  uint64         `json:"posts_failed"`
	FirstError   string         `json:"first_post_error,omitempty"`
	PostLatency  latencyFigures `json:"post_latency"`
	ScheduleLag  latencyFigures `json:"schedule_lag"`
	// PostsWaited counts posts that found every poster busy; PostingOverS
	// is how much later than scheduled the last post went out.
	PostsWaited  uint64  `json:"posts_waited_for_poster"`
	PostingOverS float64 `json:"posting_overran_seconds"`
	Behind       bool    `json:"schedule_fell_behind"`
	// Deliveries of accepted posts.
	Expected   uint64 `json:"deliveries_expected"`
	Received   uint64 `json:"deliveries_received"`
	Lost       uint64 `json:"deliveries_lost"`
	Duplicated uint64 `json:"deliveries_duplicated"`
	// Unexpected counts deliveries of posts whose request failed.
	Unexpected      uint64         `json:"deliveries_of_failed_posts"`
	Latency         latencyFigures `json:"delivery_latency"`
	WindowS         float64        `json:"window_seconds"`
	DeliveriesPerS  float64        `json:"deliveries_per_second"`
	DrainS          float64        `json:"drain_seconds"`
	Disconnected    int            `json:"disconnected"`
	FirstDisconnect string         `json:"first_disconnect,omitempty"`
	// Server CPU and memory (with -pid) over the step and its drain.
	ServerCPUS       float64 `json:"server_cpu_seconds,omitempty"`
	ServerCores      float64 `json:"server_cpu_cores,omitempty"`
	ServerCPUPer1kMs float64 `json:"server_cpu_ms_per_1000_deliveries,omitempty"`
	ServerRSSBytes   int64   `json:"server_rss_bytes,omitempty"`
	// chatbench's own CPU over the step and its drain.
	GeneratorCores     float64 `json:"generator_cpu_cores"`
	GeneratorCPUPer1kM float64 `json:"generator_cpu_ms_per_1000_deliveries"`
	// MachineCores is the busy CPU time of the whole machine over the step
	// (/proc/stat) in cores; IRQCores the part of it in interrupts, mostly
	// the network stack; OtherCores is the process time left after
	// chatbench and (with -pid) the server: other processes, interference.
	// Without -pid it includes the server.
	MachineCores float64 `json:"machine_cpu_cores"`
	IRQCores     float64 `json:"interrupt_cpu_cores"`
	OtherCores   float64 `json:"other_processes_cpu_cores"`
}

// latencyFigures are percentiles of a Histogram in milliseconds.
type latencyFigures struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

func figuresOf(h *Histogram) latencyFigures {
	ms := func(ns float64) float64 { return round3(ns / 1e6) } // to the microsecond
	return latencyFigures{
		Count: h.Count(),
		P50:   ms(float64(h.Quantile(0.50))),
		P90:   ms(float64(h.Quantile(0.90))),
		P99:   ms(float64(h.Quantile(0.99))),
		Max:   ms(float64(h.Max())),
		Mean:  ms(h.Mean()),
	}
}

// round3 rounds to three decimals, which is all the precision the figures
// have, so that the JSON reads cleanly.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// fellBehind tells whether the posters did not hold the schedule: more than
// 1% of the posts found every poster busy, or the last post went out later
// than its due time by more than 1% of the step (at least 50ms). Lag
// below that is the jitter of waking goroutines on a loaded machine, which
// the lag percentiles show anyway.
func fellBehind(p *postResult, n uint64, rate float64, d time.Duration) (bool, time.Duration) {
	planned := time.Duration(float64(n-1) / rate * float64(time.Second))
	over := p.lastSent.Sub(p.start) - planned
	return p.waited*100 > n || over > max(d/100, 50*time.Millisecond), over
}

// runID makes the token that marks this run's texts.
func runID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// Run measures: it connects the subscribers, proves them live, runs every
// step on the same connections and closes them. Progress goes to progress;
// the figures are returned. A cancelled ctx ends the run early with the
// steps finished so far.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	res := &Result{
		URL: cfg.URL, Started: time.Now().UTC(), Subscribers: cfg.Subscribers, Posters: cfg.Posters,
		Size: cfg.Size, Names: cfg.Names, Rates: cfg.Steps, DurationS: cfg.Duration.Seconds(), DrainS: cfg.Drain.Seconds(),
		SourceIPs: len(cfg.SourceIPs), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
	}
	run := runID()
	d := &dialers{ips: cfg.SourceIPs}
	ld := newLoader(&cfg, d, run)
	defer ld.close()

	var server *serverFigures
	var cpuBefore time.Duration
	if cfg.PID > 0 {
		server = &serverFigures{PID: cfg.PID}
		res.Server = server
		rss, err := procRSS(cfg.PID)
		if err != nil {
			return nil, fmt.Errorf("-pid %d: %w", cfg.PID, err)
		}
		server.RSSBeforeBytes = rss
		cpuBefore, _ = procCPU(cfg.PID)
	}

	fmt.Fprintf(progress, "connecting %d subscribers to %s (at most %v/s, %d at once)\n", cfg.Subscribers, cfg.wsURL(), cfg.ConnectRate, cfg.ConnectConcurrency)
	subs, conn := connectAll(ctx, &cfg, d, run, progress)
	defer func() {
		for _, s := range subs {
			s.conn.CloseNow()
		}
	}()
	conn.Seconds = round3(conn.Seconds)
	res.Connect = conn
	fmt.Fprintf(progress, "connected %d, failed %d in %.1fs\n", conn.Connected, conn.Failed, conn.Seconds)
	if conn.FirstError != "" {
		fmt.Fprintf(progress, "first connect error: %s\n", conn.FirstError)
	}
	if len(subs) == 0 {
		return res, fmt.Errorf("no subscriber connected: %s", conn.FirstError)
	}

	live, posts, took, werr := warmUp(ctx, subs, func(seq uint64) error { return ld.warmPost(ctx, seq) }, cfg.Warmup)
	res.Connect.Live, res.Connect.WarmupPosts, res.Connect.WarmupSeconds = live, posts, round3(took.Seconds())
	fmt.Fprintf(progress, "warm-up: %d/%d subscriptions live after %.2fs and %d warm-up posts\n", live, len(subs), took.Seconds(), posts)
	if werr != nil {
		fmt.Fprintf(progress, "warm-up post failed: %v\n", werr)
	}
	if live == 0 {
		return res, fmt.Errorf("no subscription received the warm-up message (%v)", werr)
	}
	// Let the server settle after the burst of connections before reading
	// its memory, so that the figure is its steady state.
	if server != nil {
		time.Sleep(500 * time.Millisecond)
		if rss, err := procRSS(cfg.PID); err == nil {
			server.RSSAfterBytes = rss
			server.RSSPerConnBytes = math.Round(float64(rss-server.RSSBeforeBytes) / float64(len(subs)))
		} else {
			server.Error = err.Error()
		}
		if cpu, err := procCPU(cfg.PID); err == nil {
			server.CPUConnectingSecond = round3((cpu - cpuBefore).Seconds())
		}
	}

	base := uint64(1) // sequence 0 is the warm-up
	for i, rate := range cfg.Steps {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		if i > 0 {
			// Let what is left of the previous step arrive (as late) before
			// the next one starts.
			settle(ctx, subs, cfg.Drain)
		}
		n := postsIn(rate, cfg.Duration)
		fmt.Fprintf(progress, "step %d/%d: %v posts/s for %v (%d posts) to %d subscribers\n", i+1, len(cfg.Steps), rate, cfg.Duration, n, len(subs))
		st := runStep(ctx, &cfg, ld, subs, base, n, rate)
		st.Interrupted = ctx.Err() != nil
		res.Steps = append(res.Steps, st)
		base += n
		fmt.Fprintf(progress, "  posts ok %d failed %d; deliveries %d/%d, lost %d; latency p50 %.2fms p99 %.2fms\n",
			st.PostsOK, st.PostsFailed, st.Received, st.Expected, st.Lost, st.Latency.P50, st.Latency.P99)
	}
	if ctx.Err() != nil {
		res.Interrupted = true
	}
	for _, s := range subs {
		late, foreign, nextErrs, firstErr, _ := s.counters()
		res.Late += late
		res.Foreign += foreign
		res.NextErrors += nextErrs
		if res.FirstNextError == "" {
			res.FirstNextError = firstErr
		}
	}
	if server != nil {
		server.RSSEndBytes, _ = procRSS(cfg.PID)
	}
	return res, nil
}

// runStep posts one step's messages and takes its figures once every
// delivery has arrived or the drain time has passed.
func runStep(ctx context.Context, cfg *Config, ld *loader, subs []*subscriber, base, n uint64, rate float64) StepResult {
	st := StepResult{Rate: rate, PostsPlanned: n}
	var live, gone []*subscriber
	for _, s := range subs {
		if s.dead.Load() {
			gone = append(gone, s)
		} else {
			live = append(live, s)
		}
		s.open(base, n)
	}
	st.Subscribers = len(live)

	srvBefore, srvErr := time.Duration(0), error(nil)
	if cfg.PID > 0 {
		srvBefore, srvErr = procCPU(cfg.PID)
	}
	selfBefore := selfCPU()
	machineBefore, machineErr := readMachineCPU()
	start := time.Now()

	posts := ld.step(ctx, base, n, rate)

	// Drain: wait until every live subscriber has every accepted post, or
	// the drain time after the last post has passed.
	want := posts.okCount * uint64(len(live))
	drainStart := time.Now()
	for time.Since(drainStart) < cfg.Drain && ctx.Err() == nil {
		var got uint64
		for _, s := range live {
			got += s.got.Load()
		}
		if got >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	end := time.Now()
	st.DrainS = end.Sub(drainStart).Seconds()

	var latency Histogram
	var lastRecv int64
	for _, s := range live {
		t, last := s.cut(posts.ok, &latency)
		st.Received += t.received
		st.Unexpected += t.unexpected
		st.Duplicated += t.dups
		lastRecv = max(lastRecv, last)
		if s.dead.Load() {
			st.Disconnected++
			if st.FirstDisconnect == "" {
				_, _, _, _, st.FirstDisconnect = s.counters()
			}
		}
	}
	for _, s := range gone {
		s.cut(posts.ok, &Histogram{}) // closes the step on them too
	}
	st.PostsOK, st.PostsFailed, st.FirstError = posts.okCount, posts.failed, posts.firstErr
	st.PostLatency = figuresOf(&posts.rtt)
	st.ScheduleLag = figuresOf(&posts.lag)
	var over time.Duration
	st.Behind, over = fellBehind(posts, n, rate, cfg.Duration)
	st.PostsWaited = posts.waited
	st.PostingOverS = over.Seconds()
	st.Expected = want
	st.Lost = want - min(want, st.Received)
	st.Latency = figuresOf(&latency)
	if lastRecv > 0 {
		st.WindowS = time.Unix(0, lastRecv).Sub(posts.start).Seconds()
		if st.WindowS > 0 {
			st.DeliveriesPerS = float64(st.Received) / st.WindowS
		}
	}

	stepTime := end.Sub(start).Seconds()
	selfUsed := (selfCPU() - selfBefore).Seconds()
	st.GeneratorCores = selfUsed / stepTime
	if st.Received > 0 {
		st.GeneratorCPUPer1kM = selfUsed / float64(st.Received) * 1000 * 1000
	}
	others := -1.0 // unknown
	if after, err := readMachineCPU(); err == nil && machineErr == nil {
		procs := (after.procs - machineBefore.procs).Seconds() / stepTime
		st.IRQCores = (after.irq - machineBefore.irq).Seconds() / stepTime
		st.MachineCores = procs + st.IRQCores
		others = procs - st.GeneratorCores
	}
	if cfg.PID > 0 && srvErr == nil {
		if after, err := procCPU(cfg.PID); err == nil {
			used := (after - srvBefore).Seconds()
			st.ServerCPUS = used
			st.ServerCores = used / stepTime
			if st.Received > 0 {
				st.ServerCPUPer1kMs = used / float64(st.Received) * 1000 * 1000
			}
		}
		st.ServerRSSBytes, _ = procRSS(cfg.PID)
		if others >= 0 {
			others -= st.ServerCores
		}
	}
	st.OtherCores = max(others, 0)
	for _, f := range []*float64{&st.PostingOverS, &st.WindowS, &st.DeliveriesPerS, &st.DrainS, &st.ServerCPUS,
		&st.ServerCores, &st.ServerCPUPer1kMs, &st.GeneratorCores, &st.GeneratorCPUPer1kM, &st.MachineCores,
		&st.IRQCores, &st.OtherCores} {
		*f = round3(*f)
	}
	return st
}
