package main

// End-to-end tests of the chat page in a real browser (headless Chromium,
// driven by chromedp): people join, talk, reload, survive a server restart,
// cannot inject markup, see refused posts, and the page is looked at on a
// desktop and a phone. Each person is a browser of their own. They run on
// the embedded store; the conversation and the restart on Redis too.
// Helpers are in browser_page_test.go.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// serverMessages returns the newest limit messages as the server has them,
// oldest first, in the page's terms.
func serverMessages(t *testing.T, m *Main, limit int) []shownMessage {
	t.Helper()
	list := mustGQL(t, m, `query($limit: Int) { messages(limit: $limit) { id user text createdAt } }`, map[string]any{"limit": limit})["messages"].([]any)
	out := make([]shownMessage, len(list))
	for i, v := range list {
		msg := v.(map[string]any)
		out[len(list)-1-i] = shownMessage{
			ID:     msg["id"].(string),
			Author: msg["user"].(string),
			Text:   msg["text"].(string),
			Time:   msg["createdAt"].(string),
		}
	}
	return out
}

// checkShows checks that p shows exactly want, in order, each message once,
// with its id, author, text and time.
func checkShows(t *testing.T, p *page, want []shownMessage) {
	t.Helper()
	got := p.messages()
	ids := map[string]int{}
	for _, m := range got {
		if ids[m.ID]++; ids[m.ID] == 2 {
			t.Errorf("%s shows message %s (%q) more than once", p.label, m.ID, m.Text)
		}
		if m.Label == "" {
			t.Errorf("%s shows message %s (%q) without a time", p.label, m.ID, m.Text)
		}
	}
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.ID == w.ID && g.Author == w.Author && g.Text == w.Text && g.Time == w.Time
	}
	if !same {
		t.Errorf("%s shows these messages:\n%s\nwant, as the server has them:\n%s", p.label, formatMessages(got), formatMessages(want))
	}
}

func formatMessages(list []shownMessage) string {
	var b strings.Builder
	for _, m := range list {
		fmt.Fprintf(&b, "\t%s %s %q: %q\n", m.ID, m.Time, m.Author, m.Text)
	}
	return b.String()
}

// postAs posts a message over HTTP, as another client would.
func postAs(t *testing.T, m *Main, user, text string) string {
	t.Helper()
	return mustGQL(t, m, postMutation, map[string]any{"user": user, "text": text})["postMessage"].(map[string]any)["id"].(string)
}

// TestBrowserChat: two people join (one with Enter, one with the Join
// button), see each other in the user list, and talk both ways (Enter,
// the Send button, Shift+Enter for a new line).
func TestBrowserChat(t *testing.T) {
	chromiumPath(t) // skip before starting Redis
	eachStore(t, func(t *testing.T, store func(*Config)) {
		ctx := browserTest(t)
		m := runMain(t, store)
		ann := newPage(t, ctx, "Ann's browser")
		bob := newPage(t, ctx, "Bob's browser")
		ann.open(m.URL())
		bob.open(m.URL())

		if !ann.visible("name-input") || ann.visible("chat-view") {
			t.Fatal("a first visit does not show the name form alone")
		}
		ann.join("Ann", byEnter)
		bob.join("Bob", byClick)
		// Posted as Bob's page comes online, while its subscriptions may be
		// starting: it must not fall between them and the history it loads.
		postAs(t, m, "Cy", "Welcome, Bob")
		for _, p := range []struct {
			*page
			name string
		}{{ann, "Ann"}, {bob, "Bob"}} {
			if got := evalJS[string](p.page, `localStorage.getItem("gqlchat.name") ?? "<none>"`); got != p.name {
				t.Errorf("%s stored the name %q, want %q", p.label, got, p.name)
			}
			// Bob hears of Ann from the history, Ann of Bob live.
			p.waitUsers("Ann", "Bob", "Cy")
			if got := p.users(); !slices.Equal(got, []string{"Ann", "Bob", "Cy"}) {
				t.Errorf("%s lists the users %q, want [Ann Bob Cy]", p.label, got)
			}
			p.waitMessage("Cy", "Welcome, Bob")
		}

		ann.send("Ann", "Hello Bob!", byEnter)
		bob.waitMessage("Ann", "Hello Bob!")
		bob.send("Bob", "Hi Ann, how are you?", byClick)
		ann.waitMessage("Bob", "Hi Ann, how are you?")
		ann.send("Ann", "Fine, thanks.\nAnd you?", byClick)
		bob.waitMessage("Ann", "Fine, thanks.\nAnd you?")
		bob.send("Bob", "Great & busy: <3", byEnter)
		ann.waitMessage("Bob", "Great & busy: <3")

		want := serverMessages(t, m, 50)
		if len(want) != 5 {
			t.Fatalf("the server has %d messages, want 5:\n%s", len(want), formatMessages(want))
		}
		checkShows(t, ann, want)
		checkShows(t, bob, want)
		// One's own messages look different from the others'.
		for _, p := range []*page{ann, bob} {
			if got := evalJS[int](p, `document.querySelectorAll("#messages article.msg-own").length`); got != 2 {
				t.Errorf("%s marks %d messages as its own, want 2", p.label, got)
			}
		}
	})
}

