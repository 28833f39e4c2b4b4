package api

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/todo"
)

// fieldsBody is a whole todo as a client writes it (create and replace).
// Omitted optional fields take their defaults.
type fieldsBody struct {
	Title       string     `json:"title" minLength:"1" maxLength:"500" pattern:"\\S" patternDescription:"not blank" doc:"What to do."`
	Description string     `json:"description,omitempty" maxLength:"10000" doc:"Free-form details."`
	Completed   bool       `json:"completed,omitempty" doc:"Whether it is done."`
	DueAt       *time.Time `json:"due_at,omitempty" nullable:"true" doc:"When it is due, or null."`
}

func (b fieldsBody) fields() todo.Fields {
	return todo.Fields{Title: b.Title, Description: b.Description, Completed: b.Completed, DueAt: b.DueAt}
}

// patchBody is a JSON merge patch (RFC 7396) of the writable fields: an
// omitted member stays as it is, and null removes it, which resets it to its
// default (description "", completed false, no due date). A title cannot be
// removed.
type patchBody struct {
	Title       optional[string]    `json:"title,omitempty" minLength:"1" maxLength:"500" pattern:"\\S" patternDescription:"not blank" doc:"What to do; cannot be null."`
	Description optional[string]    `json:"description,omitempty" maxLength:"10000" nullable:"true" doc:"Free-form details; null clears them."`
	Completed   optional[bool]      `json:"completed,omitempty" nullable:"true" doc:"Whether it is done; null means false."`
	DueAt       optional[time.Time] `json:"due_at,omitempty" nullable:"true" doc:"When it is due; null clears it."`
}

// patch turns the body into the domain's change, or a 422 for a null title.
func (b patchBody) patch() (todo.Patch, error) {
	if b.Title.Null {
		return todo.Patch{}, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "body.title", Message: "title cannot be null"})
	}
	p := todo.Patch{Title: b.Title.ptr(), Description: b.Description.ptr(), Completed: b.Completed.ptr(),
		SetDueAt: b.DueAt.Set, DueAt: b.DueAt.ptr()}
	if b.DueAt.Null {
		p.DueAt = nil
	}
	return p, nil
}

// optional is one member of a merge patch: absent (Set false), null (Null),
// or a value. Its schema is T's; the field's tags add nullable where allowed.
type optional[T any] struct {
	Set, Null bool
	Value     T
}

// UnmarshalJSON is only called for a member that is present.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Schema documents the member as T.
func (optional[T]) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[T](), false, "")
}

// ptr is the member's new value: nil when absent, T's zero value when null.
func (o optional[T]) ptr() *T {
	if !o.Set {
		return nil
	}
	return &o.Value
}

// TodoPath is the path parameter of the single-todo operations. It is
// exported because Huma reads embedded parameter structs only when exported.
type TodoPath struct {
	ID string `path:"id" format:"uuid" doc:"The todo's id."`
}

type todoOutput struct {
	Body todo.Todo
}

type createInput struct {
	Body fieldsBody
}

type createOutput struct {
	Location string `header:"Location" doc:"Where the new todo lives."`
	Body     todo.Todo
}

func (s *server) createTodo(ctx context.Context, in *createInput) (*createOutput, error) {
	t, err := s.Todos.Create(ctx, userID(ctx), in.Body.fields())
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &createOutput{Location: "/v1/todos/" + t.ID, Body: t}, nil
}

type listInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size."`
}

type listOutput struct {
	Body struct {
		Items      []todo.Todo `json:"items" doc:"My todos, newest first."`
		NextCursor *string     `json:"next_cursor" doc:"Always null for now: the first page is the only one."`
	}
}

func (s *server) listTodos(ctx context.Context, in *listInput) (*listOutput, error) {
	page, err := s.Todos.List(ctx, userID(ctx), in.Limit)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &listOutput{}
	out.Body.Items = page.Items
	return out, nil
}

func (s *server) getTodo(ctx context.Context, in *TodoPath) (*todoOutput, error) {
	t, err := s.Todos.Get(ctx, userID(ctx), in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &todoOutput{Body: t}, nil
}

type replaceInput struct {
	TodoPath
	Body fieldsBody
}

func (s *server) replaceTodo(ctx context.Context, in *replaceInput) (*todoOutput, error) {
	t, err := s.Todos.Replace(ctx, userID(ctx), in.ID, in.Body.fields())
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &todoOutput{Body: t}, nil
}

type updateInput struct {
	TodoPath
	Body patchBody `contentType:"application/merge-patch+json"`
}

func (s *server) updateTodo(ctx context.Context, in *updateInput) (*todoOutput, error) {
	patch, err := in.Body.patch()
	if err != nil {
		return nil, err
	}
	t, err := s.Todos.Update(ctx, userID(ctx), in.ID, patch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &todoOutput{Body: t}, nil
}

func (s *server) deleteTodo(ctx context.Context, in *TodoPath) (*struct{}, error) {
	if err := s.Todos.Delete(ctx, userID(ctx), in.ID); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}
