// Package apitest is the tests' one way to serve the API and to call it: a
// server on a fresh database of its own, one HTTP client, one token minter
// and one assertion for problem responses. Only tests import it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
)

// Auth is the token configuration of the servers New starts; Token signs for it.
var Auth = auth.Config{Secret: []byte("test-secret-test-secret-test-secret!"), Leeway: time.Second}

// Env is one API server, as in production, on a database of its own.
type Env struct {
	URL   string        // the server's base URL
	DB    *db.DB        // the pool the server uses, as the API's login role
	Admin *pgx.Conn     // superuser on the same database: the truth behind RLS
	TDB   dbtest.TestDB // the database
	Logs  *LockedBuffer // what the server logged
}

// New serves the API with the token configuration Auth.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWith(t, Auth)
}

// NewWith serves the API with the token configuration cfg and CORS for
// origins; the server and the database end with t.
func NewWith(t testing.TB, cfg auth.Config, origins ...string) *Env {
	t.Helper()
	tdb := dbtest.New(t)
	database := tdb.OpenPool(t, "")
	verifier, err := auth.NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &LockedBuffer{}
	srv := httptest.NewUnstartedServer(api.NewServer(api.Deps{
		Todos:    db.NewTodoStore(database),
		Lists:    db.NewListStore(database),
		Verifier: verifier,
		Cursors:  CursorKey(t),
		Ready: func(ctx context.Context) error {
			return errors.Join(database.Ready(ctx), verifier.Ready(ctx))
		},
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		CORSOrigins: origins,
	}))
	srv.Config = api.NewHTTPServer(srv.Config.Handler, nil) // as in production
	srv.Listener = api.ProblemListener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	admin, err := pgx.Connect(context.Background(), tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	return &Env{URL: srv.URL, DB: database, Admin: admin, TDB: tdb, Logs: logs}
}

// CursorKey is the key the test servers seal cursors with.
func CursorKey(t testing.TB) *todo.CursorKey {
	t.Helper()
	k, err := todo.NewCursorKey([]byte("test-cursor-key-test-cursor-key!"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Token is a token for sub, valid for an hour, signed for Auth.
func Token(t testing.TB, sub string) string {
	t.Helper()
	tok, err := auth.Sign(Auth, sub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON is the body as a JSON object; anything else fails t.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// prepare gives req a JSON body, tok as its bearer token (none if ""), and
// the header pairs (name, value, ...): a name's first pair replaces what
// was there, a name given again adds a second field.
func prepare(req *http.Request, tok, body string, header []string) {
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	given := map[string]bool{}
	for i := 0; i+1 < len(header); i += 2 {
		name := http.CanonicalHeaderKey(header[i])
		if given[name] {
			req.Header.Add(name, header[i+1])
		} else {
			req.Header.Set(name, header[i+1])
		}
		given[name] = true
	}
}

func reader(body string) io.Reader {
	if body == "" {
		return nil
	}
	return strings.NewReader(body)
}

// Send sends a request with c and reads its answer whole; header pairs
// follow the body. It is for callers that may not fail a test where they
// run (other goroutines); tests call Do.
func Send(c *http.Client, method, url, tok, body string, header ...string) (Response, error) {
	req, err := http.NewRequest(method, url, reader(body))
	if err != nil {
		return Response{}, err
	}
	prepare(req, tok, body, header)
	res, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

// Do sends a request to url (absolute) and returns its answer; header pairs
// follow the body.
func Do(t testing.TB, method, url, tok, body string, header ...string) Response {
	t.Helper()
	res, err := Send(http.DefaultClient, method, url, tok, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Call sends a request for path to e's server; header pairs follow the body.
func (e *Env) Call(t testing.TB, method, path, tok, body string, header ...string) Response {
	t.Helper()
	return Do(t, method, e.URL+path, tok, body, header...)
}

// Serve has h answer a request for target in process, without a network;
// header pairs follow the body.
func Serve(h http.Handler, method, target, tok, body string, header ...string) Response {
	req := httptest.NewRequest(method, target, reader(body))
	prepare(req, tok, body, header)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	res := w.Result()
	return Response{Status: res.StatusCode, Header: res.Header, Body: w.Body.Bytes()}
}

// Create creates a todo for tok from body and returns it; anything but 201
// fails t.
func (e *Env) Create(t testing.TB, tok, body string) map[string]any {
	t.Helper()
	res := e.Call(t, http.MethodPost, "/v1/todos", tok, body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	return res.JSON(t)
}

// RowCount is how many todos the database holds, whoever's.
func (e *Env) RowCount(t testing.TB) int {
	t.Helper()
	var n int
	if err := e.Admin.QueryRow(context.Background(), "SELECT count(*) FROM todos").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// WantProblem checks an RFC 9457 problem response with status, which says
// nothing of Postgres, the schema or Go's internals.
func WantProblem(t testing.TB, what string, res Response, status int) {
	t.Helper()
	if leak := Leak(res.Body); leak != "" {
		t.Errorf("%s: body carries %q: %s", what, leak, res.Body)
	}
	if res.Status != status {
		t.Errorf("%s: status %d, want %d: %s", what, res.Status, status, res.Body)
		return
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if got := res.JSON(t)["status"]; got != float64(status) {
		t.Errorf("%s: problem status %v, want %d", what, got, status)
	}
}

// Internals are what no response body may carry: Postgres's words, table and
// constraint names, the driver's name, Go's types and layouts.
var Internals = []string{"SQLSTATE", "ERROR:", "todos", "idempotency_keys", "_check", "_pkey", "violates", "pgx",
	"Go struct", "json: ", "invalid character", "2006-01-02", "time.Time", "cannot unmarshal", "Body", "panic"}

// Leak is the first of Internals found in body, or "".
func Leak(body []byte) string {
	for _, s := range Internals {
		if bytes.Contains(body, []byte(s)) {
			return s
		}
	}
	return ""
}

// LockedBuffer is a bytes.Buffer safe for a server's concurrent writes (of
// its logs).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written since the last Reset.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Reset empties the buffer.
func (l *LockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

// Hub starts a live-updates hub on database that polls every 20 ms until t
// ends; its first poll has found the watermark when Hub returns.
func Hub(t testing.TB, database *db.DB, cfg event.Config, logger *slog.Logger) *event.Hub {
	t.Helper()
	cfg.PollInterval = 20 * time.Millisecond
	cfg.Logger = logger
	hub := event.NewHub(db.NewEventStore(database), cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := hub.Poll(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return hub
}

// ServeEvents serves the API with live updates on tdb, with a pool and a hub
// of its own: one API instance (more may share tdb). Browser pages from
// origins may call it.
func ServeEvents(t testing.TB, tdb dbtest.TestDB, cfg event.Config, origins ...string) (*Env, *event.Hub) {
	t.Helper()
	database := tdb.OpenPool(t, "")
	logs := &LockedBuffer{}
	hub := Hub(t, database, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	verifier, err := auth.NewVerifier(t.Context(), Auth)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(api.Deps{
		Todos: db.NewTodoStore(database), Lists: db.NewListStore(database), Cursors: CursorKey(t), Verifier: verifier, Events: hub,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), CORSOrigins: origins,
	}))
	t.Cleanup(func() { hub.Close(); srv.Close() })
	admin, err := pgx.Connect(context.Background(), tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	return &Env{URL: srv.URL, DB: database, Admin: admin, TDB: tdb, Logs: logs}, hub
}
