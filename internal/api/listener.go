package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// ProblemListener wraps l so that the few answers Go's HTTP server writes by
// itself, before any handler runs, are problem+json like every other error:
// a request it cannot parse (400), headers past MaxHeaderBytes (431), a
// Transfer-Encoding other than chunked (501), an HTTP version it does not
// speak (505). It knows them by their fixed shape (net/http's errorHeaders):
// a status line followed at once by a plain-text Content-Type and
// Connection: close, which no answer of the API's handlers has (they always
// carry X-Request-Id and a Date first).
func ProblemListener(l net.Listener) net.Listener { return problemListener{l} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return problemConn{c}, nil
}

type problemConn struct{ net.Conn }

// goErrorHeaders follow the status line of Go's own error answers.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// goErrorDetails say what went wrong for Go's own error answers.
var goErrorDetails = map[int]string{
	http.StatusBadRequest:                  "the request is not well-formed HTTP/1.1",
	http.StatusRequestHeaderFieldsTooLarge: fmt.Sprintf("the request line and headers take more than %d bytes", maxHeaderBytes),
	http.StatusNotImplemented:              "send the body with a Content-Length: Transfer-Encoding is not accepted",
}

func (c problemConn) Write(p []byte) (int, error) {
	if len(p) > 512 || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(p)
	}
	line, _, ok := bytes.Cut(p, []byte(goErrorHeaders))
	status, err := strconv.Atoi(string(line[min(len(line), 9):min(len(line), 12)]))
	if !ok || bytes.Contains(line, []byte("\r\n")) || err != nil {
		return c.Conn.Write(p)
	}
	detail, ok := goErrorDetails[status]
	if !ok {
		detail = http.StatusText(status)
	}
	body, _ := json.Marshal(huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	answer := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nX-Content-Type-Options: nosniff\r\n"+
		"Connection: close\r\nContent-Length: %d\r\n\r\n%s", status, http.StatusText(status), len(body), body)
	if _, err := c.Conn.Write([]byte(answer)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets Go's server half-close after an error, as it does on a
// bare TCP connection, so the client reads the answer before the close.
func (c problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
