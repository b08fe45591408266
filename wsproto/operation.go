package wsproto

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// operation is one running subscribe (or legacy start).
type operation struct {
	id      string
	head    []byte // the start of its next (or data) messages
	cancel  context.CancelFunc
	stopped atomic.Bool // the client completed it: send nothing more
}

// subscribe starts the operation of a subscribe or start message. The
// reader registers it, so that a duplicate ID is caught in order; it runs
// in a goroutine of its own.
func (c *conn) subscribe(m *message) bool {
	req, _ := decodeRequest(m.Payload) // decode checked it
	c.omu.Lock()
	if c.ended {
		c.omu.Unlock()
		return false
	}
	if _, dup := c.ops[m.ID]; dup {
		c.omu.Unlock()
		c.close(CodeDuplicateID, truncate(fmt.Sprintf("Subscriber for %s already exists", m.ID), maxCloseReason))
		return false
	}
	if len(c.ops) >= c.srv.opts.MaxOperations {
		c.omu.Unlock()
		c.sendErrors(m.ID, gqlerrors.FormatErrors(fmt.Errorf("too many operations on this connection: the limit is %d", c.srv.opts.MaxOperations)))
		return true
	}
	ctx, cancel := context.WithCancel(c.opCtx)
	next := typeNext
	if c.legacy {
		next = typeData
	}
	op := &operation{id: m.ID, head: head(m.ID, next), cancel: cancel}
	c.ops[m.ID] = op
	c.total++
	c.wg.Add(1)
	c.omu.Unlock()
	go c.run(ctx, op, req)
	return true
}

// stop ends the operation id at the client's request; an unknown ID is
// ignored, as the protocol allows.
func (c *conn) stop(id string) {
	c.omu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.omu.Unlock()
	if op != nil {
		op.stopped.Store(true)
		op.cancel()
	}
}

// run prepares and executes one operation, sends its results, and sends
// complete when it ends by itself.
func (c *conn) run(ctx context.Context, op *operation, req *Request) {
	defer c.wg.Done()
	defer c.forget(op)
	stats := &c.srv.stats
	stats.operations.Add(1)
	defer stats.operations.Add(-1)

	prepared, errs := c.srv.opts.Prepare(ctx, req)
	if len(errs) > 0 {
		c.sendOpErrors(op, errs)
		return
	}
	params := graphql.ExecuteParams{
		Schema: c.srv.schema, AST: prepared.Doc, OperationName: prepared.Name,
		Args: prepared.Variables, Context: ctx,
	}
	if prepared.Type == ast.OperationTypeSubscription {
		stats.subscriptions.Add(1)
		defer stats.subscriptions.Add(-1)
		// graphql-go's sender does not watch the context: range until it
		// closes the channel, which it does once ctx ends.
		for res := range graphql.ExecuteSubscription(params) {
			c.sendOp(op, withPayload(op.head, encodeResult(res)))
		}
	} else {
		c.sendOp(op, withPayload(op.head, encodeResult(graphql.Execute(params))))
	}
	c.sendOp(op, completeFrame(op.id))
}

// forget removes op when it ends by itself and releases its context.
func (c *conn) forget(op *operation) {
	c.omu.Lock()
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.omu.Unlock()
	op.cancel()
}

// sendOp sends a frame of op unless the client has completed op.
func (c *conn) sendOp(op *operation, frame []byte) {
	if !op.stopped.Load() {
		c.send(frame)
	}
}

// sendOpErrors reports errors that kept op from running: an error message in
// graphql-transport-ws; in the legacy protocol, as subscriptions-transport-ws
// does, data with the errors and then complete.
func (c *conn) sendOpErrors(op *operation, errs []gqlerrors.FormattedError) {
	if op.stopped.Load() {
		return
	}
	if c.legacy {
		c.send(withPayload(op.head, encodeResult(&graphql.Result{Errors: errs})))
		c.send(completeFrame(op.id))
		return
	}
	c.sendErrors(op.id, errs)
}

// sendErrors sends an error message for operation id.
func (c *conn) sendErrors(id string, errs []gqlerrors.FormattedError) {
	c.send(withPayload(head(id, typeError), encodeErrors(errs, c.legacy)))
}

// jsonMessage is the payload {"message": msg}.
func jsonMessage(msg string) []byte {
	return append(append([]byte(`{"message":`), jsonString(msg)...), '}')
}
