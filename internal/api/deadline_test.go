package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/todo"
)

// These tests need no database: what they check happens before the store,
// which records the context it was called with.

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
func serveNoDB(t *testing.T, store todo.Store, method, path string, authorized bool) apitest.Response {
	t.Helper()
	s := newStubServer(t, store)
	tok := ""
	if authorized {
		tok = s.token
	}
	return apitest.Serve(s.handler, method, path, tok, "")
}

// TestStoreCallsHaveTheRequestDeadline: the store runs under a context that
// ends api.RequestTimeout after the request began, so no request waits on the
// database for ever, whatever the database's own timeouts.
func TestStoreCallsHaveTheRequestDeadline(t *testing.T) {
	t.Parallel()
	store := &recordingStore{}
	begin := time.Now()
	if res := serveNoDB(t, store, http.MethodGet, "/v1/todos/summary", true); res.Status != http.StatusOK {
		t.Fatalf("summary: %d %s", res.Status, res.Body)
	}
	if !store.hasDeadline || store.deadline.Before(begin.Add(api.RequestTimeout)) || store.deadline.After(time.Now().Add(api.RequestTimeout)) {
		t.Errorf("store called with deadline %v (set: %t), want %s after the request began (%v)", store.deadline, store.hasDeadline, api.RequestTimeout, begin)
	}
}
