// The chat page: picking a name, the message log, the user list, posting,
// scrolling back, and staying in sync across dropped connections.
//
// Modules are always strict mode. Every piece of text that comes from the
// server or the user is put into the page with textContent or text nodes,
// never parsed as HTML.

import { GraphQLWebSocketClient, backoffDelay, webSocketURL } from "./gqlws.js";
import {
  MAX_TEXT_CHARS,
  checkName,
  compareMessages,
  describePostError,
  formatMessageTime,
  graphqlRequest,
  initials,
  insertionIndex,
  nameHue,
  normalizeMessage,
  sortedNames,
} from "./util.js";

const NAME_KEY = "gqlchat.name";
const PAGE_SIZE = 50; // messages per initial load and per "Load older"
const CATCH_UP_PAGE_SIZE = 100; // messages per page when filling a gap
const CATCH_UP_MAX_PAGES = 10; // beyond this, start over from the newest
const NEAR_BOTTOM_PX = 80; // "at the bottom" tolerance for auto-scroll
const NEAR_TOP_PX = 48; // scrolling this close to the top loads older ones
const SETTLE_MS = 1500; // catch up again this long after (re)subscribing
const SPREAD_MS = 1000; // the most a catch-up set off by a live event waits

const HTTP_URL = new URL("graphql", location.href).href;
const WS_URL = webSocketURL("graphql", location.href);

const MESSAGE_FIELDS = "id user createdAt text";
const Q = {
  sync: `query Sync($limit: Int) { messages(limit: $limit) { ${MESSAGE_FIELDS} } users }`,
  messages: `query Messages($limit: Int, $before: String) { messages(limit: $limit, before: $before) { ${MESSAGE_FIELDS} } }`,
  post: `mutation Post($user: String!, $text: String!) { postMessage(user: $user, text: $text) { ${MESSAGE_FIELDS} } }`,
  messagePosted: `subscription MessagePosted($user: String!) { messagePosted(user: $user) { ${MESSAGE_FIELDS} } }`,
  userJoined: `subscription UserJoined($user: String!) { userJoined(user: $user) }`,
};

const $ = (id) => document.getElementById(id);
const ui = {
  joinView: $("join-view"),
  joinForm: $("join-form"),
  nameInput: $("name-input"),
  joinError: $("join-error"),
  chatView: $("chat-view"),
  status: $("status"),
  statusText: $("status-text"),
  retryButton: $("retry-button"),
  meName: $("me-name"),
  changeName: $("change-name"),
  scroller: $("scroller"),
  loadOlder: $("load-older"),
  historyNote: $("history-note"),
  historyStart: $("history-start"),
  messages: $("messages"),
  emptyNote: $("empty-note"),
  jumpLatest: $("jump-latest"),
  composer: $("composer"),
  messageInput: $("message-input"),
  sendButton: $("send-button"),
  sendError: $("send-error"),
  users: $("users"),
  usersCount: $("users-count"),
};

function graphql(query, variables) {
  return graphqlRequest(HTTP_URL, query, variables);
}

// ---- small DOM helpers ---------------------------------------------------

/** Creates an element with a class and, optionally, plain text content. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A coloured avatar; the initials are drawn by CSS from data-initials so
 * that they do not end up in the text of the message or user entry. */
function avatar(name) {
  const node = el("span", "avatar");
  node.setAttribute("aria-hidden", "true");
  node.dataset.initials = initials(name);
  node.style.setProperty("--hue", String(nameHue(name)));
  return node;
}

