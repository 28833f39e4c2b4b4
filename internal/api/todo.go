package api

import (
	"context"
	"encoding/json"
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
// omitted field stays as it is; due_at: null clears the due date.
type patchBody struct {
	Title       *string      `json:"title,omitempty" minLength:"1" maxLength:"500" pattern:"\\S" patternDescription:"not blank" doc:"What to do."`
	Description *string      `json:"description,omitempty" maxLength:"10000" doc:"Free-form details."`
	Completed   *bool        `json:"completed,omitempty" doc:"Whether it is done."`
	DueAt       optionalTime `json:"due_at,omitempty" doc:"When it is due; null clears it."`
}

// optionalTime tells an omitted field (Set false) from an explicit null.
type optionalTime struct {
	Set   bool
	Value *time.Time
}

// UnmarshalJSON is only called when the field is present.
func (o *optionalTime) UnmarshalJSON(b []byte) error {
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

// Schema documents the field as a nullable date-time.
func (optionalTime) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Nullable: true}
}

type todoPath struct {
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

func (s *server) getTodo(ctx context.Context, in *todoPath) (*todoOutput, error) {
	t, err := s.Todos.Get(ctx, userID(ctx), in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &todoOutput{Body: t}, nil
}

type replaceInput struct {
	todoPath
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
	todoPath
	Body patchBody `contentType:"application/merge-patch+json"`
}

func (s *server) updateTodo(ctx context.Context, in *updateInput) (*todoOutput, error) {
	b := in.Body
	patch := todo.Patch{Title: b.Title, Description: b.Description, Completed: b.Completed,
		SetDueAt: b.DueAt.Set, DueAt: b.DueAt.Value}
	t, err := s.Todos.Update(ctx, userID(ctx), in.ID, patch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &todoOutput{Body: t}, nil
}

func (s *server) deleteTodo(ctx context.Context, in *todoPath) (*struct{}, error) {
	if err := s.Todos.Delete(ctx, userID(ctx), in.ID); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}
