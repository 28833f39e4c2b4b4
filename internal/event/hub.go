package event

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/todoapi/todoapi/internal/todo"
)

// Config tunes a Hub. Zero values take the defaults.
type Config struct {
	PollInterval   time.Duration // how often to look for new events: 150ms
	Retention      time.Duration // how long events are kept for resumes: 24h
	Heartbeat      time.Duration // how often an idle stream gets a comment: 15s
	StreamsPerUser int           // open streams one user may have on this instance: 5
	Buffer         int           // events queued per stream before it is reset: 256
	PageSize       int           // most events read per user per poll: 500
	Logger         *slog.Logger
}

func (c Config) withDefaults() Config {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&c.PollInterval, 150*time.Millisecond)
	set(&c.Retention, 24*time.Hour)
	set(&c.Heartbeat, 15*time.Second)
	for _, v := range []struct {
		p *int
		d int
	}{{&c.StreamsPerUser, 5}, {&c.Buffer, 256}, {&c.PageSize, 500}} {
		if *v.p <= 0 {
			*v.p = v.d
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Errors of Subscribe.
var (
	// ErrTooManyStreams means the user has the most streams allowed open.
	ErrTooManyStreams = errors.New("too many open event streams")
	// ErrNotStarted means the hub has not reached the database yet.
	ErrNotStarted = errors.New("event stream not available yet")
	// ErrClosed means the hub was closed: the instance is stopping.
	ErrClosed = errors.New("event streams closed")
)

// Reasons a stream is reset: the client should refetch what it shows.
const (
	ResetSlow     = "slow"     // the client read too slowly: its buffer filled
	ResetGone     = "gone"     // its position is older than the retention
	ResetFailed   = "failed"   // reading its events failed
	ResetShutdown = "shutdown" // this instance is stopping: reconnect
)

// Stream is one subscriber's connection. The hub queues its events in order
// and never blocks on it: when more than the buffer would be queued, the
// stream is reset instead. The queue grows only as events come (an idle
// stream holds none), so 1,000 open streams cost little memory.
type Stream struct {
	UserID string
	Start  Position // where the stream began
	limit  int      // most events queued
	mu     sync.Mutex
	queued []Event       // in order, not yet taken
	ready  chan struct{} // holds a signal while events are queued
	done   chan struct{}
	reason string
	pos    atomic.Pointer[Position] // delivered up to here (events may still be queued)
	joined uint64                   // the poll during which it subscribed
}

// Ready receives when events are queued: Take them.
func (s *Stream) Ready() <-chan struct{} { return s.ready }

// Take returns the queued events, in order, and empties the queue.
func (s *Stream) Take() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.queued
	s.queued = nil
	return evs
}

// CaughtUp reports whether nothing is queued, and the position that the
// client then has everything up to: a safe resume point for a heartbeat.
// Both are read at once, so no event can slip between them; a stream that
// has been reset is never caught up (its position is the reset's).
func (s *Stream) CaughtUp() (Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return s.Position(), false
	default:
	}
	return s.Position(), len(s.queued) == 0
}

// fill queues the events of evs past s's position, as many as the buffer
// has room for, and moves the position on: to to (if it is further) when all
// were queued, else to the last one queued, from which the next poll reads
// on. It reports false, queuing nothing, when the buffer is full and evs has
// events past the position: the client reads too slowly.
func (s *Stream) fill(evs []Event, to Position) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pos, queued := s.Position(), false
	for _, ev := range evs {
		if !pos.Less(ev.Pos) {
			continue
		}
		if len(s.queued) == s.limit {
			if !queued {
				return false
			}
			to = s.queued[len(s.queued)-1].Pos
			break
		}
		s.queued = append(s.queued, ev)
		queued = true
	}
	if pos.Less(to) {
		s.pos.Store(&to)
	}
	if queued {
		select {
		case s.ready <- struct{}{}:
		default: // already signalled
		}
	}
	return true
}

// Done is closed when the hub resets the stream; Reason says why.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Reason is why Done was closed.
func (s *Stream) Reason() string { return s.reason }

