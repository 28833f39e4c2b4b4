package api_test

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/event"
)

// TestEventsStreamsAreSmall: an open stream over HTTP/1.1 costs the server
// a few kilobytes, not the handler's goroutine and net/http's buffers: the
// stream takes its connection over once the head is sent. 200 streams are
// opened with bare connections (so the client's side costs next to nothing)
// and the server's heap and stacks are measured around them.
func TestEventsStreamsAreSmall(t *testing.T) {
	e := newEventsEnv(t, event.Config{StreamsPerUser: 300})
	addr := strings.TrimPrefix(e.URL, "http://")
	req := "GET /v1/events HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer " + apitest.Token(t, "alice") + "\r\n\r\n"
	open := func() net.Conn { // returns once the stream is ready
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // a bound, not a measure
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "event: ready\n" {
				return conn
			}
		}
	}
	open() // warm up: pools, caches, the JWT check
	const n = 200
	before := serverMemory()
	for range n {
		open()
	}
	perStream := (serverMemory() - before) / n
	t.Logf("%d bytes per open stream", perStream)
	limit := int64(14 << 10) // a stream kept on its handler's goroutine costs 38 KiB
	if raceDetector {
		limit = 24 << 10 // 16 KiB measured; more than 50 KiB on the handler's goroutine
	}
	if perStream > limit {
		t.Errorf("an open stream costs %d bytes of heap and stack, want at most %d", perStream, limit)
	}
}

// serverMemory is the heap and goroutine stacks in use after a collection
// (stacks shrink during collections).
func serverMemory() int64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// TestEventsHTTP2: over HTTP/2, which net/http does not hand over, the
// stream is written through its handler, and delivers as over HTTP/1.1.
func TestEventsHTTP2(t *testing.T) {
	t.Parallel()
	database := dbtest.New(t).OpenPool(t, "")
	logger := slog.New(slog.NewJSONHandler(&apitest.LockedBuffer{}, nil))
	verifier, err := auth.NewVerifier(t.Context(), apitest.Auth)
	if err != nil {
		t.Fatal(err)
	}
	hub := apitest.Hub(t, database, event.Config{}, logger)
	srv := httptest.NewUnstartedServer(api.NewServer(api.Deps{Todos: db.NewTodoStore(database), Lists: db.NewListStore(database),
		Cursors: apitest.CursorKey(t), Verifier: verifier, Events: hub, Logger: logger}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(func() { hub.Close(); srv.Close() })
	client := srv.Client()
	tok := apitest.Token(t, "alice")
	do := func(ctx context.Context, method, path, body string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a bound, not a measure
	defer cancel()
	stream := do(ctx, http.MethodGet, "/v1/events", "")
	defer stream.Body.Close()
	if stream.ProtoMajor != 2 || stream.StatusCode != http.StatusOK {
		t.Fatalf("stream: HTTP/%d %d, want HTTP/2 200", stream.ProtoMajor, stream.StatusCode)
	}
	lines := bufio.NewScanner(stream.Body)
	for lines.Scan() && lines.Text() != "event: ready" {
	}
	if res := do(ctx, http.MethodPost, "/v1/todos", `{"title":"over h2"}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", res.StatusCode)
	}
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "data: ") && strings.Contains(line, `"over h2"`) {
			return
		}
	}
	t.Fatalf("the stream ended without the event: %v", lines.Err())
}
