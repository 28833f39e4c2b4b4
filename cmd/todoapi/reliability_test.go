package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/pgcluster"
)

// These tests run a Postgres of their own, which they stop, restart and
// starve; the shared test cluster is not touched.

type private struct {
	cluster *pgcluster.Cluster
	apiURL  string // DATABASE_URL for the API
}

func privateCluster(t *testing.T, urlParams string) private {
	t.Helper()
	ctx := context.Background()
	// Durable, as in production: an immediate shutdown must not lose a commit.
	c, err := pgcluster.Start(ctx, "fsync=on", "synchronous_commit=on", "full_page_writes=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if err := pgcluster.CreateDatabase(ctx, c.AdminURL(), "todo", ""); err != nil {
		t.Fatal(err)
	}
	if err := pgcluster.Migrate(ctx, c.URL(pgcluster.OwnerRole, "todo")); err != nil {
		t.Fatal(err)
	}
	return private{cluster: c, apiURL: c.URL(pgcluster.APIRole, "todo") + urlParams}
}

func (p private) admin(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), p.cluster.URL("postgres", "todo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// lockedTodo creates a todo titled title for tok and has the superuser hold
// its row lock until release is called; admin stays usable for queries.
func (p private) lockedTodo(t *testing.T, base, tok, title string) (id string, admin *pgx.Conn, release func()) {
	t.Helper()
	_, body, _ := call("POST", base+"/v1/todos", tok, `{"title":"`+title+`"}`)
	id = body[strings.Index(body, `"id":"`)+6:][:36]
	admin = p.admin(t)
	locker := p.admin(t)
	tx, err := locker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "SELECT * FROM todos WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	return id, admin, func() {
		if err := tx.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

var client = &http.Client{Timeout: 15 * time.Second}

// call sends a request and returns its status and body; status 0 is a
// transport error (a hung or refused request). It may run on any goroutine.
func call(method, url, tok, body string) (int, string, http.Header) {
	res, err := apitest.Send(client, method, url, tok, body)
	if err != nil {
		return 0, err.Error(), nil
	}
	return res.Status, string(res.Body), res.Header
}

// TestSurvivesRestarts: a steady load of two users through a fast and an
// immediate restart of Postgres. Failures only during the outages, all of them
// 503 with Retry-After; nothing hangs, nothing half-written, no one sees
// another's todos, and the API recovers by itself.
func TestSurvivesRestarts(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	users := map[string]string{"alice": apitest.Token(t, "alice"), "bob": apitest.Token(t, "bob")}

	var mu sync.Mutex
	var outages [][2]time.Time
	type failure struct {
		at     time.Time
		status int
		body   string
		retry  string
	}
	var failures []failure
	created := map[string]string{} // id -> owner
	var leaks atomic.Int64
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for name, tok := range users {
		for w := range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stopLoad:
						return
					default:
					}
					title := fmt.Sprintf("%s-%d-%d", name, w, i)
					status, body, h := call("POST", base+"/v1/todos", tok, `{"title":"`+title+`"}`)
					if status == http.StatusCreated {
						id := body[strings.Index(body, `"id":"`)+6:][:36]
						mu.Lock()
						created[id] = name
						mu.Unlock()
					}
					lstatus, list, lh := call("GET", base+"/v1/todos?limit=100", tok, "")
					for other := range users {
						if other != name && strings.Contains(list, `"`+other+`-`) {
							leaks.Add(1)
						}
					}
					mu.Lock()
					if status != http.StatusCreated {
						failures = append(failures, failure{time.Now(), status, body, h.Get("Retry-After")})
					}
					if lstatus != http.StatusOK {
						failures = append(failures, failure{time.Now(), lstatus, list, lh.Get("Retry-After")})
					}
					mu.Unlock()
				}
			})
		}
	}
	time.Sleep(time.Second)
	for _, mode := range []string{"fast", "immediate"} {
		begin := time.Now()
		if err := p.cluster.Restart(context.Background(), mode); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		outages = append(outages, [2]time.Time{begin, time.Now()})
		mu.Unlock()
		time.Sleep(3 * time.Second)
	}
	close(stopLoad)
	wg.Wait()

	for _, f := range failures {
		inOutage := false
		for _, o := range outages {
			if !f.at.Before(o[0]) && f.at.Before(o[1].Add(2*time.Second)) {
				inOutage = true
			}
		}
		switch {
		case f.status != http.StatusServiceUnavailable:
			t.Errorf("a failure that is not 503: %d %s", f.status, f.body)
		case f.retry == "":
			t.Errorf("a 503 without Retry-After: %s", f.body)
		case !inOutage:
			t.Errorf("a 503 outside the outages: %s at %s", f.body, f.at)
		}
	}
	if n := leaks.Load(); n != 0 {
		t.Errorf("%d lists showed another user's todos", n)
	}
	// Everything acknowledged is there, whole, with its owner.
	admin := p.admin(t)
	for id, owner := range created {
		var got, title string
		if err := admin.QueryRow(context.Background(), "SELECT user_id, title FROM todos WHERE id = $1", id).Scan(&got, &title); err != nil || got != owner || !strings.HasPrefix(title, owner+"-") {
			t.Errorf("todo %s acknowledged to %s: %q %q (%v)", id, owner, got, title, err)
		}
	}
	if status, body, _ := call("GET", base+"/v1/todos", users["alice"], ""); status != http.StatusOK {
		t.Errorf("after the restarts: %d %s", status, body)
	}
	t.Logf("%d todos created, %d failed requests during 2 restarts", len(created), len(failures))
}

