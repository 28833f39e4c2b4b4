// Package event delivers live updates: changes to todos, as a stream per
// subscriber, in a fixed order, resumable from a position. It decides nothing
// about who may see a change: a Source reads each subscriber's events under
// that subscriber's identity, and row-level security in Postgres filters them.
package event

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/todoapi/todoapi/internal/todo"
)

// Kinds of events.
const (
	TodoCreated   = "todo.created"
	TodoUpdated   = "todo.updated"
	TodoDeleted   = "todo.deleted"
	ListUpdated   = "list.updated"   // renamed
	ListDeleted   = "list.deleted"   // one per member it had
	MemberAdded   = "member.added"   // also to the member added
	MemberUpdated = "member.updated" // a role changed
	MemberRemoved = "member.removed" // also to the member removed, who gets nothing of the list after it
)

// Position is a place in the stream: events are ordered by (Txid, ID). A
// position with ID 0 is a watermark: every event below Txid is included.
type Position struct {
	Txid uint64 // the event's ordering transaction id (events.pos_txid)
	ID   int64  // the event's id
}

// Less orders positions as the stream does.
func (p Position) Less(q Position) bool {
	return p.Txid < q.Txid || (p.Txid == q.Txid && p.ID < q.ID)
}

// String is the position as an SSE id: "txid-id".
func (p Position) String() string {
	return strconv.FormatUint(p.Txid, 10) + "-" + strconv.FormatInt(p.ID, 10)
}

// ErrBadPosition means a Last-Event-ID this API did not make.
var ErrBadPosition = errors.New("invalid event id")

// ParsePosition reads what String wrote.
func ParsePosition(s string) (Position, error) {
	txid, id, ok := strings.Cut(s, "-")
	t, err1 := strconv.ParseUint(txid, 10, 63)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || i < 0 {
		return Position{}, ErrBadPosition
	}
	return Position{Txid: t, ID: i}, nil
}

// Event is one change, as a subscriber receives it.
type Event struct {
	Pos    Position
	Kind   string     // one of the kinds above
	ListID string     // the list it happened in
	TodoID string     // a todo event's todo
	Todo   *todo.Todo // the todo after the change; nil for a delete and for list and member events
	Data   []byte     // a list or member event's data, as JSON
}

// Request asks for one user's events in (From, To), in order.
type Request struct {
	UserID   string
	From, To Position
}

// Source is where changes come from: the database. Every method acts as the
// API's role; Read acts as each request's user.
type Source interface {
	// Watermark is the position below which every event is final.
	Watermark(ctx context.Context) (Position, error)
	// Next is the transaction id the database will hand out next: no event
	// can be at or above it.
	Next(ctx context.Context) (uint64, error)
	// Changes returns the watermark, the users who might see an event in
	// (after, watermark) and the horizon: events at or below it may be gone.
	Changes(ctx context.Context, after Position) (watermark Position, users []string, horizon Position, err error)
	// Read returns, for each request, up to limit of the events in its range
	// that row-level security lets its user see, in order, and the horizon.
	Read(ctx context.Context, reqs []Request, limit int) (events [][]Event, horizon Position, err error)
	// Prune deletes up to PruneBatch of the events older than keep (and
	// expired tickets) and says how many events it deleted.
	Prune(ctx context.Context, keep time.Duration) (int64, error)
	// CreateTicket stores a ticket's hash for the caller, valid until the
	// caller's token expires (at until) or the ticket's short life ends.
	CreateTicket(ctx context.Context, c todo.Caller, hash []byte, until time.Time) error
	// RedeemTicket uses up a valid ticket and says whose it was and until when
	// its token is good; todo.ErrNotFound when there is no such valid ticket.
	RedeemTicket(ctx context.Context, hash []byte) (userID string, until time.Time, err error)
}

// PruneBatch is the most events one Prune deletes: a short transaction even
// after a long outage.
const PruneBatch = 10000

// TicketTTL is how long a stream ticket may wait to be redeemed.
const TicketTTL = 30 * time.Second

// newTicket is a random ticket and the hash that is stored of it.
func newTicket() (ticket string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	ticket = base64.RawURLEncoding.EncodeToString(b)
	return ticket, ticketHash(ticket)
}

func ticketHash(ticket string) []byte {
	sum := sha256.Sum256([]byte(ticket))
	return sum[:]
}

// NewTicket makes a single-use stream ticket for the caller, whose bearer
// token stops being valid at until.
func (h *Hub) NewTicket(ctx context.Context, c todo.Caller, until time.Time) (string, error) {
	ticket, hash := newTicket()
	if err := h.src.CreateTicket(ctx, c, hash, until); err != nil {
		return "", fmt.Errorf("store ticket: %w", err)
	}
	return ticket, nil
}

// Redeem uses up ticket and returns its user and token expiry, or
// todo.ErrNotFound if it is unknown, used or expired.
func (h *Hub) Redeem(ctx context.Context, ticket string) (userID string, until time.Time, err error) {
	if len(ticket) > 100 {
		return "", time.Time{}, todo.ErrNotFound
	}
	return h.src.RedeemTicket(ctx, ticketHash(ticket))
}
