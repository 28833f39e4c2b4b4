package db_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

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
		dbtest.AsApp(t, app, &user, func(tx pgx.Tx) {
			_, err := tx.Exec(ctx, `
			INSERT INTO todos (user_id, title, due_at) SELECT '`+user+`', 'task ' || n, now() + n * interval '1 day' FROM generate_series(1, `+string(rune('3'+i))+`) n;
			UPDATE todos SET completed = true WHERE title = 'task 2';
			DELETE FROM todos WHERE title = 'task 3';
			INSERT INTO idempotency_keys (user_id, key, request_hash, response) VALUES ('`+user+`', 'k', '\x01', '{"id": "x"}');`)
			if err == nil {
				err = tx.Commit(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
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

// TestDueAtRangeMigrationClearsUnreadableDueDates: rows that version 4 let in
// with a due date outside years 0001-9999 (UTC) lose that due date, through
// the triggers (version bumped, audited), their stored idempotent responses
// follow, other rows keep theirs, RLS stays forced, and afterwards the CHECK
// refuses such a date.
func TestDueAtRangeMigrationClearsUnreadableDueDates(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-4); err != nil {
		t.Fatalf("down to v4: %v", err)
	}
	admin := connect(t, tdb.AdminURL)
	// The superuser stands in for the API of version 4 (RLS is forced even on
	// the owner), sending times as pgx does: binary, any offset Go parsed.
	east, west := time.FixedZone("", 23*3600+59*60), time.FixedZone("", -(23*3600+59*60))
	_, err := admin.Exec(ctx, `WITH l AS (INSERT INTO lists (name, personal_of, created_by) VALUES ('Personal', 'alice', 'alice') RETURNING id)
		INSERT INTO todos (id, list_id, user_id, title, due_at) SELECT v.id::uuid, l.id, 'alice', v.title, v.due_at FROM l, (VALUES
		('00000000-0000-4000-8000-000000000001', 'too early', $1::timestamptz),
		('00000000-0000-4000-8000-000000000002', 'too late', $2::timestamptz),
		('00000000-0000-4000-8000-000000000003', 'fine', $3::timestamptz)) v(id, title, due_at)`,
		time.Date(0, 1, 1, 0, 0, 0, 0, east), time.Date(9999, 12, 31, 23, 59, 59, 0, west), todo.MaxDueAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, response)
		SELECT 'alice', 'k' || id, '\x00', to_jsonb(todos) FROM todos`); err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateUp(ctx, tdb.OwnerURL); err != nil {
		t.Fatalf("migrate up: %v", err)
	}

	rows, _ := admin.Query(ctx, `SELECT t.title, t.due_at IS NULL, t.version,
		k.response->>'due_at' IS NULL AND k.response ? 'due_at',
		EXISTS (SELECT FROM audit.todo_changes a WHERE a.todo_id = t.id AND a.action = 'UPDATE'
			AND a.request_id = 'migration 000005_due_at_range' AND a.after->'due_at' = 'null')
		FROM todos t JOIN idempotency_keys k ON k.key = 'k' || t.id ORDER BY t.id`)
	type row struct {
		Title                         string
		Cleared                       bool
		Version                       int64
		ResponseCleared, AuditCleared bool
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"too early", true, 2, true, true},
		{"too late", true, 2, true, true},
		{"fine", false, 1, false, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the migration (-want +got):\n%s", diff)
	}
	for _, due := range []time.Time{todo.MinDueAt.Add(-time.Microsecond), todo.MaxDueAt.Add(time.Microsecond)} {
		_, err := admin.Exec(ctx, `INSERT INTO todos (list_id, user_id, title, due_at) SELECT list_id, 'alice', 'x', $1 FROM todos LIMIT 1`, due)
		if err == nil || !strings.Contains(err.Error(), "todos_due_at_range") {
			t.Errorf("insert due %s after the migration: %v, want the CHECK to refuse it", due, err)
		}
	}
	var forced bool
	if err := admin.QueryRow(ctx, `SELECT bool_and(relforcerowsecurity) FROM pg_class
		WHERE relname IN ('todos', 'idempotency_keys')`).Scan(&forced); err != nil || !forced {
		t.Errorf("RLS still forced after the migration: %t (%v)", forced, err)
	}
}

// TestAcrossListsMigrationUpAndDown: on a database at v6 holding lists,
// memberships of every role and todos, migration 000007 adds the index of
// open todos and makes app.my_lists PL/pgSQL, and going down takes both back,
// each way changing no row, no one's lookup and no one's page.
func TestAcrossListsMigrationUpAndDown(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-6); err != nil {
		t.Fatalf("down to v6: %v", err)
	}
	admin := connect(t, tdb.AdminURL)
	app := connect(t, tdb.APIURL)
	seedRandomLists(t, admin, rand.New(rand.NewPCG(7, 7)))
	s := db.NewTodoStore(tdb.OpenPool(t, ""))
	incomplete := false

	type state struct {
		Rows, Lookup, Page []string
		Index              bool
		Language           string
	}
	read := func() state {
		t.Helper()
		var st state
		rows, _ := admin.Query(ctx, `SELECT concat_ws('|', id, list_id, user_id, title, completed, due_at, created_at, updated_at, version) FROM todos
			UNION ALL SELECT concat_ws('|', list_id, user_id, role) FROM list_members ORDER BY 1`)
		st.Rows, _ = pgx.CollectRows(rows, pgx.RowTo[string])
		err := admin.QueryRow(ctx, `SELECT to_regclass('todos_list_id_open_created_at_idx') IS NOT NULL,
			(SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid = 'app.my_lists(text[])'::regprocedure)`).
			Scan(&st.Index, &st.Language)
		if err != nil {
			t.Fatal(err)
		}
		user := "walker"
		dbtest.AsApp(t, app, &user, func(tx pgx.Tx) {
			rows, _ := tx.Query(ctx, `SELECT l::text FROM app.my_lists('{owner,editor,viewer}') l`)
			if st.Lookup, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				t.Fatal(err)
			}
		})
		page, err := s.List(ctx, todo.Caller{UserID: user}, todo.ListParams{Sort: todo.DefaultSort, Limit: 20, Filter: todo.Filter{Completed: &incomplete}})
		if err != nil {
			t.Fatal(err)
		}
		for _, td := range page.Items {
			st.Page = append(st.Page, td.ID)
		}
		return st
	}
	v6 := read()
	if len(v6.Rows) < 300 || len(v6.Lookup) != 21 || len(v6.Page) != 20 || v6.Index || v6.Language != "sql" {
		t.Fatalf("v6: %d rows, %d lists, a page of %d, index %t, app.my_lists in %s", len(v6.Rows), len(v6.Lookup), len(v6.Page), v6.Index, v6.Language)
	}
	if err := db.MigrateUp(ctx, tdb.OwnerURL); err != nil {
		t.Fatalf("up: %v", err)
	}
	want := v6
	want.Index, want.Language = true, "plpgsql"
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Errorf("up to v7 (-want +got):\n%s", diff)
	}
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-6); err != nil {
		t.Fatalf("down: %v", err)
	}
	if diff := cmp.Diff(v6, read()); diff != "" {
		t.Errorf("down to v6 again (-want +got):\n%s", diff)
	}
}

// TestEventsSinceJoiningMigration: on a database at v7 whose shared list has
// events, migration 000008 leaves every existing member seeing what they saw,
// a member who joins after it sees none of the list's earlier events, and
// going down gives them back.
func TestEventsSinceJoiningMigration(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-7); err != nil {
		t.Fatalf("down to v7: %v", err)
	}
	admin := connect(t, tdb.AdminURL)
	app := connect(t, tdb.APIURL)
	var list string
	if err := admin.QueryRow(ctx, `INSERT INTO lists (name, created_by) VALUES ('plans', 'alice') RETURNING id`).Scan(&list); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, 'bob', 'viewer', 'alice')`,
		`INSERT INTO todos (list_id, user_id, title) VALUES ($1, 'alice', 'before')`,
	} {
		if _, err := admin.Exec(ctx, q, list); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(user string) (n int) {
		t.Helper()
		dbtest.AsApp(t, app, &user, func(tx pgx.Tx) {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE list_id = $1`, list).Scan(&n); err != nil {
				t.Fatal(err)
			}
		})
		return n
	}
	if got := seen("bob"); got != 2 {
		t.Fatalf("v7: bob sees %d events of the list, want 2 (his joining, the todo)", got)
	}
	if err := db.MigrateUp(ctx, tdb.OwnerURL); err != nil {
		t.Fatalf("up: %v", err)
	}
	if got := seen("bob"); got != 2 {
		t.Errorf("up: bob, a member from before, sees %d events, want the same 2", got)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, 'carol', 'viewer', 'alice')`, list); err != nil {
		t.Fatal(err)
	}
	if got := seen("carol"); got != 1 {
		t.Errorf("up: carol, who joined after, sees %d events, want only her own joining", got)
	}
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-7); err != nil {
		t.Fatalf("down: %v", err)
	}
	if got := seen("carol"); got != 3 {
		t.Errorf("down to v7: carol sees %d events, want the list's 3 again", got)
	}
}

// TestPersonalListMigration: on a database at v8 where a person was removed
// from their own personal list (and another demoted in theirs), migration
// 000009 makes each the owner of it again, and from then on neither can be
// removed or demoted; going down lifts the rule and keeps the memberships.
func TestPersonalListMigration(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-8); err != nil {
		t.Fatalf("down to v8: %v", err)
	}
	admin := connect(t, tdb.AdminURL)
	exec := func(q string, args ...any) error {
		_, err := admin.Exec(ctx, q, args...)
		return err
	}
	role := func(user string) (r string) {
		t.Helper()
		err := admin.QueryRow(ctx, `SELECT coalesce((SELECT m.role FROM list_members m JOIN lists l ON l.id = m.list_id
			WHERE l.personal_of = $1 AND m.user_id = $1), 'none')`, user).Scan(&r)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, user := range []string{"ivan", "kara"} {
		if err := exec(`INSERT INTO lists (name, personal_of, created_by) VALUES ('Personal', $1, $1)`, user); err != nil {
			t.Fatal(err)
		}
		if err := exec(`INSERT INTO list_members (list_id, user_id, role, added_by) SELECT id, 'jane', 'owner', $1 FROM lists WHERE personal_of = $1`, user); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec(`DELETE FROM list_members WHERE user_id = 'ivan'`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`UPDATE list_members SET role = 'viewer' WHERE user_id = 'kara'`); err != nil {
		t.Fatal(err)
	}
	if role("ivan") != "none" || role("kara") != "viewer" {
		t.Fatalf("v8: ivan %s, kara %s in their personal lists", role("ivan"), role("kara"))
	}
	if err := db.MigrateUp(ctx, tdb.OwnerURL); err != nil {
		t.Fatalf("up: %v", err)
	}
	if role("ivan") != "owner" || role("kara") != "owner" {
		t.Errorf("up: ivan %s, kara %s in their personal lists, want both owners again", role("ivan"), role("kara"))
	}
	var told int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM events WHERE member_id = 'ivan' AND kind = 'member.added'`).Scan(&told); err != nil || told != 1 {
		t.Errorf("up: %d member.added events for ivan (%v), want 1: his client was told of his removal", told, err)
	}
	if err := exec(`DELETE FROM list_members WHERE user_id = 'ivan'`); err == nil || !strings.Contains(err.Error(), "TD002") {
		t.Errorf("up: removing ivan from his personal list: %v, want TD002", err)
	}
	if err := db.MigrateDown(tdb.OwnerURL, int(db.ExpectedVersion())-8); err != nil {
		t.Fatalf("down: %v", err)
	}
	if err := exec(`DELETE FROM list_members WHERE user_id = 'ivan'`); err != nil || role("kara") != "owner" {
		t.Errorf("down: removing ivan: %v (want it allowed again); kara %s, want still owner", err, role("kara"))
	}
}
