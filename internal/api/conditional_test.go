package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/pgcluster"
)

func TestETagsAndPreconditions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := token(t, "alice")
	res := e.call(t, http.MethodPost, "/v1/todos", alice, `{"title":"v1"}`)
	id, tag1 := res.json(t)["id"].(string), res.header.Get("ETag")
	path := "/v1/todos/" + id
	if tag1 == "" || !strings.HasPrefix(tag1, `"`) {
		t.Fatalf("create ETag %q, want a strong tag", tag1)
	}
	if got := e.call(t, http.MethodGet, path, alice, "").header.Get("ETag"); got != tag1 {
		t.Errorf("GET ETag %q, want %q", got, tag1)
	}
	res = e.call(t, http.MethodGet, path, alice, "", "If-None-Match", tag1)
	if res.status != http.StatusNotModified || len(res.body) != 0 || res.header.Get("ETag") != tag1 {
		t.Errorf("If-None-Match current: %d %q ETag %q, want 304, no body", res.status, res.body, res.header.Get("ETag"))
	}

	res = e.call(t, http.MethodPatch, path, alice, `{"title":"v2"}`, "If-Match", tag1)
	tag2 := res.header.Get("ETag")
	if res.status != http.StatusOK || tag2 == tag1 {
		t.Fatalf("PATCH with current If-Match: %d, ETag %q after %q", res.status, tag2, tag1)
	}
	if res := e.call(t, http.MethodGet, path, alice, "", "If-None-Match", tag1); res.status != http.StatusOK {
		t.Errorf("If-None-Match stale: %d, want 200", res.status)
	}
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		res := e.call(t, method, path, alice, `{"title":"lost update"}`, "If-Match", tag1)
		wantProblem(t, method+" with stale If-Match", res, http.StatusPreconditionFailed)
		if method != http.MethodDelete && res.header.Get("ETag") != tag2 {
			t.Errorf("%s 412 carries ETag %q, want the current %q", method, res.header.Get("ETag"), tag2)
		}
	}
	wantProblem(t, "weak If-Match", e.call(t, http.MethodPatch, path, alice, `{"title":"x"}`, "If-Match", "W/"+tag2), http.StatusPreconditionFailed)
	wantProblem(t, "If-Match on another's todo", e.call(t, http.MethodPatch, path, token(t, "bob"), `{"title":"x"}`, "If-Match", tag2), http.StatusNotFound)
	if got := e.call(t, http.MethodGet, path, alice, "").json(t)["title"]; got != "v2" {
		t.Errorf("title %v after refused writes, want v2", got)
	}
	if res := e.call(t, http.MethodPatch, path, alice, `{"completed":true}`, "If-Match", `"999", `+tag2); res.status != http.StatusOK {
		t.Errorf("If-Match list containing the current tag: %d", res.status)
	}
	if res := e.call(t, http.MethodPatch, path, alice, `{"completed":false}`, "If-Match", "*"); res.status != http.StatusOK {
		t.Errorf("If-Match *: %d", res.status)
	}
}

// TestConcurrentPatchesOneWins: two PATCHes with the same If-Match, queued
// behind a row lock until both wait for it, then let go together: exactly
// one applies, the other gets 412. Checking the
// version anywhere but on the locked row lets both apply.
func TestConcurrentPatchesOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice := token(t, "alice")
	res := e.call(t, http.MethodPost, "/v1/todos", alice, `{"title":"race"}`)
	id, tag := res.json(t)["id"].(string), res.header.Get("ETag")
	locker, err := pgx.Connect(ctx, e.tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT FROM todos WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	responses := make([]response, 2)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() {
			responses[i] = e.call(t, http.MethodPatch, "/v1/todos/"+id, alice, fmt.Sprintf(`{"title":"writer %d"}`, i), "If-Match", tag)
		})
	}
	waiting, err := e.waitingOnLocks(t, 2)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err != nil || waiting != 2 {
		t.Fatalf("%d of the 2 writes waited on the lock (%v): statuses %d, %d", waiting, err, responses[0].status, responses[1].status)
	}
	won, lost := responses[0], responses[1]
	if won.status != http.StatusOK {
		won, lost = lost, won
	}
	if won.status != http.StatusOK || lost.status != http.StatusPreconditionFailed {
		t.Fatalf("statuses %d and %d, want one 200 and one 412: %s %s", won.status, lost.status, won.body, lost.body)
	}
	now := e.call(t, http.MethodGet, "/v1/todos/"+id, alice, "")
	if now.header.Get("ETag") != `"2"` || now.json(t)["title"] != won.json(t)["title"] {
		t.Errorf("after the race: ETag %s, title %v; want \"2\" and the winner's %v", now.header.Get("ETag"), now.json(t)["title"], won.json(t)["title"])
	}
}