const (
	xssText = `<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> & "quotes"`
	xssName = `<img src=x onerror=__pwned=3>`
)

// checkNoInjection checks that nothing sent made it into the page as markup.
func checkNoInjection(t *testing.T, p *page) {
	t.Helper()
	if n := evalJS[int](p, `document.querySelectorAll("#messages img, #messages script, #users img, #users script, #me-name *").length`); n != 0 {
		t.Errorf("%s: %d img/script elements inside #messages, #users or #me-name, want none", p.label, n)
	}
	if n := evalJS[int](p, `Array.from(document.images).filter((i) => !i.matches(".join-logo, .brand-logo")).length`); n != 0 {
		t.Errorf("%s: %d images besides the logos", p.label, n)
	}
	if pwned := evalJS[string](p, `typeof window.__pwned`); pwned != "undefined" {
		t.Errorf("%s: window.__pwned is %s, want undefined", p.label, pwned)
	}
}

// TestBrowserXSS: markup in a message text or a name shows as the literal
// text and never runs, whether it arrives live or from the history.
func TestBrowserXSS(t *testing.T) {
	ctx := browserTest(t)
	m := runMain(t)
	ann := newPage(t, ctx, "Ann's browser")
	mal := newPage(t, ctx, "Mallory's browser")
	ann.open(m.URL())
	mal.open(m.URL())
	ann.join("Ann", byClick)
	mal.join(xssName, byEnter)

	ann.send("Ann", xssText, byEnter) // typed, key by key
	mal.waitMessage("Ann", xssText)
	mal.send(xssName, `</p><b>bold?</b>`, byClick)
	ann.waitMessage(xssName, `</p><b>bold?</b>`)
	postAs(t, m, "Eve", xssText) // live through the subscription
	ann.waitMessage("Eve", xssText)
	mal.waitMessage("Eve", xssText)
	for _, p := range []*page{ann, mal} {
		p.waitUsers("Ann", "Eve", xssName)
		checkNoInjection(t, p)
	}
	if got := evalJS[string](mal, `document.title`); got != "gqlchat — "+xssName {
		t.Errorf("title %q, want the name as text", got)
	}

	// The same messages from the history, after a reload.
	mal.reload()
	mal.waitOnline()
	want := serverMessages(t, m, 50)
	mal.waitMessage("Eve", xssText)
	checkShows(t, mal, want)
	checkShows(t, ann, want)
	mal.waitUsers("Ann", "Eve", xssName)
	// Give a stray onerror handler the time to run.
	time.Sleep(200 * time.Millisecond)
	checkNoInjection(t, ann)
	checkNoInjection(t, mal)
}

