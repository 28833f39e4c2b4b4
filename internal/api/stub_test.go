package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

// echoStore is a todo.Store that keeps nothing and answers with what it is
// given (or with answer and err). It serves only the tests of the HTTP
// layer's own parsing and encoding: authorization and SQL are tested on
// Postgres, never on a stub.
type echoStore struct {
	answer todo.Todo
	err    error
}

func (s echoStore) Create(_ context.Context, _ todo.Caller, f todo.Fields, _ string) (todo.Todo, bool, error) {
	now := time.Now()
	return todo.Todo{ID: "00000000-0000-4000-8000-000000000001", ListID: f.ListID, Title: f.Title, Description: f.Description,
		Completed: f.Completed, DueAt: f.DueAt, CreatedAt: now, UpdatedAt: now, Version: 1}, false, s.err
}
func (s echoStore) Get(context.Context, todo.Caller, string) (todo.Todo, error) {
	return s.answer, s.err
}
func (s echoStore) List(context.Context, todo.Caller, todo.ListParams) (todo.Page, error) {
	return todo.Page{Items: []todo.Todo{s.answer}}, s.err
}
func (s echoStore) Summary(context.Context, todo.Caller, string) (todo.Summary, error) {
	return todo.Summary{}, s.err
}
func (s echoStore) Replace(context.Context, todo.Caller, string, todo.Fields, todo.Versions) (todo.Todo, error) {
	return s.answer, s.err
}
func (s echoStore) Update(context.Context, todo.Caller, string, todo.Patch, todo.Versions) (todo.Todo, error) {
	return s.answer, s.err
}
func (s echoStore) Delete(context.Context, todo.Caller, string, todo.Versions) error { return s.err }
func (s echoStore) SetCompleted(context.Context, todo.Caller, todo.Filter, bool) (todo.Bulk, error) {
	return todo.Bulk{}, s.err
}
func (s echoStore) DeleteAll(context.Context, todo.Caller, todo.Filter) (todo.Bulk, error) {
	return todo.Bulk{}, s.err
}

// echoLists is echoStore's todo.ListStore: it keeps nothing and answers with
// what it is given.
type echoLists struct{}

func (echoLists) CreateList(_ context.Context, _ todo.Caller, name string) (todo.List, error) {
	return todo.List{ID: "00000000-0000-4000-8000-000000000002", Name: name, MyRole: todo.RoleOwner, Version: 1}, nil
}
func (echoLists) Lists(context.Context, todo.Caller, int, *todo.Cursor) (todo.ListPage, error) {
	return todo.ListPage{}, nil
}
func (echoLists) GetList(_ context.Context, _ todo.Caller, id string) (todo.List, error) {
	return todo.List{ID: id, Name: "x", Version: 1}, nil
}
func (echoLists) RenameList(_ context.Context, _ todo.Caller, id, name string, _ todo.Versions) (todo.List, error) {
	return todo.List{ID: id, Name: name, Version: 2}, nil
}
func (echoLists) DeleteList(context.Context, todo.Caller, string, todo.Versions) error { return nil }
func (echoLists) Members(context.Context, todo.Caller, string, int, string) ([]todo.Member, error) {
	return []todo.Member{}, nil
}
func (echoLists) AddMember(_ context.Context, _ todo.Caller, _, userID, role string) (todo.Member, error) {
	return todo.Member{UserID: userID, Role: role}, nil
}
func (echoLists) SetRole(_ context.Context, _ todo.Caller, _, userID, role string) (todo.Member, error) {
	return todo.Member{UserID: userID, Role: role}, nil
}
func (echoLists) RemoveMember(context.Context, todo.Caller, string, string) error { return nil }
func (echoLists) CreateInvitation(_ context.Context, _ todo.Caller, listID string, inv todo.NewInvitation) (todo.Invitation, error) {
	return todo.Invitation{ListID: listID, Role: inv.Role, MaxUses: inv.MaxUses}, nil
}
func (echoLists) Invitations(context.Context, todo.Caller, string) ([]todo.Invitation, error) {
	return []todo.Invitation{}, nil
}
func (echoLists) RevokeInvitation(context.Context, todo.Caller, string, string) error { return nil }
func (echoLists) AcceptInvitation(context.Context, todo.Caller, string) (todo.Joined, error) {
	return todo.Joined{}, nil
}

// stubServer is the whole API on store, served in process, with its logs and
// metrics.
type stubServer struct {
	handler http.Handler
	api     huma.API
	logs    *apitest.LockedBuffer
	metrics *prometheus.Registry
	token   string // alice's
}

func newStubServer(t testing.TB, store todo.Store) *stubServer {
	t.Helper()
	verifier, err := auth.NewVerifier(context.Background(), apitest.Auth)
	if err != nil {
		t.Fatal(err)
	}
	logs, reg := &apitest.LockedBuffer{}, prometheus.NewRegistry()
	h, humaAPI := api.NewServerAPI(api.Deps{Todos: store, Lists: echoLists{}, Verifier: verifier, Cursors: apitest.CursorKey(t),
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: api.NewMetrics(reg)})
	return &stubServer{handler: h, api: humaAPI, logs: logs, metrics: reg, token: apitest.Token(t, "alice")}
}

// do serves one request as alice in process; header pairs follow the body.
func (s *stubServer) do(method, target, body string, header ...string) apitest.Response {
	return apitest.Serve(s.handler, method, target, s.token, body, header...)
}
