package wsproto

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// frame is one message to write. A frame with a head is written as head,
// body and a closing brace: the head belongs to one operation ({"id":"1",
// "type":"next","payload":), the body is an encoded result that every
// subscriber of a shared subscription holds, so it is encoded once and
// never copied per connection until the write.
type frame struct{ head, body []byte }

// writeBufs lends the buffers that frames with a head are assembled in, only
// for the time of a write.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// send queues a frame for the writer and reports whether it was taken. It
// never blocks: a connection whose queue is full is closed as too slow, in a
// goroutine of its own, and its queue is dropped.
func (c *conn) send(f frame) bool {
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
	c.queue = append(c.queue, f)
	if !c.writing {
		c.writing = true
		c.wg.Add(1)
		go c.flush()
	}
	c.wmu.Unlock()
	return true
}

// flush is the writer: it takes the whole queue, writes it, and repeats
// until the queue is empty; then it ends, so that an idle connection has no
// writer goroutine.
func (c *conn) flush() {
	defer c.wg.Done()
	var batch []frame
	for {
		c.wmu.Lock()
		batch, c.queue = c.queue, batch[:0] // the two slices take turns
		if len(batch) == 0 {
			c.writing = false
			if c.idle != nil {
				close(c.idle)
				c.idle = nil
			}
			if cap(c.queue) > 64 {
				c.queue = nil // a burst's queue is not kept for the connection's life
			}
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()

		if err := c.write(batch); err != nil {
			c.writeFailed(err)
			return
		}
		c.srv.stats.frames.Add(uint64(len(batch)))
	}
}

// write writes a batch of frames. Its deadline is kept by the server's
// watchdog (watchWrites), which drops a connection whose write has gone on
// for longer than the write timeout: a timer and a context per write would
// cost more than the write.
func (c *conn) write(batch []frame) error {
	c.writeStart.Store(time.Now().UnixNano())
	defer c.writeStart.Store(0)
	buf := writeBufs.Get().(*[]byte)
	defer writeBufs.Put(buf)
	for i, f := range batch {
		msg := f.body
		if f.head != nil {
			*buf = append(append(append((*buf)[:0], f.head...), f.body...), '}')
			msg = *buf
		}
		if err := c.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
			return err
		}
		batch[i] = frame{} // let the shared bodies go
	}
	if cap(*buf) > 64<<10 {
		*buf = make([]byte, 0, 2048) // do not keep one huge frame's buffer
	}
	return nil
}

// stuck reports whether c's write has gone on longer than the write timeout.
func (c *conn) stuck(now int64) bool {
	start := c.writeStart.Load()
	return start != 0 && now-start > int64(c.srv.opts.WriteTimeout)
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
