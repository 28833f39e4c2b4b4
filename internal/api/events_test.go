package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/event"
)

// eventsEnv is an API instance with live updates; more instances can share
// its database (instance).
type eventsEnv struct {
	*apitest.Env
	hub *event.Hub
}

func newEventsEnv(t *testing.T, cfg event.Config) *eventsEnv {
	t.Helper()
	return serveEvents(t, dbtest.New(t), cfg)
}

// serveEvents serves the API with live updates on tdb: one API instance.
func serveEvents(t *testing.T, tdb dbtest.TestDB, cfg event.Config, origins ...string) *eventsEnv {
	t.Helper()
	e, hub := apitest.ServeEvents(t, tdb, cfg, origins...)
	return &eventsEnv{Env: e, hub: hub}
}

// sse is one received event.
type sse struct {
	id, name string
	data     map[string]any
}

// sseStream is an open event stream, read in the background.
type sseStream struct {
	status      int
	problem     []byte // the body of a apitest.Response that is not 200
	problemType string
	events      chan sse
	cancel      context.CancelFunc
}

// subscribe opens GET /v1/events (with query, e.g. "?ticket=...") with the
// token (if any) and header pairs, and returns once the apitest.Response arrived.
func subscribe(t *testing.T, base, query, tok string, header ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &sseStream{status: res.StatusCode, events: make(chan sse, 1000), cancel: cancel}
	if res.StatusCode != http.StatusOK {
		s.problem, _ = io.ReadAll(res.Body)
		s.problemType = res.Header.Get("Content-Type")
	}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		if res.StatusCode != http.StatusOK {
			return
		}
		sc := bufio.NewScanner(res.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sse{id: ev.id} // the id carries over, as in EventSource
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			}
		}
	}()
	return s
}

// next waits for the next event (a minute at most: a bound, not a measure).
func (s *sseStream) next(t *testing.T) sse {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event within a minute")
	}
	return sse{}
}

// until reads events up to and including the first named name, and returns
// those before it.
func (s *sseStream) until(t *testing.T, name string) []sse {
	t.Helper()
	var got []sse
	for {
		ev := s.next(t)
		if ev.name == name {
			return got
		}
		got = append(got, ev)
	}
}

// ended waits for the stream to close and returns what came before.
func (s *sseStream) ended(t *testing.T) []sse {
	t.Helper()
	var got []sse
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return got
			}
			got = append(got, ev)
		case <-time.After(time.Minute):
			t.Fatal("the stream did not end within a minute")
		}
	}
}

// summary is how a test compares events: "kind title" or "kind id".
func summary(evs []sse) []string {
	var out []string
	for _, ev := range evs {
		s := ev.name
		if todo, ok := ev.data["todo"].(map[string]any); ok {
			s += " " + todo["title"].(string)
		}
		out = append(out, s)
	}
	return out
}

func equal(a, b []string) bool {
	return strings.Join(a, "|") == strings.Join(b, "|")
}

// marker creates a todo titled title for tok and waits until stream s
// delivers it: everything ordered before it has been delivered by then.
func (e *eventsEnv) marker(t *testing.T, s *sseStream, tok, title string) []sse {
	t.Helper()
	e.Create(t, tok, `{"title":"`+title+`"}`)
	var got []sse
	for {
		ev := s.next(t)
		if todo, ok := ev.data["todo"].(map[string]any); ok && todo["title"] == title {
			return got
		}
		got = append(got, ev)
	}
}

