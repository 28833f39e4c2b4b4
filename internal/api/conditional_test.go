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

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/pgcluster"
)

func TestETagsAndPreconditions(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	res := e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"v1"}`)
	id, tag1 := res.JSON(t)["id"].(string), res.Header.Get("ETag")
	path := "/v1/todos/" + id
	if tag1 == "" || !strings.HasPrefix(tag1, `"`) {
		t.Fatalf("create ETag %q, want a strong tag", tag1)
	}
	if got := e.Call(t, http.MethodGet, path, alice, "").Header.Get("ETag"); got != tag1 {
		t.Errorf("GET ETag %q, want %q", got, tag1)
	}
	res = e.Call(t, http.MethodGet, path, alice, "", "If-None-Match", tag1)
	if res.Status != http.StatusNotModified || len(res.Body) != 0 || res.Header.Get("ETag") != tag1 {
		t.Errorf("If-None-Match current: %d %q ETag %q, want 304, no body", res.Status, res.Body, res.Header.Get("ETag"))
	}

	res = e.Call(t, http.MethodPatch, path, alice, `{"title":"v2"}`, "If-Match", tag1)
	tag2 := res.Header.Get("ETag")
	if res.Status != http.StatusOK || tag2 == tag1 {
		t.Fatalf("PATCH with current If-Match: %d, ETag %q after %q", res.Status, tag2, tag1)
	}
	if res := e.Call(t, http.MethodGet, path, alice, "", "If-None-Match", tag1); res.Status != http.StatusOK {
		t.Errorf("If-None-Match stale: %d, want 200", res.Status)
	}
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		res := e.Call(t, method, path, alice, `{"title":"lost update"}`, "If-Match", tag1)
		apitest.WantProblem(t, method+" with stale If-Match", res, http.StatusPreconditionFailed)
		if method != http.MethodDelete && res.Header.Get("ETag") != tag2 {
			t.Errorf("%s 412 carries ETag %q, want the current %q", method, res.Header.Get("ETag"), tag2)
		}
	}
	apitest.WantProblem(t, "weak If-Match", e.Call(t, http.MethodPatch, path, alice, `{"title":"x"}`, "If-Match", "W/"+tag2), http.StatusPreconditionFailed)
	// Strong comparison: a tag matches only exactly as the ETag was sent.
	for _, bad := range []string{`"2`, `""2""`, `"02"`, `"+2"`, `2`} {
		apitest.WantProblem(t, "If-Match "+bad, e.Call(t, http.MethodPatch, path, alice, `{"title":"x"}`, "If-Match", bad), http.StatusPreconditionFailed)
	}
	// Two If-Match lines are one list: the second line's tag counts.
	if res := e.Call(t, http.MethodPatch, path, alice, `{"title":"v2"}`, "If-Match", `"999"`, "If-Match", tag2); res.Status != http.StatusOK {
		t.Errorf("If-Match on two lines, the current tag on the second: %d %s", res.Status, res.Body)
	}
	tag2 = e.Call(t, http.MethodGet, path, alice, "").Header.Get("ETag")
	apitest.WantProblem(t, "If-Match on another's todo", e.Call(t, http.MethodPatch, path, apitest.Token(t, "bob"), `{"title":"x"}`, "If-Match", tag2), http.StatusNotFound)
	if got := e.Call(t, http.MethodGet, path, alice, "").JSON(t)["title"]; got != "v2" {
		t.Errorf("title %v after refused writes, want v2", got)
	}
	if res := e.Call(t, http.MethodPatch, path, alice, `{"completed":true}`, "If-Match", `"999", `+tag2); res.Status != http.StatusOK {
		t.Errorf("If-Match list containing the current tag: %d", res.Status)
	}
	if res := e.Call(t, http.MethodPatch, path, alice, `{"completed":false}`, "If-Match", "*"); res.Status != http.StatusOK {
		t.Errorf("If-Match *: %d", res.Status)
	}
}

