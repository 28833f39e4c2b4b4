package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
)

// eventsPath is the stream. It lives until its token expires, so the
// per-request deadline does not apply to it (see deadline).
const eventsPath = "/v1/events"

// ticketScheme: EventSource cannot send headers, so it passes a ticket.
const ticketScheme = "ticket"

// maxStreamWrite is about the most a stream writes at once: queued events
// go out together, in writes of this size.
const maxStreamWrite = 32 << 10

// streamWriteTimeout bounds each write to a stream: a client that stops
// reading is dropped after it, and only its own goroutine waits.
const streamWriteTimeout = 10 * time.Second

// The data of each event type, as documented and sent.
type (
	todoChanged struct {
		ID   string    `json:"id" format:"uuid" doc:"The todo's id."`
		ETag string    `json:"etag" doc:"The todo's new ETag, as GET /v1/todos/{id} would send it."`
		Todo todo.Todo `json:"todo" doc:"The todo after the change, as the API returns it."`
	}
	todoDeleted struct {
		ID     string `json:"id" format:"uuid" doc:"The deleted todo's id."`
		ListID string `json:"list_id" format:"uuid" doc:"The list it was in."`
	}
	listChanged struct {
		ID      string `json:"id" format:"uuid" doc:"The list's id."`
		Name    string `json:"name" doc:"Its new name."`
		Version int64  `json:"version" doc:"Its version: the list's new ETag, unquoted."`
	}
	memberChanged struct {
		ListID string `json:"list_id" format:"uuid" doc:"The list."`
		UserID string `json:"user_id" doc:"The member concerned (it may be me)."`
		Role   string `json:"role" doc:"Their role (for a removal: the role they had)."`
	}
	streamReady struct {
		Resumed bool `json:"resumed" doc:"Whether the stream continues from Last-Event-ID."`
	}
	streamReset struct {
		Reason string `json:"reason" enum:"slow,gone,failed" doc:"slow: the client read too slowly; gone: its position is older than the retention; failed: its events could not be read."`
	}
	tokenExpired struct{}
)

// eventTypes documents every event the stream sends.
var eventTypes = []struct {
	name, doc string
	data      any
}{
	{"ready", "First event: the stream is open. Its id is where it starts.", streamReady{}},
	{event.TodoCreated, "A todo was created.", todoChanged{}},
	{event.TodoUpdated, "A todo changed.", todoChanged{}},
	{event.TodoDeleted, "A todo was deleted.", todoDeleted{}},
	{event.ListUpdated, "A list I am in was renamed.", listChanged{}},
	{event.ListDeleted, "A list I was in was deleted (with its todos): drop it.", memberChanged{}},
	{event.MemberAdded, "Someone joined a list I am in; if user_id is me, I joined it: fetch it.", memberChanged{}},
	{event.MemberUpdated, "A member's role changed (maybe mine).", memberChanged{}},
	{event.MemberRemoved, "Someone left or was removed; if user_id is me, I lost the list: drop it. Nothing of the list follows.", memberChanged{}},
	{"reset", "Events may have been missed: refetch what you show. Its id is the stream's position; the stream then closes, and a reconnect continues from there.", streamReset{}},
	{"token_expired", "The token (or the ticket's token) expired: the stream closes. Reconnect with a new token and Last-Event-ID.", tokenExpired{}},
}

type eventsInput struct {
	Authorization string `header:"Authorization" hidden:"true"`
	LastEventID   string `header:"Last-Event-ID" maxLength:"41" doc:"Resume after this event id: every event since is replayed (within EVENTS_RETENTION, else a reset event)."`
	LastEventIDQ  string `query:"last_event_id" maxLength:"41" doc:"Last-Event-ID for clients that cannot send headers (EventSource with a new ticket)."`
	Ticket        string `query:"ticket" doc:"A ticket from POST /v1/events/tickets, instead of the Authorization header (for EventSource). Single use, valid 30 s."`
}

