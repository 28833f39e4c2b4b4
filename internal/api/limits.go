package api

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/todo"
)

// applyLimits writes the todo package's enums and limits into the schemas of
// the query parameters and request body members that carry them. Validation
// and the OpenAPI document both read these schemas, so the constants in
// internal/todo are the one source of every number (struct tags cannot name a
// constant).
func applyLimits(oapi *huma.OpenAPI) {
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				if p.In == "query" {
					limit(p.Schema, queryLimits[p.Name])
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
					limit(member, memberLimits[name])
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
	queryLimits = map[string]limits{
		"sort":  {enum: todo.Sorts, dflt: todo.DefaultSort},
		"limit": {minimum: 1, maximum: todo.MaxPageSize, dflt: todo.DefaultPageSize},
		"q":     {maxLength: todo.MaxQueryLen},
	}
	memberLimits = map[string]limits{
		"title":       {minLength: 1, maxLength: todo.MaxTitleLen},
		"description": {maxLength: todo.MaxDescriptionLen},
		"name":        {minLength: 1, maxLength: todo.MaxListNameLen},
		"max_uses":    {minimum: 1, maximum: todo.MaxInvitationUses, dflt: 1},
		"expires_in": {minimum: todo.MinInvitationLifetime.Seconds(), maximum: todo.MaxInvitationLifetime.Seconds(),
			dflt: int(todo.DefaultInvitationExpiry.Seconds())},
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
