package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

// blockingStore is echoStore whose List waits until release is closed,
// telling started when it begins.
type blockingStore struct {
	echoStore
	started chan struct{}
	release chan struct{}
}

func (s blockingStore) List(ctx context.Context, c todo.Caller, p todo.ListParams) (todo.Page, error) {
	s.started <- struct{}{}
	<-s.release
	return s.echoStore.List(ctx, c, p)
}

// TestAdmitQueuesPastTheLimit: with one request allowed at a time, a second
// API request waits while the first runs and then is served; one that waits
// longer than it can gets a 503 problem with Retry-After; the health
// endpoints do not queue.
func TestAdmitQueuesPastTheLimit(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(context.Background(), apitest.Auth)
	if err != nil {
		t.Fatal(err)
	}
	store := blockingStore{started: make(chan struct{}, 2), release: make(chan struct{})}
	logs := &apitest.LockedBuffer{}
	h := api.NewServer(api.Deps{Todos: store, Lists: echoLists{}, Verifier: verifier, Cursors: apitest.CursorKey(t),
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), MaxActive: 1})
	tok := apitest.Token(t, "alice")

	first := make(chan apitest.Response, 1)
	go func() { first <- apitest.Serve(h, http.MethodGet, "/v1/todos", tok, "") }()
	<-store.started // the one slot is taken

	if res := apitest.Serve(h, http.MethodGet, "/healthz", "", ""); res.Status != http.StatusOK {
		t.Errorf("/healthz while the API is busy: %d, want 200", res.Status)
	}
	waited := make(chan apitest.Response, 1)
	go func() { // a client that waits 500 ms at most
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/todos", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		waited <- apitest.Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	}()
	var busy apitest.Response
	select {
	case <-store.started:
		t.Fatal("a second request ran while the first held the only slot")
	case busy = <-waited:
	}
	apitest.WantProblem(t, "a request that waited too long", busy, http.StatusServiceUnavailable)
	for _, h := range []string{"Retry-After", "X-Request-Id", "X-Content-Type-Options"} {
		if busy.Header.Get(h) == "" { // an answer like any other: an id, a log line, the usual headers
			t.Errorf("a 503 for a busy server has no %s", h)
		}
	}
	// Its log line counts the time it waited: the client gave up 500 ms after
	// it made the request, which arrived a moment later (so not 500 ms: half).
	// Without the wait, the line says some microseconds.
	for line := range strings.Lines(logs.String()) {
		var l struct {
			Status   int
			Duration time.Duration
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Status == http.StatusServiceUnavailable && l.Duration < 250*time.Millisecond {
			t.Errorf("the 503 is logged with a duration of %s, less than it waited", l.Duration)
		}
	}
	if !strings.Contains(logs.String(), `"status":503`) {
		t.Error("the 503 was not logged")
	}

	second := make(chan apitest.Response, 1)
	go func() { second <- apitest.Serve(h, http.MethodGet, "/v1/todos", tok, "") }()
	select {
	case <-store.started:
		t.Fatal("a second request ran while the first held the only slot")
	case res := <-second:
		t.Fatalf("the queued request was answered %d before the first finished", res.Status)
	default:
	}
	close(store.release)
	if res := <-first; res.Status != http.StatusOK {
		t.Fatalf("first: %d %s", res.Status, res.Body)
	}
	<-store.started
	if res := <-second; res.Status != http.StatusOK {
		t.Fatalf("the queued request: %d %s, want 200 once the first finished", res.Status, res.Body)
	}
}

// TestAdmitPanics: a panic on a worker is the 500 problem it is anywhere
// else, and the worker goes on serving; http.ErrAbortHandler reaches net/http
// on the connection's goroutine, which then drops the connection.
func TestAdmitPanics(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(context.Background(), apitest.Auth)
	if err != nil {
		t.Fatal(err)
	}
	h, humaAPI := api.NewServerAPI(api.Deps{Todos: echoStore{}, Lists: echoLists{}, Verifier: verifier, Cursors: apitest.CursorKey(t),
		Logger: slog.New(slog.NewJSONHandler(&apitest.LockedBuffer{}, nil)), MaxActive: 1})
	for path, v := range map[string]any{"/v1/panic": "boom", "/v1/abort": http.ErrAbortHandler} {
		huma.Register(humaAPI, huma.Operation{OperationID: path, Method: http.MethodGet, Path: path, Security: api.Public},
			func(context.Context, *struct{}) (*struct{}, error) { panic(v) })
	}
	for range 2 { // the one worker serves both
		apitest.WantProblem(t, "a panic on a worker", apitest.Serve(h, http.MethodGet, "/v1/panic", "", ""), http.StatusInternalServerError)
	}
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v on the connection's goroutine, want http.ErrAbortHandler", v)
		}
	}()
	apitest.Serve(h, http.MethodGet, "/v1/abort", "", "")
}

