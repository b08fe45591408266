// A small client for the graphql-transport-ws protocol (the protocol of the
// graphql-ws npm package) that keeps its subscriptions alive across dropped
// connections.
//
// What it does:
//   - connects, sends connection_init and waits for connection_ack;
//   - (re)sends every active subscription after each ack;
//   - answers the server's ping with pong, and pings the server itself so
//     that a dead connection (laptop asleep, proxy gone) is noticed;
//   - on any close, reconnects with exponential backoff and random jitter.
//
// What it leaves to the caller: filling the gap of events missed while the
// connection was down. The caller learns about each new connection through
// onStatus({state: "open"}) and can use barrier() to know that the server has
// read the subscriptions sent before it.

const PROTOCOL = "graphql-transport-ws";

// Close codes this client uses itself (the browser allows 1000 and 3000-4999).
const CLOSE_NORMAL = 1000;
const CLOSE_INIT_TIMEOUT = 4408;
const CLOSE_BAD_FRAME = 4400;
const CLOSE_DEAD = 4499;

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry):
 * doubling from minMs up to maxMs, with random jitter so that many pages
 * dropped by the same server restart do not all come back at once.
 * The result lies in [base/2, base].
 */
export function backoffDelay(attempt, minMs, maxMs, random = Math.random) {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + random() * (base / 2));
}

/** Turns an http(s) page URL and a path into the matching ws(s) URL. */
export function webSocketURL(path, pageURL) {
  const url = new URL(path, pageURL);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  return url.href;
}

export class GraphQLWebSocketClient {
  /**
   * @param {string} url ws:// or wss:// URL of the GraphQL endpoint.
   * @param {object} [options]
   * @param {(status: object) => void} [options.onStatus] called on every
   *   state change with {state, attempt, retryAt, code, reason}; state is
   *   "connecting", "open", "waiting" (for the next retry) or "stopped".
   * @param {object} [options.connectionParams] payload of connection_init.
   * @param {number} [options.minDelayMs] first reconnect delay (0.5 s).
   * @param {number} [options.maxDelayMs] longest reconnect delay (10 s).
   * @param {number} [options.ackTimeoutMs] how long to wait for connection_ack.
   * @param {number} [options.keepAliveMs] how often to ping an idle server.
   * @param {number} [options.stableMs] how long a connection must have been
   *   up for the backoff to start again from the shortest delay.
   * @param {typeof WebSocket} [options.WebSocket] for tests.
   */
  constructor(url, options = {}) {
    this.url = url;
    this.onStatus = options.onStatus || (() => {});
    this.connectionParams = options.connectionParams || {};
    this.minDelayMs = options.minDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 10000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10000;
    this.keepAliveMs = options.keepAliveMs ?? 20000;
    this.stableMs = options.stableMs ?? 10000;
    this.WebSocket = options.WebSocket || globalThis.WebSocket;

    this.ws = null; // the current socket, if any
    this.acked = false; // connection_ack received on this.ws
    this.ackedAt = 0;
    this.attempt = 0; // failed attempts since the last stable connection
    this.retryTimer = null;
    this.ackTimer = null;
    this.keepAliveTimer = null;
    this.lastSeen = 0; // when the server last sent us anything
    this.keepAlivePingAt = 0; // when the unanswered keep-alive ping went out
    this.stopped = true;
    this.nextId = 1;
    this.subs = new Set(); // active subscriptions, see subscribe()
    this.byId = new Map(); // operation id on this.ws -> subscription
    this.pingsSent = 0;
    this.pongsSeen = 0;
    this.barriers = []; // {target, resolve} waiting for pongs
    this.status = { state: "stopped" };
  }

  /** Starts connecting; does nothing if already started. */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  /** Closes the connection for good and forgets every subscription. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.subs.clear();
    this.byId.clear();
    if (this.ws) this.abandon(CLOSE_NORMAL, "Client stopped");
    this.setStatus({ state: "stopped" });
  }

  /** Skips the wait before the next reconnect attempt (e.g. back online). */
  retryNow() {
    if (this.stopped || !this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  /** True when the connection is acknowledged and operations flow. */
  get isOpen() {
    return this.acked && this.ws !== null;
  }

  /**
   * Starts a subscription that survives reconnects: after each new
   * connection_ack it is sent again. The sink's next(payload) gets every
   * "next" payload ({data, errors}); error(errors) is called when the server
   * rejects the operation and complete() when the server ends it; in both
   * cases the subscription is over.
   * @returns {() => void} a function that ends the subscription.
   */
  subscribe(payload, sink) {
    const sub = { payload, sink, id: null };
    this.subs.add(sub);
    if (this.isOpen) this.send(sub);
    return () => {
      if (!this.subs.delete(sub)) return;
      if (sub.id !== null && this.isOpen) {
        this.byId.delete(sub.id);
        this.sendFrame({ id: sub.id, type: "complete" });
      }
    };
  }

  /**
   * Resolves once the server has answered a ping sent now, i.e. has read
   * every frame sent before it, or after timeoutMs, or when the connection
   * goes away. Used to start a catch-up query only after the server has seen
   * our subscriptions.
   */
  barrier(timeoutMs = 3000) {
    return new Promise((resolve) => {
      if (!this.isOpen) {
        resolve(false);
        return;
      }
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.barriers.push({ target: this.pingsSent + 1, resolve: finish });
      this.ping();
    });
  }

  // ---- internals -------------------------------------------------------

  setStatus(status) {
    this.status = status;
    try {
      this.onStatus(status);
    } catch (err) {
      console.error("gqlws: onStatus failed", err);
    }
  }

  connect() {
    this.acked = false;
    this.byId.clear();
    this.pingsSent = 0;
    this.pongsSeen = 0;
    this.setStatus({ state: "connecting", attempt: this.attempt });
    let ws;
    try {
      ws = new this.WebSocket(this.url, PROTOCOL);
    } catch (err) {
      // A malformed URL or a CSP refusal throws here instead of closing.
      console.error("gqlws: cannot open WebSocket", err);
      this.scheduleRetry(0, String(err && err.message));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastSeen = Date.now();
      this.sendFrame({ type: "connection_init", payload: this.connectionParams });
      // A server that never acks would otherwise leave us "connecting"
      // forever.
      this.ackTimer = setTimeout(
        () => this.abandon(CLOSE_INIT_TIMEOUT, "No connection_ack"),
        this.ackTimeoutMs,
      );
    };
    ws.onmessage = (event) => this.onFrame(event.data);
    ws.onclose = (event) => this.onClose(event.code, event.reason);
    // An error is always followed by a close event, which does the work.
    ws.onerror = () => {};
  }

  onFrame(data) {
    this.lastSeen = Date.now();
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      msg = null;
    }
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") {
      this.abandon(CLOSE_BAD_FRAME, "Invalid message received");
      return;
    }
    switch (msg.type) {
      case "connection_ack":
        this.onAck();
        break;
      case "ping":
        // Required by the protocol: the server may close us if we do not.
        this.sendFrame(msg.payload === undefined ? { type: "pong" } : { type: "pong", payload: msg.payload });
        break;
      case "pong":
        this.pongsSeen++;
        this.releaseBarriers(false);
        break;
      case "next":
      case "error":
      case "complete":
        this.onOperationFrame(msg);
        break;
      default:
        // Unknown types are ignored rather than fatal, to stay compatible
        // with a server that adds a message type later.
        break;
    }
  }