// TestBrowserRefusedPost: a post refused by the page (blank) or by the
// server (too long, too fast) shows a visible error and keeps the text, so
// that it can be fixed or sent again.
func TestBrowserRefusedPost(t *testing.T) {
	ctx := browserTest(t)
	// One post every 2 s per name, no burst: the second of two quick posts
	// is refused.
	m := runMain(t, func(c *Config) { c.NameRate, c.NameBurst = 0.5, 1 })
	ann := newPage(t, ctx, "Ann's browser")
	ann.open(m.URL())
	ann.join("Ann", byEnter)

	// waitRefused waits for an error that contains want, and checks that
	// the field still holds text and is marked invalid.
	waitRefused := func(what, want, text string) {
		t.Helper()
		ann.waitJS(what+" to show an error", `document.getElementById("send-error").textContent.includes(`+js(want)+`)`)
		if !ann.visible("send-error") {
			t.Errorf("%s: the error is not visible", what)
		}
		if got := ann.fieldValue(); got != text {
			t.Errorf("%s: the field holds %q (%d characters), want the text kept (%d characters)", what, got, len(got), len(text))
		}
		if got := evalJS[string](ann, `document.getElementById("message-input").getAttribute("aria-invalid") ?? ""`); got != "true" {
			t.Errorf("%s: the field's aria-invalid is %q, want true", what, got)
		}
		if got := evalJS[string](ann, `document.activeElement?.id ?? ""`); got != "message-input" {
			t.Errorf("%s: focus is on %q, want the message field", what, got)
		}
	}

	// Blank: refused by the page, nothing reaches the server.
	ann.typeMessage("   ")
	ann.submitMessage(byEnter)
	waitRefused("a blank message sent with Enter", "Type a message first.", "   ")
	ann.typeMessage("x") // typing clears the error
	ann.waitJS("the error to go when typing", `document.getElementById("send-error").textContent === "" &&
		!document.getElementById("message-input").hasAttribute("aria-invalid")`)
	if ann.visible("send-error") {
		t.Error("an empty error still takes up space")
	}
	ann.setMessage(" \n\t ")
	ann.submitMessage(byClick)
	waitRefused("a blank message sent with Send", "Type a message first.", " \n\t ")

	// The field stops typing at 2000 characters.
	ann.setMessage(strings.Repeat("y", 2000))
	ann.typeMessage("z")
	if got := ann.fieldValue(); len(got) != 2000 || strings.Contains(got, "z") {
		t.Errorf("typing into a full field: %d characters, want 2000 (maxlength)", len(got))
	}

	// 2001 characters (pasted by a script, past maxlength): refused by the
	// server with its reason.
	long := strings.Repeat("0123456789", 200) + "!"
	ann.setMessage(long)
	ann.submitMessage(byClick)
	waitRefused("a 2001-character message", "longer than 2000 characters", long)
	if got := serverMessages(t, m, 50); len(got) != 0 {
		t.Fatalf("the server stored refused messages:\n%s", formatMessages(got))
	}
	if n := len(ann.messages()); n != 0 {
		t.Errorf("the page shows %d messages, want none", n)
	}

	// Too fast: the second of two quick posts is refused, and can be sent
	// once the wait is over.
	ann.setMessage("")
	ann.send("Ann", "first", byEnter)
	sent := time.Now()
	ann.setMessage("second")
	ann.submitMessage(byEnter)
	waitRefused("a second quick message", "too fast", "second")
	if got := evalJS[string](ann, `document.getElementById("send-error").textContent`); !strings.Contains(got, "2 s") && !strings.Contains(got, "2s") {
		t.Errorf("the rate limit error %q does not say how long to wait", got)
	}
	if got := len(ann.messages()); got != 1 {
		t.Errorf("the page shows %d messages, want only the first", got)
	}
	time.Sleep(time.Until(sent.Add(2100 * time.Millisecond)))
	ann.submitMessage(byClick)
	ann.waitMessage("Ann", "second")
	ann.waitJS("the field to clear and the error to go", `document.getElementById("message-input").value === "" &&
		document.getElementById("send-error").textContent === ""`)
	checkShows(t, ann, serverMessages(t, m, 50))
}