// TestAdmitLetsPreflightsThrough: a CORS preflight is answered at once, even
// while every worker is busy.
func TestAdmitLetsPreflightsThrough(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	busy := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	h := api.Admit(1, time.Hour, busy)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			close(started)
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/todos", nil))
	<-started // the one worker is taken
	// A bound, not a measure: a preflight that queued would give up and get busy's 503.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodOptions, "/v1/todos", nil))
	close(release)
	if w.Code != http.StatusNoContent {
		t.Errorf("a preflight while the API is busy: %d, want it served at once (204)", w.Code)
	}
}

// TestAdmitReadsBodiesBeforeTheWait: a client sending its body slowly does
// not hold a worker while it does (else a few such clients, with no token,
// would make every other request wait and then get 503), and the handler
// still reads the body whole, or the error that ended it. A request framing
// refuses (a body cut short; headers over the limit, whose body stays unread)
// is answered at once, without a worker.
func TestAdmitReadsBodiesBeforeTheWait(t *testing.T) {
	t.Parallel()
	held, release := make(chan struct{}), make(chan struct{})
	busy := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	h := api.Admit(1, time.Hour, busy)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/hold":
			close(held)
			<-release
			return
		case r.Header.Get("X-Padding") != "": // as framing answers headers over the limit: unread
			w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(body)
	}))
	// serve serves req and tells the answer; a client that would wait longer
	// than 500 ms (a bound, not a measure) gives up, and queued, gets busy's 503.
	serve := func(req *http.Request) chan *httptest.ResponseRecorder {
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			done <- w
		}()
		return done
	}
	post := func(body io.Reader, length int64) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/v1/todos", body)
		req.ContentLength = length
		return req
	}
	soon := func(req *http.Request) *http.Request {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		t.Cleanup(cancel)
		return req.WithContext(ctx)
	}

	slow, slowW := io.Pipe()
	slowDone := serve(post(slow, 11))
	if _, err := slowW.Write([]byte(`{"ti`)); err != nil { // then nothing, for now
		t.Fatal(err)
	}
	if got := <-serve(soon(httptest.NewRequest(http.MethodGet, "/v1/todos", nil))); got.Code != http.StatusOK {
		t.Errorf("a request while another's body is arriving: %d, want it served at once (200)", got.Code)
	}
	if _, err := slowW.Write([]byte(`tle":1}`)); err != nil {
		t.Fatal(err)
	}
	slowW.Close()
	if got := <-slowDone; got.Code != http.StatusOK || got.Body.String() != `{"title":1}` {
		t.Errorf("the slow body reached the handler as %d %q", got.Code, got.Body)
	}

	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/hold", nil))
	<-held // the one worker is taken
	defer close(release)
	cut, cutW := io.Pipe()
	cutDone := serve(soon(post(cut, 100)))
	_, _ = cutW.Write([]byte(`{"title"`))
	cutW.CloseWithError(io.ErrUnexpectedEOF) // the client went away
	if got := <-cutDone; got.Code != http.StatusBadRequest || !strings.Contains(got.Body.String(), io.ErrUnexpectedEOF.Error()) {
		t.Errorf("a body cut short, while the worker is busy: %d %q, want its error at once", got.Code, got.Body)
	}
	never, _ := io.Pipe() // a body that never comes
	big := soon(post(never, 10))
	big.Header.Set("X-Padding", strings.Repeat("x", 20<<10))
	select {
	case got := <-serve(big):
		if got.Code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("headers over the limit, while the worker is busy: %d, want them refused at once", got.Code)
		}
	case <-time.After(2 * time.Second):
		t.Error("headers over the limit: their body was waited for")
	}
}
