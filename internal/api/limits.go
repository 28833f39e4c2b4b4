package api

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/todo"
)

// applyLimits writes the todo package's enums and limits into the schemas of
// the query parameters and request body members that carry them. Validation
// and the OpenAPI document both read these schemas, so the constants in
// internal/todo are the one source of every number (struct tags cannot name a
// constant); handlers apply the defaults from the same constants.
func applyLimits(oapi *huma.OpenAPI) {
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			byName := operationLimits[op.OperationID]
			for _, p := range op.Parameters {
				if l, ok := byName["query."+p.Name]; ok && p.In == "query" {
					limit(p.Schema, l)
				}
			}
			if op.RequestBody == nil {
				continue
			}
			for _, content := range op.RequestBody.Content {
				body := content.Schema
				if body.Ref != "" {
					body = oapi.Components.Schemas.SchemaFromRef(body.Ref)
				}
				for name, member := range body.Properties {
					if l, ok := byName["body."+name]; ok {
						limit(member, l)
					}
				}
			}
		}
	}
}

// limits are what applyLimits sets on one schema; zero values set nothing.
type limits struct {
	enum                 []string
	dflt                 any
	minLength, maxLength int
	minimum, maximum     float64
}

var (
	page         = limits{minimum: 1, maximum: todo.MaxPageSize, dflt: todo.DefaultPageSize}
	search       = limits{maxLength: todo.MaxQueryLen}
	todoMembers  = map[string]limits{"body.title": {minLength: 1, maxLength: todo.MaxTitleLen}, "body.description": {maxLength: todo.MaxDescriptionLen}}
	listName     = map[string]limits{"body.name": {minLength: 1, maxLength: todo.MaxListNameLen}}
	memberRole   = map[string]limits{"body.role": {enum: todo.Roles}}
	filterLimits = map[string]limits{"query.q": search}
	todoPage     = map[string]limits{"query.sort": {enum: todo.Sorts, dflt: todo.DefaultSort}, "query.limit": page, "query.q": search}

	// operationLimits are the limits of each operation, by "query.name" or
	// "body.name".
	operationLimits = map[string]map[string]limits{
		"createTodo": todoMembers, "replaceTodo": todoMembers, "updateTodo": todoMembers,
		"listTodos":        todoPage,
		"listTodosOfList":  todoPage,
		"createTodoInList": todoMembers,
		"setCompleted":     filterLimits, "deleteCompleted": filterLimits,
		"createList": listName, "renameList": listName,
		"listLists":   {"query.limit": page},
		"listMembers": {"query.limit": {minimum: 1, maximum: todo.MaxPageSize, dflt: todo.MaxPageSize}},
		"addMember":   memberRole, "setMemberRole": memberRole,
		"createInvitation": {
			"body.role":     {enum: todo.InvitableRoles},
			"body.max_uses": {minimum: 1, maximum: todo.MaxInvitationUses, dflt: todo.DefaultInvitationUses},
			"body.expires_in": {minimum: todo.MinInvitationLifetime.Seconds(), maximum: todo.MaxInvitationLifetime.Seconds(),
				dflt: int(todo.DefaultInvitationExpiry.Seconds())},
		},
	}
)

func limit(s *huma.Schema, l limits) {
	if s == nil {
		return
	}
	if l.enum != nil {
		s.Enum = make([]any, len(l.enum))
		for i, v := range l.enum {
			s.Enum[i] = v
		}
	}
	if l.dflt != nil {
		s.Default = l.dflt
	}
	if l.minLength > 0 {
		s.MinLength = &l.minLength
	}
	if l.maxLength > 0 {
		s.MaxLength = &l.maxLength
	}
	if l.maximum > 0 {
		s.Minimum, s.Maximum = &l.minimum, &l.maximum
	}
	s.PrecomputeMessages()
}