// TestConcurrentPatchesOneWins: two PATCHes with the same If-Match, queued
// behind a row lock until both wait for it, then let go together: exactly
// one applies, the other gets 412. Checking the
// version anywhere but on the locked row lets both apply.
func TestConcurrentPatchesOneWins(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	id, tag, unlock := lockedTodo(t, e, alice)
	won, lost := oneWins(t, e, unlock, func(i int) apitest.Response {
		return e.Call(t, http.MethodPatch, "/v1/todos/"+id, alice, fmt.Sprintf(`{"title":"writer %d"}`, i), "If-Match", tag)
	})
	now := e.Call(t, http.MethodGet, "/v1/todos/"+id, alice, "")
	if now.Header.Get("ETag") != `"2"` || now.JSON(t)["title"] != won.JSON(t)["title"] {
		t.Errorf("after the race: ETag %s, title %v; want \"2\" and the winner's %v", now.Header.Get("ETag"), now.JSON(t)["title"], won.JSON(t)["title"])
	}
	// The loser's statement began before the winner committed; its 412 still
	// names the version to retry with, not the one it was refused for.
	if got := lost.Header.Get("ETag"); got != now.Header.Get("ETag") {
		t.Errorf("the 412 carries ETag %s, want the current %s", got, now.Header.Get("ETag"))
	}
}

// TestPatchThatLostToADeleteIs404: a PATCH queued behind a DELETE of its
// todo is answered as a retry would be, 404, not 412 with the ETag of a row
// that is gone.
func TestPatchThatLostToADeleteIs404(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	id, tag, unlock := lockedTodo(t, e, alice)
	deleted, patched := make(chan apitest.Response, 1), make(chan apitest.Response, 1)
	go func() { deleted <- e.Call(t, http.MethodDelete, "/v1/todos/"+id, alice, "") }()
	first, err := waitingOnLocks(t, e, 1) // the DELETE first in the lock's queue
	if err != nil || first != 1 {
		t.Fatalf("the DELETE did not wait on the lock: %d waiting, %v", first, err)
	}
	go func() {
		patched <- e.Call(t, http.MethodPatch, "/v1/todos/"+id, alice, `{"title":"late"}`, "If-Match", tag)
	}()
	both, err := waitingOnLocks(t, e, 2)
	unlock()
	if err != nil || both != 2 {
		t.Fatalf("%d of the 2 writes waited on the lock (%v)", both, err)
	}
	if d := <-deleted; d.Status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", d.Status, d.Body)
	}
	apitest.WantProblem(t, "a PATCH that lost to a DELETE", <-patched, http.StatusNotFound)
}

// TestConcurrentRenamesOneWins: two renames of a list with the same If-Match
// queue on its row; one wins, and the other's 412 names the list's version
// after the winner's, which a retry needs (it shares asNow with the todos'
// writes).
func TestConcurrentRenamesOneWins(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	created := e.Call(t, http.MethodPost, "/v1/lists", alice, `{"name":"groceries"}`)
	if created.Status != http.StatusCreated {
		t.Fatalf("create list: %d %s", created.Status, created.Body)
	}
	id, tag := created.JSON(t)["id"].(string), created.Header.Get("ETag")
	won, lost := oneWins(t, e, lockRow(t, e, "lists", id), func(i int) apitest.Response {
		return e.Call(t, http.MethodPatch, "/v1/lists/"+id, alice, fmt.Sprintf(`{"name":"renamed %d"}`, i), "If-Match", tag)
	})
	now := e.Call(t, http.MethodGet, "/v1/lists/"+id, alice, "")
	if now.Header.Get("ETag") == tag || now.JSON(t)["name"] != won.JSON(t)["name"] {
		t.Errorf("after the race: ETag %s (it was %s), name %v; want a new ETag and the winner's %v", now.Header.Get("ETag"), tag, now.JSON(t)["name"], won.JSON(t)["name"])
	}
	if got := lost.Header.Get("ETag"); got != now.Header.Get("ETag") {
		t.Errorf("the 412 carries ETag %s, want the current %s", got, now.Header.Get("ETag"))
	}
}

// oneWins makes two conditional writes (write(0), write(1)) at once behind
// a row lock, lets the lock go once both wait on it, and returns the one that
// got 200 and the one that got 412, failing unless that is how they ended.
func oneWins(t *testing.T, e *apitest.Env, unlock func(), write func(i int) apitest.Response) (won, lost apitest.Response) {
	t.Helper()
	responses := make([]apitest.Response, 2)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() { responses[i] = write(i) })
	}
	waiting, err := waitingOnLocks(t, e, 2)
	unlock()
	wg.Wait()
	if err != nil || waiting != 2 {
		t.Fatalf("%d of the 2 writes waited on the lock (%v): statuses %d, %d", waiting, err, responses[0].Status, responses[1].Status)
	}
	won, lost = responses[0], responses[1]
	if won.Status != http.StatusOK {
		won, lost = lost, won
	}
	if won.Status != http.StatusOK || lost.Status != http.StatusPreconditionFailed {
		t.Fatalf("statuses %d and %d, want one 200 and one 412: %s %s", won.Status, lost.Status, won.Body, lost.Body)
	}
	return won, lost
}

