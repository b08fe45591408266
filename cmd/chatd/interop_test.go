package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The interop tests run the real npm clients against the real server: the
// scripts in testdata/interop drive them and talk with the test over stdin
// and stdout, one JSON object a line (testdata/interop/lines.mjs has the
// protocol).

const (
	interopDir = "testdata/interop"
	// eventTimeout bounds every wait for a script's events, so that a client
	// that hangs, or reconnects forever, fails the test instead of hanging
	// it.
	eventTimeout = 15 * time.Second
	// scriptTimeout bounds a whole script; the scripts have watchdogs of
	// their own of 120 s.
	scriptTimeout = 150 * time.Second
)

// TestInteropGraphQLWS runs the graphql-ws npm client (graphql-transport-ws),
// the client of Apollo, urql and GraphiQL 2, through the chat.
func TestInteropGraphQLWS(t *testing.T) {
	node := nodeTools(t)
	eachStore(t, func(t *testing.T, store func(*Config)) {
		chatThroughClient(t, node, "graphql-ws.mjs", store,
			// graphql-transport-ws: an error message, which the client
			// hands to the observer's error.
			`error: Cannot query field "nope" on type "Subscription".`)
	})
}

// TestInteropLegacy runs subscriptions-transport-ws (the legacy graphql-ws
// protocol), the client of the seed's Apollo/Vue page, through the chat.
func TestInteropLegacy(t *testing.T) {
	node := nodeTools(t)
	eachStore(t, func(t *testing.T, store func(*Config)) {
		chatThroughClient(t, node, "legacy.mjs", store,
			// The legacy protocol's reference server answers a document
			// that fails validation with data holding the errors, then
			// complete.
			`errors: Cannot query field "nope" on type "Subscription". (GRAPHQL_VALIDATION_FAILED)`, "complete")
	})
}

// TestGraphQLOverHTTPAudit runs graphql-http's audit suite of the
// GraphQL-over-HTTP specification against /graphql. A failed MUST fails the
// test; a failed SHOULD or MAY is logged with its reason.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node := nodeTools(t)
	m := runMain(t)
	s := startScript(t, node, "audit.mjs", m.URL())
	counts := map[string]int{}
	deadline := time.Now().Add(2 * time.Minute) // 61 audits take less than a second
	for {
		e := s.next(deadline, "the audits")
		switch e.Event {
		case "audit":
			counts[e.Status]++
			switch e.Status {
			case "ok":
			case "warn", "notice": // a failed SHOULD, a failed MAY
				t.Logf("%s %s %q: %s; response %s", e.Status, e.ID, e.Name, e.Reason, e.Response)
			default: // error, a failed MUST, or fatal, an audit that threw
				t.Errorf("%s %s %q: %s; response %s", e.Status, e.ID, e.Name, e.Reason, e.Response)
			}
		case "done":
			s.wait()
			total := 0
			for _, n := range counts {
				total += n
			}
			t.Logf("%d audits: %v", total, counts)
			// graphql-http 1.23.1 has 61 audits: fewer means that the suite
			// did not run as it should.
			if total != e.Count || total < 50 {
				t.Errorf("got %d audit results of %d audits, want all of at least 50", total, e.Count)
			}
			return
		default:
			t.Fatalf("unexpected event %s", e.line)
		}
	}
}

// The chat's operations, with only the fields that stay the same from run to
// run, so that results compare as text.
const (
	interopMessages = `subscription($user: String!) { messagePosted(user: $user) { user text } }`
	interopJoins    = `subscription($user: String!) { userJoined(user: $user) }`
	interopPost     = `mutation($user: String!, $text: String!) { postMessage(user: $user, text: $text) { user text } }`
	interopHistory  = `{ messages(limit: 3) { user text } users }`
)