func TestReadyWhenTheDatabaseComesUp(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	ctx := context.Background()
	if err := p.cluster.Down(ctx); err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	if status, _, _ := call("GET", base+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("healthz with the database down: %d", status)
	}
	if status, _, h := call("GET", base+"/readyz", "", ""); status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("readyz with the database down: %d, Retry-After %q", status, h.Get("Retry-After"))
	}
	if status, _, _ := call("GET", base+"/v1/todos", apitest.Token(t, "alice"), ""); status != http.StatusServiceUnavailable {
		t.Errorf("a request with the database down: %d, want 503", status)
	}
	if err := p.cluster.Up(ctx); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	for {
		if status, _, _ := call("GET", base+"/readyz", "", ""); status == http.StatusOK {
			break
		}
		if time.Since(up) > 10*time.Second {
			t.Fatal("not ready 10s after the database came up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("ready %s after the database came up", time.Since(up).Round(time.Millisecond))
}

// TestPoolExhaustion: with every connection stuck behind a lock, the next
// request fails fast with 503; once the lock goes, all is well and no backend
// is left idle in a transaction.
func TestPoolExhaustion(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "&pool_max_conns=2")
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	alice := apitest.Token(t, "alice")
	id, admin, release := p.lockedTodo(t, base, alice, "contended")
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range 2 { // these two take both connections and wait on the lock
		wg.Go(func() { statuses[i], _, _ = call("PATCH", base+"/v1/todos/"+id, alice, `{"completed":true}`) })
	}
	time.Sleep(300 * time.Millisecond)
	begin := time.Now()
	statuses[2], _, _ = call("GET", base+"/v1/todos", alice, "") // no connection left
	waited := time.Since(begin)
	wg.Wait()
	release()
	for i, s := range statuses {
		if s != http.StatusServiceUnavailable {
			t.Errorf("request %d: %d, want 503 (the extra one took %s)", i, s, waited)
		}
	}
	if waited > 5*time.Second {
		t.Errorf("the extra request took %s: it should fail within the acquire timeout", waited)
	}
	if status, _, _ := call("PATCH", base+"/v1/todos/"+id, alice, `{"completed":true}`); status != http.StatusOK {
		t.Errorf("after the lock: %d", status)
	}
	var idle int
	if err := admin.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND state LIKE 'idle in transaction%'", pgcluster.APIRole).Scan(&idle); err != nil || idle != 0 {
		t.Errorf("%d API backends idle in transaction (%v)", idle, err)
	}
}