function setError(node, input, text) {
  node.textContent = text || "";
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// localStorage can throw (disabled storage, private mode quotas): the chat
// then works without remembering the name.
const storage = {
  get() {
    try {
      return localStorage.getItem(NAME_KEY);
    } catch {
      return null;
    }
  },
  set(v) {
    try {
      localStorage.setItem(NAME_KEY, v);
    } catch {
      /* not remembered, that is all */
    }
  },
  remove() {
    try {
      localStorage.removeItem(NAME_KEY);
    } catch {
      /* nothing to forget */
    }
  },
};

// ---- the message log -----------------------------------------------------

/** The messages on screen, kept in chronological order and unique by id. */
class MessageLog {
  constructor(container, me) {
    this.container = container;
    this.me = me;
    this.order = []; // entries {msg, node}, oldest first
    this.byId = new Map();
  }

  get size() {
    return this.order.length;
  }

  has(id) {
    return this.byId.has(id);
  }

  oldest() {
    return this.order.length ? this.order[0].msg : null;
  }

  newest() {
    return this.order.length ? this.order[this.order.length - 1].msg : null;
  }

  /**
   * Adds a message unless already there; returns "end", "middle" or null.
   * A message of the same millisecond as others goes after them, or before
   * them when `older` (it comes from a page of older history).
   */
  add(msg, older = false) {
    if (this.byId.has(msg.id)) return null;
    const entry = { msg, node: this.render(msg) };
    const i = insertionIndex(this.order, entry, (a, b) => compareMessages(a.msg, b.msg), older);
    const next = this.order[i];
    this.container.insertBefore(entry.node, next ? next.node : null);
    this.order.splice(i, 0, entry);
    this.byId.set(msg.id, entry);
    return next ? "middle" : "end";
  }

  clear() {
    this.order = [];
    this.byId.clear();
    this.container.replaceChildren();
  }

  render(msg) {
    const node = el("article", "msg");
    node.dataset.id = msg.id;
    if (msg.user === this.me) node.classList.add("msg-own");

    const meta = el("div", "msg-meta");
    const when = formatMessageTime(new Date(msg.time));
    const time = el("time", "msg-time", when.short);
    time.dateTime = msg.createdAt;
    time.title = when.title;
    meta.append(el("span", "msg-author", msg.user), " ", time);

    const body = el("div", "msg-body");
    body.append(meta, el("p", "msg-text", msg.text));
    node.append(avatar(msg.user), body);
    return node;
  }

  /** The first message at least partly visible in `viewport`, if any. */
  firstVisible(viewport) {
    const top = viewport.getBoundingClientRect().top;
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid].node.getBoundingClientRect().bottom <= top) lo = mid + 1;
      else hi = mid;
    }
    return this.order[lo] ? this.order[lo].node : null;
  }
}

// ---- scrolling -------------------------------------------------------------

function isNearBottom() {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight <= NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
  ui.jumpLatest.hidden = true;
}

/**
 * Runs mutate() (which adds messages) without moving what the reader looks
 * at: if they were at the bottom they stay at the bottom (new messages come
 * into view), otherwise the first visible message stays where it was, even
 * when messages were added above it. `keepBottom: false` always anchors,
 * which is what loading older messages wants.
 */
function withStableScroll(log, mutate, { keepBottom = true } = {}) {
  const stick = keepBottom && isNearBottom();
  const anchor = stick ? null : log.firstVisible(ui.scroller);
  const before = anchor ? anchor.getBoundingClientRect().top : 0;
  const result = mutate();
  if (stick) scrollToBottom();
  else if (anchor) ui.scroller.scrollTop += anchor.getBoundingClientRect().top - before;
  return { result, stuck: stick };
}

// ---- one chat session: a name, a connection, and what it shows -------------

class ChatSession {
  constructor(name) {
    this.name = name;
    this.ended = false;
    this.log = new MessageLog(ui.messages, name);
    this.users = new Set([name]);
    this.online = false;
    this.everOnline = false;
    this.sending = false;
    this.historyLoaded = false;
    this.hasOlder = false;
    this.loadingOlder = false;
    this.syncing = false;
    this.syncAgain = false;
    this.syncRetry = null;
    this.settleTimer = null;
    this.soonTimer = null;
    this.freshMessages = false; // no live message yet on this subscription
    this.freshUsers = false;
    this.countdown = null;
    this.resubscribeTimers = new Set();
    this.subscriptionFailures = 0; // in a row, for the retry backoff
    this.client = new GraphQLWebSocketClient(WS_URL, {
      onStatus: (s) => this.onConnectionStatus(s),
    });
  }

  start() {
    this.renderUsers();
    this.subscribeMessages();
    this.subscribeUsers();
    this.client.start();
  }

  end() {
    this.ended = true;
    this.client.stop();
    clearTimeout(this.syncRetry);
    clearTimeout(this.settleTimer);
    clearTimeout(this.soonTimer);
    clearInterval(this.countdown);
    for (const t of this.resubscribeTimers) clearTimeout(t);
    this.log.clear();
  }

  // -- subscriptions --