// TestBrowserReload: the page remembers the name, so a reload goes straight
// back to the chat with the history; older messages load on demand; and
// "Change name" forgets the name.
func TestBrowserReload(t *testing.T) {
	ctx := browserTest(t)
	m := runMain(t, func(c *Config) { c.NameRate, c.ConnRate = 0, 0 })
	for i := range 60 {
		postAs(t, m, []string{"Cy", "Di"}[i%2], fmt.Sprintf("seed %02d", i))
	}
	ann := newPage(t, ctx, "Ann's browser")
	ann.open(m.URL())
	ann.join("Ann", byEnter)
	ann.waitUsers("Ann", "Cy", "Di")

	// The newest 50, then the 10 before them on "Load older messages"
	// (or on scrolling to the top, which does the same).
	ann.waitJS("the first page of history", messagesJS+`.length >= 50`)
	if len(ann.messages()) == 50 {
		checkShows(t, ann, serverMessages(t, m, 50))
		if !ann.visible("load-older") || ann.visible("history-start") {
			t.Error("with older messages on the server, Load older is not shown")
		}
		ann.do("clicking Load older", chromedp.Click(chromedp.ID("load-older")))
	}
	ann.waitJS("all 60 messages", messagesJS+`.length === 60`)
	ann.waitJS("the start of the conversation", `!document.getElementById("history-start").hidden && document.getElementById("load-older").hidden`)
	checkShows(t, ann, serverMessages(t, m, 60))

	ann.send("Ann", "before the reload", byEnter)
	ann.reload()
	if ann.visible("join-view") || !ann.visible("chat-view") {
		t.Fatal("after a reload the page does not go straight to the chat")
	}
	if got := evalJS[string](ann, `document.getElementById("me-name").textContent`); got != "Ann" {
		t.Errorf("after a reload the page is signed in as %q, want Ann", got)
	}
	ann.waitOnline()
	ann.waitMessage("Ann", "before the reload")
	ann.waitJS("the first page of history", messagesJS+`.length === 50`)
	checkShows(t, ann, serverMessages(t, m, 50))
	ann.waitUsers("Ann", "Cy", "Di")
	ann.send("Ann", "after the reload", byClick)

	// Change name: back to the form, with the old name to edit, and
	// forgotten until a new one is chosen.
	ann.do("clicking Change name", chromedp.Click(chromedp.ID("change-name")))
	ann.waitJS("the join form", `!document.getElementById("join-view").hidden && document.getElementById("chat-view").hidden`)
	if got := evalJS[string](ann, `document.getElementById("name-input").value`); got != "Ann" {
		t.Errorf("the name form holds %q, want Ann", got)
	}
	if got := evalJS[string](ann, `localStorage.getItem("gqlchat.name") ?? "<none>"`); got != "<none>" {
		t.Errorf("after Change name the stored name is %q, want none", got)
	}
	ann.do("clearing the name", chromedp.Clear(chromedp.ID("name-input")))
	ann.join("Annie", byClick)
	ann.reload()
	ann.waitOnline()
	if got := evalJS[string](ann, `document.getElementById("me-name").textContent`); got != "Annie" {
		t.Errorf("after a reload the page is signed in as %q, want Annie", got)
	}
	ann.waitUsers("Ann", "Annie", "Cy", "Di")
}

// watchStatus records every change of the page's connection state, with
// whether Send was disabled, and marks the document to tell a reload.
const watchStatus = `(() => {
	const status = document.getElementById("status");
	const send = document.getElementById("send-button");
	window.__sameDocument = true;
	window.__states = [];
	new MutationObserver(() => window.__states.push({state: status.dataset.state, disabled: send.disabled}))
		.observe(status, {attributes: true, attributeFilter: ["data-state"]});
})()`

// TestBrowserRestart: the server stops and starts again on the same address
// and data; the pages notice, reconnect by themselves, fill the gap and
// show every message once.
func TestBrowserRestart(t *testing.T) {
	chromiumPath(t) // skip before starting Redis
	eachStore(t, func(t *testing.T, store func(*Config)) {
		ctx := browserTest(t)
		m := runMain(t, store)
		addr, data := strings.TrimPrefix(m.URL(), "http://"), m.Config.Data
		ann := newPage(t, ctx, "Ann's browser")
		bob := newPage(t, ctx, "Bob's browser")
		pages := []*page{ann, bob}
		ann.open(m.URL())
		bob.open(m.URL())
		ann.join("Ann", byEnter)
		bob.join("Bob", byClick)
		ann.send("Ann", "before the restart", byEnter)
		bob.waitMessage("Ann", "before the restart")
		for _, p := range pages {
			evalJS[chromedp.Void](p, watchStatus)
		}

		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			p.waitJS("the page to leave the online state", `window.__states.some((s) => s.state !== "online")`)
		}

		m = restartMain(t, addr, store, func(c *Config) { c.Data = data })
		// Posted at once, most likely before the pages are back (their first
		// retry comes 250-500 ms after the close): they must fetch it.
		postAs(t, m, "Cy", "posted while the pages reconnect")
		for _, p := range pages {
			t.Logf("%s was %s when the message was posted", p.label, evalJS[string](p, `document.getElementById("status").dataset.state`))
		}

		want := serverMessages(t, m, 50)
		for _, p := range pages {
			p.waitOnline()
			p.waitMessage("Cy", "posted while the pages reconnect")
			checkShows(t, p, want)
			if !evalJS[bool](p, `window.__sameDocument === true`) {
				t.Errorf("%s reloaded", p.label)
			}
			type change struct {
				State    string `json:"state"`
				Disabled bool   `json:"disabled"`
			}
			states := evalJS[[]change](p, `window.__states`)
			t.Logf("%s went through %v", p.label, states)
			for _, s := range states {
				if s.State != "online" && !s.Disabled {
					t.Errorf("%s: Send was enabled while %s", p.label, s.State)
				}
			}
		}

		// Live again: a post over HTTP and posts from the pages reach everyone.
		postAs(t, m, "Cy", "posted after the reconnect")
		ann.waitMessage("Cy", "posted after the reconnect")
		bob.waitMessage("Cy", "posted after the reconnect")
		bob.send("Bob", "back online", byClick)
		ann.waitMessage("Bob", "back online")
		ann.send("Ann", "welcome back", byEnter)
		bob.waitMessage("Ann", "welcome back")
		want = serverMessages(t, m, 50)
		if len(want) != 5 {
			t.Errorf("the server has %d messages, want 5:\n%s", len(want), formatMessages(want))
		}
		for _, p := range pages {
			checkShows(t, p, want)
		}
	})
}