// lockedTodo is a new todo of the holder of token, its ETag, and a function
// that releases the row lock another session holds on it until then.
func lockedTodo(t *testing.T, e *apitest.Env, token string) (id, tag string, unlock func()) {
	t.Helper()
	res := e.Call(t, http.MethodPost, "/v1/todos", token, `{"title":"race"}`)
	id, tag = res.JSON(t)["id"].(string), res.Header.Get("ETag")
	return id, tag, lockRow(t, e, "todos", id)
}

// lockRow locks row id of table from another session, and returns the
// function that releases it.
func lockRow(t *testing.T, e *apitest.Env, table, id string) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	locker, err := pgx.Connect(ctx, e.TDB.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locker.Close(ctx) })
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT FROM "+pgx.Identifier{table}.Sanitize()+" WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Commit(ctx); err != nil {
			t.Error(err)
		}
	}
}

// waitingOnLocks waits until n of the API's statements on the test database
// wait on a lock, for at most 1.5s (less than lock_timeout, after which they
// give up), and returns how many were waiting then.
func waitingOnLocks(t *testing.T, e *apitest.Env, n int) (int, error) {
	t.Helper()
	var waiting int
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		err := e.Admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
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
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	res := e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"keep"}`)
	id, tag := res.JSON(t)["id"].(string), res.Header.Get("ETag")
	e.Call(t, http.MethodPatch, "/v1/todos/"+id, alice, `{"completed":true}`)
	apitest.WantProblem(t, "stale delete", e.Call(t, http.MethodDelete, "/v1/todos/"+id, alice, "", "If-Match", tag), http.StatusPreconditionFailed)
	var n int
	if err := e.Admin.QueryRow(context.Background(), "SELECT count(*) FROM todos WHERE id = $1", id).Scan(&n); err != nil || n != 1 {
		t.Errorf("row gone after a refused delete: %d %v", n, err)
	}
}

// TestIdempotentCreate: ten parallel POSTs with one key create one todo and
// all get the same response; the key with another body is refused.
func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	const body = `{"title":"pay rent","due_at":"2027-02-01T09:00:00Z"}`
	responses := make([]apitest.Response, 10)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() {
			responses[i] = e.Call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "rent-2027-02")
		})
	}
	wg.Wait()
	first := responses[0]
	for i, res := range responses {
		if res.Status != http.StatusCreated || string(res.Body) != string(first.Body) ||
			res.Header.Get("Location") != first.Header.Get("Location") || res.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("response %d: %d %s %s, want the first's: %d %s %s", i, res.Status, res.Header.Get("Location"), res.Body,
				first.Status, first.Header.Get("Location"), first.Body)
		}
	}
	if n := e.RowCount(t); n != 1 {
		t.Fatalf("%d todos created, want 1", n)
	}
	// Later changes do not alter the replayed response: it is the original.
	e.Call(t, http.MethodPatch, first.Header.Get("Location"), alice, `{"completed":true}`)
	if res := e.Call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "rent-2027-02"); string(res.Body) != string(first.Body) {
		t.Errorf("replay after a change: %s, want %s", res.Body, first.Body)
	}
	apitest.WantProblem(t, "same key, other body", e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"pay rent twice"}`,
		"Idempotency-Key", "rent-2027-02"), http.StatusUnprocessableEntity)
	if res := e.Call(t, http.MethodPost, "/v1/todos", apitest.Token(t, "bob"), body, "Idempotency-Key", "rent-2027-02"); res.Status != http.StatusCreated || string(res.Body) == string(first.Body) {
		t.Errorf("bob with alice's key: %d %s, want his own new todo", res.Status, res.Body)
	}
	apitest.WantProblem(t, "key with a space", e.Call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "a b"), http.StatusUnprocessableEntity)

	// After 24 hours the key is free again.
	if _, err := e.Admin.Exec(context.Background(), "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"); err != nil {
		t.Fatal(err)
	}
	if res := e.Call(t, http.MethodPost, "/v1/todos", alice, body, "Idempotency-Key", "rent-2027-02"); res.Status != http.StatusCreated || string(res.Body) == string(first.Body) {
		t.Errorf("expired key: %d %s, want a new todo", res.Status, res.Body)
	}
	if n := e.RowCount(t); n != 3 {
		t.Errorf("%d todos, want 3 (alice's two, bob's one)", n)
	}
}
