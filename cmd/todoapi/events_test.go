package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// sseEvent is one event of a stream: its id, type and data.
type sseEvent struct{ id, name, data string }

// openEvents opens GET /v1/events as tok (resuming after lastID, if any),
// retrying while the API answers 503, and returns the stream's events; the
// channel closes when the stream ends.
func openEvents(t *testing.T, base, tok, lastID string) (<-chan sseEvent, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range 100 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == http.StatusServiceUnavailable {
			res.Body.Close()
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/events: %d", res.StatusCode)
		}
		events := make(chan sseEvent, 100)
		go func() {
			defer res.Body.Close()
			defer close(events)
			sc := bufio.NewScanner(res.Body)
			var ev sseEvent
			for sc.Scan() {
				field, value, _ := strings.Cut(sc.Text(), ": ")
				switch field {
				case "":
					if ev.name != "" {
						events <- ev
					}
					ev = sseEvent{id: ev.id}
				case "id":
					ev.id = value
				case "event":
					ev.name = value
				case "data":
					ev.data = value
				}
			}
		}()
		return events, cancel
	}
	t.Fatal("GET /v1/events: 503 for 5 s")
	return nil, nil
}

// nextEvent waits for the next event other than ready (a bound, not a measure).
func nextEvent(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.name != "ready" {
				return ev
			}
		case <-time.After(time.Minute):
			t.Fatal("no event within a minute")
		}
	}
}

// createRetrying creates a todo, retrying the 503s of an outage.
func createRetrying(t *testing.T, base, tok, title string) {
	t.Helper()
	for range 200 {
		status, body, _ := call("POST", base+"/v1/todos", tok, `{"title":"`+title+`"}`)
		switch status {
		case http.StatusCreated:
			return
		case http.StatusServiceUnavailable, 0:
			time.Sleep(50 * time.Millisecond)
		default:
			t.Fatalf("create %s: %d %s", title, status, body)
		}
	}
	t.Fatalf("create %s: still failing after 10 s", title)
}

// TestEventsSurvivePostgresRestart: across a crash-restart of Postgres an
// open stream stays open and goes on, and a client that was away resumes
// with Last-Event-ID; both get every event once, in order.
func TestEventsSurvivePostgresRestart(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, _ := start(t, map[string]string{"DATABASE_URL": p.apiURL, "EVENTS_POLL_INTERVAL": "50ms"})
	tok := apitest.Token(t, "alice")
	open, _ := openEvents(t, base, tok, "")
	away, leave := openEvents(t, base, tok, "")
	for _, title := range []string{"before 1", "before 2"} {
		createRetrying(t, base, tok, title)
	}
	nextEvent(t, open)
	nextEvent(t, open)
	nextEvent(t, away)
	last := nextEvent(t, away).id
	leave()

	if err := p.cluster.Restart(context.Background(), "immediate"); err != nil {
		t.Fatal(err)
	}
	after := []string{"after 1", "after 2", "after 3"}
	for _, title := range after {
		createRetrying(t, base, tok, title)
	}
	back, _ := openEvents(t, base, tok, last)
	for name, events := range map[string]<-chan sseEvent{"open": open, "resumed": back} {
		for _, title := range after {
			if ev := nextEvent(t, events); ev.name != "todo.created" || !strings.Contains(ev.data, `"title":"`+title+`"`) {
				t.Errorf("%s stream: %+v, want %s", name, ev, title)
			}
		}
	}
}

// TestShutdownEndsStreams: stopping the server ends open streams at once
// (the client reconnects elsewhere with Last-Event-ID) instead of waiting out
// the shutdown grace period.
func TestShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	p := privateCluster(t, "")
	base, stop := start(t, map[string]string{"DATABASE_URL": p.apiURL})
	events, _ := openEvents(t, base, apitest.Token(t, "alice"), "")
	if ev := <-events; ev.name != "ready" {
		t.Fatalf("first event %+v", ev)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	grace := time.After(shutdownGrace - time.Second)
	for open := true; open; {
		select {
		case ev, ok := <-events:
			if open = ok; ok {
				t.Errorf("after shutdown: %+v, want the stream closed without a reset", ev)
			}
		case <-grace:
			t.Fatal("the stream stayed open: shutdown waits for it")
		}
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}

// TestServeRefusesBadEventSettings: each EVENTS_ setting is checked at boot.
func TestServeRefusesBadEventSettings(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"EVENTS_POLL_INTERVAL": "often", "EVENTS_RETENTION": "-1h", "EVENTS_HEARTBEAT": "0s",
		"EVENTS_STREAMS_PER_USER": "0", "EVENTS_BUFFER": "many",
	} {
		env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "JWT_SECRET": testSecret, name: value}
		err := run(context.Background(), []string{"serve"}, getenv(env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), name+" must be a positive") {
			t.Errorf("%s=%s: serve = %v, want a refusal naming it", name, value, err)
		}
	}
}
