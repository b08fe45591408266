// Command chatbench measures a gqlchat deployment: how many messages a
// second one server delivers to how many WebSocket subscribers, how fast,
// with what losses, and at what cost in server memory and CPU. It only
// talks to the addresses it is given.
//
//	chatbench [run] [flags]   drive a server (the default command)
//	chatbench bare [flags]    serve the bare broadcast reference server
//
// `chatbench -h` explains every flag and every figure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs one command and returns the exit code: 0, 1 when the
// command failed, 2 for bad usage.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = runCommand(ctx, args, stdout, stderr)
	case "bare":
		err = bareCommand(ctx, args, stderr)
	case "help":
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "chatbench: unknown command %q (run, bare or help)\n", cmd)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "chatbench: %v\n", err)
	return 1
}

var errUsage = errors.New("bad usage")

const usageText = `chatbench measures a gqlchat server: posts go in over HTTP at a fixed rate and
every one of them must come out of every subscriber's WebSocket.

Usage:
  chatbench [run] [flags]    drive the server at -url (the default command)
  chatbench bare [flags]     serve the bare broadcast reference server on -addr
  chatbench help             this text

chatbench run: connects -subscribers WebSocket connections (graphql-transport-ws, one
messagePosted subscription each), posts one warm-up message until every subscription
has received one (that is how it knows the server has processed every subscribe), then
for each rate (-rate, or each of -steps in turn on the same connections) posts
rate x -duration messages at evenly spaced times through -posters keep-alive HTTP
clients, waits up to -drain for the deliveries, and reports. Each text carries its send
time, a sequence number and a run id: "<unix nanos> <seq> <run id> xxx...".

chatbench bare: a WebSocket broadcast with no GraphQL execution and no store, speaking
just enough of the same protocol for chatbench run to drive it unchanged. Its figures
are the ceiling of the machine for the fan-out; compare a chatd run with a bare run.

Run flags:
  -url URL                 HTTP base of the server (default http://127.0.0.1:8080); posts go
                           to URL/graphql, subscriptions to ws://host/graphql
  -subscribers N           WebSocket connections, one subscription each (default 1000)
  -rate R                  posts a second (default 50)
  -steps R1,R2,...         several rates, each run for -duration on the same connections;
                           between steps chatbench waits until deliveries of the previous
                           step stop arriving (at most -drain); overrides -rate
  -duration D              length of each step's posting (default 10s)
  -drain D                 longest wait after a step's last post for its deliveries; the
                           wait ends as soon as every delivery has arrived (default 5s)
  -size N                  text bytes, 1..2000 (default 100; the header of send time,
                           sequence and run id is ~40 bytes and is never cut)
  -names N                 posts rotate over N user names, bench0..bench(N-1), so that a
                           per-name rate limit does not shape the figures (default 1000)
  -posters N               HTTP workers, each with one keep-alive connection (default 30);
                           when all are busy posts queue, and that wait is schedule lag
  -source-ips LIST         loopback source addresses for the connections, round-robin per
                           connection: "127.0.0.1", "127.0.0.1-127.0.0.20", or a comma
                           list of either; only 127.0.0.0/8 is accepted. Each source
                           address has ~28k ephemeral ports to one server address.
                           Default: the system chooses.
  -pid N                   the server's process id on this machine: read its memory
                           (/proc/N/status VmRSS) and CPU (/proc/N/stat utime+stime)
  -connect-rate R          new connections a second while connecting (default 500; 0: no limit)
  -connect-concurrency N   handshakes in flight at most while connecting (default 100)
  -connect-timeout D       longest handshake, dial to subscribe sent (default 10s)
  -warmup D                longest wait for every subscription to be live (default 10s);
                           the run goes on with those that are
  -post-timeout D          longest post round trip (default 10s)
  -json                    print one JSON object instead of the table
  -cpuprofile FILE         write chatbench's own CPU profile (go tool pprof), to see
                           where the generator spends its time

Bare flags:
  -addr HOST:PORT          address to listen on (default 127.0.0.1:9090)

The figures, per step:
  posts ok / failed        posts answered HTTP 200 with data.postMessage and no errors /
                           all others (refused, errors, timeouts); the first error's text
                           is shown
  post latency             HTTP round trip of a post, p50 and p99
  schedule lag             how long after its due time (start + i/rate) a post was sent
                           (includes the time to wake a goroutine on a busy machine)
  posts waiting for a      posts that, when due, found every poster busy with earlier
    poster                 posts. The step fell BEHIND when these are over 1% of its posts
                           or its last post went out more than 1% of -duration (at least
                           50ms) late: the rate was not held (more -posters, or the server
                           cannot take the rate)
  subscribers              connections still open at the start of the step
  deliveries expected      posts ok x subscribers
  received                 distinct deliveries of accepted posts that arrived before the
                           step was closed (end of its drain)
  lost                     expected - received: never arrived, or arrived after the drain
                           (these are also counted as late at the bottom)
  duplicated               a subscriber received the same post again
  delivery latency         time a subscriber read the frame - send time in the text, for
                           every delivery (same machine, same clock); p50, p90, p99, max.
                           Percentiles come from a log-linear histogram accurate to 0.4%;
                           max is exact
  deliveries/s             received / window, the window running from the step's first
                           due post to its last delivery (posting time plus the tail)
  window / drain           that window, and how long the drain waited after the last post
  server CPU cores         server CPU time over the step and its drain / its wall time
  server CPU per 1000      server CPU time over the step and its drain / received x 1000,
    deliveries             in milliseconds: the server's cost of one delivery, x1000
  server RSS               VmRSS before connecting, after connecting (per connection =
                           the difference / subscribers connected), after each step; start
                           the server afresh for this figure, since a Go server keeps the
                           memory of earlier runs for a while
  generator CPU            chatbench's own CPU time over the step, in cores and per 1000
                           deliveries; near the machine's core count it, not the server,
                           may be the limit
  machine CPU busy         all the machine's busy CPU time over the step (/proc/stat), in
                           cores; "in interrupts" is its irq and softirq part, where much of
                           loopback networking runs (the kernel charges some of it to the
                           processes too); "other processes" is the user and system time
                           left after chatbench and the server (-pid), at least 0. Much of
                           that means the machine was not quiet and the figures are suspect
  deliveries of failed     deliveries of posts whose HTTP request failed (e.g. timed out
    posts                  after the server had published)

And for the whole run:
  connect                  connections made / tried, the time it took, handshake (dial to
                           subscribe sent) p50 and p99, and how many subscriptions the
                           warm-up proved live
  late deliveries          deliveries that arrived after their step was closed
  foreign messages         messages without this run's id (someone else posting), ignored
  next errors              next frames that carried GraphQL errors instead of a message
`

