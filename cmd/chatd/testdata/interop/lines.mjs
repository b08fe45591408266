// The line protocol between a client script and its Go test
// (cmd/chatd/interop_test.go): the script writes events to stdout and reads
// commands from stdin, one JSON object per line. Diagnostics go to stderr,
// and any failure ends the script with exit status 1.
//
// Commands: {"cmd":"subscribe","id":ID,"query":Q,"variables":V} starts an
// operation (of any type) under the test's ID; {"cmd":"unsubscribe","id":ID}
// stops it; {"cmd":"exit"} closes the client and exits 0.
//
// Events: {"event":"next"|"error"|"complete","id":ID,...} for operations,
// {"event":"unsubscribed","id":ID} once an unsubscribe returned,
// {"event":"late","id":ID,"type":T} for a result frame that the server sent
// for an operation after the test unsubscribed it, and the client's life:
// {"event":"connected","retry":bool}, {"event":"closed","code":N,
// "reason":S} for every socket that closes, and {"event":"bye"}.
//
// The clients are made to use the test's IDs as operation IDs on the wire,
// so that late can be told: a client drops what comes for an operation it
// completed, and so would hide a server that goes on sending.
import { createInterface } from 'node:readline';

/** Writes one event line. Writes to a pipe are synchronous on Linux, so an
 * event is out before a process.exit that follows it. */
export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

/** Ends the script with a message for the Go test's failure output. */
export function fail(message) {
  process.stderr.write(`${process.argv[1]}: ${message}\n`);
  process.exit(1);
}

process.on('uncaughtException', (err) => fail(`uncaught: ${err?.stack ?? err}`));
process.on('unhandledRejection', (err) => fail(`unhandled rejection: ${err?.stack ?? err}`));

/** The server's base URL, the first argument. The tests talk to loopback
 * only. */
export function baseURL() {
  const base = process.argv[2];
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base ?? '')) fail(`want a base URL http://127.0.0.1:PORT as the argument, got ${base}`);
  return base;
}

/** The server's WebSocket URL of path. */
export function wsURL(path) {
  return baseURL().replace(/^http/, 'ws') + path;
}

/** Describes whatever a client hands to an error callback: GraphQL errors, a
 * close event, an Error. */
export function describe(err) {
  if (Array.isArray(err)) return err.map(describe).join('; ');
  if (err && typeof err === 'object' && 'code' in err && 'reason' in err) return `close ${err.code} ${err.reason}`;
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message);
  return JSON.stringify(err);
}

/** An observer that reports an operation's results as events. */
export function sink(id) {
  return {
    next: (payload) => emit('next', { id, payload }),
    error: (err) => emit('error', { id, error: describe(err) }),
    complete: () => emit('complete', { id }),
  };
}

// The test's IDs of the operations it unsubscribed.
const stopped = new Set();

/** Reports a result frame (next, data or error) that the server sent for
 * operation id, when the test unsubscribed it. */
export function checkLate(id, type) {
  if (stopped.has(id)) emit('late', { id, type });
}

/**
 * Runs the test's commands against a client until exit. subscribe(id,
 * payload) starts an operation and returns the function that stops it;
 * close() closes the client. A watchdog ends a script that the test forgot,
 * and so does the end of stdin: the Go test has gone.
 */
export function serve({ subscribe, close }, timeoutMs = 120_000) {
  setTimeout(() => fail(`no exit command within ${timeoutMs} ms`), timeoutMs);
  const stops = new Map();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch {
      fail(`bad command line: ${line}`);
    }
    switch (cmd.cmd) {
      case 'subscribe':
        if (stops.has(cmd.id)) fail(`operation ${cmd.id} already started`);
        stops.set(cmd.id, subscribe(cmd.id, { query: cmd.query, variables: cmd.variables ?? {} }));
        break;
      case 'unsubscribe':
        if (!stops.has(cmd.id)) fail(`no operation ${cmd.id} to unsubscribe`);
        stopped.add(cmd.id);
        stops.get(cmd.id)();
        emit('unsubscribed', { id: cmd.id });
        break;
      case 'exit':
        await close();
        emit('bye');
        process.exit(0);
        break;
      default:
        fail(`unknown command: ${line}`);
    }
  });
  lines.on('close', () => fail('stdin closed before the exit command'));
}
