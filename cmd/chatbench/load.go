package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The load is open-loop: post i of a step is due at start + i/rate whatever
// happened to the posts before it, so a slow server meets the same offered
// rate as a fast one instead of being spared by a generator that waits for
// it. A scheduler releases each post when it is due into a queue that can
// hold the whole step (it never blocks), and a fixed pool of posters, each
// with one keep-alive connection, take posts from the queue. When every
// poster is busy, posts wait in the queue; that wait is the schedule lag.

// postPrefix is the start of every postMessage request body.
const postPrefix = `{"query":"mutation($u: String!, $t: String!) { postMessage(user: $u, text: $t) { id } }","variables":{"u":"`

// poster is one worker of the pool: one HTTP client with one connection,
// and buffers reused for every request.
type poster struct {
	client *http.Client
	url    string
	body   []byte
	resp   []byte

	// figures of the current step, read once the step's posters are done
	rtt, lag Histogram
	failed   uint64
	firstErr string
	lastSent time.Time
}

// postBody builds the request of post seq into p.body.
func (p *poster) postBody(user int, nanos int64, seq uint64, run string, size int) []byte {
	b := append(p.body[:0], postPrefix...)
	b = append(b, "bench"...)
	b = strconv.AppendInt(b, int64(user), 10)
	b = append(b, `","t":"`...)
	b = appendText(b, nanos, seq, run, size)
	b = append(b, `"}}`...)
	p.body = b
	return b
}

// post sends one postMessage and reports whether the server accepted it.
func (p *poster) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	p.resp, err = readInto(io.LimitReader(resp.Body, 1<<20), p.resp[:0])
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	return postAnswer(resp.StatusCode, p.resp)
}

var okAnswer = []byte(`{"data":{"postMessage":{"id":"`)

// postAnswer judges the answer to a post: HTTP 200 with data.postMessage and
// no errors is a success; anything else fails with the first error's text.
func postAnswer(status int, body []byte) error {
	if status == http.StatusOK && bytes.HasPrefix(body, okAnswer) && !bytes.Contains(body, []byte(`"errors"`)) {
		return nil
	}
	var a struct {
		Data struct {
			PostMessage *struct {
				ID string `json:"id"`
			} `json:"postMessage"`
		} `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("HTTP %d: %.200q", status, body)
	}
	if len(a.Errors) > 0 {
		e := a.Errors[0]
		if e.Extensions.Code != "" {
			return fmt.Errorf("HTTP %d: %s: %s", status, e.Extensions.Code, e.Message)
		}
		return fmt.Errorf("HTTP %d: %s", status, e.Message)
	}
	if status != http.StatusOK || a.Data.PostMessage == nil || a.Data.PostMessage.ID == "" {
		return fmt.Errorf("HTTP %d: %.200q", status, body)
	}
	return nil
}

// postResult is what the posters did in one step.
type postResult struct {
	ok       []uint64 // bitset of the step's posts the server accepted
	okCount  uint64
	failed   uint64
	firstErr string
	rtt, lag Histogram
	lastSent time.Time // when the last post was sent
	start    time.Time // when the first post was due
	waited   uint64    // posts that found every poster busy
}

// loader owns the posters; they live for the whole run so that their
// connections stay open across steps.
type loader struct {
	cfg     *Config
	run     string
	posters []*poster
}

func newLoader(cfg *Config, d *dialers, run string) *loader {
	l := &loader{cfg: cfg, run: run}
	for range cfg.Posters {
		c := d.client(1)
		c.Timeout = cfg.PostTimeout
		l.posters = append(l.posters, &poster{client: c, url: cfg.postURL()})
	}
	return l
}

// close closes the posters' idle connections.
func (l *loader) close() {
	for _, p := range l.posters {
		p.client.CloseIdleConnections()
	}
}

// warmPost sends post seq (0: warm-up) from the first poster.
func (l *loader) warmPost(ctx context.Context, seq uint64) error {
	p := l.posters[0]
	return p.post(ctx, p.postBody(0, time.Now().UnixNano(), seq, l.run, l.cfg.Size))
}

// step posts n messages numbered base.. at rate a second and returns when
// every one has been answered (or has failed).
func (l *loader) step(ctx context.Context, base, n uint64, rate float64) *postResult {
	res := &postResult{ok: make([]uint64, (n+63)/64)}
	queue := make(chan uint64, n)
	interval := float64(time.Second) / rate
	var start time.Time // set before the first post is released
	due := func(i uint64) time.Time { return start.Add(time.Duration(float64(i) * interval)) }
	var okCount atomic.Uint64
	var idle atomic.Int64 // posters waiting for a post
	var wg sync.WaitGroup
	for _, p := range l.posters {
		p.rtt.Reset()
		p.lag.Reset()
		p.failed, p.firstErr, p.lastSent = 0, "", time.Time{}
		wg.Go(func() {
			for {
				idle.Add(1)
				i, more := <-queue
				idle.Add(-1)
				if !more {
					return
				}
				sent := time.Now()
				p.lag.RecordDuration(sent.Sub(due(i)))
				p.lastSent = sent
				seq := base + i
				user := int(seq % uint64(l.cfg.Names))
				err := p.post(ctx, p.postBody(user, sent.UnixNano(), seq, l.run, l.cfg.Size))
				p.rtt.RecordDuration(time.Since(sent))
				if err != nil {
					p.failed++
					if p.firstErr == "" {
						p.firstErr = err.Error()
					}
					continue
				}
				atomic.OrUint64(&res.ok[i/64], 1<<(i%64)) // posters share words
				okCount.Add(1)
			}
		})
	}
	for idle.Load() < int64(len(l.posters)) {
		time.Sleep(time.Millisecond) // every poster ready before the clock starts
	}
	start = time.Now()
	res.start = start
	// The scheduler: release every post that is due, then sleep until the
	// next one is. An oversleep releases several at once, each still
	// measured against its own due time. A post released when the posts
	// already waiting are at least as many as the idle posters will wait
	// for a busy one: the pool, or the server behind it, is not keeping up.
	for i := uint64(0); i < n && ctx.Err() == nil; {
		now := time.Now()
		for i < n && !due(i).After(now) {
			if int64(len(queue)) >= idle.Load() {
				res.waited++
			}
			queue <- i
			i++
		}
		if i < n {
			time.Sleep(time.Until(due(i)))
		}
	}
	close(queue)
	wg.Wait()
	res.okCount = okCount.Load()
	for _, p := range l.posters {
		res.rtt.Merge(&p.rtt)
		res.lag.Merge(&p.lag)
		res.failed += p.failed
		if res.firstErr == "" {
			res.firstErr = p.firstErr
		}
		if p.lastSent.After(res.lastSent) {
			res.lastSent = p.lastSent
		}
	}
	return res
}
