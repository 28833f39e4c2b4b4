package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/todo"
)

// TodoFields is a whole todo as a client writes it (create and replace).
// Omitted optional fields take their defaults. It is exported because Huma
// flattens only exported embedded structs into a body's schema.
type TodoFields struct {
	Title       string     `json:"title" pattern:"\\S" doc:"What to do."`
	Description string     `json:"description,omitempty" doc:"Free-form details."`
	Completed   bool       `json:"completed,omitempty" doc:"Whether it is done."`
	DueAt       *time.Time `json:"due_at,omitempty" nullable:"true" doc:"When it is due, or null."`
}

// Resolve checks what the schema cannot say; see checkFields.
func (b *TodoFields) Resolve(huma.Context) []error {
	return checkFields(&b.Title, &b.Description, b.DueAt)
}

// checkFields checks the text and the due date of a body (each may be nil:
// absent) against the domain's rules, as 422 details.
func checkFields(title, description *string, dueAt *time.Time) []error {
	var errs []error
	for _, m := range []struct {
		name string
		text *string
	}{{"title", title}, {"description", description}} {
		if m.text == nil {
			continue
		}
		if err := todo.CheckText(*m.text); err != nil {
			errs = append(errs, &huma.ErrorDetail{Location: "body." + m.name, Message: err.Error()})
		}
	}
	if dueAt != nil {
		if err := todo.CheckDueAt(*dueAt); err != nil {
			errs = append(errs, &huma.ErrorDetail{Location: "body.due_at", Message: err.Error()})
		}
	}
	return errs
}

func (b TodoFields) fields() todo.Fields {
	return todo.Fields{Title: b.Title, Description: b.Description, Completed: b.Completed, DueAt: b.DueAt}
}

// patchBody is a JSON merge patch (RFC 7396) of the writable fields: an
// omitted member stays as it is, and null removes it, which resets it to its
// default (description "", completed false, no due date). A title cannot be
// removed.
type patchBody struct {
	Title       optional[string]    `json:"title,omitempty" pattern:"\\S" doc:"What to do; cannot be null."`
	Description optional[string]    `json:"description,omitempty" nullable:"true" doc:"Free-form details; null clears them."`
	Completed   optional[bool]      `json:"completed,omitempty" nullable:"true" doc:"Whether it is done; null means false."`
	DueAt       optional[time.Time] `json:"due_at,omitempty" nullable:"true" doc:"When it is due; null clears it."`
}

// Resolve checks what the schema cannot say; see checkFields.
func (b *patchBody) Resolve(huma.Context) []error {
	return checkFields(b.Title.ptr(), b.Description.ptr(), b.DueAt.ptr())
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

// optional is one member of a merge patch, or a query parameter: absent (Set
// false), null (Null, in a body), or a value. Its schema is T's; the field's
// tags add nullable where allowed.
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

// Receiver is where Huma parses a query parameter's value.
func (o *optional[T]) Receiver() reflect.Value { return reflect.ValueOf(&o.Value).Elem() }

// OnParamSet records whether the query parameter was given.
func (o *optional[T]) OnParamSet(isSet bool, _ any) { o.Set = isSet }

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

// etag is a todo's strong entity tag: its row version, which every change bumps.
func etag(t todo.Todo) string { return `"` + strconv.FormatInt(t.Version, 10) + `"` }

// ifMatch reads If-Match: nil without the header (any version), "*" for any
// existing todo, else the versions named (strong comparison: weak, foreign or
// malformed tags match nothing; only a tag exactly as etag writes it does).
func ifMatch(values []string) todo.Versions {
	if len(values) == 0 {
		return nil
	}
	versions := todo.Versions{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "*" {
			return nil
		}
		if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
			continue
		}
		if n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64); err == nil && `"`+strconv.FormatInt(n, 10)+`"` == v {
			versions = append(versions, n)
		}
	}
	return versions
}

type todoOutput struct {
	ETag string `header:"ETag" doc:"The todo's version; send it back in If-Match to change it only if nobody did since."`
	Body todo.Todo
}

func todoOut(t todo.Todo) *todoOutput { return &todoOutput{ETag: etag(t), Body: t} }

// createBody is a new todo: its fields and, optionally, its list.
type createBody struct {
	ListID string `json:"list_id,omitempty" format:"uuid" doc:"The list to put it in (I must be an owner or editor there); my personal list when omitted."`
	TodoFields
}

type createInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" pattern:"^[!-~]+$" doc:"Makes retries safe: a repeat of the same request with the same key within 24 hours returns the first response and creates nothing."`
	Body           createBody
}

type createOutput struct {
	Location string `header:"Location" doc:"Where the new todo lives."`
	ETag     string `header:"ETag" doc:"The todo's version."`
	Body     todo.Todo
}

func (s *server) createTodo(ctx context.Context, in *createInput) (*createOutput, error) {
	return s.create(ctx, in.Body.ListID, in.Body.TodoFields, in.IdempotencyKey)
}

// create makes a todo in list ("": the caller's personal list).
func (s *server) create(ctx context.Context, list string, body TodoFields, key string) (*createOutput, error) {
	f := body.fields()
	f.ListID = list
	t, _, err := s.Todos.Create(ctx, caller(ctx), f, key)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &createOutput{Location: "/v1/todos/" + t.ID, ETag: etag(t), Body: t}, nil
}

// ListFilter narrows /v1/todos to one list (exported, like FilterParams).
type ListFilter struct {
	ListID string `query:"list_id" format:"uuid" doc:"Only this list's todos (404 if it is not one of mine); all my lists' when omitted."`
}

// FilterParams select todos, for lists and bulk actions. (Exported, as
// Huma reads only exported embedded parameter structs.) Times stay as the
// client wrote them (the schema checks they are RFC 3339), for the next
// page's link.
type FilterParams struct {
	Completed optional[bool] `query:"completed" doc:"Only completed (true) or active (false) todos; absent: both."`
	Q         string         `query:"q" doc:"Only todos whose title contains this, ignoring case."`
	DueBefore string         `query:"due_before" format:"date-time" doc:"Only todos due before this time."`
	DueAfter  string         `query:"due_after" format:"date-time" doc:"Only todos due after this time."`
}

// Resolve checks the search text as text the database can hold.
func (f *FilterParams) Resolve(huma.Context) []error {
	if err := todo.CheckText(f.Q); err != nil {
		return []error{&huma.ErrorDetail{Location: "query.q", Message: err.Error()}}
	}
	return nil
}

func (f FilterParams) filter() todo.Filter {
	out := todo.Filter{Completed: f.Completed.ptr(), Query: f.Q}
	for _, t := range []struct {
		text string
		to   **time.Time
	}{{f.DueBefore, &out.DueBefore}, {f.DueAfter, &out.DueAfter}} {
		if t.text == "" {
			continue
		}
		if at, err := time.Parse(time.RFC3339Nano, t.text); err == nil { // the schema has checked it
			*t.to = &at
		}
	}
	return out
}

// query is f as URL query parameters, for the next page's link.
func (f FilterParams) query() url.Values {
	q := url.Values{}
	if f.Completed.Set {
		q.Set("completed", strconv.FormatBool(f.Completed.Value))
	}
	for name, v := range map[string]string{"q": f.Q, "due_before": f.DueBefore, "due_after": f.DueAfter} {
		if v != "" {
			q.Set(name, v)
		}
	}
	return q
}

// PageParams ask for one page of todos (exported, like FilterParams).
type PageParams struct {
	Sort   string `query:"sort" doc:"Order; - for descending. Todos without a due date count as due last."`
	Limit  int    `query:"limit" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"2048" doc:"next_cursor of the previous page, with the same sort."`
}

type listInput struct {
	ListFilter
	FilterParams
	PageParams
}

type listOutput struct {
	Link string `header:"Link" doc:"RFC 8288 link to the next page (rel=next), when there is one."`
	Body struct {
		Items      []todo.Todo `json:"items" doc:"One page of my todos."`
		NextCursor *string     `json:"next_cursor" doc:"Pass as cursor for the next page; null on the last page."`
	}
}

func (s *server) listTodos(ctx context.Context, in *listInput) (*listOutput, error) {
	return s.page(ctx, in.ListID, in.FilterParams, in.PageParams, "/v1/todos", true)
}

