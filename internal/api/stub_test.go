package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

// echoStore is a todo.Store that keeps nothing and answers with what it is
// given (or with answer and err). It serves only the tests of the HTTP
// layer's own parsing and encoding: authorization and SQL are tested on
// Postgres, never on a stub.
type echoStore struct {
	answer todo.Todo
	err    error
}

func (s echoStore) Create(_ context.Context, _ todo.Caller, f todo.Fields, _ string) (todo.Todo, bool, error) {
	now := time.Now()
	return todo.Todo{ID: "00000000-0000-4000-8000-000000000001", ListID: f.ListID, Title: f.Title, Description: f.Description,
		Completed: f.Completed, DueAt: f.DueAt, CreatedAt: now, UpdatedAt: now, Version: 1}, false, s.err
}
func (s echoStore) Get(context.Context, todo.Caller, string) (todo.Todo, error) {
	return s.answer, s.err
}
func (s echoStore) List(context.Context, todo.Caller, todo.ListParams) (todo.Page, error) {
	return todo.Page{Items: []todo.Todo{s.answer}}, s.err
}
func (s echoStore) Summary(context.Context, todo.Caller, string) (todo.Summary, error) {
	return todo.Summary{}, s.err
}
func (s echoStore) Replace(context.Context, todo.Caller, string, todo.Fields, todo.Versions) (todo.Todo, error) {
	return s.answer, s.err
}
func (s echoStore) Update(context.Context, todo.Caller, string, todo.Patch, todo.Versions) (todo.Todo, error) {
	return s.answer, s.err
}
func (s echoStore) Delete(context.Context, todo.Caller, string, todo.Versions) error { return s.err }
func (s echoStore) SetCompleted(context.Context, todo.Caller, todo.Filter, bool) (todo.Bulk, error) {
	return todo.Bulk{}, s.err
}
func (s echoStore) DeleteAll(context.Context, todo.Caller, todo.Filter) (todo.Bulk, error) {
	return todo.Bulk{}, s.err
}

// echoLists is echoStore's todo.ListStore: it keeps nothing and answers with
// what it is given.
type echoLists struct{}

func (echoLists) CreateList(_ context.Context, _ todo.Caller, name string) (todo.List, error) {
	return todo.List{ID: "00000000-0000-4000-8000-000000000002", Name: name, MyRole: todo.RoleOwner, Version: 1}, nil
}
func (echoLists) Lists(context.Context, todo.Caller, int, *todo.Cursor) (todo.ListPage, error) {
	return todo.ListPage{}, nil
}
func (echoLists) GetList(_ context.Context, _ todo.Caller, id string) (todo.List, error) {
	return todo.List{ID: id, Name: "x", Version: 1}, nil
}
func (echoLists) RenameList(_ context.Context, _ todo.Caller, id, name string, _ todo.Versions) (todo.List, error) {
	return todo.List{ID: id, Name: name, Version: 2}, nil
}
func (echoLists) DeleteList(context.Context, todo.Caller, string, todo.Versions) error { return nil }
func (echoLists) Members(context.Context, todo.Caller, string, int, string) ([]todo.Member, error) {
	return []todo.Member{}, nil
}
func (echoLists) AddMember(_ context.Context, _ todo.Caller, _, userID, role string) (todo.Member, error) {
	return todo.Member{UserID: userID, Role: role}, nil
}
func (echoLists) SetRole(_ context.Context, _ todo.Caller, _, userID, role string) (todo.Member, error) {
	return todo.Member{UserID: userID, Role: role}, nil
}
func (echoLists) RemoveMember(context.Context, todo.Caller, string, string) error { return nil }
func (echoLists) CreateInvitation(_ context.Context, _ todo.Caller, listID string, inv todo.NewInvitation) (todo.Invitation, error) {
	return todo.Invitation{ListID: listID, Role: inv.Role, MaxUses: inv.MaxUses}, nil
}
func (echoLists) Invitations(context.Context, todo.Caller, string) ([]todo.Invitation, error) {
	return []todo.Invitation{}, nil
}
func (echoLists) RevokeInvitation(context.Context, todo.Caller, string, string) error { return nil }
func (echoLists) AcceptInvitation(context.Context, todo.Caller, string) (todo.Joined, error) {
	return todo.Joined{}, nil
}

var stubAuth = auth.Config{Secret: []byte("stub-secret-stub-secret-stub-secret!"), Leeway: time.Second}

// stubServer is the whole API on store, with its logs and metrics.
type stubServer struct {
	*server
	logs    *LockedBuffer
	metrics *prometheus.Registry
	token   string
}

// LockedBuffer is a bytes.Buffer safe for a server's concurrent writes (of
// its logs). Exported for the api_test package.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, as a server's log handler does.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written so far.
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

func newStubServer(t testing.TB, store todo.Store) *stubServer {
	t.Helper()
	verifier, err := auth.NewVerifier(context.Background(), stubAuth)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Sign(stubAuth, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cursors, err := todo.NewCursorKey([]byte("stub-cursor-key-stub-cursor-key!"))
	if err != nil {
		t.Fatal(err)
	}
	logs, reg := &LockedBuffer{}, prometheus.NewRegistry()
	s := newServer(Deps{Todos: store, Lists: echoLists{}, Verifier: verifier, Cursors: cursors,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: NewMetrics(reg)})
	return &stubServer{server: s, logs: logs, metrics: reg, token: tok}
}

// do serves one request in process; header pairs follow the body.
func (s *stubServer) do(method, target, body string, header ...string) *http.Response {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.router.ServeHTTP(w, req)
	return w.Result()
}

// internals are what no response body may carry: Postgres's words, table and
// constraint names, the driver's name, Go's types and layouts.
var internals = []string{"SQLSTATE", "ERROR:", "todos", "idempotency_keys", "_check", "_pkey", "violates", "pgx",
	"Go struct", "json: ", "invalid character", "2006-01-02", "time.Time", "cannot unmarshal", "Body", "panic"}

// Leak is the first of internals found in body, or "". (Exported for the
// api_test package's shared problem assertion.)
func Leak(body []byte) string {
	for _, s := range internals {
		if strings.Contains(string(body), s) {
			return s
		}
	}
	return ""
}