// TestClientDisconnectCancelsTheQuery: a client that gives up while its
// write waits on a lock leaves nothing running and nothing committed.
func TestClientDisconnectCancelsTheQuery(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	alice := apitest.Token(t, "alice")
	id, admin, release := p.lockedTodo(t, base, alice, "before")
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	req, _ := http.NewRequest("PATCH", base+"/v1/todos/"+id, strings.NewReader(`{"title":"after"}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json")
	if _, err := impatient.Do(req); err == nil {
		t.Fatal("the request finished while the row was locked")
	}
	time.Sleep(500 * time.Millisecond)
	var waiting int
	if err := admin.QueryRow(context.Background(),
		activeOnTodos, pgcluster.APIRole).Scan(&waiting); err != nil || waiting != 0 {
		t.Errorf("%d API queries still running after the client left (%v)", waiting, err)
	}
	release()
	time.Sleep(200 * time.Millisecond)
	if _, body, _ := call("GET", base+"/v1/todos/"+id, alice, ""); !strings.Contains(body, `"title":"before"`) {
		t.Errorf("the abandoned write was committed: %s", body)
	}
}

// TestKilledBackends: after pg_terminate_backend of every API connection (as
// Neon's suspend does), the next reads and writes succeed.
func TestKilledBackends(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	alice := apitest.Token(t, "alice")
	for range 3 {
		call("GET", base+"/v1/todos", alice, "")
	}
	admin := p.admin(t)
	var killed int
	if err := admin.QueryRow(context.Background(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1", pgcluster.APIRole).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("killed %d backends (%v)", killed, err)
	}
	if status, body, _ := call("POST", base+"/v1/todos", alice, `{"title":"after the kill"}`); status != http.StatusCreated {
		t.Errorf("write after the kill: %d %s", status, body)
	}
	if status, body, _ := call("GET", base+"/v1/todos", alice, ""); status != http.StatusOK {
		t.Errorf("read after the kill: %d %s", status, body)
	}
}

// TestGracefulShutdown: on SIGTERM a request in flight completes, and run
// returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, stop := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	alice := apitest.Token(t, "alice")
	id, _, release := p.lockedTodo(t, base, alice, "slow")
	done := make(chan int)
	go func() {
		status, _, _ := call("PATCH", base+"/v1/todos/"+id, alice, `{"completed":true}`)
		done <- status
	}()
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan error)
	go func() { stopped <- stop() }() // what SIGTERM does
	time.Sleep(300 * time.Millisecond)
	release()
	if status := <-done; status != http.StatusOK {
		t.Errorf("in-flight request: %d, want 200", status)
	}
	if err := <-stopped; err != nil {
		t.Errorf("run after SIGTERM: %v, want nil (exit 0)", err)
	}
	if status, _, _ := call("GET", base+"/healthz", "", ""); status != 0 {
		t.Errorf("a request after shutdown got %d", status)
	}
}

// activeOnTodos counts the API's statements running on todos now (the event
// poller's own statements, on events, run all the time).
const activeOnTodos = "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND state = 'active' AND query LIKE '%todos%'"

// TestStatementTimeout: a statement that runs past statement_timeout is
// cancelled inside Postgres, the client gets 503 with Retry-After, and
// nothing is committed.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	alice := apitest.Token(t, "alice")
	_, body, _ := call("POST", base+"/v1/todos", alice, `{"title":"quick"}`)
	id := body[strings.Index(body, `"id":"`)+6:][:36]
	admin := p.admin(t)
	_, err := admin.Exec(context.Background(), `
		CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.title = 'slow' THEN PERFORM pg_sleep(30); END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER slow_down BEFORE UPDATE ON todos FOR EACH ROW EXECUTE FUNCTION slow_down()`)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	status, body, h := call("PATCH", base+"/v1/todos/"+id, alice, `{"title":"slow"}`)
	took := time.Since(begin)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("a statement past its timeout: %d %s, Retry-After %q; want 503 with Retry-After", status, body, h.Get("Retry-After"))
	}
	if took > 9*time.Second {
		t.Errorf("took %s: statement_timeout (%s) should have ended it", took, "5s")
	}
	var title string
	var running int
	if err := admin.QueryRow(context.Background(), "SELECT title FROM todos WHERE id = $1", id).Scan(&title); err != nil || title != "quick" {
		t.Errorf("title %q (%v): the timed-out write was committed", title, err)
	}
	if err := admin.QueryRow(context.Background(),
		activeOnTodos, pgcluster.APIRole).Scan(&running); err != nil || running != 0 {
		t.Errorf("%d API statements still running (%v)", running, err)
	}
}