// parseRates reads "1000,2000,5000".
func parseRates(s string) ([]float64, error) {
	var rates []float64
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return nil, fmt.Errorf("-steps: %q is not a rate", part)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// runCommand is `chatbench run`.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chatbench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	cfg := Config{}
	var rate float64
	var steps, sources string
	var asJSON bool
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "HTTP base of the server")
	fs.IntVar(&cfg.Subscribers, "subscribers", 1000, "WebSocket subscribers")
	fs.Float64Var(&rate, "rate", 50, "posts a second")
	fs.StringVar(&steps, "steps", "", "comma-separated rates, one step each")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "posting time of each step")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "longest wait for deliveries after a step's last post")
	fs.IntVar(&cfg.Size, "size", 100, "text bytes")
	fs.IntVar(&cfg.Names, "names", 1000, "user names posts rotate over")
	fs.IntVar(&cfg.Posters, "posters", 30, "HTTP posting workers")
	fs.StringVar(&sources, "source-ips", "", "loopback source addresses (127.0.0.1 or 127.0.0.1-127.0.0.20)")
	fs.IntVar(&cfg.PID, "pid", 0, "the server's process id, for its RSS and CPU")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", 500, "connections a second while connecting")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", 100, "handshakes in flight at most")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 10*time.Second, "longest handshake")
	fs.DurationVar(&cfg.Warmup, "warmup", 10*time.Second, "longest wait for the subscriptions to be live")
	fs.DurationVar(&cfg.PostTimeout, "post-timeout", 10*time.Second, "longest post round trip")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	cpuProfile := fs.String("cpuprofile", "", "write chatbench's own CPU profile to this file")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg.Steps = []float64{rate}
	if steps != "" {
		var err error
		if cfg.Steps, err = parseRates(steps); err != nil {
			return err
		}
	}
	var err error
	if cfg.SourceIPs, err = parseSourceIPs(sources); err != nil {
		return fmt.Errorf("-source-ips: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return err
	}

	soft, hard, err := raiseNoFile()
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: raising RLIMIT_NOFILE: %v\n", err)
	}
	fmt.Fprintf(stderr, "chatbench: RLIMIT_NOFILE soft limit %d (hard %d)\n", soft, hard)
	if need := uint64(cfg.Subscribers + cfg.Posters + 64); soft < need {
		fmt.Fprintf(stderr, "chatbench: warning: %d subscribers need about %d open files\n", cfg.Subscribers, need)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := Run(ctx, cfg, stderr)
	if res == nil {
		return err
	}
	res.NoFile = soft
	if asJSON {
		if werr := writeJSON(stdout, res); werr != nil {
			return werr
		}
	} else if werr := writeText(stdout, res); werr != nil {
		return werr
	}
	return err
}

// bareCommand is `chatbench bare`: it serves until SIGINT or SIGTERM.
func bareCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("chatbench bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	addr := fs.String("addr", "127.0.0.1:9090", "address to listen on")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	soft, hard, err := raiseNoFile()
	log.Info("RLIMIT_NOFILE", "soft", soft, "hard", hard, "err", err)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	bs := newBareServer(log)
	hs := &http.Server{Handler: bs, ReadHeaderTimeout: 10 * time.Second}
	log.Info("bare broadcast server listening", "addr", ln.Addr().String(), "pid", os.Getpid())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "subscribers", bs.subscribers())
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bs.closeAll()
	return hs.Shutdown(sctx)
}

// parseFlags parses args into fs and refuses arguments past the flags.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chatbench: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	return nil
}