  onAck() {
    if (this.acked) return;
    clearTimeout(this.ackTimer);
    this.acked = true;
    this.ackedAt = Date.now();
    for (const sub of this.subs) this.send(sub);
    this.startKeepAlive();
    this.setStatus({ state: "open" });
  }

  onOperationFrame(msg) {
    const sub = this.byId.get(msg.id);
    if (!sub) return; // an operation we already ended
    if (msg.type === "next") {
      this.call(sub.sink.next, msg.payload);
      return;
    }
    // "error" and "complete" both end the operation.
    this.byId.delete(msg.id);
    this.subs.delete(sub);
    if (msg.type === "error") {
      this.call(sub.sink.error, Array.isArray(msg.payload) ? msg.payload : [msg.payload]);
    } else {
      this.call(sub.sink.complete);
    }
  }

  call(fn, arg) {
    if (!fn) return;
    try {
      fn(arg);
    } catch (err) {
      // A bug in one handler must not take the connection down.
      console.error("gqlws: subscription handler failed", err);
    }
  }

  send(sub) {
    sub.id = String(this.nextId++);
    this.byId.set(sub.id, sub);
    this.sendFrame({ id: sub.id, type: "subscribe", payload: sub.payload });
  }

  sendFrame(frame) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1 /* OPEN */) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (err) {
      console.error("gqlws: send failed", err);
      return false;
    }
  }

  ping() {
    if (this.sendFrame({ type: "ping" })) this.pingsSent++;
  }

  releaseBarriers(all) {
    this.barriers = this.barriers.filter((b) => {
      if (all || this.pongsSeen >= b.target) {
        b.resolve(!all);
        return false;
      }
      return true;
    });
  }

  startKeepAlive() {
    clearInterval(this.keepAliveTimer);
    this.keepAlivePingAt = 0;
    // Ticks twice per period. When the server has been quiet for half a
    // period, ping it; if that ping is still unanswered (nothing received
    // since) at the next tick, the connection is dead. Judging by "no answer
    // between two ticks" rather than by elapsed time keeps background tabs,
    // whose timers the browser may delay by a minute, from dropping healthy
    // connections.
    this.keepAliveTimer = setInterval(() => {
      const now = Date.now();
      if (this.keepAlivePingAt && this.lastSeen < this.keepAlivePingAt) {
        this.abandon(CLOSE_DEAD, "Server stopped answering");
        return;
      }
      this.keepAlivePingAt = 0;
      if (now - this.lastSeen >= this.keepAliveMs / 2) {
        this.ping();
        this.keepAlivePingAt = now;
      }
    }, this.keepAliveMs / 2);
  }

  /**
   * Drops the current socket without waiting for the closing handshake,
   * which never completes on a dead connection, then handles it as closed.
   */
  abandon(code, reason) {
    const ws = this.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      // Already closing, or a code the browser refuses: it is gone anyway.
    }
    this.onClose(code, reason);
  }

  onClose(code, reason) {
    const wasStable = this.acked && Date.now() - this.ackedAt >= this.stableMs;
    if (this.ws) this.ws.onopen = this.ws.onmessage = this.ws.onclose = this.ws.onerror = null;
    this.ws = null;
    this.acked = false;
    this.byId.clear();
    clearTimeout(this.ackTimer);
    clearInterval(this.keepAliveTimer);
    this.releaseBarriers(true);
    for (const sub of this.subs) sub.id = null;
    if (this.stopped) return;
    // A connection that stayed up a while resets the backoff; one that
    // drops right after connecting (e.g. closed by the server for being
    // too slow, 4000-range) keeps backing off.
    if (wasStable) this.attempt = 0;
    this.scheduleRetry(code, reason);
  }

  scheduleRetry(code, reason) {
    const delay = backoffDelay(this.attempt, this.minDelayMs, this.maxDelayMs);
    this.attempt++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setStatus({
      state: "waiting",
      attempt: this.attempt,
      retryAt: Date.now() + delay,
      code,
      reason: reason || "",
    });
  }
}