func (s *server) eventRoutes() {
	streamDoc := &huma.Response{
		Description: "A text/event-stream. Each event has an id (its position), an event type and JSON data; idle streams get a `: ping` comment every 15 s.",
		Content:     map[string]*huma.MediaType{"text/event-stream": {Schema: s.eventsSchema()}},
	}
	huma.Register(s.api, huma.Operation{
		OperationID: "streamEvents", Method: http.MethodGet, Path: eventsPath, Tags: []string{"Events"},
		Summary: "Live updates of my todos (Server-Sent Events)",
		Description: "Every change to a todo the caller may see, in order, as row-level security decides. " +
			"Authenticate with `Authorization: Bearer` or with `?ticket=`. The stream ends when the token expires.",
		Security:  []map[string][]string{{bearerScheme: {}}, {ticketScheme: {}}},
		Errors:    []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable},
		Responses: map[string]*huma.Response{"200": streamDoc},
	}, s.streamEvents)
	huma.Register(s.api, huma.Operation{
		OperationID: "createEventTicket", Method: http.MethodPost, Path: eventsPath + "/tickets", Tags: []string{"Events"},
		Summary:     "Get a ticket for EventSource",
		Description: "A single-use ticket, valid 30 seconds, for `GET /v1/events?ticket=...`: browsers' EventSource cannot send the Authorization header, and a token never goes in a URL.",
		Security:    needsToken, DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusUnauthorized, http.StatusServiceUnavailable},
	}, s.createEventTicket)
}

// eventsSchema documents the stream as a list of its possible events.
func (s *server) eventsSchema() *huma.Schema {
	registry := s.api.OpenAPI().Components.Schemas
	var events []*huma.Schema
	for _, t := range eventTypes {
		events = append(events, &huma.Schema{
			Title: "Event " + t.name, Description: t.doc, Type: huma.TypeObject,
			Properties: map[string]*huma.Schema{
				"id":    {Type: huma.TypeString, Description: "The event's position; send it back as Last-Event-ID."},
				"event": {Type: huma.TypeString, Enum: []any{t.name}},
				"data":  registry.Schema(reflect.TypeOf(t.data), true, t.name),
			},
			Required: []string{"event", "data"},
		})
	}
	return &huma.Schema{
		Type:        huma.TypeArray,
		Description: "Server-Sent Events, one of these each.",
		Items:       &huma.Schema{OneOf: events},
	}
}

func (s *server) streamEvents(ctx context.Context, in *eventsInput) (*huma.StreamResponse, error) {
	if s.Events == nil {
		return nil, unavailable("live updates are not enabled")
	}
	// A malformed position is refused before a ticket is redeemed (used
	// up), so the client can retry with the same ticket; one that needs the
	// database to judge is checked after the caller is known, as all
	// database work is.
	const badID = "invalid Last-Event-ID: pass the id of an event this stream sent"
	var from *event.Position
	if id := cmp.Or(in.LastEventID, in.LastEventIDQ); id != "" {
		p, err := event.ParsePosition(id)
		if err != nil {
			return nil, huma.Error400BadRequest(badID)
		}
		from = &p
	}
	user, until, err := s.streamUser(ctx, in)
	if err != nil {
		return nil, err
	}
	info(ctx).user = user
	if from != nil {
		switch err := s.Events.Check(ctx, *from); {
		case errors.Is(err, event.ErrBadPosition):
			return nil, huma.Error400BadRequest(badID)
		case err != nil:
			return nil, unavailable("live updates are starting: retry shortly")
		}
	}
	stream, err := s.Events.Subscribe(user, from)
	switch {
	case errors.Is(err, event.ErrTooManyStreams):
		return nil, huma.ErrorWithHeaders(huma.Error429TooManyRequests("too many open event streams: close one first"),
			http.Header{"Retry-After": {"5"}})
	case errors.Is(err, event.ErrClosed):
		return nil, unavailable("this instance is stopping: reconnect")
	case err != nil:
		return nil, unavailable("live updates are starting: retry shortly")
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, w := humachi.Unwrap(hctx)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		out, err := detach(w)
		if err != nil { // not HTTP/1 (HTTP/2): the stream stays on this goroutine
			defer s.Events.Unsubscribe(stream)
			s.pump(attached{hctx.Context(), w, http.NewResponseController(w)}, stream, until, from != nil)
			return
		}
		go func() {
			defer out.conn.Close()
			defer s.Events.Unsubscribe(stream)
			s.pump(out, stream, until, from != nil)
		}()
	}}, nil
}

