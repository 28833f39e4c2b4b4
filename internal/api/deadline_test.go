package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

// These tests need no database: what they check happens before the store,
// which records the context it was called with.

var noDBAuth = auth.Config{Secret: []byte("no-db-secret-no-db-secret-no-db-secret"), Leeway: time.Second}

// recordingStore is a todo.Store of which only Summary may be called.
type recordingStore struct {
	todo.Store
	deadline    time.Time
	hasDeadline bool
}

func (s *recordingStore) Summary(ctx context.Context, _ todo.Caller, _ string) (todo.Summary, error) {
	s.deadline, s.hasDeadline = ctx.Deadline()
	return todo.Summary{}, nil
}

// serveNoDB answers one request to the API built on store, as alice when
// authorized.
func serveNoDB(t *testing.T, store todo.Store, method, path string, authorized bool) *httptest.ResponseRecorder {
	t.Helper()
	verifier, err := auth.NewVerifier(t.Context(), noDBAuth)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	if authorized {
		tok, err := auth.Sign(noDBAuth, "alice", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	cursors, err := todo.NewCursorKey([]byte("no-db-cursors-no-db-cursors-no-db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	NewServer(Deps{Todos: store, Verifier: verifier, Cursors: cursors, Logger: slog.New(slog.DiscardHandler)}).ServeHTTP(rec, req)
	return rec
}

// TestStoreCallsHaveTheRequestDeadline: the store runs under a context that
// ends requestTimeout after the request began, so no request waits on the
// database for ever, whatever the database's own timeouts.
func TestStoreCallsHaveTheRequestDeadline(t *testing.T) {
	t.Parallel()
	store := &recordingStore{}
	begin := time.Now()
	if rec := serveNoDB(t, store, http.MethodGet, "/v1/todos/summary", true); rec.Code != http.StatusOK {
		t.Fatalf("summary: %d %s", rec.Code, rec.Body)
	}
	if !store.hasDeadline || store.deadline.Before(begin.Add(requestTimeout)) || store.deadline.After(time.Now().Add(requestTimeout)) {
		t.Errorf("store called with deadline %v (set: %t), want %s after the request began (%v)", store.deadline, store.hasDeadline, requestTimeout, begin)
	}
}