// chatThroughClient is the chat as a client's user lives it: subscribe to
// messages and joins, receive posts, query and post over the socket,
// unsubscribe, and keep receiving through a server restart on the same
// address. The three subscriptions: msgs (as ann) is stopped halfway,
// witness (as carol) shows what msgs would have received, and joins hears of
// new names. invalid is what the client reports for a subscription that
// fails validation, which differs by protocol.
func chatThroughClient(t *testing.T, node, script string, store func(*Config), invalid ...string) {
	m := runMain(t, store)
	c := &chatClient{nodeScript: startScript(t, node, script, m.URL()), stopped: map[string]bool{}}
	c.connected(false)

	c.subscribe("msgs", interopMessages, map[string]any{"user": "ann"})
	c.subscribe("witness", interopMessages, map[string]any{"user": "carol"})
	waitSubscriptionCount(t, m, 2, 1) // ann and carol have joined, before joins listens
	c.subscribe("joins", interopJoins, map[string]any{"user": "ann"})
	waitSubscriptionCount(t, m, 3, 2)

	for _, p := range [][2]string{{"bob", "one"}, {"bob", "two"}, {"ann", "three"}} {
		mustGQL(t, m, interopPost, map[string]any{"user": p[0], "text": p[1]})
	}
	c.expect("posts over HTTP", map[string][]string{
		"msgs":    {"bob: one", "bob: two", "ann: three"},
		"witness": {"bob: one", "bob: two", "ann: three"},
		"joins":   {"joined bob"},
	})

	c.subscribe("history", interopHistory, nil)
	c.expect("a query over the socket", map[string][]string{
		"history": {`{"messages":[{"text":"three","user":"ann"},{"text":"two","user":"bob"},{"text":"one","user":"bob"}],"users":["ann","bob","carol"]}`, "complete"},
	})
	c.subscribe("invalid", `subscription { nope }`, nil)
	c.expect("an invalid subscription", map[string][]string{"invalid": invalid})
	c.subscribe("post", interopPost, map[string]any{"user": "dave", "text": "four"})
	c.expect("a mutation over the socket", map[string][]string{
		"post":    {`{"postMessage":{"text":"four","user":"dave"}}`, "complete"},
		"msgs":    {"dave: four"},
		"witness": {"dave: four"},
		"joins":   {"joined dave"},
	})

	// Once the server has ended msgs, a post reaches witness only; a frame
	// for msgs would be a late event.
	c.unsubscribe("msgs")
	waitSubscriptionCount(t, m, 2, 2)
	mustGQL(t, m, interopPost, map[string]any{"user": "ann", "text": "five"})
	c.expect("a post after unsubscribing msgs", map[string][]string{"witness": {"ann: five"}})

	// Restart: the server closes with 1001, the client reconnects to the new
	// server on the same address and starts its two subscriptions again.
	addr, data := m.ln.Addr().String(), m.Config.Data
	if err := m.Close(); err != nil {
		t.Fatalf("closing the server: %v", err)
	}
	if e := c.await("closed"); e.Code != 1001 {
		t.Errorf("on shutdown the client saw close %d %q, want 1001", e.Code, e.Reason)
	}
	m = restartMain(t, addr, store, func(c *Config) { c.Data = data })
	c.connected(true)
	waitSubscriptionCount(t, m, 2, 2)
	mustGQL(t, m, interopPost, map[string]any{"user": "bob", "text": "six"})
	mustGQL(t, m, interopPost, map[string]any{"user": "erin", "text": "seven"})
	c.expect("posts after the restart", map[string][]string{
		"witness": {"bob: six", "erin: seven"},
		"joins":   {"joined erin"}, // bob is known from before the restart
	})

	c.send(map[string]any{"cmd": "exit"})
	c.await("bye")
	c.wait()
}

// chatClient is a client script in chatThroughClient.
type chatClient struct {
	*nodeScript
	stopped map[string]bool // operations unsubscribed
}

// subscribe starts an operation of any type under id.
func (c *chatClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"cmd": "subscribe", "id": id, "query": query, "variables": vars})
}

// unsubscribe stops operation id through the client's own means.
func (c *chatClient) unsubscribe(id string) {
	c.t.Helper()
	c.stopped[id] = true
	c.send(map[string]any{"cmd": "unsubscribe", "id": id})
	if e := c.await("unsubscribed"); e.ID != id {
		c.t.Fatalf("unsubscribed %q, want %q", e.ID, id)
	}
}

// connected waits until the client is connected: for the first time, or
// again after a restart when retry is set.
func (c *chatClient) connected(retry bool) {
	c.t.Helper()
	if e := c.await("connected"); e.Retry != retry {
		c.t.Errorf("connected with retry %v, want %v", e.Retry, retry)
	}
}

