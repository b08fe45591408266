package main

// Helpers of the browser tests (browser_test.go): starting Chromium, driving
// the chat page, and keeping evidence when a test fails.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	// browserTestTimeout bounds every browser action of one test, so that a
	// broken page fails the test instead of hanging it.
	browserTestTimeout = 60 * time.Second
	// waitTimeout bounds one wait for the page to reach a state.
	waitTimeout = 15 * time.Second
)

// chromiumPath returns Debian's Chromium. Without it the test is skipped,
// unless CI is set: CI must run the browser tests.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if path, err := exec.LookPath("chromium"); err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the browser tests need chromium (apt-get install chromium), and CI is set")
	}
	t.Skip("the browser tests need chromium (apt-get install chromium)")
	return ""
}

// browserTest checks that Chromium is there and returns the context that
// ends every browser action of the test after browserTestTimeout.
func browserTest(t *testing.T) context.Context {
	t.Helper()
	chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	t.Cleanup(cancel)
	return ctx
}

// page is one person's browser (its own process and profile, so its own
// localStorage) showing the chat page.
type page struct {
	t     *testing.T
	label string          // who, in failure messages
	ctx   context.Context // for actions; ends with the test's timeout
	base  context.Context // the browser's; lives until the test's cleanup

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newPage starts a headless Chromium with a fresh profile. When the test
// ends the browser is closed; if the test failed, a screenshot, the page's
// state and its console are saved or logged first.
func newPage(t *testing.T, testCtx context.Context, label string) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()), // removed after the browser has exited
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	base, cancelBase := chromedp.NewContext(allocCtx)
	p := &page{t: t, label: label, base: base}
	t.Cleanup(func() {
		p.checkConsole()
		if t.Failed() {
			p.dump()
		}
		cancelBase()
		cancelAlloc() // waits for the browser to exit
	})

	// The first action starts the browser and ties its life to the context
	// it is given, so it gets base; the wait is bounded here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(base) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("%s: starting chromium: %v", label, err)
		}
	case <-testCtx.Done():
		t.Fatalf("%s: chromium did not start: %v", label, testCtx.Err())
	}
	messages := chromedp.Console(base)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()

	ctx, cancel := context.WithCancel(base)
	stop := context.AfterFunc(testCtx, cancel)
	t.Cleanup(func() { stop(); cancel() })
	p.ctx = ctx
	p.setViewport(1280, 800, false) // the window's, less no browser bars
	return p
}

// do runs actions and fails the test on the first error.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v", p.label, what, err)
	}
}

// evalJS evaluates a JavaScript expression in p and decodes its value.
func evalJS[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluating %s: %v", p.label, expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is truthy.
func (p *page) waitJS(what, expr string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		p.t.Fatalf("%s: waiting for %s: %v", p.label, what, err)
	}
}

// js spells a Go value as a JavaScript literal.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// open loads the chat page and waits until it shows the join form or the chat.
func (p *page) open(url string) {
	p.t.Helper()
	p.do("opening "+url, chromedp.Navigate(url))
	p.waitLoaded()
}

// reload reloads the page and waits until it shows the join form or the chat.
func (p *page) reload() {
	p.t.Helper()
	p.do("reloading", chromedp.Reload())
	p.waitLoaded()
}

func (p *page) waitLoaded() {
	p.t.Helper()
	p.waitJS("the page to show a view", `document.readyState === "complete" &&
		!!document.getElementById("join-view") &&
		(!document.getElementById("join-view").hidden || !document.getElementById("chat-view").hidden)`)
}

// How a form is submitted: Enter in its field, or a click on its button.
type submitBy int

const (
	byEnter submitBy = iota
	byClick
)

// join types name into the Name field, submits it, and waits until the
// chat is shown and online.
func (p *page) join(name string, by submitBy) {
	p.t.Helper()
	p.waitJS("the join form", `!document.getElementById("join-view").hidden`)
	p.do("typing the name", chromedp.SendKeys(chromedp.ID("name-input"), name))
	if by == byEnter {
		p.do("pressing Enter in the name field", chromedp.SendKeys(chromedp.ID("name-input"), kb.Enter))
	} else {
		p.do("clicking Join", chromedp.Click(chromedp.ID("join-button")))
	}
	p.waitJS("the chat of "+name, `!document.getElementById("chat-view").hidden &&
		document.getElementById("join-view").hidden &&
		document.getElementById("me-name").textContent === `+js(name))
	p.waitOnline()
}

