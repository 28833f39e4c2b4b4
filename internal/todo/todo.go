// Package todo holds the domain: what a todo is, what may be changed in it,
// and the errors every adapter speaks. It imports no adapter.
package todo

import (
	"context"
	"errors"
	"time"
)

// Limits shared by the API's validation and the database's CHECK constraints.
const (
	MaxTitleLen       = 500
	MaxDescriptionLen = 10000
	MaxPageSize       = 100
	DefaultPageSize   = 20
	MaxQueryLen       = 200 // a list's title search (q)
)

// Errors every Store returns, so that callers never inspect database errors.
var (
	// ErrNotFound means the todo does not exist or is not the caller's:
	// the two are indistinguishable by design.
	ErrNotFound = errors.New("todo not found")
	// ErrInvalid means the database refused a value the API let through.
	ErrInvalid = errors.New("invalid todo")
	// ErrForbidden means row-level security refused a write.
	ErrForbidden = errors.New("not allowed")
	// ErrPreconditionFailed means the todo exists but is not at a version the
	// caller named (If-Match): someone else changed it first.
	ErrPreconditionFailed = errors.New("todo changed since you read it")
	// ErrUnavailable means the database cannot serve now (down, restarting,
	// overloaded, timed out): nothing was changed, and the client may retry.
	ErrUnavailable = errors.New("database unavailable")
	// ErrConflict means a concurrent request made the same unique thing first.
	ErrConflict = errors.New("conflict")
	// ErrKeyReused means an idempotency key came back with another request.
	ErrKeyReused = errors.New("idempotency key used with a different request")
)

// Todo is one item of a list.
type Todo struct {
	ID          string     `json:"id" format:"uuid" doc:"Server-generated identifier."`
	ListID      string     `json:"list_id" format:"uuid" doc:"The list it belongs to."`
	Title       string     `json:"title" doc:"What to do."`
	Description string     `json:"description" doc:"Free-form details; empty when unset."`
	Completed   bool       `json:"completed" doc:"Whether it is done."`
	DueAt       *time.Time `json:"due_at" doc:"When it is due, or null."`
	CreatedAt   time.Time  `json:"created_at" doc:"When it was created (server time)."`
	UpdatedAt   time.Time  `json:"updated_at" doc:"When it last changed (server time)."`
	Version     int64      `json:"-"` // 1 when created, +1 on every change: the ETag
}

// Versions are the versions a write may apply to (If-Match). Nil means any;
// empty means none can match.
type Versions []int64

// Fields are the writable parts of a todo, as given to create or replace it.
// ListID is only read by Create: "" means the caller's personal list. A todo
// never moves between lists.
type Fields struct {
	ListID      string
	Title       string
	Description string
	Completed   bool
	DueAt       *time.Time
}

// Patch is a partial change: nil leaves a field as it is. SetDueAt with a nil
// DueAt clears the due date.
type Patch struct {
	Title       *string
	Description *string
	Completed   *bool
	SetDueAt    bool
	DueAt       *time.Time
}

// Filter narrows a list or a bulk action. Zero values filter nothing: every
// todo of every list the caller is in.
type Filter struct {
	ListID    string // only this list's todos
	Completed *bool
	Query     string     // case-insensitive substring of the title
	DueBefore *time.Time // due strictly before
	DueAfter  *time.Time // due strictly after
}

// Sorts are the orders a list can come in; "-" means descending. Ties are
// broken by id, so every order is total and a cursor is exact.
var Sorts = []string{"-created_at", "created_at", "due_at", "-due_at", "title", "-title"}

// DefaultSort is newest first.
const DefaultSort = "-created_at"

// ListParams ask for one page.
type ListParams struct {
	Filter
	Sort  string  // one of Sorts
	Limit int     // 1..MaxPageSize
	After *Cursor // the previous page's Next, or nil for the first page
}

// Page is one page of todos.
type Page struct {
	Items []Todo
	Next  *Cursor // nil on the last page
}

// Summary counts the todos a filter selects, for a list's footer ("3 items left").
type Summary struct {
	Total     int64 `json:"total" doc:"All of them."`
	Active    int64 `json:"active" doc:"Not completed."`
	Completed int64 `json:"completed" doc:"Completed."`
}

// Bulk is what a bulk action did: the todos it changed, and those it selected
// but left alone because the caller may only read them (a viewer's).
type Bulk struct {
	Changed  int64 `json:"changed" doc:"How many todos changed."`
	ReadOnly int64 `json:"read_only" doc:"How many selected todos were left unchanged because I may only view their list."`
}

// Store keeps todos. Every method acts as the Caller: it sees the todos of
// the lists they are a member of and changes those of the lists where they are
// an owner or editor, which the database enforces, not the implementation. A
// todo the caller cannot see is ErrNotFound; one they see but may not change
// is ErrForbidden.
type Store interface {
	// Create stores a todo. With an idempotency key, a repeat of the same
	// request returns the first response (replayed true) and creates nothing;
	// another request under the same key is ErrKeyReused.
	Create(ctx context.Context, c Caller, f Fields, idempotencyKey string) (t Todo, replayed bool, err error)
	Get(ctx context.Context, c Caller, id string) (Todo, error)
	List(ctx context.Context, c Caller, p ListParams) (Page, error)
	// Summary counts the todos of one list, or of all the caller's lists
	// when listID is "".
	Summary(ctx context.Context, c Caller, listID string) (Summary, error)
	Replace(ctx context.Context, c Caller, id string, f Fields, ifMatch Versions) (Todo, error)
	Update(ctx context.Context, c Caller, id string, p Patch, ifMatch Versions) (Todo, error)
	Delete(ctx context.Context, c Caller, id string, ifMatch Versions) error
	// SetCompleted sets completed on every todo that f selects ("toggle all").
	SetCompleted(ctx context.Context, c Caller, f Filter, completed bool) (Bulk, error)
	// DeleteAll deletes every todo that f selects ("clear completed").
	DeleteAll(ctx context.Context, c Caller, f Filter) (Bulk, error)
}

// Caller is who a store call acts for, as the database will be told: the
// verified user (the JWT subject) and the id of the HTTP request it serves,
// which the audit trail records with every change.
type Caller struct {
	UserID    string
	RequestID string
}
