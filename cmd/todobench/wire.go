package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// wires are the load generator's kept-alive HTTP/1.1 connections to the API,
// up to keep of them kept between requests, the most recently used taken
// first (as http.Transport does): c clients use c connections, whatever a
// cell before opened.
//
// Each request is written by hand in one write and its response read with
// net/http's own parser (http.ReadResponse), on the calling goroutine. That
// is what wrk does, and what pgbench does for Postgres: http.Transport hands
// every request to two goroutines of its own and cost about 150 µs of CPU a
// list request, more than pgbench's whole client, on the same two cores the
// API and Postgres are measured on.
type wires struct {
	addr string
	keep int
	mu   sync.Mutex
	idle []*wire
}

// wire is one connection, with its read buffer, the bytes of its last
// request and response, and when it was last used.
type wire struct {
	conn     net.Conn
	r        *bufio.Reader
	req, res []byte
	used     time.Time
}

const (
	// requestTimeout bounds each request and each dial; a stalled API fails
	// a request rather than hanging the benchmark.
	requestTimeout = 30 * time.Second
	// idleFor is how long an unused connection is kept: well under the
	// API's idle timeout (2 minutes), after which it may have closed it.
	idleFor = time.Minute
)

func newWires(addr string, keep int) *wires {
	return &wires{addr: addr, keep: keep}
}

// do sends one request as the holder of token and checks its status; into,
// when not nil, receives the JSON body.
func (ws *wires) do(method, path, token, body string, want int, into any) error {
	w, err := ws.take()
	if err != nil {
		return err
	}
	status, keep, err := w.roundTrip(ws.addr, method, path, token, body)
	switch {
	case err != nil:
		err = fmt.Errorf("%s %s: %w", method, path, err)
	case status != want:
		err = fmt.Errorf("%s %s: %d %s", method, path, status, w.res)
	case into != nil:
		err = json.Unmarshal(w.res, into)
	}
	if keep { // read cleanly, whatever its status
		ws.put(w)
	} else {
		w.conn.Close()
	}
	return err
}

// take is the most recently used idle connection still fresh, or a new one.
func (ws *wires) take() (*wire, error) {
	ws.mu.Lock()
	for n := len(ws.idle); n > 0; n = len(ws.idle) {
		w := ws.idle[n-1]
		ws.idle = ws.idle[:n-1]
		if time.Since(w.used) < idleFor {
			ws.mu.Unlock()
			return w, nil
		}
		w.conn.Close()
	}
	ws.mu.Unlock()
	conn, err := net.DialTimeout("tcp", ws.addr, requestTimeout)
	if err != nil {
		return nil, err
	}
	return &wire{conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}, nil
}

// put keeps w for the next request, if fewer than keep are kept.
func (ws *wires) put(w *wire) {
	w.used = time.Now()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if len(ws.idle) < ws.keep {
		ws.idle = append(ws.idle, w)
		return
	}
	w.conn.Close()
}

// roundTrip writes one request and reads its response into w.res; keep is
// whether the connection can carry another.
func (w *wire) roundTrip(host, method, path, token, body string) (status int, keep bool, err error) {
	if err := w.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return 0, false, err
	}
	b := append(w.req[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nAuthorization: Bearer "...)
	b = append(b, token...)
	if body != "" {
		b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	w.req = b
	if _, err := w.conn.Write(b); err != nil {
		return 0, false, err
	}
	res, err := http.ReadResponse(w.r, nil)
	if err != nil {
		return 0, false, err
	}
	buf := bytes.NewBuffer(w.res[:0])
	_, err = buf.ReadFrom(res.Body)
	res.Body.Close()
	w.res = buf.Bytes()
	return res.StatusCode, err == nil && !res.Close, err
}

// close closes the idle connections; those in use are kept as they finish.
func (ws *wires) close() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, w := range ws.idle {
		w.conn.Close()
	}
	ws.idle = nil
}
