package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db/dbtest"
)

// TestJoiningTransactionsOwnEvents: a transaction that changes a list and
// then adds a member (its snapshot for the membership taken after it got its
// transaction id) shows the new member its own changes: they are part of the
// joining, not history; the list's earlier changes stay hidden.
func TestJoiningTransactionsOwnEvents(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	admin := connect(t, tdb.AdminURL)
	app := connect(t, tdb.APIURL)
	var list string
	if err := admin.QueryRow(ctx, `INSERT INTO lists (name, created_by) VALUES ('plans', 'alice') RETURNING id`).Scan(&list); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO todos (list_id, user_id, title) VALUES ($1, 'alice', 'before')`, list); err != nil {
		t.Fatal(err)
	}
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO todos (list_id, user_id, title) VALUES ($1, 'alice', 'with the joining')`, list); err != nil {
		t.Fatal(err)
	}
	// A younger transaction ends meanwhile: the membership's snapshot then
	// has an xmax above the joining transaction, which it does not list as
	// running (a snapshot never lists its own transaction).
	if _, err := connect(t, tdb.AdminURL).Exec(ctx, `INSERT INTO lists (name, created_by) VALUES ('other', 'bob')`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, 'kim', 'viewer', 'alice')`, list); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	user := "kim"
	var titles []string
	dbtest.AsApp(t, app, &user, func(tx pgx.Tx) {
		rows, _ := tx.Query(ctx, `SELECT coalesce(payload->>'title', kind) FROM events WHERE list_id = $1 ORDER BY pos_txid, id`, list)
		if titles, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
	})
	if len(titles) != 2 || titles[0] != "with the joining" || titles[1] != "member.added" {
		t.Errorf("kim sees %q, want the joining transaction's todo and his joining only", titles)
	}
}

// TestJoiningDuringARead: a member added to a list while a read of events
// runs, where app.my_lists (a fresh snapshot) sees the new membership, gets
// none of that list's history in that read either: the joinings are read
// as freshly as the lists.
func TestJoiningDuringARead(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	admin := connect(t, tdb.AdminURL)
	app := connect(t, tdb.APIURL)
	var a, b string
	for _, l := range []*string{&a, &b} {
		if err := admin.QueryRow(ctx, `INSERT INTO lists (name, created_by) VALUES ('l', 'alice') RETURNING id`).Scan(l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.Exec(ctx, `INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, 'kim', 'viewer', 'alice')`, a); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO todos (list_id, user_id, title) VALUES ($1, 'alice', 'secret history')`, b); err != nil {
		t.Fatal(err)
	}
	user := "kim"
	var seen []string
	done := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // while the read sleeps
		_, err := connect(t, tdb.AdminURL).Exec(ctx, `INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, 'kim', 'viewer', 'alice')`, b)
		done <- err
	}()
	dbtest.AsApp(t, app, &user, func(tx pgx.Tx) {
		rows, _ := tx.Query(ctx, `SELECT e.kind FROM (SELECT pg_sleep(1)) s CROSS JOIN LATERAL (SELECT * FROM events WHERE list_id = $1 OFFSET 0) e`, b)
		var err error
		if seen, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, kind := range seen {
		if kind != "member.added" {
			t.Errorf("kim, added during the read, saw %q of the list's history (all: %q)", kind, seen)
		}
	}
}
