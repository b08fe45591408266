// node graphql-ws.mjs http://127.0.0.1:PORT drives the graphql-ws client
// (protocol graphql-transport-ws) at ws://127.0.0.1:PORT/graphql for
// TestInteropGraphQLWS; lines.mjs describes its commands and events.
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { checkLate, describe, emit, fail, serve, sink, wsURL } from './lines.mjs';

// The test's ID of the operation being started: createClient asks for it
// (generateID) synchronously within subscribe.
let startingID;

const client = createClient({
  url: wsURL('/graphql'),
  webSocketImpl: WebSocket,
  generateID: () => startingID,
  // Connect at once and stay connected, so that the client reconnects
  // after a server restart whatever operations run.
  lazy: false,
  onNonLazyError: (err) => fail(`the client gave up: ${describe(err)}`),
  // Retry for as long as the test lets it, quickly. The default retries
  // after a close (1001 on shutdown) but not after a failed connect
  // (ECONNREFUSED while the server is down), an error event, hence
  // shouldRetry.
  retryAttempts: Infinity,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
  shouldRetry: () => true,
  on: {
    connected: (_socket, _payload, wasRetry) => emit('connected', { retry: wasRetry }),
    closed: (event) => emit('closed', { code: event.code, reason: event.reason }),
    // Every frame from the server, before the client routes it.
    message: (message) => {
      if (message.type === 'next' || message.type === 'error') checkLate(message.id, message.type);
    },
  },
});

serve({
  // subscribe runs queries and mutations too: one next, then complete. It
  // returns the function that completes the operation.
  subscribe: (id, payload) => {
    startingID = id;
    return client.subscribe(payload, sink(id));
  },
  close: () => client.dispose(),
});
