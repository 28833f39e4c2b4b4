package db_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// TestWriteNotRetriedAfterALostReply: a write whose connection breaks after
// Postgres got it may have committed, so it is never sent again (one todo,
// not two) and the caller hears that the database was unavailable. A read
// in the same plight is retried and answers.
func TestWriteNotRetriedAfterALostReply(t *testing.T) {
	t.Parallel()
	// pgx reads a batch's results by other code in each mode: the default,
	// and the one the README gives for PgBouncer in transaction mode.
	for _, mode := range []string{"cache_statement", "exec"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			tdb := dbtest.New(t)
			ctx := context.Background()
			database, loseNextReply, err := db.OpenLosingReplies(ctx, withParam(tdb.APIURL, "default_query_exec_mode", mode))
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close()
			s := db.NewTodoStore(database)
			alice := todo.Caller{UserID: "alice"}
			create := func(title, key string) error {
				_, _, err := s.Create(ctx, alice, todo.Fields{Title: title}, key)
				return err
			}
			for _, keyed := range []bool{false, true} { // a keyed create queues two statements after the identity
				key := func(s string) string {
					if keyed {
						return s
					}
					return ""
				}
				// The same call first, on the connection the next one uses:
				// statements prepared, so it is one write and one reply.
				if err := create("warm-up", key("key-0")); err != nil {
					t.Fatal(err)
				}
				loseNextReply()
				if err := create("once", key("key-1")); !errors.Is(err, todo.ErrUnavailable) {
					t.Errorf("create (keyed %t) with its reply lost: %v, want ErrUnavailable", keyed, err)
				}
				var n int
				if err := connect(t, tdb.AdminURL).QueryRow(ctx, "SELECT count(*) FROM todos WHERE title = 'once'").Scan(&n); err != nil || n != 1 {
					t.Errorf("keyed %t: %d todos titled once (%v), want 1: committed by the first send, never sent again", keyed, n, err)
				}
				if _, err := connect(t, tdb.AdminURL).Exec(ctx, "DELETE FROM todos"); err != nil {
					t.Fatal(err)
				}
			}

			warm := mustCreate(t, s, "alice", "read me")
			if _, err := s.Get(ctx, alice, warm.ID); err != nil {
				t.Fatal(err)
			}
			loseNextReply()
			if _, err := s.Get(ctx, alice, warm.ID); err != nil {
				t.Errorf("a read with its reply lost: %v, want it retried", err)
			}
		})
	}
}

// withParam sets a query parameter of a postgres:// URL.
func withParam(rawURL, name, value string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestWriteBehindALockGivesUpAtLockTimeout: a write queued behind a row lock
// another transaction holds waits lock_timeout, not the longer
// statement_timeout, and changes nothing.
func TestWriteBehindALockGivesUpAtLockTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	database, admin, _ := open(t)
	s := db.NewTodoStore(database)
	locked := mustCreate(t, s, "alice", "locked")
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT FROM todos WHERE id = $1 FOR UPDATE", locked.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, todo.Caller{UserID: "alice"}, locked.ID, todo.Patch{Title: ptr("changed")}, nil)
	var pgErr *pgconn.PgError
	if !errors.Is(err, todo.ErrUnavailable) || !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
		t.Errorf("write behind a lock: %v, want ErrUnavailable from lock_timeout (SQLSTATE 55P03)", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, title, _, _ := rowAsAdmin(t, admin, locked.ID); title != "locked" {
		t.Errorf("title %q after the refused write", title)
	}
}