// Position is how far the stream has been filled (see CaughtUp).
func (s *Stream) Position() Position { return *s.pos.Load() }

// Hub tails the events of one API instance's subscribers: one poller, each
// poll one query per affected user, all in one round trip.
type Hub struct {
	src    Source
	cfg    Config
	mu     sync.Mutex
	polls  uint64 // polls started
	cursor *Position
	users  map[string]map[*Stream]struct{}
	closed bool // by Close: no new streams
}

// NewHub returns a hub reading from src; Run starts it.
func NewHub(src Source, cfg Config) *Hub {
	return &Hub{src: src, cfg: cfg.withDefaults(), users: map[string]map[*Stream]struct{}{}}
}

// Heartbeat is how often an idle stream should send a comment.
func (h *Hub) Heartbeat() time.Duration { return h.cfg.Heartbeat }

// Subscribe opens a stream for userID from position from (nil: from now).
func (h *Hub) Subscribe(userID string, from *Position) (*Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if h.cursor == nil {
		return nil, ErrNotStarted
	}
	if len(h.users[userID]) >= h.cfg.StreamsPerUser {
		return nil, ErrTooManyStreams
	}
	start := *h.cursor
	if from != nil {
		start = *from
	}
	s := &Stream{UserID: userID, Start: start, limit: h.cfg.Buffer, ready: make(chan struct{}, 1), done: make(chan struct{}), joined: h.polls}
	s.pos.Store(&start)
	if h.users[userID] == nil {
		h.users[userID] = map[*Stream]struct{}{}
	}
	h.users[userID][s] = struct{}{}
	return s, nil
}

// Check refuses, with ErrBadPosition, a resume position that no stream can
// have sent: one past every transaction the database has begun, which the
// watermark would never reach, so the stream would stay silent for good. A
// position ahead of this instance's own is fine otherwise (another instance
// may have polled later).
func (h *Hub) Check(ctx context.Context, p Position) error {
	h.mu.Lock()
	cursor := h.cursor
	h.mu.Unlock()
	if cursor != nil && !cursor.Less(p) {
		return nil
	}
	next, err := h.src.Next(ctx)
	if err != nil {
		return err
	}
	if p.Txid > next {
		return ErrBadPosition
	}
	return nil
}

// Unsubscribe forgets s; its client has gone.
func (h *Hub) Unsubscribe(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(s)
}

func (h *Hub) drop(s *Stream) {
	delete(h.users[s.UserID], s)
	if len(h.users[s.UserID]) == 0 {
		delete(h.users, s.UserID)
	}
}

// reset ends s with reason; the caller holds h.mu. A client that refetches
// what it shows continues from at: the reset's id.
func (h *Hub) reset(s *Stream, reason string, at Position) {
	s.mu.Lock()
	s.pos.Store(&at)
	s.reason = reason
	close(s.done)
	s.mu.Unlock()
	h.drop(s)
}

// Close resets every stream (ResetShutdown), so that their handlers return,
// and refuses new ones (ErrClosed).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, streams := range h.users {
		for s := range streams {
			h.reset(s, ResetShutdown, s.Position())
		}
	}
}

