package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

const bearerScheme = "bearer"

var (
	needsToken = []map[string][]string{{bearerScheme: {}}}
	// public says explicitly that an operation needs no credentials.
	public = []map[string][]string{{}}
)

// routes lists the whole API surface.
func (s *server) routes() {
	huma.Register(s.api, huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/healthz", Tags: []string{"Operations"},
		Summary: "Process is alive", Security: public,
	}, s.health)
	huma.Register(s.api, huma.Operation{
		OperationID: "ready", Method: http.MethodGet, Path: "/readyz", Tags: []string{"Operations"},
		Summary: "Ready to serve: database reachable, schema current", Errors: []int{503}, Security: public,
	}, s.ready)

	todoOp := func(id, method, path, summary string, status int, errs ...int) huma.Operation {
		return huma.Operation{
			OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{"Todos"},
			DefaultStatus: status, Security: needsToken, MaxBodyBytes: -1, // framing caps bodies
			Errors: append([]int{http.StatusUnauthorized}, errs...),
		}
	}
	huma.Register(s.api, todoOp("createTodo", http.MethodPost, "/v1/todos", "Create a todo",
		http.StatusCreated, 400, 413, 415, 422), s.createTodo)
	huma.Register(s.api, todoOp("listTodos", http.MethodGet, "/v1/todos", "List my todos: filters, sort, cursor pages",
		http.StatusOK, 400, 422), s.listTodos)
	huma.Register(s.api, todoOp("summarizeTodos", http.MethodGet, "/v1/todos/summary", "Count my todos: total, active, completed",
		http.StatusOK), s.summarizeTodos)
	huma.Register(s.api, todoOp("setCompleted", http.MethodPatch, "/v1/todos", "Set completed on all my todos the filters select (toggle all)",
		http.StatusOK, 400, 413, 415, 422), s.setCompleted)
	huma.Register(s.api, todoOp("deleteCompleted", http.MethodDelete, "/v1/todos", "Delete my completed todos (clear completed); needs completed=true",
		http.StatusOK, 422), s.deleteCompleted)
	huma.Register(s.api, todoOp("getTodo", http.MethodGet, "/v1/todos/{id}", "Get a todo",
		http.StatusOK, 304, 404, 422), s.getTodo)
	huma.Register(s.api, todoOp("replaceTodo", http.MethodPut, "/v1/todos/{id}", "Replace a todo",
		http.StatusOK, 400, 404, 412, 413, 415, 422), s.replaceTodo)
	huma.Register(s.api, todoOp("updateTodo", http.MethodPatch, "/v1/todos/{id}", "Change some fields of a todo (JSON merge patch)",
		http.StatusOK, 400, 404, 412, 413, 415, 422), s.updateTodo)
	huma.Register(s.api, todoOp("deleteTodo", http.MethodDelete, "/v1/todos/{id}", "Delete a todo",
		http.StatusNoContent, 404, 412, 422), s.deleteTodo)

	listOp := func(id, method, path, summary string, status int, errs ...int) huma.Operation {
		op := todoOp(id, method, path, summary, status, errs...)
		op.Tags = []string{"Lists"}
		return op
	}
	huma.Register(s.api, listOp("createList", http.MethodPost, "/v1/lists", "Create a list; I become its owner",
		http.StatusCreated, 400, 413, 415, 422), s.createList)
	huma.Register(s.api, listOp("listLists", http.MethodGet, "/v1/lists", "List the lists I am a member of, with my role",
		http.StatusOK, 400, 422), s.listLists)
	huma.Register(s.api, listOp("getList", http.MethodGet, "/v1/lists/{list_id}", "Get a list",
		http.StatusOK, 404, 422), s.getList)
	huma.Register(s.api, listOp("renameList", http.MethodPatch, "/v1/lists/{list_id}", "Rename a list (owners)",
		http.StatusOK, 400, 403, 404, 412, 413, 415, 422), s.renameList)
	huma.Register(s.api, listOp("deleteList", http.MethodDelete, "/v1/lists/{list_id}", "Delete a list and its todos (owners)",
		http.StatusNoContent, 403, 404, 412, 422), s.deleteList)
	huma.Register(s.api, listOp("listTodosOfList", http.MethodGet, "/v1/lists/{list_id}/todos", "List a list's todos: filters, sort, cursor pages",
		http.StatusOK, 400, 404, 422), s.listTodosOfList)
	huma.Register(s.api, listOp("createTodoInList", http.MethodPost, "/v1/lists/{list_id}/todos", "Create a todo in a list (owners and editors)",
		http.StatusCreated, 400, 403, 404, 413, 415, 422), s.createTodoInList)
	huma.Register(s.api, listOp("listMembers", http.MethodGet, "/v1/lists/{list_id}/members", "List a list's members",
		http.StatusOK, 404, 422), s.listMembers)
	huma.Register(s.api, listOp("addMember", http.MethodPost, "/v1/lists/{list_id}/members", "Add a member by user id (owners)",
		http.StatusCreated, 400, 403, 404, 409, 413, 415, 422), s.addMember)
	huma.Register(s.api, listOp("setMemberRole", http.MethodPatch, "/v1/lists/{list_id}/members/{user_id}", "Change a member's role (owners)",
		http.StatusOK, 400, 403, 404, 409, 413, 415, 422), s.setRole)
	huma.Register(s.api, listOp("removeMember", http.MethodDelete, "/v1/lists/{list_id}/members/{user_id}", "Remove a member (owners), or leave: user_id me",
		http.StatusNoContent, 403, 404, 409, 422), s.removeMember)
	huma.Register(s.api, listOp("createInvitation", http.MethodPost, "/v1/lists/{list_id}/invitations", "Invite people with a link (owners): the token is shown once",
		http.StatusCreated, 400, 403, 404, 413, 415, 422), s.createInvitation)
	huma.Register(s.api, listOp("listInvitations", http.MethodGet, "/v1/lists/{list_id}/invitations", "List a list's invitations (owners see them)",
		http.StatusOK, 404, 422), s.listInvitations)
	huma.Register(s.api, listOp("revokeInvitation", http.MethodDelete, "/v1/lists/{list_id}/invitations/{invitation_id}", "Revoke an invitation (owners)",
		http.StatusNoContent, 404, 422), s.revokeInvitation)
	huma.Register(s.api, listOp("acceptInvitation", http.MethodPost, "/v1/invitations/{token}/accept", "Accept an invitation: join its list",
		http.StatusOK, 404, 410, 422), s.acceptInvitation)

	s.eventRoutes()
}
