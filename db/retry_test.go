package db_test

import (
	"context"
	"errors"
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
	tdb := dbtest.New(t)
	ctx := context.Background()
	database, loseNextReply, err := db.OpenLosingReplies(ctx, tdb.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	s := db.NewTodoStore(database)
	alice := todo.Caller{UserID: "alice"}
	warm := mustCreate(t, s, "alice", "warm-up") // prepares the insert: one write, one reply

	loseNextReply()
	if _, _, err := s.Create(ctx, alice, todo.Fields{Title: "once"}, ""); !errors.Is(err, todo.ErrUnavailable) {
		t.Errorf("create with its reply lost: %v, want ErrUnavailable", err)
	}
	var n int
	if err := connect(t, tdb.AdminURL).QueryRow(ctx, "SELECT count(*) FROM todos WHERE title = 'once'").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d todos titled once (%v), want 1: committed by the first send, never sent again", n, err)
	}

	loseNextReply()
	if _, err := s.Get(ctx, alice, warm.ID); err != nil {
		t.Errorf("a read with its reply lost: %v, want it retried", err)
	}
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
