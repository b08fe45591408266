// node legacy.mjs http://127.0.0.1:PORT drives subscriptions-transport-ws, the
// client of the legacy protocol graphql-ws that the seed's Apollo/Vue page
// used, at ws://127.0.0.1:PORT/graphql for TestInteropLegacy; lines.mjs
// describes its commands and events.
import WebSocket from 'ws';
import transport from 'subscriptions-transport-ws';
import { checkLate, describe, emit, serve, sink, wsURL } from './lines.mjs';

// The legacy client shows neither close codes nor the frames of operations
// it stopped: a subclass of ws reports both.
class ReportingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('close', (e) => emit('closed', { code: e.code, reason: e.reason }));
    this.addEventListener('message', (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return; // the client itself fails on it
      }
      if (message.type === 'data' || message.type === 'error') checkLate(message.id, message.type);
    });
  }
}

const client = new transport.SubscriptionClient(wsURL('/graphql'), { reconnect: true }, ReportingWebSocket);
client.onConnected(() => emit('connected', { retry: false }));
client.onReconnected(() => emit('connected', { retry: true }));
client.onDisconnected(() => emit('disconnected'));
// Failed connects while the server restarts land here; the client retries.
client.onError((err) => emit('socket-error', { error: describe(err) }));

// The test's ID of the operation being started, which the client asks for
// (generateOperationId, "1", "2"... by default) synchronously within
// subscribe.
let startingID;
client.generateOperationId = () => startingID;

serve({
  // request runs queries and mutations too: data, then complete. Its
  // unsubscribe sends stop.
  subscribe: (id, payload) => {
    startingID = id;
    const subscription = client.request(payload).subscribe(sink(id));
    return () => subscription.unsubscribe();
  },
  close: () => client.close(),
});