// Run polls until ctx ends, and prunes old events every minute beside it.
func (h *Hub) Run(ctx context.Context) {
	go h.prune(ctx)
	tick := time.NewTicker(h.cfg.PollInterval)
	defer tick.Stop()
	failing := false
	for {
		err := h.Poll(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			h.cfg.Logger.Warn("polling events failed; streams wait and resume", "err", err)
		case err == nil && failing:
			h.cfg.Logger.Info("polling events again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// prune deletes events older than the retention every minute, in batches
// (each its own short transaction) until none is left.
func (h *Hub) prune(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		total := int64(0)
		for {
			n, err := h.src.Prune(ctx, h.cfg.Retention)
			if err != nil {
				if ctx.Err() == nil {
					h.cfg.Logger.Warn("pruning events failed", "err", err)
				}
				break
			}
			if total += n; n < PruneBatch {
				break
			}
		}
		if total > 0 {
			h.cfg.Logger.Info("pruned events", "count", total)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Subscribers is how many streams are open on this instance.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, streams := range h.users {
		n += len(streams)
	}
	return n
}

// Polls is how many polls have started.
func (h *Hub) Polls() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.polls
}

// Poll delivers the events that became final since the last poll: it asks
// the source who might be affected, reads each such user's events under that
// user's identity (and those of streams still catching up), and queues them.
func (h *Hub) Poll(ctx context.Context) error {
	h.mu.Lock()
	h.polls++
	poll, cursor := h.polls, h.cursor
	h.mu.Unlock()
	if cursor == nil {
		w, err := h.src.Watermark(ctx)
		if err != nil {
			return err
		}
		h.mu.Lock()
		h.cursor = &w
		h.mu.Unlock()
		return nil
	}
	w, affected, horizon, err := h.src.Changes(ctx, *cursor)
	if err != nil {
		return err
	}
	isAffected := make(map[string]bool, len(affected))
	for _, u := range affected {
		isAffected[u] = true
	}

	// Who to read: affected users, and users with a stream behind the cursor
	// (just resumed, or not caught up by the last page).
	h.mu.Lock()
	var reqs []Request
	for user, streams := range h.users {
		from, read := w, isAffected[user]
		for s := range streams {
			if p := s.Position(); s.joined < poll && p.Less(from) {
				from = p
				read = read || p.Less(*cursor)
			}
		}
		if read && from.Less(w) {
			reqs = append(reqs, Request{UserID: user, From: from, To: w})
		}
	}
	h.mu.Unlock()

	results := make([][]Event, len(reqs))
	failed := make([]bool, len(reqs))
	readHorizon := horizon
	if len(reqs) > 0 {
		results, readHorizon, err = h.src.Read(ctx, reqs, h.cfg.PageSize)
		if err != nil {
			// Isolate the failure: each user alone, so that one failing check
			// affects only that user's streams.
			if results, readHorizon, err = h.readEach(ctx, reqs, failed); err != nil {
				return err
			}
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	read := make(map[string]int, len(reqs))
	for i, r := range reqs {
		read[r.UserID] = i
	}
	for user, streams := range h.users {
		i, wasRead := read[user]
		for s := range streams {
			if s.joined >= poll {
				continue // subscribed during this poll: next poll
			}
			pos := s.Position()
			switch {
			case wasRead && failed[i]:
				h.reset(s, ResetFailed, w)
				continue
			case pos.Less(readHorizon) || (!wasRead && pos.Less(horizon)):
				h.reset(s, ResetGone, w)
				continue
			}
			to, evs := w, []Event(nil)
			if wasRead {
				if evs = results[i]; len(evs) == h.cfg.PageSize {
					to = evs[len(evs)-1].Pos // more to come: continue from here
				}
			}
			if !s.fill(evs, to) {
				h.reset(s, ResetSlow, w)
			}
		}
	}
	h.cursor = &w
	return nil
}

// readEach reads every request on its own and marks in failed those that
// fail. If none succeeds and the database is unavailable, the poll fails
// instead: the streams wait for the database rather than being reset.
func (h *Hub) readEach(ctx context.Context, reqs []Request, failed []bool) ([][]Event, Position, error) {
	results := make([][]Event, len(reqs))
	var horizon Position
	errs := make([]error, len(reqs))
	ok := false
	for i, r := range reqs {
		evs, hz, err := h.src.Read(ctx, []Request{r}, h.cfg.PageSize)
		if ctx.Err() != nil {
			return nil, Position{}, ctx.Err()
		}
		if err != nil {
			failed[i], errs[i] = true, err
			continue
		}
		ok = true
		results[i] = evs[0]
		if horizon.Less(hz) {
			horizon = hz
		}
	}
	if !ok && errors.Is(errs[0], todo.ErrUnavailable) {
		return nil, Position{}, errs[0]
	}
	for i, r := range reqs {
		if failed[i] {
			h.cfg.Logger.Error("reading a user's events failed; resetting their streams", "user", r.UserID, "err", errs[i])
		}
	}
	return results, horizon, nil
}
