package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/pgcluster"
	"github.com/todoapi/todoapi/internal/todo"
)

// These tests speak SQL as todo_app directly, without the store, to show that
// the policies hold whatever the Go code does.

func count(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, where string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT count(*) FROM todos WHERE "+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantSQLState(t *testing.T, what string, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		t.Errorf("%s: got %v, want SQLSTATE %s", what, err, code)
	}
}

// savepoint runs stmt so that its failure does not end the transaction.
func savepoint(tx pgx.Tx, stmt string, args ...any) error {
	ctx := context.Background()
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer sp.Rollback(ctx) //nolint:errcheck
	_, err = sp.Exec(ctx, stmt, args...)
	return err
}

func seed(t *testing.T, admin *pgx.Conn) {
	t.Helper()
	_, err := admin.Exec(context.Background(),
		"INSERT INTO todos (user_id, title) VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1')")
	if err != nil {
		t.Fatal(err)
	}
}

func TestRLSWithoutIdentitySeesAndWritesNothing(t *testing.T) {
	t.Parallel()
	_, admin, tdb := open(t)
	seed(t, admin)
	app := connect(t, tdb.APIURL)
	empty := ""
	for name, identity := range map[string]*string{"unset": nil, "empty": &empty} {
		dbtest.AsApp(t, app, identity, func(tx pgx.Tx) {
			if n := count(t, tx, "true"); n != 0 {
				t.Errorf("%s identity: sees %d rows, want 0", name, n)
			}
			wantSQLState(t, name+" identity insert", savepoint(tx, "INSERT INTO todos (user_id, title) VALUES ('', 'x')"), "42501")
			wantSQLState(t, name+" identity insert as alice", savepoint(tx, "INSERT INTO todos (user_id, title) VALUES ('alice', 'x')"), "42501")
			for _, stmt := range []string{"UPDATE todos SET title = 'x'", "DELETE FROM todos"} {
				tag, err := tx.Exec(context.Background(), stmt)
				if err != nil || tag.RowsAffected() != 0 {
					t.Errorf("%s identity: %s affected %d rows (%v), want 0", name, stmt, tag.RowsAffected(), err)
				}
			}
		})
	}
	if n := count(t, admin, "true"); n != 3 {
		t.Errorf("rows after: %d, want 3", n)
	}
}

func TestRLSOwnRowsOnly(t *testing.T) {
	t.Parallel()
	_, admin, tdb := open(t)
	seed(t, admin)
	app := connect(t, tdb.APIURL)
	alice := "alice"
	dbtest.AsApp(t, app, &alice, func(tx pgx.Tx) {
		if n := count(t, tx, "true"); n != 2 {
			t.Errorf("alice sees %d rows, want her 2", n)
		}
		if n := count(t, tx, "user_id = 'bob'"); n != 0 {
			t.Errorf("alice sees %d of bob's rows", n)
		}
		tag, err := tx.Exec(context.Background(), "UPDATE todos SET completed = true")
		if err != nil || tag.RowsAffected() != 2 {
			t.Errorf("alice updated %d rows (%v), want 2", tag.RowsAffected(), err)
		}
		// WITH CHECK: no creating rows for someone else.
		wantSQLState(t, "insert for bob", savepoint(tx, "INSERT INTO todos (user_id, title) VALUES ('bob', 'x')"), "42501")
		// No moving rows: todo_app may not even name user_id in an UPDATE.
		wantSQLState(t, "move to bob", savepoint(tx, "UPDATE todos SET user_id = 'bob'"), "42501")
		tag, err = tx.Exec(context.Background(), "DELETE FROM todos")
		if err != nil || tag.RowsAffected() != 2 {
			t.Errorf("alice deleted %d rows (%v), want 2", tag.RowsAffected(), err)
		}
	})
	if n := count(t, admin, "user_id = 'bob' AND NOT completed"); n != 1 {
		t.Errorf("bob's row changed")
	}
}