// waitOnline waits until the page says it is online and Send is enabled.
func (p *page) waitOnline() {
	p.t.Helper()
	p.waitJS("the page to be online", `document.getElementById("status").dataset.state === "online" &&
		!document.getElementById("send-button").disabled`)
}

// typeMessage types text into the message field; a "\n" is Shift+Enter.
func (p *page) typeMessage(text string) {
	p.t.Helper()
	p.do("focusing the message field", chromedp.Focus(chromedp.ID("message-input")))
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			p.do("pressing Shift+Enter", chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)))
		}
		if line != "" {
			p.do("typing a message", chromedp.SendKeys(chromedp.ID("message-input"), line))
		}
	}
}

// setMessage puts text into the message field as if pasted: faster than
// typing, and past the field's maxlength, which only limits typing.
func (p *page) setMessage(text string) {
	p.t.Helper()
	evalJS[chromedp.Void](p, `(() => {
		const f = document.getElementById("message-input");
		f.focus();
		f.value = `+js(text)+`;
		f.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)
}

// enterKey presses Enter as a keyboard does when the page cancels the
// keydown: a key down and a key up with no character event. (SendKeys adds
// a character event that the protocol delivers even after a canceled
// keydown, where a real keyboard's is suppressed: the textarea would get a
// newline no person would see.)
var enterKey = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		})
		if err != nil {
			return err
		}
	}
	return nil
})

// submitMessage sends what is in the message field with Enter or Send.
func (p *page) submitMessage(by submitBy) {
	p.t.Helper()
	if by == byEnter {
		p.do("pressing Enter in the message field", chromedp.Focus(chromedp.ID("message-input")), enterKey)
	} else {
		p.do("clicking Send", chromedp.WaitEnabled(chromedp.ID("send-button")), chromedp.Click(chromedp.ID("send-button")))
	}
}

// send types and sends a message as author, waits until it is shown and
// the field is empty again, and returns it as shown.
func (p *page) send(author, text string, by submitBy) shownMessage {
	p.t.Helper()
	p.waitOnline()
	p.typeMessage(text)
	if got := p.fieldValue(); got != text {
		p.t.Fatalf("%s: message field holds %q after typing %q", p.label, got, text)
	}
	p.submitMessage(by)
	m := p.waitMessage(author, text)
	p.waitJS("the message field to clear after sending", `document.getElementById("message-input").value === ""`)
	return m
}

// fieldValue is the text in the message field.
func (p *page) fieldValue() string {
	p.t.Helper()
	return evalJS[string](p, `document.getElementById("message-input").value`)
}

// shownMessage is one message as the page shows it.
type shownMessage struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Time   string `json:"time"`
	Label  string `json:"label"`
	Text   string `json:"text"`
}

// messagesJS lists the messages in #messages, top to bottom.
const messagesJS = `Array.from(document.querySelectorAll("#messages article.msg"), (a) => ({
	id: a.dataset.id || "",
	author: a.querySelector(".msg-author")?.textContent ?? "<no .msg-author>",
	time: a.querySelector("time.msg-time")?.getAttribute("datetime") ?? "",
	label: a.querySelector("time.msg-time")?.textContent ?? "",
	text: a.querySelector(".msg-text")?.textContent ?? "<no .msg-text>",
}))`

// messages returns the messages the page shows, oldest first.
func (p *page) messages() []shownMessage {
	p.t.Helper()
	return evalJS[[]shownMessage](p, messagesJS)
}

// waitMessage waits until a message by author with text is shown, and
// returns it.
func (p *page) waitMessage(author, text string) shownMessage {
	p.t.Helper()
	p.waitJS(fmt.Sprintf("a message by %q saying %q", author, text),
		messagesJS+`.some((m) => m.author === `+js(author)+` && m.text === `+js(text)+`)`)
	for _, m := range p.messages() {
		if m.Author == author && m.Text == text {
			return m
		}
	}
	p.t.Fatalf("%s: the message by %q saying %q went away", p.label, author, text)
	return shownMessage{}
}

// users returns the names in the user list, top to bottom.
func (p *page) users() []string {
	p.t.Helper()
	return evalJS[[]string](p, `Array.from(document.querySelectorAll('ul#users[aria-label="Users"] > li'), (li) => li.textContent)`)
}

// waitUsers waits until the user list holds exactly names, in any order.
func (p *page) waitUsers(names ...string) {
	p.t.Helper()
	want := slices.Sorted(slices.Values(names))
	p.waitJS(fmt.Sprintf("the user list %q", want),
		`JSON.stringify(Array.from(document.querySelectorAll('ul#users[aria-label="Users"] > li'), (li) => li.textContent).sort()) === JSON.stringify(`+js(want)+`)`)
}

// visible reports whether the element with id takes up space on screen.
func (p *page) visible(id string) bool {
	p.t.Helper()
	return evalJS[bool](p, `(() => {
		const e = document.getElementById(`+js(id)+`);
		return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
	})()`)
}

// setViewport emulates a window of width×height CSS pixels; a phone is a
// mobile device with a 2x screen.
func (p *page) setViewport(width, height int64, phone bool) {
	p.t.Helper()
	if phone {
		p.do("emulating a phone", chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
	} else {
		p.do("emulating a desktop", chromedp.EmulateViewport(width, height))
	}
}

// setColorScheme emulates prefers-color-scheme ("light" or "dark"), with
// reduced motion so that colours do not fade into each other while read.
func (p *page) setColorScheme(scheme string) {
	p.t.Helper()
	_, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{
			{Name: "prefers-color-scheme", Value: scheme},
			{Name: "prefers-reduced-motion", Value: "reduce"},
		},
	})
	if err != nil {
		p.t.Fatalf("%s: emulating %s mode: %v", p.label, scheme, err)
	}
}

// screenshot saves a PNG of the viewport as dir/name.png and logs its path.
func (p *page) screenshot(dir, name string) string {
	p.t.Helper()
	// Let layout and the scroll position settle after a viewport change.
	settle := `new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))`
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise)); err != nil {
		p.t.Fatalf("%s: waiting for two frames: %v", p.label, err)
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot %s: %v", p.label, name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("%s: screenshot %s", p.label, path)
	return path
}

// screenshotDir is where a test keeps its screenshots: $GQLCHAT_SCREENSHOTS
// when set (kept after the test), else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GQLCHAT_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkConsole fails the test on an uncaught exception or a Content
// Security Policy violation in the page. Other messages (a refused
// connection while the server restarts) are only logged on failure.
func (p *page) checkConsole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			p.t.Errorf("%s: console: %s (%s:%d)", p.label, m, m.URL, m.Line+1)
		}
	}
}

// dump keeps what there is to see of a failed test: a screenshot (kept
// after the test, in $GQLCHAT_SCREENSHOTS or a new temporary directory),
// the text of #messages, the status and errors shown, and the console.
func (p *page) dump() {
	ctx, cancel := context.WithTimeout(p.base, 10*time.Second)
	defer cancel()
	dir := os.Getenv("GQLCHAT_SCREENSHOTS")
	if dir == "" {
		dir = os.TempDir()
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		p.t.Logf("%s: no screenshot: %v", p.label, err)
	} else if f, err := os.CreateTemp(dir, "gqlchat-failed-*.png"); err != nil {
		p.t.Logf("%s: no screenshot: %v", p.label, err)
	} else {
		f.Write(png)
		f.Close()
		p.t.Logf("%s: screenshot of the failure: %s", p.label, f.Name())
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const text = (id) => { const e = document.getElementById(id); return e ? e.innerText : "<missing>"; };
		return [
			"url: " + location.href,
			"status: " + document.getElementById("status")?.dataset.state + " " + JSON.stringify(text("status-text")),
			"join error: " + JSON.stringify(text("join-error")),
			"send error: " + JSON.stringify(text("send-error")),
			"message field: " + JSON.stringify(document.getElementById("message-input")?.value),
			"users: " + JSON.stringify(text("users")),
			"#messages:\n" + text("messages"),
		].join("\n");
	})()`))
	if err != nil {
		p.t.Logf("%s: cannot read the page: %v", p.label, err)
	} else {
		p.t.Logf("%s: the page:\n%s", p.label, state)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.console) == 0 {
		p.t.Logf("%s: the console is empty", p.label)
	}
	for _, m := range p.console {
		p.t.Logf("%s: console %s: %s (%s:%d)", p.label, m.Time.Format("15:04:05.000"), m, m.URL, m.Line+1)
	}
}
