// Small pure helpers of the chat page: input rules, GraphQL over HTTP,
// message ordering and the look of avatars. No DOM access here, so they are
// easy to reason about (and to try out in Node).

export const MAX_NAME_CHARS = 32;
export const MAX_TEXT_CHARS = 2000;

// C0 and C1 control characters, DEL included. Names must not contain any.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/u;

/** Number of characters (code points), as the server counts them. */
export function charCount(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Checks a name against the server's rules (1-32 characters after trimming,
 * no control characters). Returns {name} with the trimmed name, or {error}.
 */
export function checkName(raw) {
  const name = String(raw ?? "").trim();
  if (name === "") return { error: "Please enter a name." };
  if (charCount(name) > MAX_NAME_CHARS) {
    return { error: `Names can be at most ${MAX_NAME_CHARS} characters long.` };
  }
  if (CONTROL_CHARS.test(name)) return { error: "Names cannot contain control characters." };
  return { name };
}

/** An error answer of the GraphQL endpoint, or a failure to reach it. */
export class RequestError extends Error {
  /**
   * @param {string} message shown to the user as is.
   * @param {string} code extensions.code (BAD_USER_INPUT, RATE_LIMITED,
   *   UNAVAILABLE, INTERNAL_SERVER_ERROR) or NETWORK / HTTP from here.
   * @param {number} [retryAfter] seconds, for RATE_LIMITED.
   */
  constructor(message, code, retryAfter) {
    super(message);
    this.name = "RequestError";
    this.code = code || "";
    this.retryAfter = retryAfter;
  }
}

/**
 * Sends one GraphQL operation with POST and returns its data, or throws a
 * RequestError carrying the first error's message and code.
 */
export async function graphqlRequest(url, query, variables, { timeoutMs = 15000, fetchImpl = fetch } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let res;
    try {
      res = await fetchImpl(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query, variables }),
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
    } catch {
      throw new RequestError(
        controller.signal.aborted ? "The server took too long to answer." : "Cannot reach the server.",
        "NETWORK",
      );
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      // Not JSON (a proxy's error page, say): judged by the status below.
    }
    const first = body && Array.isArray(body.errors) ? body.errors[0] : null;
    if (first) {
      const ext = (first && first.extensions) || {};
      throw new RequestError(
        typeof first.message === "string" && first.message ? first.message : "The server refused the request.",
        typeof ext.code === "string" ? ext.code : "",
        retrySeconds(ext.retryAfter) ?? retrySeconds(res.headers.get("Retry-After")),
      );
    }
    if (!res.ok || !body || typeof body.data !== "object" || body.data === null) {
      if (res.status === 429) {
        throw new RequestError("Too many requests.", "RATE_LIMITED", retrySeconds(res.headers.get("Retry-After")));
      }
      throw new RequestError(`The server answered with an error (HTTP ${res.status}).`, "HTTP");
    }
    return body.data;
  } finally {
    clearTimeout(timer);
  }
}

/** A positive number of seconds from a number or numeric string, else undefined. */
function retrySeconds(v) {
  const n = typeof v === "string" ? Number(v.trim()) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined;
}

/** The user-facing text for a refused or failed post. */
export function describePostError(err) {
  if (!(err instanceof RequestError)) return "Could not send the message.";
  if (err.code === "NETWORK") return `Could not send: ${err.message}`;
  let text = err.message;
  if (err.code === "RATE_LIMITED" && err.retryAfter) {
    text += ` (try again in ${err.retryAfter} s)`;
  }
  return text;
}

/**
 * Returns a message as the page uses it, or null if the server sent
 * something that is not a Message. `time` is the sort key in ms.
 */
export function normalizeMessage(m) {
  if (!m || typeof m !== "object") return null;
  const { id, user, createdAt, text } = m;
  if ([id, user, createdAt, text].some((v) => typeof v !== "string") || id === "") return null;
  const time = Date.parse(createdAt);
  return { id, user, createdAt, text, time: Number.isNaN(time) ? Number.MAX_SAFE_INTEGER : time };
}

/**
 * Chronological order, by createdAt only. Messages of the same millisecond
 * are not ordered by id: ids (KSUIDs) are random within a second, so that
 * would contradict the server's order. Ties keep the order in which they are
 * added instead, which is the server's when messages are added oldest first
 * (see insertionIndex).
 */
export function compareMessages(a, b) {
  return a.time - b.time;
}

/**
 * Index at which `item` goes into the sorted array `list`: after equal
 * items, or before them with `beforeEqual` (for items known to be older,
 * such as a page of older history). Binary search: almost every insert is at
 * the end, but catch-up and history pages land in the middle or at the front.
 */
export function insertionIndex(list, item, compare, beforeEqual = false) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(list[mid], item);
    if (c < 0 || (c === 0 && !beforeEqual)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorts names the way the server does (by code unit), without duplicates. */
export function sortedNames(names) {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const segmenter =
  typeof Intl !== "undefined" && typeof Intl.Segmenter === "function"
    ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
    : null;

/** First user-perceived character of s (keeps emoji and accents whole). */
function firstGrapheme(s) {
  if (segmenter) {
    for (const { segment } of segmenter.segment(s)) return segment;
    return "";
  }
  for (const ch of s) return ch;
  return "";
}

/** One or two initials for an avatar: "Ada Lovelace" -> "AL", "bob" -> "B". */
export function initials(name) {
  const words = String(name).trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return "?";
  let out = firstGrapheme(words[0]);
  if (words.length > 1) out += firstGrapheme(words[words.length - 1]);
  return out.toLocaleUpperCase();
}

/** A stable hue (0-359) for a name, so a person keeps their colour. */
export function nameHue(name) {
  // FNV-1a over the UTF-16 code units: tiny, fast, and spreads well.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 360;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});
const fullDayTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});
const longFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

/**
 * Short local time for a message: just the time today, the day too for
 * older messages, the year too for other years. `title` is the long form.
 */
export function formatMessageTime(date, now = new Date()) {
  if (Number.isNaN(date.getTime())) return { short: "", title: "" };
  let short;
  if (date.toDateString() === now.toDateString()) short = timeFormat.format(date);
  else if (date.getFullYear() === now.getFullYear()) short = dayTimeFormat.format(date);
  else short = fullDayTimeFormat.format(date);
  return { short, title: longFormat.format(date) };
}