// page answers one page of the todos of list ("": all the caller's lists)
// that f selects. Its next page's link is at path, with list_id as a query
// parameter when namedList.
func (s *server) page(ctx context.Context, list string, f FilterParams, pp PageParams, path string, namedList bool) (*listOutput, error) {
	c := caller(ctx)
	if pp.Sort == "" {
		pp.Sort = todo.DefaultSort
	}
	if pp.Limit == 0 {
		pp.Limit = todo.DefaultPageSize
	}
	p := todo.ListParams{Filter: f.filter(), Sort: pp.Sort, Limit: pp.Limit}
	p.ListID = list
	if pp.Cursor != "" {
		after, err := s.Cursors.Decode(pp.Cursor, c.UserID, pp.Sort)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		p.After = after
	}
	page, err := s.Todos.List(ctx, c, p)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &listOutput{}
	out.Body.Items = page.Items
	if page.Next != nil {
		next := s.Cursors.Encode(*page.Next, c.UserID)
		out.Body.NextCursor = &next
		q := f.query()
		if namedList && list != "" {
			q.Set("list_id", list)
		}
		q.Set("sort", pp.Sort)
		q.Set("limit", strconv.Itoa(pp.Limit))
		q.Set("cursor", next)
		out.Link = `<` + path + `?` + q.Encode() + `>; rel="next"`
	}
	return out, nil
}

type summaryOutput struct {
	Body todo.Summary
}

type summaryInput struct {
	ListID string `query:"list_id" format:"uuid" doc:"Count only this list's todos; all my lists' when omitted."`
}

func (s *server) summarizeTodos(ctx context.Context, in *summaryInput) (*summaryOutput, error) {
	sum, err := s.Todos.Summary(ctx, caller(ctx), in.ListID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &summaryOutput{Body: sum}, nil
}

type getInput struct {
	TodoPath
	IfNoneMatch []string `header:"If-None-Match" doc:"ETags you have: if the todo still has one of them, the answer is 304 without a body."`
}

func (s *server) getTodo(ctx context.Context, in *getInput) (*todoOutput, error) {
	t, err := s.Todos.Get(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	for _, tag := range in.IfNoneMatch {
		if tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/"); tag == etag(t) || tag == "*" {
			return nil, huma.ErrorWithHeaders(huma.Status304NotModified(), http.Header{"ETag": {etag(t)}})
		}
	}
	return todoOut(t), nil
}

// WriteConditions are the preconditions of a change to one todo (exported
// for Huma, like FilterParams).
type WriteConditions struct {
	IfMatch []string `header:"If-Match" doc:"Change the todo only if it still has one of these ETags (else 412); * for any."`
}

type replaceInput struct {
	TodoPath
	WriteConditions
	Body TodoFields
}

func (s *server) replaceTodo(ctx context.Context, in *replaceInput) (*todoOutput, error) {
	t, err := s.Todos.Replace(ctx, caller(ctx), in.ID, in.Body.fields(), ifMatch(in.IfMatch))
	if err != nil {
		return nil, s.problemFor(ctx, t, err)
	}
	return todoOut(t), nil
}

type updateInput struct {
	TodoPath
	WriteConditions
	Body patchBody `contentType:"application/merge-patch+json"`
}

func (s *server) updateTodo(ctx context.Context, in *updateInput) (*todoOutput, error) {
	patch, err := in.Body.patch()
	if err != nil {
		return nil, err
	}
	t, err := s.Todos.Update(ctx, caller(ctx), in.ID, patch, ifMatch(in.IfMatch))
	if err != nil {
		return nil, s.problemFor(ctx, t, err)
	}
	return todoOut(t), nil
}

type deleteInput struct {
	TodoPath
	WriteConditions
}

func (s *server) deleteTodo(ctx context.Context, in *deleteInput) (*struct{}, error) {
	if err := s.Todos.Delete(ctx, caller(ctx), in.ID, ifMatch(in.IfMatch)); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

type setCompletedInput struct {
	ListFilter
	FilterParams
	Body struct {
		Completed bool `json:"completed" doc:"The state to give every selected todo."`
	}
}

type countOutput struct {
	Body todo.Bulk
}

func (s *server) setCompleted(ctx context.Context, in *setCompletedInput) (*countOutput, error) {
	f := in.filter()
	f.ListID = in.ListID
	n, err := s.Todos.SetCompleted(ctx, caller(ctx), f, in.Body.Completed)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &countOutput{Body: n}, nil
}

type deleteAllInput struct {
	ListFilter
	FilterParams
}

func (s *server) deleteCompleted(ctx context.Context, in *deleteAllInput) (*countOutput, error) {
	if !in.Completed.Set || !in.Completed.Value {
		return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "query.completed",
			Message: "clear completed needs completed=true"})
	}
	f := in.filter()
	f.ListID = in.ListID
	n, err := s.Todos.DeleteAll(ctx, caller(ctx), f)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &countOutput{Body: n}, nil
}
