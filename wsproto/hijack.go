package wsproto

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// The buffers a connection keeps for its life. net/http hands a hijacked
// connection 4 KiB each way; clients send small frames (larger ones are read
// straight into place), and 1 KiB holds most chat frames (a 100-character
// message is about 250 bytes), so that a write is one syscall. Together they
// were most of an idle connection's memory.
const (
	readBufferSize  = 512
	writeBufferSize = 1024
)

// smallBuffers is an http.ResponseWriter whose Hijack returns smaller
// buffers than net/http's, carrying over any bytes the client sent ahead.
type smallBuffers struct {
	http.ResponseWriter
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// A fast client's first frame can be read ahead already (net/http reads
	// a byte in the background). It must be in the new reader's buffer:
	// coder/websocket keeps what is buffered there, and nothing else.
	n := brw.Reader.Buffered()
	ahead, _ := brw.Reader.Peek(n)
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), conn), max(readBufferSize, n))
	if _, err := r.Peek(n); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(conn, writeBufferSize)), nil
}

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
