package event_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
)

// pollFor bounds how long a test polls for events it wrote: a transaction
// running anywhere in the cluster, in another test's database too, holds
// every hub's watermark back until it ends (pgTAP's files run for seconds).
const pollFor = 30 * time.Second

// startedHub is a hub on a fresh database, polled once (so it takes
// subscribers), and a store to write todos with; the test drives the polls.
func startedHub(t *testing.T, cfg event.Config) (*event.Hub, *db.TodoStore) {
	t.Helper()
	database := dbtest.New(t).OpenPool(t, "")
	hub := event.NewHub(db.NewEventStore(database), cfg)
	if err := hub.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return hub, db.NewTodoStore(database)
}

// TestSlowConsumer: a subscriber that stops reading is reset once its buffer
// is full; the poller never waits for it, and a subscriber that reads gets
// every event. Polls are driven by hand, so the test does not depend on timing.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hub, todos := startedHub(t, event.Config{Buffer: 4})
	slow, err := hub.Subscribe("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := hub.Subscribe("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := todo.Caller{UserID: "alice"}
	got := 0
	for round := range 4 {
		for i := range 3 { // 3 events a poll: within the buffer of 4
			if _, _, err := todos.Create(ctx, alice, todo.Fields{Title: fmt.Sprintf("r%d-%d", round, i)}, ""); err != nil {
				t.Fatal(err)
			}
		}
		// Poll until the round is delivered: a transaction running anywhere
		// in the cluster (other tests, other packages' databases) holds the
		// watermark back meanwhile, for seconds at times.
		for deadline := time.Now().Add(pollFor); got < 3*(round+1); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d not delivered after %s of polls", round, pollFor)
			}
			if err := hub.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			for _, ev := range fast.Take() {
				if want := fmt.Sprintf("r%d-%d", got/3, got%3); ev.Todo == nil || ev.Todo.Title != want {
					t.Fatalf("fast stream: %+v, want %s", ev, want)
				}
				got++
			}
		}
	}
	if got != 12 {
		t.Errorf("the reading stream got %d events, want 12", got)
	}
	select {
	case <-slow.Done():
		if slow.Reason() != event.ResetSlow {
			t.Errorf("slow stream reset for %q", slow.Reason())
		}
	default:
		t.Error("the slow stream was not reset")
	}
	select {
	case <-fast.Done():
		t.Errorf("the reading stream was reset (%s)", fast.Reason())
	default:
	}
}

// TestIdleStreamsAreSmall: an open stream with nothing queued holds no
// buffer; its queue grows only as events come. 1,000 streams (an
// instance's worth of open browser tabs) must fit in a few megabytes.
func TestIdleStreamsAreSmall(t *testing.T) {
	hub, _ := startedHub(t, event.Config{})
	const n = 1000
	streams := make([]*event.Stream, 0, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		s, err := hub.Subscribe(fmt.Sprintf("user-%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perStream := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	if perStream > 2<<10 {
		t.Errorf("an idle stream holds %d bytes, want at most 2 KiB", perStream)
	}
	for _, s := range streams {
		hub.Unsubscribe(s)
	}
}

// TestBurstLargerThanTheBuffer: a poll that finds more events than a
// stream's buffer holds queues what fits; a client that reads gets the rest
// from the next polls, in order, and is not reset.
func TestBurstLargerThanTheBuffer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hub, todos := startedHub(t, event.Config{Buffer: 4})
	reader, err := hub.Subscribe("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := todo.Caller{UserID: "alice"}
	for i := range 10 {
		if _, _, err := todos.Create(ctx, alice, todo.Fields{Title: fmt.Sprintf("t%d", i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for deadline := time.Now().Add(pollFor); got < 10; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 delivered after %s of polls", got, pollFor)
		}
		if err := hub.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-reader.Done():
			t.Fatalf("the reading stream was reset (%s) after %d events", reader.Reason(), got)
		default:
		}
		for _, ev := range reader.Take() {
			if want := fmt.Sprintf("t%d", got); ev.Todo == nil || ev.Todo.Title != want {
				t.Fatalf("event %d: %+v, want %s", got, ev, want)
			}
			got++
		}
	}
}

// TestClosedHubRefusesStreams: once closed (the instance is stopping), the
// hub opens no new stream, which nothing would end, and the streams it reset
// are not caught up.
func TestClosedHubRefusesStreams(t *testing.T) {
	t.Parallel()
	hub, _ := startedHub(t, event.Config{})
	open, err := hub.Subscribe("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	hub.Close()
	if _, caughtUp := open.CaughtUp(); caughtUp { // a heartbeat must not send the reset's position as an id
		t.Error("a stream reset by Close says it is caught up")
	}
	if _, err := hub.Subscribe("alice", nil); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
}