  subscribeMessages() {
    this.client.subscribe(
      { query: Q.messagePosted, variables: { user: this.name } },
      {
        next: (payload) => {
          this.subscriptionFailures = 0;
          const msg = normalizeMessage(payload && payload.data && payload.data.messagePosted);
          if (msg) this.addMessages([msg]);
          if (this.freshMessages) {
            this.freshMessages = false;
            this.syncSoon(); // see settle()
          }
        },
        error: (errors) =>
          this.onSubscriptionEnded(errors, () => {
            this.freshMessages = true;
            this.subscribeMessages();
          }),
        complete: () =>
          this.onSubscriptionEnded(null, () => {
            this.freshMessages = true;
            this.subscribeMessages();
          }),
      },
    );
  }

  subscribeUsers() {
    this.client.subscribe(
      { query: Q.userJoined, variables: { user: this.name } },
      {
        next: (payload) => {
          this.subscriptionFailures = 0;
          const name = payload && payload.data && payload.data.userJoined;
          if (typeof name === "string") this.addUsers([name]);
          if (this.freshUsers) {
            this.freshUsers = false;
            this.syncSoon(); // see settle()
          }
        },
        error: (errors) =>
          this.onSubscriptionEnded(errors, () => {
            this.freshUsers = true;
            this.subscribeUsers();
          }),
        complete: () =>
          this.onSubscriptionEnded(null, () => {
            this.freshUsers = true;
            this.subscribeUsers();
          }),
      },
    );
  }

  /**
   * The server ended one of our subscriptions. A refused name sends the
   * person back to the name form with the server's reason; anything else
   * (server busy, shutting down) is retried, then the gap is filled.
   */
  onSubscriptionEnded(errors, resubscribe) {
    if (this.ended) return;
    const first = errors && errors[0];
    const code = first && first.extensions && first.extensions.code;
    if (code === "BAD_USER_INPUT") {
      leaveChat(typeof first.message === "string" ? first.message : "This name cannot be used.");
      return;
    }
    if (first && typeof first.message === "string") {
      setNote(`Live updates interrupted: ${first.message} Retrying…`);
    }
    // Back off when the server keeps refusing, and honour its retryAfter.
    const retryAfter = Number(first && first.extensions && first.extensions.retryAfter) || 0;
    const delay = Math.max(backoffDelay(this.subscriptionFailures++, 1000, 30000), retryAfter * 1000);
    const timer = setTimeout(() => {
      this.resubscribeTimers.delete(timer);
      if (this.ended) return;
      resubscribe();
      this.sync();
      this.settle();
    }, delay);
    this.resubscribeTimers.add(timer);
  }

  // -- connection status --

  onConnectionStatus(s) {
    if (this.ended) return;
    clearInterval(this.countdown);
    this.countdown = null;
    ui.retryButton.hidden = s.state !== "waiting";
    switch (s.state) {
      case "connecting":
        this.setOnline(false);
        showStatus("connecting", this.everOnline ? "Reconnecting…" : "Connecting…");
        break;
      case "open":
        this.everOnline = true;
        this.setOnline(true);
        showStatus("online", "Online");
        // Each new connection may have missed messages: catch up once the
        // server has read our subscriptions.
        this.freshMessages = this.freshUsers = true;
        this.sync();
        this.settle();
        break;
      case "waiting": {
        this.setOnline(false);
        let shown = -1;
        const tick = () => {
          const secs = Math.max(1, Math.ceil((s.retryAt - Date.now()) / 1000));
          if (secs !== shown) {
            shown = secs;
            showStatus("offline", `Offline — reconnecting in ${secs}s`);
          }
        };
        tick();
        this.countdown = setInterval(tick, 250);
        break;
      }
      default:
        break;
    }
  }

  setOnline(online) {
    this.online = online;
    this.updateSendButton();
  }

  updateSendButton() {
    ui.sendButton.disabled = !this.online || this.sending;
  }

  retryNow() {
    this.client.retryNow();
  }

  // -- catching up --