// TestRLSUpdateWithCheck: even with a grant on list_id, the policy's WITH
// CHECK keeps a row in a list its writer may write in: alice cannot move her
// todos into bob's list.
func TestRLSUpdateWithCheck(t *testing.T) {
	t.Parallel()
	_, admin, tdb := open(t)
	seed(t, admin)
	if _, err := connect(t, tdb.OwnerURL).Exec(context.Background(), "GRANT UPDATE (list_id) ON todos TO "+db.AppRole); err != nil {
		t.Fatal(err)
	}
	var bobs string
	if err := admin.QueryRow(context.Background(), "SELECT id FROM lists WHERE personal_of = 'bob'").Scan(&bobs); err != nil {
		t.Fatal(err)
	}
	app := connect(t, tdb.APIURL)
	alice := "alice"
	dbtest.AsApp(t, app, &alice, func(tx pgx.Tx) {
		wantSQLState(t, "move to bob's list", savepoint(tx, "UPDATE todos SET list_id = $1", bobs), "42501")
	})
	if n := count(t, admin, "list_id = '"+bobs+"'"); n != 1 {
		t.Errorf("bob's list has %d todos, want his 1", n)
	}
}

// TestRLSForcedOnOwner: the owner has no policy, so FORCE leaves it nothing.
func TestRLSForcedOnOwner(t *testing.T) {
	t.Parallel()
	_, admin, tdb := open(t)
	seed(t, admin)
	owner := connect(t, tdb.OwnerURL)
	if n := count(t, owner, "true"); n != 0 {
		t.Errorf("owner without identity sees %d rows", n)
	}
	if _, err := owner.Exec(context.Background(), "SELECT set_config('app.user_id', 'alice', false)"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, owner, "true"); n != 0 {
		t.Errorf("owner with identity sees %d rows", n)
	}
}

// TestIdentityEndsWithTransaction: a pooled connection carries no identity or
// role into the next use, after success or failure.
func TestIdentityEndsWithTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	database := dbtest.New(t).OpenPool(t, "&pool_max_conns=1")
	s := db.NewTodoStore(database)
	created, _, err := s.Create(ctx, todo.Caller{UserID: "alice"}, todo.Fields{Title: "x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(after string) {
		t.Helper()
		var user *string
		var role string
		if err := database.QueryRowForTest(ctx, "SELECT current_setting('app.user_id', true), current_user").Scan(&user, &role); err != nil {
			t.Fatal(err)
		}
		if (user != nil && *user != "") || role != pgcluster.APIRole {
			t.Errorf("after %s: app.user_id=%v role=%s, want unset and todo_api", after, user, role)
		}
	}
	check("a successful request")
	if _, _, err := s.Create(ctx, todo.Caller{UserID: "alice"}, todo.Fields{Title: "\x00"}, ""); err == nil {
		t.Fatal("create with NUL succeeded")
	}
	check("a failed request")
	if _, err := s.Get(ctx, todo.Caller{UserID: "alice"}, created.ID); err != nil {
		t.Fatal(err)
	}
	check("a read")
}

// TestRequestSettings: inside a request the role, user, request id and
// statement timeout are set; after it, none of them stays on the connection.
func TestRequestSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	database := dbtest.New(t).OpenPool(t, "&pool_max_conns=1")
	role, user, reqID, timeout, err := database.SettingsAsUser(ctx, todo.Caller{UserID: "alice", RequestID: "req-7"})
	if err != nil || role != db.AppRole || user != "alice" || reqID != "req-7" || timeout != db.StatementTimeout {
		t.Fatalf("inside: %q %q %q %q (%v)", role, user, reqID, timeout, err)
	}
	var after string
	if err := database.QueryRowForTest(ctx, "SELECT current_setting('statement_timeout')").Scan(&after); err != nil || after == db.StatementTimeout {
		t.Errorf("statement_timeout after the request: %q (%v)", after, err)
	}
}
