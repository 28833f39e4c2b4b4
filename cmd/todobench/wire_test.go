package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The load generator's connections are kept across answers of any status,
// read chunked and fixed-length bodies whole, send the token and the body,
// and are given up when the server closes them.
func TestWires(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"method":"` + r.Method + `","body":` + string(body) + `}`))
		case "/chunked": // flushed in pieces: no Content-Length
			for i := range 3 {
				_, _ = w.Write([]byte(strings.Repeat("x", 5000) + string(rune('a'+i))))
				w.(http.Flusher).Flush()
			}
		case "/busy":
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/close":
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ws := newWires(srv.Listener.Addr().String(), 1)
	defer ws.close()

	var echo struct {
		Method string
		Body   struct{ Title string }
	}
	if err := ws.do(http.MethodPost, "/echo", "tok", `{"title":"a"}`, http.StatusOK, &echo); err != nil {
		t.Fatal(err)
	}
	if echo.Method != http.MethodPost || echo.Body.Title != "a" {
		t.Fatalf("the server saw %+v", echo)
	}
	if err := ws.do(http.MethodGet, "/chunked", "tok", "", http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	if got := len(ws.idle[0].res); got != 15003 {
		t.Fatalf("read %d bytes of a chunked body of 15003", got)
	}
	err := ws.do(http.MethodGet, "/busy", "tok", "", http.StatusOK, nil)
	if err == nil || !strings.Contains(err.Error(), "503 busy") {
		t.Fatalf("a 503 gave %v", err)
	}
	if err := ws.do(http.MethodGet, "/echo", "", "", http.StatusOK, nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("no token gave %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for four answers on a kept-alive one", n)
	}
	if err := ws.do(http.MethodGet, "/close", "tok", "", http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	if len(ws.idle) != 0 {
		t.Fatal("a connection the server closed was kept")
	}
	if err := ws.do(http.MethodGet, "/chunked", "tok", "", http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want a second after the server closed the first", n)
	}
}

// The most recently used connection is taken first, so that c clients after
// a cell of more use c connections, and no more than keep are kept.
func TestWiresTakeTheLastUsedFirst(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ws := newWires(srv.Listener.Addr().String(), 2)
	defer ws.close()
	var held []*wire
	for range 3 {
		w, err := ws.take()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, w)
	}
	for _, w := range held {
		ws.put(w)
	}
	if len(ws.idle) != 2 {
		t.Fatalf("%d kept, want 2", len(ws.idle))
	}
	if w, _ := ws.take(); w != held[1] {
		t.Fatal("took another than the last one put back")
	}
}