  /**
   * The barrier in sync() tells that the server has read our subscribe
   * frames, not that the subscriptions are live: the server starts them
   * concurrently (each first joins the name in the store), so one can go
   * live only after the catch-up query has run, and a message or a name
   * that came in between would be missing until the next reload. Hence two
   * more catch-ups per (re)subscription: at its first live event (anything
   * before that event is then in the answer; see the sinks above), and a
   * moment after subscribing, for a room where nothing happens.
   */
  settle() {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      if (this.online && !this.ended) this.sync();
    }, SETTLE_MS);
  }

  /**
   * sync() after a random delay: every page hears a live event at the same
   * moment (the first message after a server restart, say), and they should
   * not all query the server at once.
   */
  syncSoon() {
    if (this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      if (this.online && !this.ended) this.sync();
    }, Math.random() * SPREAD_MS);
  }

  /**
   * Brings the log up to date after (re)connecting. Runs one at a time; a
   * request made while running runs once more afterwards.
   */
  async sync() {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    clearTimeout(this.syncRetry);
    try {
      do {
        this.syncAgain = false;
        // Wait until the server has read our subscribe frames: messages
        // posted after that reach us live, the ones before come from the
        // query below, and the overlap is removed by id.
        await this.client.barrier();
        if (this.ended) return;
        if (this.historyLoaded) await this.catchUp();
        else await this.loadInitial();
      } while (this.syncAgain && !this.ended);
      setNote("");
    } catch (err) {
      if (this.ended) return;
      setNote(`Could not load messages: ${err.message}`);
      // Try again while connected; a reconnect syncs anyway.
      this.syncRetry = setTimeout(() => {
        if (this.online) this.sync();
      }, 3000);
    } finally {
      this.syncing = false;
    }
  }

  async loadInitial() {
    const data = await graphql(Q.sync, { limit: PAGE_SIZE });
    if (this.ended) return;
    const page = messagesOf(data.messages);
    this.addUsers(data.users);
    this.addMessages(oldestFirst(page));
    this.historyLoaded = true;
    this.setHasOlder(page.length >= PAGE_SIZE);
    scrollToBottom();
  }

  /**
   * Fetches pages from the newest backwards until they reach a message we
   * already have, so nothing posted while we were away is missing. If far
   * too much was missed, starts over from the newest messages instead.
   */
  async catchUp() {
    const newest = this.log.newest();
    const collected = [];
    let before = null;
    for (let i = 0; i < CATCH_UP_MAX_PAGES; i++) {
      let page;
      if (i === 0) {
        const data = await graphql(Q.sync, { limit: CATCH_UP_PAGE_SIZE });
        if (this.ended) return;
        this.addUsers(data.users);
        page = messagesOf(data.messages);
      } else {
        const data = await graphql(Q.messages, { limit: CATCH_UP_PAGE_SIZE, before });
        if (this.ended) return;
        page = messagesOf(data.messages);
      }
      collected.push(...page);
      const reachedKnown = newest && page.some((m) => this.log.has(m.id) || m.time < newest.time);
      if (!newest || reachedKnown || page.length < CATCH_UP_PAGE_SIZE) {
        this.addMessages(oldestFirst(collected));
        // With nothing known before, "older" exists if the page was full.
        if (!newest) this.setHasOlder(this.hasOlder || page.length >= CATCH_UP_PAGE_SIZE);
        return;
      }
      before = page[page.length - 1].id;
    }
    // More than CATCH_UP_MAX_PAGES pages missed: the old log would have a
    // hole, so show the newest messages; the rest is one "Load older" away.
    this.log.clear();
    this.addMessages(oldestFirst(collected));
    this.setHasOlder(true);
    scrollToBottom();
  }

  // -- history --

  setHasOlder(hasOlder) {
    this.hasOlder = hasOlder;
    const hadFocus = document.activeElement === ui.loadOlder;
    // The button sits above the messages: showing or hiding it must not
    // shift what the reader is looking at.
    withStableScroll(this.log, () => {
      ui.loadOlder.hidden = !hasOlder;
      this.updateEdges();
    });
    // Do not drop keyboard focus onto <body> when the button disappears.
    if (hadFocus && !hasOlder) ui.scroller.focus({ preventScroll: true });
  }

  /** The "no messages yet" and "start of the conversation" notes. */
  updateEdges() {
    const size = this.log.size;
    ui.emptyNote.hidden = !(this.historyLoaded && size === 0);
    ui.historyStart.hidden = !(this.historyLoaded && !this.hasOlder && size > 0);
  }

  async loadOlder() {
    if (this.loadingOlder || !this.hasOlder || !this.historyLoaded) return;
    const oldest = this.log.oldest();
    if (!oldest) {
      this.setHasOlder(false);
      return;
    }
    this.loadingOlder = true;
    ui.loadOlder.setAttribute("aria-busy", "true");
    ui.loadOlder.classList.add("is-loading");
    try {
      const data = await graphql(Q.messages, { limit: PAGE_SIZE, before: oldest.id });
      if (this.ended) return;
      const page = messagesOf(data.messages);
      // Newest first, each before any of the same millisecond: the page
      // lies before everything shown.
      this.addMessages(page, { keepBottom: false, older: true });
      this.setHasOlder(page.length >= PAGE_SIZE);
      setNote("");
    } catch (err) {
      if (!this.ended) setNote(`Could not load older messages: ${err.message}`);
    } finally {
      this.loadingOlder = false;
      ui.loadOlder.removeAttribute("aria-busy");
      ui.loadOlder.classList.remove("is-loading");
    }
  }

  // -- adding things --

  /**
   * Adds messages in the order given: ties of the same millisecond are
   * placed after those shown (before them with `older`), so give newer
   * messages oldest first and older history newest first.
   */
  addMessages(messages, { keepBottom = true, forceBottom = false, older = false } = {}) {
    if (messages.length === 0) return;
    const { result: addedAtEnd, stuck } = withStableScroll(
      this.log,
      () => {
        let atEnd = false;
        for (const msg of messages) {
          if (this.log.add(msg, older) === "end") atEnd = true;
        }
        this.updateEdges();
        return atEnd;
      },
      { keepBottom },
    );
    if (forceBottom) scrollToBottom();
    else if (addedAtEnd && !stuck && keepBottom) ui.jumpLatest.hidden = false;
  }

  addUsers(names) {
    if (!Array.isArray(names)) return;
    const before = this.users.size;
    for (const n of names) {
      if (typeof n === "string" && n !== "") this.users.add(n);
    }
    if (this.users.size !== before) this.renderUsers();
  }

  renderUsers() {
    const items = sortedNames(this.users).map((name) => {
      const li = el("li", "user");
      if (name === this.name) li.classList.add("is-me");
      const label = el("span", "user-name", name);
      label.title = name; // in full, where the list cuts it short
      li.append(avatar(name), label);
      return li;
    });
    ui.users.replaceChildren(...items);
    ui.usersCount.textContent = String(items.length);
  }

  // -- posting --

  /** Posts text; resolves to null on success or to the error text to show. */
  async post(text) {
    this.sending = true;
    this.updateSendButton();
    try {
      const data = await graphql(Q.post, { user: this.name, text });
      if (this.ended) return null;
      // Show our own message at once; the subscription's copy is ignored by id.
      const msg = normalizeMessage(data.postMessage);
      if (msg) this.addMessages([msg], { forceBottom: true });
      return null;
    } catch (err) {
      return describePostError(err);
    } finally {
      this.sending = false;
      this.updateSendButton();
    }
  }
}

