package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

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
// longer than the queue allows gets a 503 problem with Retry-After; the
// health endpoints do not queue.
func TestAdmitQueuesPastTheLimit(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(context.Background(), apitest.Auth)
	if err != nil {
		t.Fatal(err)
	}
	store := blockingStore{started: make(chan struct{}, 2), release: make(chan struct{})}
	h := api.NewServer(api.Deps{Todos: store, Lists: echoLists{}, Verifier: verifier, Cursors: apitest.CursorKey(t),
		Logger: slog.New(slog.NewJSONHandler(&apitest.LockedBuffer{}, nil)), MaxActive: 1})
	tok := apitest.Token(t, "alice")

	first := make(chan apitest.Response, 1)
	go func() { first <- apitest.Serve(h, http.MethodGet, "/v1/todos", tok, "") }()
	<-store.started // the one slot is taken

	if res := apitest.Serve(h, http.MethodGet, "/healthz", "", ""); res.Status != http.StatusOK {
		t.Errorf("/healthz while the API is busy: %d, want 200", res.Status)
	}
	waited := make(chan apitest.Response, 1)
	go func() { waited <- apitest.Serve(h, http.MethodGet, "/v1/todos", tok, "") }()
	var busy apitest.Response
	select {
	case <-store.started:
		t.Fatal("a second request ran while the first held the only slot")
	case busy = <-waited:
	}
	apitest.WantProblem(t, "a request that waited too long", busy, http.StatusServiceUnavailable)
	if busy.Header.Get("Retry-After") == "" {
		t.Error("a 503 for a busy server has no Retry-After")
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
