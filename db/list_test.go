package db_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// TestDeepPagesUseTheIndex: for every sort, a page deep in a large list is an
// index scan that starts at the cursor and stops after the page, with no sort
// step, so its cost does not grow with its depth; the statement's own
// membership check (the list asked for, if it is one of the caller's) is a
// condition of the same index scan, computed once.
func TestDeepPagesUseTheIndex(t *testing.T) {
	t.Parallel()
	database, admin, tdb := open(t)
	ctx := context.Background()
	_, err := admin.Exec(ctx, `INSERT INTO todos (user_id, title, completed, due_at, created_at)
		SELECT 'user-' || (n % 40), 'task ' || md5(n::text), n % 3 = 0,
		       CASE WHEN n % 5 = 0 THEN NULL ELSE now() + n * interval '1 minute' END,
		       now() - n * interval '1 second'
		FROM generate_series(1, 20000) n`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "ANALYZE todos"); err != nil {
		t.Fatal(err)
	}
	s := db.NewTodoStore(database)
	app := connect(t, tdb.APIURL)
	indexes := map[string]string{"created_at": "todos_list_id_created_at_idx", "due_at": "todos_list_id_due_sort_idx", "title": "todos_list_id_title_idx"}

	var list string
	if err := admin.QueryRow(ctx, "SELECT id FROM lists WHERE personal_of = 'user-7'").Scan(&list); err != nil {
		t.Fatal(err)
	}
	for _, sort := range todo.Sorts {
		// Walk 10 pages into one list, as a client would.
		p := todo.ListParams{Sort: sort, Limit: 20, Filter: todo.Filter{ListID: list}}
		for range 10 {
			page, err := s.List(ctx, todo.Caller{UserID: "user-7"}, p)
			if err != nil {
				t.Fatal(err)
			}
			p.After = page.Next
		}
		if p.After == nil {
			t.Fatalf("%s: fewer than 10 pages", sort)
		}
		query, args, err := db.ListQuery(p)
		if err != nil {
			t.Fatal(err)
		}
		plan := explain(t, app, "user-7", query, args)
		want := indexes[strings.TrimPrefix(sort, "-")]
		if !strings.Contains(plan, "Index Scan") || !strings.Contains(plan, want) || strings.Contains(plan, "Sort") ||
			!regexp.MustCompile(`Index Cond: \(\(list_id = ANY \(\$\d\)\) AND \(list_id = '[0-9a-f-]+'::uuid\) AND \(ROW\(`).MatchString(plan) {
			t.Errorf("%s: page 11 is not an index scan of %s that starts at the cursor, without a sort:\n%s", sort, want, plan)
		}
	}
}

func explain(t *testing.T, conn *pgx.Conn, user, query string, args []any) string {
	t.Helper()
	var lines []string
	dbtest.AsApp(t, conn, &user, func(tx pgx.Tx) {
		rows, _ := tx.Query(context.Background(), "EXPLAIN "+query, args...)
		var err error
		if lines, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatalf("explain: %v", err)
		}
	})
	return strings.Join(lines, "\n")
}
