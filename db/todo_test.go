package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// open returns the API's pool on a fresh database and a superuser connection
// to the same database, for reading the truth behind RLS.
func open(t *testing.T) (*db.DB, *pgx.Conn, dbtest.TestDB) {
	t.Helper()
	tdb := dbtest.New(t)
	return tdb.OpenPool(t, ""), connect(t, tdb.AdminURL), tdb
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustCreate(t *testing.T, s todo.Store, user, title string) todo.Todo {
	t.Helper()
	td, _, err := s.Create(context.Background(), todo.Caller{UserID: user}, todo.Fields{Title: title}, "")
	if err != nil {
		t.Fatalf("create as %s: %v", user, err)
	}
	return td
}

// rowAsAdmin reads a todo bypassing RLS (superuser), to check what really is stored.
func rowAsAdmin(t *testing.T, admin *pgx.Conn, id string) (userID, title string, completed bool, found bool) {
	t.Helper()
	err := admin.QueryRow(context.Background(), "SELECT user_id, title, completed FROM todos WHERE id = $1", id).
		Scan(&userID, &title, &completed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return userID, title, completed, true
}

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	database, _, _ := open(t)
	s := db.NewTodoStore(database)
	ctx := context.Background()
	due := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)

	created, _, err := s.Create(ctx, todo.Caller{UserID: "alice"}, todo.Fields{Title: "buy milk", Description: "2 litres", DueAt: &due}, "")
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.CreatedAt.IsZero() || !created.CreatedAt.Equal(created.UpdatedAt) {
		t.Fatalf("server fields not set: %+v", created)
	}
	got, err := s.Get(ctx, todo.Caller{UserID: "alice"}, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Fatalf("get differs from create (-want +got):\n%s", diff)
	}

	done := true
	patched, err := s.Update(ctx, todo.Caller{UserID: "alice"}, created.ID, todo.Patch{Completed: &done, SetDueAt: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !patched.Completed || patched.DueAt != nil || patched.Title != "buy milk" || patched.Description != "2 litres" {
		t.Fatalf("patch changed the wrong fields: %+v", patched)
	}

	replaced, err := s.Replace(ctx, todo.Caller{UserID: "alice"}, created.ID, todo.Fields{Title: "buy oat milk"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Title != "buy oat milk" || replaced.Description != "" || replaced.Completed {
		t.Fatalf("replace kept old fields: %+v", replaced)
	}

	second := mustCreate(t, s, "alice", "second")
	page, err := s.List(ctx, todo.Caller{UserID: "alice"}, todo.ListParams{Sort: todo.DefaultSort, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].ID != second.ID {
		t.Fatalf("list not newest first: %+v", page.Items)
	}

	if err := s.Delete(ctx, todo.Caller{UserID: "alice"}, created.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, todo.Caller{UserID: "alice"}, created.ID); !errors.Is(err, todo.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, todo.Caller{UserID: "alice"}, created.ID, nil); !errors.Is(err, todo.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
}

// TestStoreIsolation: every operation by bob on alice's todo finds nothing and
// changes nothing.
func TestStoreIsolation(t *testing.T) {
	t.Parallel()
	database, admin, _ := open(t)
	s := db.NewTodoStore(database)
	ctx := context.Background()
	alices := mustCreate(t, s, "alice", "alice's secret")
	title, done := "pwned", true

	ops := map[string]func() error{
		"get": func() error { _, err := s.Get(ctx, todo.Caller{UserID: "bob"}, alices.ID); return err },
		"replace": func() error {
			_, err := s.Replace(ctx, todo.Caller{UserID: "bob"}, alices.ID, todo.Fields{Title: title}, nil)
			return err
		},
		"update": func() error {
			_, err := s.Update(ctx, todo.Caller{UserID: "bob"}, alices.ID, todo.Patch{Title: &title, Completed: &done}, nil)
			return err
		},
		"delete": func() error { return s.Delete(ctx, todo.Caller{UserID: "bob"}, alices.ID, nil) },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, todo.ErrNotFound) {
			t.Errorf("%s as bob: %v, want ErrNotFound", name, err)
		}
	}
	page, err := s.List(ctx, todo.Caller{UserID: "bob"}, todo.ListParams{Sort: todo.DefaultSort, Limit: 100})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("bob's list = %v, %v; want empty", page.Items, err)
	}
	owner, gotTitle, completed, found := rowAsAdmin(t, admin, alices.ID)
	if !found || owner != "alice" || gotTitle != "alice's secret" || completed {
		t.Errorf("alice's row changed: found=%t owner=%q title=%q completed=%t", found, owner, gotTitle, completed)
	}
}

func TestStoreRefusesInvalidText(t *testing.T) {
	t.Parallel()
	database, admin, _ := open(t)
	s := db.NewTodoStore(database)
	for name, f := range map[string]todo.Fields{
		"NUL byte":  {Title: "a\x00b"},
		"blank":     {Title: "   "},
		"too long":  {Title: string(make([]rune, todo.MaxTitleLen+1))},
		"huge year": {Title: "x", DueAt: ptr(time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC))},
	} {
		if _, _, err := s.Create(context.Background(), todo.Caller{UserID: "alice"}, f, ""); !errors.Is(err, todo.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	var n int
	if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM todos").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows written: %d, %v", n, err)
	}
}

func ptr[T any](v T) *T { return &v }
