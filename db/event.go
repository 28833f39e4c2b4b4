package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
)

// EventStore is the Postgres event.Source: the events table, which triggers
// fill in the same transaction as every change to a todo, a list's name or its
// members.
type EventStore struct{ db *DB }

// NewEventStore returns an event.Source backed by db.
func NewEventStore(db *DB) *EventStore { return &EventStore{db: db} }

var _ event.Source = (*EventStore)(nil)

// The API's own calls (the poller, pruning, redeeming tickets) act as
// todo_app with no user: they see no row of any user's table.
var noUser = todo.Caller{}

const watermark = `SELECT pg_snapshot_xmin(pg_current_snapshot())`

// Watermark is the oldest transaction still running: every event below it is final.
func (s *EventStore) Watermark(ctx context.Context) (event.Position, error) {
	var w event.Position
	err := s.db.asUser(ctx, noUser, true, watermark, nil, func(rows pgx.Rows) error {
		return scanOne(rows, &w.Txid)
	})
	return w, err
}

const next = `SELECT pg_snapshot_xmax(pg_current_snapshot())`

// Next is the transaction id the database will hand out next.
func (s *EventStore) Next(ctx context.Context) (uint64, error) {
	var n uint64
	err := s.db.asUser(ctx, noUser, true, next, nil, func(rows pgx.Rows) error {
		return scanOne(rows, &n)
	})
	return n, err
}

const (
	changes = `SELECT watermark, users FROM app.event_changes($1, $2)`
	horizon = `SELECT pos_txid, id FROM app.event_horizon()`
)

// Changes returns the watermark, the users who might see an event after
// `after` below it, and the prune horizon (read after them).
func (s *EventStore) Changes(ctx context.Context, after event.Position) (w event.Position, users []string, hz event.Position, err error) {
	err = s.db.send(ctx, noUser, true, func(b *pgx.Batch) {
		b.Queue(changes, after.Txid, after.ID).Query(func(rows pgx.Rows) error { return scanOne(rows, &w.Txid, &users) })
		b.Queue(horizon).Query(func(rows pgx.Rows) error { return scanOne(rows, &hz.Txid, &hz.ID) })
	})
	return w, users, hz, err
}

// readEvents is one user's events in a range. It names no user: the policy on
// events, under the identity set just before it, decides which rows it gets.
const readEvents = `SELECT pos_txid, id, kind, list_id, COALESCE(todo_id::text, ''), payload FROM events
WHERE (pos_txid, id) > ($1, $2) AND (pos_txid, id) < ($3, $4)
ORDER BY pos_txid, id LIMIT $5`

const switchUser = `SELECT set_config('app.user_id', $1, true)`

// Read runs every request's query in one round trip and one read-only
// transaction, each under its own user's identity (app.user_id is set
// before each query; the role stays todo_app), then reads the horizon.
func (s *EventStore) Read(ctx context.Context, reqs []event.Request, limit int) ([][]event.Event, event.Position, error) {
	results := make([][]event.Event, len(reqs))
	var hz event.Position
	if len(reqs) == 0 {
		return results, hz, nil
	}
	err := s.db.send(ctx, todo.Caller{UserID: reqs[0].UserID}, true, func(b *pgx.Batch) {
		for i, r := range reqs {
			if i > 0 {
				b.Queue(switchUser, r.UserID)
			}
			b.Queue(readEvents, r.From.Txid, r.From.ID, r.To.Txid, r.To.ID, limit).Query(func(rows pgx.Rows) (err error) {
				results[i], err = pgx.CollectRows(rows, scanEvent)
				return err
			})
		}
		b.Queue(horizon).Query(func(rows pgx.Rows) error { return scanOne(rows, &hz.Txid, &hz.ID) })
	})
	return results, hz, err
}

func scanEvent(row pgx.CollectableRow) (event.Event, error) {
	var ev event.Event
	var payload []byte
	if err := row.Scan(&ev.Pos.Txid, &ev.Pos.ID, &ev.Kind, &ev.ListID, &ev.TodoID, &payload); err != nil {
		return ev, err
	}
	switch ev.Kind {
	case event.TodoCreated, event.TodoUpdated:
		var t storedTodo
		if err := json.Unmarshal(payload, &t); err != nil {
			return ev, fmt.Errorf("event %s payload: %w", ev.Pos, err)
		}
		todo := t.todo()
		ev.Todo = &todo
	case event.TodoDeleted:
	default:
		ev.Data = payload
	}
	return ev, nil
}

// scanOne reads the only row of rows into dest.
func scanOne(rows pgx.Rows, dest ...any) error {
	_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
		return struct{}{}, row.Scan(dest...)
	})
	return err
}

const prune = `SELECT app.prune_events(make_interval(secs => $1))`

// Prune deletes events older than keep, and expired tickets.
func (s *EventStore) Prune(ctx context.Context, keep time.Duration) (int64, error) {
	var n int64
	err := s.db.asUser(ctx, noUser, false, prune, []any{keep.Seconds()}, func(rows pgx.Rows) error {
		return scanOne(rows, &n)
	})
	return n, err
}

const createTicket = `INSERT INTO event_tickets (hash, user_id, token_until) VALUES ($1, $2, $3)`

// CreateTicket stores a ticket's hash for the caller.
func (s *EventStore) CreateTicket(ctx context.Context, c todo.Caller, hash []byte, until time.Time) error {
	return s.db.asUser(ctx, c, false, createTicket, []any{hash, c.UserID, until}, func(rows pgx.Rows) error {
		rows.Close()
		return rows.Err()
	})
}

const redeemTicket = `SELECT user_id, token_until FROM app.redeem_event_ticket($1)`

// RedeemTicket uses up a valid ticket; todo.ErrNotFound if there is none.
func (s *EventStore) RedeemTicket(ctx context.Context, hash []byte) (userID string, until time.Time, err error) {
	err = s.db.asUser(ctx, noUser, false, redeemTicket, []any{hash}, func(rows pgx.Rows) error {
		return scanOne(rows, &userID, &until)
	})
	return userID, until, err
}
