package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startBare serves the bare reference server on a free loopback port,
// wrapped by wrap when it is not nil, and returns its base URL.
func startBare(t *testing.T, wrap func(http.Handler) http.Handler) (string, *bareServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bs := newBareServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var h http.Handler = bs
	if wrap != nil {
		h = wrap(bs)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	t.Cleanup(func() {
		bs.closeAll()
		hs.Close()
	})
	return "http://" + ln.Addr().String(), bs
}

func testConfig(url string) Config {
	return Config{
		URL: url, Subscribers: 20, Steps: []float64{100}, Duration: time.Second, Size: 100, Names: 10,
		Posters: 4, ConnectRate: 0, ConnectConcurrency: 20, ConnectTimeout: 5 * time.Second,
		Warmup: 5 * time.Second, Drain: 5 * time.Second, PostTimeout: 5 * time.Second,
	}
}

// TestRunAgainstBare drives the bare server through the same code as
// `chatbench run`: every post must reach every subscriber exactly once.
func TestRunAgainstBare(t *testing.T) {
	url, _ := startBare(t, nil)
	var progress bytes.Buffer
	res, err := Run(context.Background(), testConfig(url), &progress)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	if res.Connect.Connected != 20 || res.Connect.Live != 20 {
		t.Fatalf("connected %d, live %d, want 20 and 20: %s", res.Connect.Connected, res.Connect.Live, res.Connect.FirstError)
	}
	if len(res.Steps) != 1 {
		t.Fatalf("%d steps, want 1", len(res.Steps))
	}
	s := res.Steps[0]
	if s.PostsOK != 100 || s.PostsFailed != 0 {
		t.Errorf("posts ok %d failed %d (%s), want 100 and 0", s.PostsOK, s.PostsFailed, s.FirstError)
	}
	if s.Expected != 2000 || s.Received != s.Expected || s.Lost != 0 || s.Duplicated != 0 {
		t.Errorf("deliveries expected %d received %d lost %d duplicated %d, want 2000 2000 0 0",
			s.Expected, s.Received, s.Lost, s.Duplicated)
	}
	if s.Latency.Count != s.Received || s.Latency.P50 <= 0 || s.Latency.Max < s.Latency.P99 || s.Latency.P99 < s.Latency.P50 {
		t.Errorf("delivery latency figures inconsistent: %+v", s.Latency)
	}
	// 2000 deliveries over a window of a second or a little more: the last
	// post is due at 0.99s, and its deliveries follow.
	if s.WindowS < 0.99 || s.WindowS > 3 || math.Abs(s.DeliveriesPerS-2000/s.WindowS) > 2 {
		t.Errorf("deliveries/s %.0f over %.2fs, want 2000 over about 1s", s.DeliveriesPerS, s.WindowS)
	}
	if res.Foreign != 0 || res.Late != 0 {
		t.Errorf("foreign %d late %d, want 0", res.Foreign, res.Late)
	}
	var out bytes.Buffer
	if err := writeText(&out, res); err != nil || !strings.Contains(out.String(), "deliveries expected") {
		t.Errorf("text report: %v\n%s", err, out.String())
	}
}

// TestRunCountsLossesAndDuplicates puts a server in front of bare that
// swallows every tenth post after answering it, and sends every seventh twice:
// the figures must say so exactly.
func TestRunCountsLossesAndDuplicates(t *testing.T) {
	url, _ := startBare(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				next.ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			var req struct {
				Variables struct{ T string } `json:"variables"`
			}
			json.Unmarshal(body, &req)
			_, seq, _ := parseText([]byte(req.Variables.T), strings.Fields(req.Variables.T)[2])
			if seq%10 == 5 {
				io.WriteString(w, `{"data":{"postMessage":{"id":"swallowed"}}}`)
				return
			}
			if seq%7 == 3 {
				r2 := r.Clone(r.Context())
				r2.Body = io.NopCloser(bytes.NewReader(body))
				next.ServeHTTP(httptestDiscard{}, r2)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	})
	cfg := testConfig(url)
	cfg.Subscribers, cfg.Drain = 5, time.Second // the losses make the drain wait it out
	res, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Steps[0]
	// Posts 1..100: ten are 5 mod 10 (swallowed); fourteen are 3 mod 7,
	// and one of them, 45, is swallowed before it could be sent twice.
	lost, dup := uint64(10*5), uint64((14-1)*5)
	if s.Expected != 500 || s.Lost != lost || s.Received != 500-lost || s.Duplicated != dup {
		t.Errorf("expected %d received %d lost %d duplicated %d, want 500 %d %d %d",
			s.Expected, s.Received, s.Lost, s.Duplicated, 500-lost, lost, dup)
	}
}

type httptestDiscard struct{}

func (httptestDiscard) Header() http.Header         { return http.Header{} }
func (httptestDiscard) Write(b []byte) (int, error) { return len(b), nil }
func (httptestDiscard) WriteHeader(int)             {}

// TestCommandJSON runs the command line with two steps and -json.
func TestCommandJSON(t *testing.T) {
	url, bs := startBare(t, nil)
	var stdout, stderr bytes.Buffer
	code := realMain(context.Background(), []string{"run", "-url", url, "-subscribers", "5", "-steps", "50,100",
		"-duration", "300ms", "-drain", "1s", "-posters", "2", "-source-ips", "127.0.0.1-127.0.0.3", "-json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	if len(res.Steps) != 2 || res.Steps[0].Expected != 15*5 || res.Steps[1].Expected != 30*5 ||
		res.Steps[0].Lost != 0 || res.Steps[1].Lost != 0 || res.Steps[1].Received != 150 {
		t.Errorf("steps: %+v", res.Steps)
	}
	if res.Late != 0 {
		t.Errorf("%d late deliveries", res.Late)
	}
	if n := bs.subscribers(); n != 0 {
		// The run closes its connections on the way out; give the server a moment.
		time.Sleep(200 * time.Millisecond)
		if n = bs.subscribers(); n != 0 {
			t.Errorf("%d subscribers left on the server after the run", n)
		}
	}
}

func TestCommandRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-source-ips", "10.0.0.1"}, {"-subscribers", "0"}, {"-steps", "10,x"}, {"-url", "ftp://x"}, {"-size", "3000"}, {"nonsense"},
	} {
		var stdout, stderr bytes.Buffer
		if code := realMain(context.Background(), args, &stdout, &stderr); code == 0 {
			t.Errorf("%q was accepted", args)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := realMain(context.Background(), []string{"-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "deliveries/s") {
		t.Errorf("-h: exit %d, %s", code, stderr.String())
	}
}