// contrastJS returns, for the visible elements matching a selector, those
// whose text contrasts with its background less than WCAG AA asks (4.5:1).
// The background is found by walking up to the first element that paints
// one; translucent ones are composited on what lies below.
const contrastJS = `((selector) => {
	const parse = (c) => {
		const m = c.match(/rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:,? \/? ?([\d.]+))?\)/);
		return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : [0, 0, 0, 0];
	};
	const over = (top, bottom) => {
		const a = top[3];
		return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
	};
	const background = (el) => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c[3] > 0) layers.push(c);
			if (c[3] >= 1) break;
		}
		let bg = [255, 255, 255, 1];
		for (const c of layers.reverse()) bg = over(c, bg);
		return bg;
	};
	const lum = (c) => {
		const [r, g, b] = c.slice(0, 3).map((v) => {
			v /= 255;
			return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const bad = [];
	for (const el of document.querySelectorAll(selector)) {
		if (!el.getClientRects().length || el.closest("[hidden]") || el.disabled) continue;
		const style = getComputedStyle(el);
		const bg = background(el);
		const fg = over(parse(style.color), bg);
		const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
		const ratio = (hi + 0.05) / (lo + 0.05);
		if (ratio < 4.5) bad.push(selector + " " + JSON.stringify(el.textContent.slice(0, 30)) + ": " + ratio.toFixed(2) + " (" + style.color + " on rgb(" + bg.slice(0, 3).map(Math.round) + "))");
	}
	return bad;
})`

// checkLayout checks what a screenshot should show without looking: no
// sideways scrolling, messages inside the log, readable text, and a
// visible keyboard focus.
func checkLayout(t *testing.T, p *page, what string) {
	t.Helper()
	overflow := evalJS[[]string](p, `(() => {
		const out = [];
		const root = document.documentElement;
		if (root.scrollWidth > root.clientWidth) out.push("the page scrolls sideways: " + root.scrollWidth + " > " + root.clientWidth);
		for (const sel of [".topbar", ".composer", ".composer-row", "#messages", ".scroller"]) {
			const e = document.querySelector(sel);
			if (e && e.scrollWidth > e.clientWidth + 1) out.push(sel + " overflows: " + e.scrollWidth + " > " + e.clientWidth);
		}
		const log = document.getElementById("messages").getBoundingClientRect();
		for (const m of document.querySelectorAll("#messages .msg, #messages .msg-text, #messages .msg-author")) {
			const r = m.getBoundingClientRect();
			if (r.left < log.left - 1 || r.right > log.right + 1) out.push("a message sticks out of the log: " + JSON.stringify(m.textContent.slice(0, 30)));
		}
		for (const sel of ["#me-name", "#change-name", "#status", "#send-button"]) {
			const r = document.querySelector(sel).getBoundingClientRect();
			if (r.width === 0 || r.right > window.innerWidth + 1 || r.left < -1) out.push(sel + " is not fully on screen");
		}
		const status = document.getElementById("status-text");
		if (status.scrollWidth > status.clientWidth + 1) out.push("the status is cut short: " + JSON.stringify(status.textContent));
		return out;
	})()`)
	for _, o := range overflow {
		t.Errorf("%s: %s", what, o)
	}
	lowContrast := func(state string, selectors ...string) {
		t.Helper()
		for _, sel := range selectors {
			for _, bad := range evalJS[[]string](p, contrastJS+`(`+js(sel)+`)`) {
				t.Errorf("%s: low contrast%s: %s", what, state, bad)
			}
		}
	}
	p.do("moving the mouse away", chromedp.MouseEvent(chromedp.MouseMoved, 0, 0))
	lowContrast("", ".msg-author", ".msg-time", ".msg-text", ".status-text", ".me-name", ".me-label",
		".people-heading", ".count", ".user-name", ".history-start", ".hint", "#change-name", "#send-button", "#load-older")
	center := evalJS[[]float64](p, `(() => {
		const r = document.getElementById("send-button").getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`)
	p.do("hovering over Send", chromedp.MouseEvent(chromedp.MouseMoved, center[0], center[1]))
	lowContrast(" under the mouse", "#send-button")
	p.do("moving the mouse away", chromedp.MouseEvent(chromedp.MouseMoved, 0, 0))
	// Keyboard focus shows: Tab from the message field to Send.
	p.do("focusing the message field", chromedp.Focus(chromedp.ID("message-input")))
	p.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
	focus := evalJS[string](p, `(() => {
		const e = document.activeElement, s = getComputedStyle(e);
		return e.id + " " + s.outlineStyle + " " + s.outlineWidth;
	})()`)
	if f := strings.Fields(focus); len(f) != 3 || f[0] != "send-button" || f[1] == "none" || f[2] == "0px" {
		t.Errorf("%s: after Tab from the message field, focus is %q, want a visible outline on send-button", what, focus)
	}
	p.do("focusing the message field", chromedp.Focus(chromedp.ID("message-input")))
}

