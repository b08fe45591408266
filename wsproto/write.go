package wsproto

import (
	"context"
	"fmt"

	"github.com/coder/websocket"
)

// send queues a frame for the writer and reports whether it was taken. It
// never blocks: a connection whose queue is full is closed as too slow, in a
// goroutine of its own, and its queue is dropped.
func (c *conn) send(frame []byte) bool {
	c.wmu.Lock()
	if c.closing {
		c.wmu.Unlock()
		return false
	}
	if len(c.queue) >= c.srv.opts.QueueSize {
		c.closing = true
		c.queue = nil
		c.wmu.Unlock()
		c.srv.stats.slow.Add(1)
		go c.close(CodeSlowConsumer, fmt.Sprintf("slow consumer: more than %d frames behind; reconnect and reload history", c.srv.opts.QueueSize))
		return false
	}
	c.queue = append(c.queue, frame)
	if !c.writing {
		c.writing = true
		c.wg.Add(1)
		go c.flush()
	}
	c.wmu.Unlock()
	return true
}

// flush is the writer: it takes the whole queue, writes it under one
// deadline, and repeats until the queue is empty; then it ends, so that an
// idle connection has no writer goroutine.
func (c *conn) flush() {
	defer c.wg.Done()
	for {
		c.wmu.Lock()
		batch := c.queue
		c.queue = nil
		if len(batch) == 0 {
			c.writing = false
			if c.idle != nil {
				close(c.idle)
				c.idle = nil
			}
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), c.srv.opts.WriteTimeout)
		for _, frame := range batch {
			if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
				cancel()
				if ctx.Err() != nil {
					c.srv.stats.dead.Add(1)
				}
				c.writeFailed(err)
				return
			}
		}
		cancel()
		c.srv.stats.frames.Add(uint64(len(batch)))
	}
}

// writeFailed stops the writer for good. coder/websocket has closed the
// connection already (an expired write deadline closes it), so the reader
// ends too.
func (c *conn) writeFailed(err error) {
	c.wmu.Lock()
	c.closing = true
	c.queue = nil
	c.writing = false
	if c.idle != nil {
		close(c.idle)
		c.idle = nil
	}
	c.wmu.Unlock()
	c.drop(fmt.Sprintf("write failed: %v", err))
}
