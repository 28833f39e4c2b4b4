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
)

// Todo is one item of one person's list.
type Todo struct {
	ID          string     `json:"id" format:"uuid" doc:"Server-generated identifier."`
	Title       string     `json:"title" doc:"What to do."`
	Description string     `json:"description" doc:"Free-form details; empty when unset."`
	Completed   bool       `json:"completed" doc:"Whether it is done."`
	DueAt       *time.Time `json:"due_at" doc:"When it is due, or null."`
	CreatedAt   time.Time  `json:"created_at" doc:"When it was created (server time)."`
	UpdatedAt   time.Time  `json:"updated_at" doc:"When it last changed (server time)."`
}

// Fields are the writable parts of a todo, as given to create or replace it.
type Fields struct {
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

// Page is one page of a person's todos, newest first.
type Page struct {
	Items []Todo
}

// Store keeps todos. Every method acts as userID: it sees and changes only
// that person's rows, which the database enforces, not the implementation.
type Store interface {
	Create(ctx context.Context, userID string, f Fields) (Todo, error)
	Get(ctx context.Context, userID, id string) (Todo, error)
	List(ctx context.Context, userID string, limit int) (Page, error)
	Replace(ctx context.Context, userID, id string, f Fields) (Todo, error)
	Update(ctx context.Context, userID, id string, p Patch) (Todo, error)
	Delete(ctx context.Context, userID, id string) error
}

type requestIDKey struct{}

// WithRequestID tags ctx with the id of the HTTP request it serves; stores
// record it with every change (the audit trail's request_id).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