// waitingOnLocks waits until n of the API's statements on the test database
// wait on a lock, for at most 1.5s (less than lock_timeout, after which they
// give up), and returns how many were waiting then.
func (e *env) waitingOnLocks(t *testing.T, n int) (int, error) {
	t.Helper()
	var waiting int
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		err := e.admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND usename = $1 AND wait_event_type = 'Lock'`, pgcluster.APIRole).Scan(&waiting)
		if err != nil || waiting >= n {
			return waiting, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return waiting, nil
}

func TestDeleteWithStaleIfMatchKeepsTheRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := token(t, "alice")
	res := e.call(t, http.MethodPost, "/v1/todos", alice, `{"title":"keep"}`)
	id, tag := res.json(t)["id"].(string), res.header.Get("ETag")
	e.call(t, http.MethodPatch, "/v1/todos/"+id, alice, `{"completed":true}`)
	wantProblem(t, "stale delete", e.call(t, http.MethodDelete, "/v1/todos/"+id, alice, "", "If-Match", tag), http.StatusPreconditionFailed)
	var n int
	if err := e.admin.QueryRow(context.Background(), "SELECT count(*) FROM todos WHERE id = $1", id).Scan(&n); err != nil || n != 1 {
		t.Errorf("row gone after a refused delete: %d %v", n, err)
	}
}

// TestIdempotentCreate: ten parallel POSTs with one key create one todo and
// all get the same response; the key with another body is refused.
func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := token(t, "alice")
	const body = `{"title":"pay rent","due_at":"2027-02-01T09:00:00Z"}`
	responses := make([]response, 10)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() {
			responses[i] = e.call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "rent-2027-02")
		})
	}
	wg.Wait()
	first := responses[0]
	for i, res := range responses {
		if res.status != http.StatusCreated || string(res.body) != string(first.body) ||
			res.header.Get("Location") != first.header.Get("Location") || res.header.Get("ETag") != first.header.Get("ETag") {
			t.Errorf("response %d: %d %s %s, want the first's: %d %s %s", i, res.status, res.header.Get("Location"), res.body,
				first.status, first.header.Get("Location"), first.body)
		}
	}
	if n := e.rowCount(t); n != 1 {
		t.Fatalf("%d todos created, want 1", n)
	}
	// Later changes do not alter the replayed response: it is the original.
	e.call(t, http.MethodPatch, first.header.Get("Location"), alice, `{"completed":true}`)
	if res := e.call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "rent-2027-02"); string(res.body) != string(first.body) {
		t.Errorf("replay after a change: %s, want %s", res.body, first.body)
	}
	wantProblem(t, "same key, other body", e.call(t, http.MethodPost, "/v1/todos", alice, `{"title":"pay rent twice"}`,
		"Idempotency-Key", "rent-2027-02"), http.StatusUnprocessableEntity)
	if res := e.call(t, http.MethodPost, "/v1/todos", token(t, "bob"), body, "Idempotency-Key", "rent-2027-02"); res.status != http.StatusCreated || string(res.body) == string(first.body) {
		t.Errorf("bob with alice's key: %d %s, want his own new todo", res.status, res.body)
	}
	wantProblem(t, "key with a space", e.call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "a b"), http.StatusUnprocessableEntity)

	// After 24 hours the key is free again.
	if _, err := e.admin.Exec(context.Background(), "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"); err != nil {
		t.Fatal(err)
	}
	if res := e.call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "rent-2027-02"); res.status != http.StatusCreated || string(res.body) == string(first.body) {
		t.Errorf("expired key: %d %s, want a new todo", res.status, res.body)
	}
	if n := e.rowCount(t); n != 3 {
		t.Errorf("%d todos, want 3 (alice's two, bob's one)", n)
	}
}