// await reads events until one of kind. Life events of the client on the way
// are logged: while reconnecting it may report many. Results on the way fail
// the test: nothing should arrive then.
func (c *chatClient) await(kind string) scriptEvent {
	c.t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for {
		e := c.next(deadline, kind)
		switch {
		case e.Event == kind:
			return e
		case e.life():
			c.t.Logf("%s: %s", c.name, e.line)
		case e.Event == "complete" && c.stopped[e.ID]:
			// graphql-ws completes the observer of an operation it stopped
		default:
			c.t.Errorf("waiting for %s, got %s", kind, e.line)
		}
	}
}

// expect reads results until every result of want has come, and compares
// them by operation, in order. Results of one operation come in order;
// results of different operations may interleave.
func (c *chatClient) expect(step string, want map[string][]string) {
	c.t.Helper()
	n := 0
	for _, results := range want {
		n += len(results)
	}
	got := map[string][]string{}
	deadline := time.Now().Add(eventTimeout)
	for n > 0 {
		e := c.next(deadline, step)
		switch {
		case e.life():
			c.t.Logf("%s: %s", c.name, e.line)
		case e.Event == "complete" && c.stopped[e.ID]:
			// graphql-ws completes the observer of an operation it stopped
		case c.stopped[e.ID] || e.Event == "late":
			c.t.Errorf("%s: got %s for an operation unsubscribed", step, e.line)
		case e.Event == "next" || e.Event == "error" || e.Event == "complete":
			got[e.ID] = append(got[e.ID], e.summary())
			n--
		default:
			c.t.Fatalf("%s: unexpected event %s", step, e.line)
		}
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		c.t.Errorf("%s: got %q, want %q", step, got, want)
	}
}

// scriptEvent is one line of a script's output.
type scriptEvent struct {
	Event string `json:"event"`
	ID    string `json:"id"`
	// connected
	Retry bool `json:"retry"`
	// closed
	Code   int    `json:"code"`
	Reason string `json:"reason"` // also an audit's
	// next, error
	Payload json.RawMessage `json:"payload"`
	Error   string          `json:"error"`
	// audit, done
	Name     string `json:"name"`
	Status   string `json:"status"`
	Response string `json:"response"`
	Count    int    `json:"count"`

	line string // as printed
}

// life reports whether e tells of the client's connection rather than of an
// operation.
func (e scriptEvent) life() bool {
	switch e.Event {
	case "connected", "closed", "disconnected", "socket-error":
		return true
	}
	return false
}

// summary is a result as expect compares it: "bob: hi" for a message,
// "joined bob" for a join, "errors: message (CODE); ..." for a result with
// errors, the data as JSON with sorted keys for any other result, "error:
// ..." for an error that ended the operation, or "complete".
func (e scriptEvent) summary() string {
	switch e.Event {
	case "complete":
		return "complete"
	case "error":
		return "error: " + e.Error
	}
	var p response
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return "result " + string(e.Payload)
	}
	if len(p.Errors) > 0 {
		var errs []string
		for _, x := range p.Errors {
			errs = append(errs, fmt.Sprintf("%s (%v)", x.Message, x.Extensions["code"]))
		}
		return "errors: " + strings.Join(errs, "; ")
	}
	if msg, ok := p.Data["messagePosted"].(map[string]any); ok {
		return fmt.Sprintf("%v: %v", msg["user"], msg["text"])
	}
	if name, ok := p.Data["userJoined"].(string); ok {
		return "joined " + name
	}
	b, _ := json.Marshal(p.Data)
	return string(b)
}

// nodeScript is a running script of testdata/interop.
type nodeScript struct {
	t      *testing.T
	name   string
	stdin  io.WriteCloser
	events chan scriptEvent // closed at the end of stdout
	stderr *lockedBuffer
	exited chan struct{} // closed once err is set
	err    error
}

