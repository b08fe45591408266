// Package wsproto serves GraphQL over WebSocket on github.com/coder/websocket
// for any graphql.Schema of github.com/graphql-go/graphql. It speaks two
// protocols on one endpoint and prefers the first when a client offers both:
//
//   - graphql-transport-ws, the protocol of the graphql-ws npm package
//     (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md), in
//     full: connection_init and connection_ack, ping and pong both ways,
//     subscribe, next, error, and complete both ways. Queries and mutations
//     run over the socket too: one next, then complete.
//   - graphql-ws, the legacy protocol of subscriptions-transport-ws, spoken
//     by Apollo's older clients and GraphQL Playground: connection_init,
//     connection_ack, connection_error, ka keep-alives, start, data, error,
//     complete, stop and connection_terminate.
//
// Subscriptions run through graphql.ExecuteSubscription, whose channel is
// always drained after its operation is cancelled, so no goroutine outlives
// its operation.
//
// # Connections
//
// Each connection has one reader goroutine and a writer goroutine that
// exists only while frames are queued. Its buffers are small (512 bytes in,
// 2 KiB out) and net/http's request state is let go after the upgrade, so
// an idle connection costs one goroutine and a few KiB. Frames wait in a
// bounded queue; a connection whose queue overflows, or whose write takes
// longer than the write timeout, is closed and no other connection notices.
// A single keep-alive schedule for the whole server sends WebSocket pings
// (and legacy ka messages); a peer that does not answer a ping within the
// keep-alive interval is dropped.
//
// # Shared subscriptions
//
// When Options.Prepare marks subscriptions as sharing (Operation.Share),
// they run as one graphql.ExecuteSubscription: each event is executed and
// encoded once, and the same bytes are queued to every subscriber, which
// costs no goroutine of its own. Operation.Start does what subscribing does
// for each subscriber. The reader prepares a subscription and joins it to
// its group before it reads the connection's next frame, so a pong answered
// after a subscribe means that subscription is live (for a new group, as
// soon as its resolver has subscribed).
//
// # Close codes
//
// The server closes a connection with:
//
//	1001  the server is shutting down (clients reconnect)
//	1009  a frame larger than the read limit (sent by coder/websocket)
//	1013  the client fell behind: its queue overflowed (it should reconnect
//	      and reload what it missed)
//	4400  a frame that is not a valid message of the protocol (the reason
//	      says why), or a binary frame
//	4401  subscribe before connection_ack
//	4403  OnConnect refused the connection
//	4406  no subprotocol that the server speaks was offered
//	4408  no connection_init within the init timeout
//	4409  subscribe with the ID of an active operation
//	4429  a second connection_init
//	4500  an internal error
//
// Close reasons are at most 123 bytes. A dead peer (no pong, or a write
// past its deadline) is dropped without a close handshake. When the server
// is full, the upgrade is refused with HTTP 503.
//
// Over the legacy protocol, invalid JSON is answered with connection_error
// and an unknown message type with error, as subscriptions-transport-ws
// does, and a start with the ID of an active operation replaces it.
package wsproto