// sink is where a stream is written.
type sink interface {
	// write sends p to the client and reports whether it could, within
	// streamWriteTimeout: a client that stops reading is dropped.
	write(p []byte) bool
	// gone is closed when the client leaves.
	gone() <-chan struct{}
}

// detached is a stream's HTTP/1 connection, taken over from net/http once
// the response's head is sent (Transfer-Encoding: identity: no chunking,
// the body ends when the connection closes, as the Server-Sent Events
// specification recommends). The handler returns at once: its goroutine,
// its stack grown by the whole handler chain, and net/http's 8 KB of
// buffers for the connection are freed; the stream keeps a small goroutine
// that writes and one that notices the client leaving. 1,000 open streams
// so cost about a third of the memory (see README, Performance).
type detached struct {
	conn net.Conn
	left chan struct{}
}

// detach sends the response's head and takes the connection over from
// net/http; it fails for HTTP/2, which net/http does not hand over.
func detach(w http.ResponseWriter) (*detached, error) {
	rc := http.NewResponseController(w)
	w.Header().Set("Transfer-Encoding", "identity") // net/http: no chunking, close at the end
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, err
	}
	conn, _, err := rc.Hijack() // the head is sent; a GET has no body left to read
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{}) // net/http's request deadlines no longer apply
	d := &detached{conn: conn, left: make(chan struct{})}
	go d.watch()
	return d, nil
}

// watch reads (and ignores) what the client sends until it closes the
// connection, or the stream closes it.
func (d *detached) watch() {
	b := make([]byte, 64)
	for {
		if _, err := d.conn.Read(b); err != nil {
			close(d.left)
			return
		}
	}
}

func (d *detached) write(p []byte) bool {
	_ = d.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := d.conn.Write(p)
	return err == nil
}

func (d *detached) gone() <-chan struct{} { return d.left }

// attached writes a stream through net/http's ResponseWriter, on the
// handler's goroutine (HTTP/2).
type attached struct {
	ctx context.Context
	w   http.ResponseWriter
	rc  *http.ResponseController
}

func (a attached) write(p []byte) bool {
	_ = a.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := a.w.Write(p)
	return err == nil && a.rc.Flush() == nil
}

func (a attached) gone() <-chan struct{} { return a.ctx.Done() }

// streamUser is the stream's user and when its token expires: from a ticket
// if one is given, else from the Authorization header.
func (s *server) streamUser(ctx context.Context, in *eventsInput) (string, time.Time, error) {
	if in.Ticket != "" {
		user, until, err := s.Events.Redeem(ctx, in.Ticket)
		switch {
		case errors.Is(err, todo.ErrNotFound):
			return "", time.Time{}, huma.Error401Unauthorized("invalid, used or expired ticket: get a new one")
		case err != nil:
			return "", time.Time{}, s.problem(ctx, err)
		}
		return user, until, nil
	}
	return s.verifyUntil(ctx, in.Authorization)
}

// verifyUntil verifies the bearer token of an Authorization header and says
// when it expires; a refused token is the same 401 as for any operation.
func (s *server) verifyUntil(ctx context.Context, header string) (string, time.Time, error) {
	user, until, err := s.Verifier.VerifyUntil(ctx, bearerToken(header))
	if err != nil {
		challenge, msg := s.refused(ctx, err)
		return "", time.Time{}, huma.ErrorWithHeaders(huma.Error401Unauthorized(msg), http.Header{"WWW-Authenticate": {challenge}})
	}
	return user, until, nil
}