/** The valid messages of a server answer, which is newest first. */
function messagesOf(list) {
  return Array.isArray(list) ? list.map(normalizeMessage).filter(Boolean) : [];
}

/** A newest-first list of messages, oldest first. */
function oldestFirst(list) {
  return list.slice().reverse();
}

function showStatus(state, text) {
  ui.status.dataset.state = state;
  ui.statusText.textContent = text;
}

/** Shows or clears the note above the messages (e.g. a failed load). */
function setNote(text) {
  if (ui.historyNote.textContent === text) return;
  const change = () => {
    ui.historyNote.textContent = text;
    ui.historyNote.hidden = !text;
  };
  if (session) withStableScroll(session.log, change);
  else change();
}

// ---- views -------------------------------------------------------------------

let session = null;

function showJoin(prefill, error) {
  ui.chatView.hidden = true;
  ui.joinView.hidden = false;
  ui.nameInput.value = prefill || "";
  setError(ui.joinError, ui.nameInput, error);
  document.title = "gqlchat";
  ui.nameInput.focus();
  ui.nameInput.select();
}

function enterChat(name) {
  if (session) session.end();
  storage.set(name);
  ui.joinView.hidden = true;
  ui.chatView.hidden = false;
  ui.meName.textContent = name;
  ui.meName.title = name;
  document.title = `gqlchat — ${name}`;
  setError(ui.sendError, ui.messageInput, "");
  setNote("");
  ui.loadOlder.hidden = true;
  ui.emptyNote.hidden = true;
  ui.historyStart.hidden = true;
  ui.jumpLatest.hidden = true;
  showStatus("connecting", "Connecting…");
  session = new ChatSession(name);
  session.start();
  ui.messageInput.focus();
}

