package db_test

import (
	"context"
	"testing"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// TestOneRoundTripPerCall: once its statements are prepared, every store call
// sends the identity statement and its query to Postgres in a single write.
func TestOneRoundTripPerCall(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	database, writes, err := db.OpenCountingWrites(ctx, tdb.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	s := db.NewTodoStore(database)
	title, done := "t", true
	var id string
	calls := []struct {
		name string
		call func() error
	}{
		{"create", func() error {
			t, _, err := s.Create(ctx, todo.Caller{UserID: "alice"}, todo.Fields{Title: title}, "")
			id = t.ID
			return err
		}},
		{"create once", func() error {
			_, _, err := s.Create(ctx, todo.Caller{UserID: "alice"}, todo.Fields{Title: title}, id)
			return err
		}},
		{"summary", func() error { _, err := s.Summary(ctx, todo.Caller{UserID: "alice"}, ""); return err }},
		{"set completed", func() error {
			_, err := s.SetCompleted(ctx, todo.Caller{UserID: "alice"}, todo.Filter{}, true)
			return err
		}},
		{"get", func() error { _, err := s.Get(ctx, todo.Caller{UserID: "alice"}, id); return err }},
		{"list", func() error {
			_, err := s.List(ctx, todo.Caller{UserID: "alice"}, todo.ListParams{Sort: todo.DefaultSort, Limit: 20})
			return err
		}},
		{"replace", func() error {
			_, err := s.Replace(ctx, todo.Caller{UserID: "alice"}, id, todo.Fields{Title: title}, nil)
			return err
		}},
		{"update", func() error {
			_, err := s.Update(ctx, todo.Caller{UserID: "alice"}, id, todo.Patch{Completed: &done}, nil)
			return err
		}},
		{"delete", func() error { return s.Delete(ctx, todo.Caller{UserID: "alice"}, id, nil) }},
		{"delete all", func() error {
			_, err := s.DeleteAll(ctx, todo.Caller{UserID: "alice"}, todo.Filter{Completed: &done})
			return err
		}},
	}
	for _, c := range calls { // prepares every statement
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	for _, c := range calls {
		before := writes.Load()
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := writes.Load() - before; n != 1 {
			t.Errorf("%s: %d writes to Postgres, want 1", c.name, n)
		}
	}
}
