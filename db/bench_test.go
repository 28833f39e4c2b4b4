package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// The per-request transaction, as the API runs it: identity and statement in
// one round trip, against a local Postgres (make test sets TEST_DATABASE_URL;
// run with: go run ./cmd/devpg -- go test -run X -bench . ./db).
func benchStore(b *testing.B) (*db.TodoStore, []string) {
	ctx := context.Background()
	s := db.NewTodoStore(dbtest.New(b).OpenPool(b, ""))
	var ids []string
	for i := range 20 {
		t, _, err := s.Create(ctx, todo.Caller{UserID: "alice"}, todo.Fields{Title: fmt.Sprintf("todo %d", i)}, "")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, t.ID)
	}
	return s, ids
}

func BenchmarkStoreList(b *testing.B) {
	s, _ := benchStore(b)
	for b.Loop() {
		if _, err := s.List(b.Context(), todo.Caller{UserID: "alice"}, todo.ListParams{Sort: todo.DefaultSort, Limit: 20}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreGet(b *testing.B) {
	s, ids := benchStore(b)
	i := 0
	for b.Loop() {
		if _, err := s.Get(b.Context(), todo.Caller{UserID: "alice"}, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkStoreCreate(b *testing.B) {
	s, _ := benchStore(b)
	for b.Loop() {
		if _, _, err := s.Create(b.Context(), todo.Caller{UserID: "alice"}, todo.Fields{Title: "bench"}, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventsTrigger is what the events trigger costs each write: the
// same create and update with the trigger enabled and disabled.
func BenchmarkEventsTrigger(b *testing.B) {
	for _, trigger := range []string{"ENABLE", "DISABLE"} {
		b.Run("trigger="+trigger, func(b *testing.B) {
			tdb := dbtest.New(b)
			admin, err := pgx.Connect(b.Context(), tdb.AdminURL)
			if err != nil {
				b.Fatal(err)
			}
			defer admin.Close(context.Background())
			if _, err := admin.Exec(b.Context(), "ALTER TABLE todos "+trigger+" TRIGGER todos_events"); err != nil {
				b.Fatal(err)
			}
			s := db.NewTodoStore(tdb.OpenPool(b, ""))
			alice := todo.Caller{UserID: "alice"}
			t, _, err := s.Create(b.Context(), alice, todo.Fields{Title: "bench"}, "")
			if err != nil {
				b.Fatal(err)
			}
			b.Run("create", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := s.Create(b.Context(), alice, todo.Fields{Title: "bench"}, ""); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("update", func(b *testing.B) {
				done := true
				for b.Loop() {
					done = !done
					if _, err := s.Update(b.Context(), alice, t.ID, todo.Patch{Completed: &done}, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
