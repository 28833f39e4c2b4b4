package db_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// v3Snapshot is what a v3 database holds, as a superuser reads it.
type v3Snapshot struct {
	Todos, Keys []string
	Audit       int
}

func snapshotV3(t *testing.T, admin *pgx.Conn) v3Snapshot {
	t.Helper()
	ctx := context.Background()
	var s v3Snapshot
	rows, _ := admin.Query(ctx, `SELECT concat_ws('|', id, user_id, title, description, completed, due_at, created_at, updated_at, version)
		FROM todos ORDER BY id`)
	s.Todos, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	rows, _ = admin.Query(ctx, `SELECT concat_ws('|', user_id, key, request_hash, response, created_at) FROM idempotency_keys ORDER BY 1`)
	s.Keys, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM audit.todo_changes").Scan(&s.Audit); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestListsMigrationKeepsV3Data: a database at v3, holding several people's
// todos (some changed, some deleted), idempotency keys and audit rows, moves
// to shared lists losing nothing: every todo keeps every column (its ETag and
// updated_at too), the keys and the audit trail are as they were, each todo is
// in its creator's personal list with the creator as its only owner, and each
// person sees exactly their own todos afterwards.
func TestListsMigrationKeepsV3Data(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-3); err != nil {
		t.Fatalf("down to v3: %v", err)
	}
	admin := connect(t, tdb.AdminURL)
	app := connect(t, tdb.APIURL)
	users := []string{"alice", "bob", "carol", "dave"}
	for i, user := range users {
		_, err := app.Exec(ctx, `BEGIN;
			SELECT set_config('role', 'todo_app', true), set_config('app.user_id', '`+user+`', true);
			INSERT INTO todos (user_id, title, due_at) SELECT '`+user+`', 'task ' || n, now() + n * interval '1 day' FROM generate_series(1, `+string(rune('3'+i))+`) n;
			UPDATE todos SET completed = true WHERE title = 'task 2';
			DELETE FROM todos WHERE title = 'task 3';
			INSERT INTO idempotency_keys (user_id, key, request_hash, response) VALUES ('`+user+`', 'k', '\x01', '{"id": "x"}');
			COMMIT;`)
		if err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotV3(t, admin)
	if len(before.Todos) != 2+3+4+5 || before.Audit == 0 {
		t.Fatalf("v3 data: %d todos, %d audit rows", len(before.Todos), before.Audit)
	}

	if err := db.MigrateUp(ctx, tdb.OwnerURL); err != nil {
		t.Fatalf("up: %v", err)
	}
	if diff := cmp.Diff(before, snapshotV3(t, admin)); diff != "" {
		t.Errorf("v3 data changed by the migration (-before +after):\n%s", diff)
	}
	var misplaced, lists, owners int
	err := admin.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM todos t JOIN lists l ON l.id = t.list_id WHERE l.personal_of IS DISTINCT FROM t.user_id),
		(SELECT count(*) FROM lists WHERE personal_of = created_by),
		(SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.role = 'owner' AND m.user_id = l.personal_of)`).
		Scan(&misplaced, &lists, &owners)
	if err != nil || misplaced != 0 || lists != len(users) || owners != len(users) {
		t.Errorf("after: %d todos outside their creator's personal list, %d personal lists, %d owners (%v); want 0, %d, %d",
			misplaced, lists, owners, err, len(users), len(users))
	}
	s := db.NewTodoStore(tdb.OpenPool(t, ""))
	for i, user := range users {
		page, err := s.List(ctx, todo.Caller{UserID: user}, todo.ListParams{Sort: todo.DefaultSort, Limit: 100})
		if err != nil || len(page.Items) != 2+i {
			t.Errorf("%s sees %d todos (%v), want %d", user, len(page.Items), err, 2+i)
		}
		for _, td := range page.Items {
			if td.Version == 0 || td.ListID == "" {
				t.Errorf("%s: %+v", user, td)
			}
		}
	}
}
