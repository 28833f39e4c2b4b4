package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// wires are the load generator's kept-alive HTTP/1.1 connections to the API,
// up to cap(idle) of them kept between requests.
//
// Each request is written by hand in one write and its response read with
// net/http's own parser (http.ReadResponse), on the calling goroutine. That
// is what wrk does, and what pgbench does for Postgres: http.Transport hands
// every request to two goroutines of its own and cost about 150 µs of CPU a
// list request, more than pgbench's whole client, on the same two cores the
// API and Postgres are measured on.
type wires struct {
	addr string
	idle chan *wire
}

// wire is one connection, with its read buffer and the bytes of its last
// request and response.
type wire struct {
	conn     net.Conn
	r        *bufio.Reader
	req, res []byte
}

// requestTimeout bounds each request; a stalled API fails a request rather
// than hanging the benchmark.
const requestTimeout = 30 * time.Second

func newWires(addr string, keep int) *wires {
	return &wires{addr: addr, idle: make(chan *wire, keep)}
}

// do sends one request as the holder of token and checks its status; into,
// when not nil, receives the JSON body.
func (ws *wires) do(method, path, token, body string, want int, into any) error {
	var w *wire
	select {
	case w = <-ws.idle:
	default:
		conn, err := net.Dial("tcp", ws.addr)
		if err != nil {
			return err
		}
		w = &wire{conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}
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
	if err == nil && keep {
		select {
		case ws.idle <- w:
			return nil
		default:
		}
	}
	w.conn.Close()
	return err
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
	return res.StatusCode, !res.Close, err
}

// close closes the idle connections; those in use close as they finish.
func (ws *wires) close() {
	for {
		select {
		case w := <-ws.idle:
			w.conn.Close()
		default:
			return
		}
	}
}