// TestBrowserScreenshots saves the page with a conversation in it on a
// desktop (1280×800) and a phone (375×740), light and dark, and offline,
// and checks what can be checked without looking. Set GQLCHAT_SCREENSHOTS
// to a directory to keep the files.
func TestBrowserScreenshots(t *testing.T) {
	ctx := browserTest(t)
	m := runMain(t)
	dir := screenshotDir(t)
	const bobName = "Bartholomew Fitzgerald-Smythe"

	bob := newPage(t, ctx, "Bob's browser")
	bob.setViewport(375, 740, true)
	bob.open(m.URL())
	bob.screenshot(dir, "phone-join")
	ann := newPage(t, ctx, "Ann's browser")
	ann.open(m.URL())
	ann.screenshot(dir, "desktop-join")
	ann.join("Ann", byEnter)
	bob.join(bobName, byClick)

	postAs(t, m, "Cy", "Morning all! Did the deploy go out? The release notes say it should have, but I see no tag yet.")
	ann.send("Ann", "It did, at 14:02. No errors so far.\nThe dashboards look calm.", byEnter)
	postAs(t, m, "Dimitra Papadopoulou", "Link for the record: https://example.com/releases/"+strings.Repeat("a1b2c3", 15)+"/notes")
	bob.setMessage("Great work 🎉 — merci, Grüße und 谢谢!")
	bob.submitMessage(byEnter)
	bob.waitMessage(bobName, "Great work 🎉 — merci, Grüße und 谢谢!")
	ann.send("Ann", "Thanks!", byClick)
	want := serverMessages(t, m, 50)
	for _, p := range []*page{ann, bob} {
		p.waitJS("every message", messagesJS+`.length === `+js(len(want)))
		p.waitUsers("Ann", bobName, "Cy", "Dimitra Papadopoulou")
		checkShows(t, p, want)
	}

	for _, scheme := range []string{"light", "dark"} {
		ann.setColorScheme(scheme)
		ann.setViewport(1280, 800, false)
		checkLayout(t, ann, "desktop, "+scheme)
		ann.screenshot(dir, "desktop-"+scheme)
		ann.setViewport(375, 740, true)
		checkLayout(t, ann, "phone, "+scheme)
		ann.screenshot(dir, "phone-"+scheme)
	}
	bob.waitMessage("Ann", "Thanks!")
	checkLayout(t, bob, "phone, long name")
	bob.screenshot(dir, "phone-long-name")
	bob.setViewport(320, 640, true)
	checkLayout(t, bob, "small phone, long name")
	bob.screenshot(dir, "phone-320-long-name")
	bob.setViewport(375, 740, true)

	// Offline: the status says so and offers to retry, on both widths.
	ann.setColorScheme("light")
	m.Close()
	for _, p := range []*page{ann, bob} {
		p.waitJS("the offline state", `document.getElementById("status").dataset.state === "offline" &&
			!document.getElementById("retry-button").hidden`)
	}
	bob.screenshot(dir, "phone-offline")
	ann.setViewport(1280, 800, false)
	ann.waitJS("the offline state", `document.getElementById("status").dataset.state === "offline"`)
	ann.screenshot(dir, "desktop-offline")
}