// TestEventsIsolation: each user receives every change to their own todos,
// in order, with the data to apply it (ETag included), and nothing of
// another user's, deletes and bulk actions included.
func TestEventsIsolation(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	sa := subscribe(t, e.URL, "", alice)
	sb := subscribe(t, e.URL, "", bob)
	for _, s := range []*sseStream{sa, sb} {
		if ready := s.next(t); ready.name != "ready" || ready.id == "" {
			t.Fatalf("first event %+v, want ready with an id", ready)
		}
	}

	a1 := e.Create(t, alice, `{"title":"a1"}`)
	e.Create(t, alice, `{"title":"a2","completed":true}`)
	e.Create(t, bob, `{"title":"b1"}`)
	if res := e.Call(t, http.MethodPatch, "/v1/todos/"+a1["id"].(string), alice, `{"title":"a1 changed"}`); res.Status != 200 {
		t.Fatal(res.Status)
	}
	e.Call(t, http.MethodPatch, "/v1/todos?completed=false", alice, `{"completed":true}`) // toggle all: a1
	e.Call(t, http.MethodDelete, "/v1/todos?completed=true", alice, "")                   // clear completed: a1, a2
	e.Create(t, bob, `{"title":"b2"}`)

	gotA := summary(e.marker(t, sa, alice, "a-end"))
	wantA := []string{"todo.created a1", "todo.created a2", "todo.updated a1 changed", "todo.updated a1 changed", "todo.deleted", "todo.deleted"}
	if !equal(gotA, wantA) {
		t.Errorf("alice received %q, want %q", gotA, wantA)
	}
	gotB := summary(e.marker(t, sb, bob, "b-end"))
	if want := []string{"todo.created b1", "todo.created b2"}; !equal(gotB, want) {
		t.Errorf("bob received %q, want only his own %q", gotB, want)
	}

	// The data is what the API would return, with the ETag.
	res := e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"shape","description":"d"}`)
	ev := sa.next(t)
	var created map[string]any
	_ = json.Unmarshal(res.Body, &created)
	if got := ev.data["todo"].(map[string]any); ev.data["etag"] != res.Header.Get("ETag") || ev.data["id"] != created["id"] ||
		got["description"] != "d" || got["created_at"] != created["created_at"] || len(got) != len(created) {
		t.Errorf("event %+v does not match the apitest.Response %s (ETag %s)", ev, res.Body, res.Header.Get("ETag"))
	}
	e.Call(t, http.MethodDelete, "/v1/todos/"+created["id"].(string), alice, "")
	if ev := sa.next(t); ev.name != event.TodoDeleted || ev.data["id"] != created["id"] {
		t.Errorf("delete event %+v", ev)
	}
	// bob's stream saw none of it: his next event is his own.
	if got := summary(e.marker(t, sb, bob, "b-end-2")); len(got) != 0 {
		t.Errorf("bob received %q", got)
	}
}

// TestEventsResume: a client that reconnects with Last-Event-ID (header or
// query) gets exactly the events it missed, in order: no loss, no duplicate.
func TestEventsResume(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice := apitest.Token(t, "alice")
	s := subscribe(t, e.URL, "", alice)
	s.next(t) // ready
	e.Create(t, alice, `{"title":"one"}`)
	e.Create(t, alice, `{"title":"two"}`)
	s.next(t)
	last := s.next(t).id
	s.cancel()
	for _, title := range []string{"three", "four", "five"} {
		e.Create(t, alice, `{"title":"`+title+`"}`)
	}

	want := []string{"todo.created three", "todo.created four", "todo.created five"}
	for _, r := range []struct{ query, header string }{{"", last}, {"?last_event_id=" + last, ""}} {
		var header []string
		if r.header != "" {
			header = []string{"Last-Event-ID", r.header}
		}
		s := subscribe(t, e.URL, r.query, alice, header...)
		if ready := s.next(t); ready.name != "ready" || ready.id != last || ready.data["resumed"] != true {
			t.Fatalf("resume: first event %+v, want ready at %s", ready, last)
		}
		got := summary(e.marker(t, s, alice, "end "+r.query))
		if !equal(got, want) {
			t.Errorf("resumed (%q %q): %q, want %q", r.query, r.header, got, want)
		}
		want = append(want, "todo.created end "+r.query)
		s.cancel()
	}
	res := e.Call(t, http.MethodGet, "/v1/events", alice, "", "Last-Event-ID", "not-an-id")
	apitest.WantProblem(t, "bad Last-Event-ID", res, http.StatusBadRequest)
	// A position past every transaction the database has begun: the stream
	// would wait for it for good, delivering nothing.
	if s := subscribe(t, e.URL, "", alice, "Last-Event-ID", "9223372036854775807-0"); s.status != http.StatusBadRequest {
		s.cancel()
		t.Errorf("a Last-Event-ID from the future: %d, want 400", s.status)
	}
	// A malformed id does not use up the ticket it came with.
	tk := ticket(t, e.Env, alice)
	if s := subscribe(t, e.URL, "?ticket="+tk+"&last_event_id=not-an-id", ""); s.status != http.StatusBadRequest {
		s.cancel()
		t.Errorf("a ticket with a malformed id: %d, want 400", s.status)
	}
	if s := subscribe(t, e.URL, "?ticket="+tk, ""); s.status != http.StatusOK {
		t.Errorf("the same ticket after the 400: %d, want 200", s.status)
	} else {
		s.cancel()
	}
}

// TestEventsRetention: events older than the retention are pruned, and a
// client resuming from before them gets a reset (with a fresh position to
// continue from), not a silent gap.
func TestEventsRetention(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice := apitest.Token(t, "alice")
	s := subscribe(t, e.URL, "", alice)
	start := s.next(t).id
	e.Create(t, alice, `{"title":"old"}`)
	s.next(t)
	s.cancel()
	ctx := context.Background()
	if _, err := e.Admin.Exec(ctx, "UPDATE events SET created_at = now() - interval '25 hours'"); err != nil {
		t.Fatal(err)
	}
	if n, err := db.NewEventStore(e.DB).Prune(ctx, 24*time.Hour); err != nil || n != 1 {
		t.Fatalf("prune: %d %v, want 1 event pruned", n, err)
	}

	s = subscribe(t, e.URL, "", alice, "Last-Event-ID", start)
	s.next(t) // ready
	reset := s.next(t)
	if reset.name != "reset" || reset.data["reason"] != event.ResetGone || reset.id == start {
		t.Errorf("got %+v, want a reset (gone) with a new id", reset)
	}
	if rest := s.ended(t); len(rest) != 0 {
		t.Errorf("after the reset: %+v, want the stream closed", rest)
	}
	// From the reset's id, the stream goes on.
	s = subscribe(t, e.URL, "", alice, "Last-Event-ID", reset.id)
	s.next(t)
	if got := summary(e.marker(t, s, alice, "new")); len(got) != 0 {
		t.Errorf("after reconnecting from the reset: %q", got)
	}
}

// TestEventsTokenExpiry: a stream ends when its token does, for a token in
// the header and for a ticket's token.
func TestEventsTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	for _, via := range []string{"header", "ticket"} {
		short, err := auth.Sign(apitest.Auth, "alice", time.Second) // + 1 s leeway
		if err != nil {
			t.Fatal(err)
		}
		var s *sseStream
		if via == "header" {
			s = subscribe(t, e.URL, "", short)
		} else {
			s = subscribe(t, e.URL, "?ticket="+ticket(t, e.Env, short), "")
		}
		if s.status != http.StatusOK {
			t.Fatalf("%s: %d", via, s.status)
		}
		if got := s.until(t, "token_expired"); len(got) != 1 || got[0].name != "ready" {
			t.Errorf("%s: %+v before token_expired", via, got)
		}
		if rest := s.ended(t); len(rest) != 0 {
			t.Errorf("%s: %+v after token_expired, want the stream closed", via, rest)
		}
	}
}

func ticket(t *testing.T, e *apitest.Env, tok string) string {
	t.Helper()
	res := e.Call(t, http.MethodPost, "/v1/events/tickets", tok, "")
	if res.Status != http.StatusCreated {
		t.Fatalf("ticket: %d %s", res.Status, res.Body)
	}
	return res.JSON(t)["ticket"].(string)
}

// TestEventsTickets: a ticket opens one stream of its user, once; a used,
// expired, unknown or missing credential is 401 problem+json; the JWT itself
// is never accepted in the URL.
func TestEventsTickets(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice := apitest.Token(t, "alice")
	tk := ticket(t, e.Env, alice)
	s := subscribe(t, e.URL, "?ticket="+tk, "")
	if s.next(t).name != "ready" {
		t.Fatal("no ready event")
	}
	e.Create(t, alice, `{"title":"via ticket"}`)
	if got := summary([]sse{s.next(t)}); got[0] != "todo.created via ticket" {
		t.Errorf("ticket stream got %q", got)
	}

	expired := ticket(t, e.Env, alice)
	if _, err := e.Admin.Exec(context.Background(), "UPDATE event_tickets SET expires_at = now() - interval '1 second' WHERE hash = sha256(convert_to($1, 'UTF8'))", expired); err != nil {
		t.Fatal(err)
	}
	for what, query := range map[string]string{
		"reused":       "?ticket=" + tk,
		"expired":      "?ticket=" + expired,
		"unknown":      "?ticket=" + strings.Repeat("A", 43),
		"the JWT":      "?ticket=" + alice,
		"no ticket":    "",
		"access_token": "?access_token=" + alice,
	} {
		s := subscribe(t, e.URL, query, "")
		if s.status != http.StatusUnauthorized || s.problemType != "application/problem+json" {
			t.Errorf("%s: %d %s %s, want a 401 problem", what, s.status, s.problemType, s.problem)
		}
		s.cancel()
	}
	apitest.WantProblem(t, "ticket without a token", e.Call(t, http.MethodPost, "/v1/events/tickets", "", ""), http.StatusUnauthorized)
}

// TestEventsStreamLimit: a user may hold StreamsPerUser streams on an
// instance; one more is 429 problem+json, and others are not affected.
func TestEventsStreamLimit(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{StreamsPerUser: 2})
	alice := apitest.Token(t, "alice")
	for range 2 {
		s := subscribe(t, e.URL, "", alice)
		s.next(t)
	}
	res := e.Call(t, http.MethodGet, "/v1/events", alice, "")
	apitest.WantProblem(t, "third stream", res, http.StatusTooManyRequests)
	if s := subscribe(t, e.URL, "", apitest.Token(t, "bob")); s.status != http.StatusOK {
		t.Errorf("bob: %d", s.status)
	}
}

// TestEventsTwoInstances: two API instances on one database, nothing shared
// but Postgres: each delivers to its own subscribers every change, whichever
// instance made it.
func TestEventsTwoInstances(t *testing.T) {
	t.Parallel()
	one := newEventsEnv(t, event.Config{})
	two := serveEvents(t, one.TDB, event.Config{})
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	sa := subscribe(t, one.URL, "", alice)
	sb := subscribe(t, two.URL, "", bob)
	sa.next(t)
	sb.next(t)
	one.Create(t, bob, `{"title":"bob on one"}`)
	two.Create(t, alice, `{"title":"alice on two"}`)
	if got := summary(two.marker(t, sa, alice, "alice end")); !equal(got, []string{"todo.created alice on two"}) {
		t.Errorf("alice on instance one: %q", got)
	}
	if got := summary(one.marker(t, sb, bob, "bob end")); !equal(got, []string{"todo.created bob on one"}) {
		t.Errorf("bob on instance two: %q", got)
	}
}

// TestEventsFailingCheck: when reading one user's events fails in Postgres
// (here a policy that raises for mallory, as a buggy policy might), only
// mallory's stream is reset; everyone else's keeps receiving.
func TestEventsFailingCheck(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice, mallory := apitest.Token(t, "alice"), apitest.Token(t, "mallory")
	sa := subscribe(t, e.URL, "", alice)
	sm := subscribe(t, e.URL, "", mallory)
	sa.next(t)
	sm.next(t)
	if _, err := e.Admin.Exec(context.Background(), `CREATE POLICY events_raise ON events AS RESTRICTIVE FOR SELECT TO todo_app
		USING (CASE WHEN current_setting('app.user_id') = 'mallory' THEN 1 / (length(kind) - length(kind)) = 1 ELSE true END)`); err != nil {
		t.Fatal(err)
	}
	e.Create(t, mallory, `{"title":"m"}`)
	e.Create(t, alice, `{"title":"a"}`)
	if got := summary(e.marker(t, sa, alice, "a end")); !equal(got, []string{"todo.created a"}) {
		t.Errorf("alice: %q", got)
	}
	if got := sm.next(t); got.name != "reset" || got.data["reason"] != event.ResetFailed {
		t.Errorf("mallory: %+v, want a reset (failed)", got)
	}
	if !strings.Contains(e.Logs.String(), "resetting their streams") {
		t.Error("the failure was not logged")
	}
}

// TestEventsOrderPerTodo: a transaction that got its id early (a bulk
// update) and then changes a todo that a younger transaction changed first
// is delivered after it: one todo's events come in version order.
func TestEventsOrderPerTodo(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice := apitest.Token(t, "alice")
	s := subscribe(t, e.URL, "", alice)
	s.next(t)
	other := e.Create(t, alice, `{"title":"other"}`)
	target := e.Create(t, alice, `{"title":"target"}`)
	s.next(t)
	s.next(t)
	ctx := context.Background()
	// The older transaction takes its id first, by changing another todo.
	older := e.begin(t, "UPDATE todos SET title = 'other 2' WHERE id = $1", other["id"])
	// A younger one changes the target and commits (version 2).
	if res := e.Call(t, http.MethodPatch, "/v1/todos/"+target["id"].(string), alice, `{"title":"target 2"}`); res.Status != 200 {
		t.Fatal(res.Status)
	}
	// Then the older one changes the target too (version 3) and commits.
	if _, err := older.Exec(ctx, "UPDATE todos SET title = 'target 3' WHERE id = $1", target["id"]); err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := summary(e.marker(t, s, alice, "end"))
	if want := []string{"todo.updated other 2", "todo.updated target 2", "todo.updated target 3"}; !equal(got, want) {
		t.Errorf("got %q, want %q (target in version order)", got, want)
	}
	var bumped bool
	if err := e.Admin.QueryRow(ctx, "SELECT pos_txid > txid FROM events WHERE payload->>'title' = 'target 3'").Scan(&bumped); err != nil || !bumped {
		t.Errorf("the older transaction's event was not moved after the younger one's: %v %v", bumped, err)
	}
}

// TestEventsLateCommit: an event whose transaction began first but commits
// last is still delivered, before the younger one it precedes: the poller
// reads only below the oldest running transaction, so polling "after the
// last id seen" cannot skip it.
func TestEventsLateCommit(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice := apitest.Token(t, "alice")
	ctx := context.Background()
	// Alice's personal list exists before: else the late transaction would
	// hold its creation, and her own create would wait for it.
	if _, err := e.Admin.Exec(ctx, "SELECT app.personal_list('alice')"); err != nil {
		t.Fatal(err)
	}
	s := subscribe(t, e.URL, "", alice)
	s.next(t)
	late := e.begin(t, "INSERT INTO todos (user_id, title) VALUES ('alice', 'late')")
	e.Create(t, alice, `{"title":"early"}`)
	// Let the poller run several times while the late transaction is open.
	before := e.hub.Polls()
	for e.hub.Polls() < before+3 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := summary(e.marker(t, s, alice, "end"))
	if want := []string{"todo.created late", "todo.created early"}; !equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestEventsOutlivesTimeouts: a stream outlives the per-request deadline
// (10 s) and an http.Server's ReadTimeout and WriteTimeout.
func TestEventsOutlivesTimeouts(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{Heartbeat: 200 * time.Millisecond})
	srv := httptest.NewUnstartedServer(api.NewServer(api.Deps{
		Todos: db.NewTodoStore(e.DB), Cursors: apitest.CursorKey(t), Verifier: mustVerifier(t), Events: e.hub, Logger: slog.New(slog.DiscardHandler),
	}))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = time.Second, time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	alice := apitest.Token(t, "alice")
	s := subscribe(t, srv.URL, "", alice)
	s.next(t)
	time.Sleep(11 * time.Second) // past every timeout
	e.Create(t, alice, `{"title":"after 11 s"}`)
	if ev := s.next(t); ev.data["todo"] == nil {
		t.Errorf("got %+v", ev)
	}
}

func mustVerifier(t *testing.T) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), apitest.Auth)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEventsHeartbeat: an idle stream gets `: ping` comments, each with the
// stream's position as its id (no event), so a client's Last-Event-ID moves on.
func TestEventsHeartbeat(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{Heartbeat: 50 * time.Millisecond})
	alice := apitest.Token(t, "alice")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	e.Create(t, alice, `{"title":"one"}`)
	sc := bufio.NewScanner(res.Body)
	var lastEvent string
	created := false
	for n, prev := 0, ""; n < 200 && sc.Scan(); n, prev = n+1, sc.Text() {
		line := sc.Text()
		created = created || line == "event: "+event.TodoCreated
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			if prev == ": ping" && created {
				if mustParse(t, id).Less(mustParse(t, lastEvent)) {
					t.Errorf("ping id %s is before the last event %s", id, lastEvent)
				}
				return
			}
			lastEvent = id
		}
	}
	t.Fatalf("no ping with an id in 200 lines: %v", sc.Err())
}

func mustParse(t *testing.T, id string) event.Position {
	t.Helper()
	p, err := event.ParsePosition(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEventsCORS: a fetch-based SSE client on an allowed origin may resume
// with Last-Event-ID (its preflight allows the header).
func TestEventsCORS(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"
	e := serveEvents(t, dbtest.New(t), event.Config{}, app)
	res := e.Call(t, http.MethodOptions, "/v1/events", "", "", "Origin", app, "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization, last-event-id")
	if got := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")); res.Header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(got, "last-event-id") || !strings.Contains(got, "authorization") {
		t.Errorf("preflight: %d, allowed headers %q", res.Status, got)
	}
}

// begin opens a transaction as the superuser on a connection of its own and
// runs sql in it; it is rolled back at the end of the test unless committed.
func (e *eventsEnv) begin(t *testing.T, sql string, args ...any) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.TDB.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
	return tx
}