/** Back to the name form, e.g. to change name or when the server refused it. */
function leaveChat(error) {
  const name = session ? session.name : storage.get();
  if (session) session.end();
  session = null;
  ui.users.replaceChildren();
  ui.usersCount.textContent = "";
  storage.remove();
  showJoin(name, error);
}

// ---- event wiring --------------------------------------------------------------

ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const { name, error } = checkName(ui.nameInput.value);
  if (error) {
    setError(ui.joinError, ui.nameInput, error);
    ui.nameInput.focus();
    return;
  }
  setError(ui.joinError, ui.nameInput, "");
  enterChat(name);
});

ui.nameInput.addEventListener("input", () => setError(ui.joinError, ui.nameInput, ""));

ui.changeName.addEventListener("click", () => leaveChat(""));

ui.composer.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!session || session.sending) return;
  // Sent as typed (indentation and all): the server stores text byte for
  // byte, and refuses only text that is blank.
  const text = ui.messageInput.value;
  if (text.trim() === "") {
    // Refused here: the server would only say the same after a round trip.
    setError(ui.sendError, ui.messageInput, "Type a message first.");
    ui.messageInput.focus();
    return;
  }
  if (!session.online) {
    setError(ui.sendError, ui.messageInput, "You are offline. The message will be ready to send when you are back.");
    return;
  }
  const current = session;
  setError(ui.sendError, ui.messageInput, "");
  // Read-only (not disabled) while sending: the text cannot change under
  // us and the field keeps keyboard focus.
  ui.messageInput.readOnly = true;
  const error = await current.post(text);
  ui.messageInput.readOnly = false;
  if (current !== session) return;
  if (error) {
    // Keep the text so it can be fixed and sent again.
    setError(ui.sendError, ui.messageInput, error);
  } else {
    ui.messageInput.value = "";
    fitComposer();
  }
  ui.messageInput.focus();
});

// Enter sends; Shift+Enter starts a new line. Not while an IME is composing
// (Enter then confirms the composition).
ui.messageInput.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  ui.composer.requestSubmit();
});

ui.messageInput.addEventListener("input", () => {
  if (ui.sendError.textContent) setError(ui.sendError, ui.messageInput, "");
  fitComposer();
});

/** Grows the message field with its content, up to the CSS max-height. */
function fitComposer() {
  const field = ui.messageInput;
  field.style.height = "auto";
  field.style.height = `${field.scrollHeight + (field.offsetHeight - field.clientHeight)}px`;
}

ui.loadOlder.addEventListener("click", () => session && session.loadOlder());

ui.retryButton.addEventListener("click", () => session && session.retryNow());

ui.jumpLatest.addEventListener("click", () => {
  scrollToBottom();
  ui.messageInput.focus({ preventScroll: true });
});

ui.scroller.addEventListener(
  "scroll",
  () => {
    if (isNearBottom()) ui.jumpLatest.hidden = true;
    // Reaching the top loads the next page, like the button does.
    if (ui.scroller.scrollTop <= NEAR_TOP_PX && session && session.hasOlder) session.loadOlder();
  },
  { passive: true },
);

// Keep the newest message in view when the viewport shrinks (e.g. a phone's
// on-screen keyboard opens) while the reader is at the bottom.
let wasNearBottom = true;
ui.scroller.addEventListener("scroll", () => (wasNearBottom = isNearBottom()), { passive: true });
if (typeof ResizeObserver === "function") {
  new ResizeObserver(() => {
    if (wasNearBottom) scrollToBottom();
  }).observe(ui.scroller);
}

// Coming back online or to the tab: no need to wait for the backoff.
window.addEventListener("online", () => session && session.retryNow());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && session) session.retryNow();
});

// ---- start -----------------------------------------------------------------------

ui.messageInput.maxLength = MAX_TEXT_CHARS;
{
  const saved = checkName(storage.get());
  if (saved.name) enterChat(saved.name);
  else showJoin("", "");
}
