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
			DefaultStatus: status, Security: needsToken, MaxBodyBytes: maxBodyBytes,
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
	s.eventRoutes()
}