// startScript runs node script url in testdata/interop. The script is
// stopped when the test ends, and whatever it wrote to stderr is logged.
func startScript(t *testing.T, node, script, url string) *nodeScript {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	cmd := exec.CommandContext(ctx, node, script, url)
	cmd.Dir = interopDir
	cmd.WaitDelay = 5 * time.Second
	s := &nodeScript{t: t, name: script, events: make(chan scriptEvent, 64), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", script, err)
	}
	s.stdin = stdin
	quit := make(chan struct{})
	go func() {
		defer func() {
			close(s.events)
			// Wait closes stdout, so it comes after the last read.
			s.err = cmd.Wait()
			close(s.exited)
		}()
		lines := bufio.NewScanner(stdout)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() {
			e := scriptEvent{line: lines.Text()}
			if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
				e.Event = "not JSON"
			}
			select {
			case s.events <- e:
			case <-quit:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(quit)
		stdin.Close() // a script still running ends at the end of its stdin
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
		}
		cancel()
		<-s.exited
		// A script that ran to its end wrote nothing there but warnings.
		if out := s.stderr.String(); out != "" {
			t.Logf("%s stderr:\n%s", script, out)
		}
	})
	return s
}

// send writes a command to the script.
func (s *nodeScript) send(cmd map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		s.t.Fatalf("writing to %s: %v", s.name, err)
	}
}

// next returns the next event, waiting until deadline at most for what the
// test awaits.
func (s *nodeScript) next(deadline time.Time, what string) scriptEvent {
	s.t.Helper()
	timeout := time.NewTimer(time.Until(deadline))
	defer timeout.Stop()
	select {
	case e, ok := <-s.events:
		if !ok {
			s.wait()
			s.t.Fatalf("%s ended while the test waited for %s", s.name, what)
		}
		return e
	case <-timeout.C:
		s.t.Fatalf("%s: waited in vain for %s", s.name, what)
		return scriptEvent{}
	}
}

// wait waits for the script to exit and fails the test unless it exited 0.
func (s *nodeScript) wait() {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(eventTimeout):
		s.t.Fatalf("%s still running %v after its last event", s.name, eventTimeout)
	}
	if s.err != nil {
		s.t.Fatalf("%s: %v", s.name, s.err)
	}
}

// lockedBuffer is a bytes.Buffer that a process writes while a test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// npmInstall installs the npm packages once per test binary.
var npmInstall struct {
	once sync.Once
	err  error
}

// nodeTools returns the path of node once the npm packages of
// testdata/interop are installed. Without node or npm the test skips,
// except in CI (CI set), where it fails: CI must run the interop tests.
func nodeTools(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	npm := ""
	if err == nil {
		npm, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the interop tests need node and npm: %v", err)
		}
		t.Skipf("the interop tests need node and npm: %v", err)
	}
	npmInstall.once.Do(func() { npmInstall.err = installNodeModules(npm) })
	if npmInstall.err != nil {
		t.Fatal(npmInstall.err)
	}
	return node
}

// installNodeModules runs npm ci in testdata/interop when node_modules is
// missing or older than package-lock.json: npm ci installs exactly the
// locked versions, and leaves node_modules/.package-lock.json behind.
func installNodeModules(npm string) error {
	lock, err := os.Stat(filepath.Join(interopDir, "package-lock.json"))
	if err != nil {
		return err
	}
	if installed, err := os.Stat(filepath.Join(interopDir, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = interopDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", interopDir, err, out)
	}
	return nil
}

// restartMain starts a server on addr, where one has just been closed, with
// the configuration changes given. The port may take a moment to be free.
func restartMain(t *testing.T, addr string, configure ...func(*Config)) *Main {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still taken 10s after the server closed: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return runMain(t, append(configure, func(c *Config) { c.Addr = addr })...)
}

// waitSubscriptionCount waits until exactly n subscriptions run over
// WebSocket, more being one that should have ended (or not started again
// after a restart), and the broker feeds at least streams streams, so that a
// post is sure to reach them. Subscriptions to one field share a stream.
func waitSubscriptionCount(t *testing.T, m *Main, n int64, streams int) {
	t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for m.ws.Stats().Subscriptions != n || m.service.Stats().Subscriptions < streams {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions on %d streams after %v, want %d on at least %d",
				m.ws.Stats().Subscriptions, m.service.Stats().Subscriptions, eventTimeout, n, streams)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
