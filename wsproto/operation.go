package wsproto

import (
	"context"
	"errors"
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
// reader registers and prepares it, so that a duplicate ID is caught in
// order, and a shared subscription is live (joined to its group) before the
// next frame of the connection is read; everything else executes in a
// goroutine of its own.
func (c *conn) subscribe(m *message) bool {
	req, _ := decodeRequest(m.Payload) // decode checked it
	c.omu.Lock()
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
	c.srv.stats.operations.Add(1)
	c.omu.Unlock()

	p, errs := c.srv.opts.Prepare(ctx, req)
	switch {
	case len(errs) > 0:
		c.sendOpErrors(op, errs)
		c.finish(op)
	case p.Type == ast.OperationTypeSubscription && p.Share != "":
		if p.Start != nil {
			if err := p.Start(ctx); err != nil {
				c.sendOp(op, frame{head: op.head, body: encodeResult(&graphql.Result{Errors: []gqlerrors.FormattedError{formatError(err)}})})
				c.sendOp(op, frame{body: completeFrame(op.id)})
				c.finish(op)
				return true
			}
		}
		c.srv.join(ctx, c, op, p) // the member lives on in its group
	default:
		c.wg.Add(1) // end, which waits for it, runs on this same goroutine
		go c.execute(ctx, op, p)
	}
	return true
}

// stop ends the operation id at the client's request; an unknown ID is
// ignored, as the protocol allows.
func (c *conn) stop(id string) {
	if op := c.remove(id, nil); op != nil {
		op.stopped.Store(true)
		op.cancel()
	}
}

// remove deletes operation id from the map (only if it is op, when op is
// not nil) and returns what it deleted.
func (c *conn) remove(id string, op *operation) *operation {
	c.omu.Lock()
	defer c.omu.Unlock()
	found := c.ops[id]
	if found == nil || op != nil && found != op {
		return nil
	}
	delete(c.ops, id)
	c.srv.stats.operations.Add(-1)
	return found
}

// finish ends op when it ends by itself.
func (c *conn) finish(op *operation) {
	c.remove(op.id, op)
	op.cancel()
}

// execute runs an operation that does not share its execution: a query, a
// mutation, or a subscription of its own. It sends complete when the
// operation ends by itself.
func (c *conn) execute(ctx context.Context, op *operation, p *Operation) {
	defer c.wg.Done()
	params := graphql.ExecuteParams{Schema: c.srv.schema, AST: p.Doc, OperationName: p.Name, Args: p.Variables, Context: ctx}
	if p.Type == ast.OperationTypeSubscription {
		c.srv.stats.subscriptions.Add(1)
		// graphql-go's sender does not watch the context: range until it
		// closes the channel, which it does once ctx ends.
		for res := range graphql.ExecuteSubscription(params) {
			c.sendOp(op, frame{head: op.head, body: encodeResult(res)})
		}
		c.srv.stats.subscriptions.Add(-1)
	} else {
		c.sendOp(op, frame{head: op.head, body: encodeResult(graphql.Execute(params))})
	}
	c.sendOp(op, frame{body: completeFrame(op.id)})
	c.finish(op)
}

// sendOp sends a frame of op unless the client has completed op.
func (c *conn) sendOp(op *operation, f frame) {
	if !op.stopped.Load() {
		c.send(f)
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
		c.send(frame{head: op.head, body: encodeResult(&graphql.Result{Errors: errs})})
		c.send(frame{body: completeFrame(op.id)})
		return
	}
	c.sendErrors(op.id, errs)
}

// sendErrors sends an error message for operation id.
func (c *conn) sendErrors(id string, errs []gqlerrors.FormattedError) {
	c.send(frame{head: head(id, typeError), body: encodeErrors(errs, c.legacy)})
}

// jsonMessage is the payload {"message": msg}.
func jsonMessage(msg string) []byte {
	return append(append([]byte(`{"message":`), jsonString(msg)...), '}')
}

// formatError keeps what err says of itself: a gqlerrors.FormattedError as
// it is, and the extensions of a gqlerrors.ExtendedError, which
// gqlerrors.FormatError drops for an error that is not located.
func formatError(err error) gqlerrors.FormattedError {
	var fe gqlerrors.FormattedError
	if errors.As(err, &fe) {
		return fe
	}
	fe = gqlerrors.FormatError(err)
	var ext gqlerrors.ExtendedError
	if errors.As(err, &ext) {
		fe.Extensions = ext.Extensions()
	}
	return fe
}
