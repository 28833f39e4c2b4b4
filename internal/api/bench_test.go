package api_test

import (
	"io"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/todo"
)

// BenchmarkEncodePage: the JSON of a full default page, as the API writes it.
func BenchmarkEncodePage(b *testing.B) {
	now := time.Now()
	page := struct {
		Items      []todo.Todo `json:"items"`
		NextCursor *string     `json:"next_cursor"`
	}{}
	for range todo.DefaultPageSize {
		page.Items = append(page.Items, todo.Todo{ID: "9f1c7a52-3b8e-4d7a-9a4b-2f6c1d8e5a10", ListID: "0b6f5e1c-8d2a-4c3e-9f7b-1a2b3c4d5e6f", Title: "buy milk and bread",
			Description: "two litres", DueAt: &now, CreatedAt: now, UpdatedAt: now})
	}
	for b.Loop() {
		if err := api.EncodeBody(io.Discard, page); err != nil {
			b.Fatal(err)
		}
	}
}