// pump writes the stream's events to out until the client leaves, the
// token expires or the hub resets the stream.
func (s *server) pump(out sink, stream *event.Stream, until time.Time, resumed bool) {
	buf := []byte("retry: 2000\n")
	flush := func() bool {
		ok := out.write(buf)
		buf = buf[:0]
		if cap(buf) > 2*maxStreamWrite { // a burst's buffer is not kept for the stream's life
			buf = nil
		}
		return ok
	}
	buf = appendEvent(buf, stream.Start.String(), "ready", streamReady{Resumed: resumed})
	if !flush() {
		return
	}
	expiry := time.NewTimer(time.Until(until))
	defer expiry.Stop()
	heartbeat := time.NewTicker(s.Events.Heartbeat())
	defer heartbeat.Stop()
	for {
		select {
		case <-out.gone():
			return
		case <-stream.Ready():
			evs := stream.Take()
			for i, ev := range evs { // written together, up to maxStreamWrite at a time
				buf = appendTodoEvent(buf, ev)
				if (len(buf) >= maxStreamWrite || i == len(evs)-1) && !flush() {
					return
				}
			}
		case <-heartbeat.C:
			buf = append(buf, ": ping\n"...)
			if pos, caughtUp := stream.CaughtUp(); caughtUp {
				// Everything up to here is written: move the client's
				// Last-Event-ID on, without an event (an id with no data).
				buf = append(buf, "id: "+pos.String()+"\n"...)
			}
			buf = append(buf, '\n')
			if !flush() {
				return
			}
		case <-stream.Done():
			if stream.Reason() != event.ResetShutdown {
				buf = appendEvent(buf, stream.Position().String(), "reset", streamReset{Reason: stream.Reason()})
				flush()
			}
			return
		case <-expiry.C:
			buf = appendEvent(buf, "", "token_expired", tokenExpired{})
			flush()
			return
		}
	}
}

func appendTodoEvent(buf []byte, ev event.Event) []byte {
	switch {
	case ev.Data != nil:
		return appendEvent(buf, ev.Pos.String(), ev.Kind, json.RawMessage(ev.Data))
	case ev.Todo == nil:
		return appendEvent(buf, ev.Pos.String(), ev.Kind, todoDeleted{ID: ev.TodoID, ListID: ev.ListID})
	}
	return appendEvent(buf, ev.Pos.String(), ev.Kind, todoChanged{ID: ev.TodoID, ETag: etag(*ev.Todo), Todo: *ev.Todo})
}

// appendEvent appends one SSE event; JSON has no raw newlines, so data is one line.
func appendEvent(buf []byte, id, name string, data any) []byte {
	b, _ := json.Marshal(data)
	if id != "" {
		buf = append(buf, "id: "+id+"\n"...)
	}
	buf = append(buf, "event: "+name+"\ndata: "...)
	buf = append(buf, b...)
	return append(buf, "\n\n"...)
}

type ticketInput struct {
	Authorization string `header:"Authorization" hidden:"true"`
}

type ticketOutput struct {
	Body struct {
		Ticket    string `json:"ticket" doc:"Pass it as GET /v1/events?ticket=..."`
		ExpiresIn int    `json:"expires_in" doc:"Seconds it may wait before it is used."`
	}
}

func (s *server) createEventTicket(ctx context.Context, in *ticketInput) (*ticketOutput, error) {
	if s.Events == nil {
		return nil, unavailable("live updates are not enabled")
	}
	_, until, err := s.verifyUntil(ctx, in.Authorization)
	if err != nil {
		return nil, err
	}
	ticket, err := s.Events.NewTicket(ctx, caller(ctx), until)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &ticketOutput{}
	out.Body.Ticket, out.Body.ExpiresIn = ticket, int(event.TicketTTL/time.Second)
	return out, nil
}
