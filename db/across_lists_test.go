package db_test

import (
	"context"
	"errors"
	"fmt"
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

// TestPagesAcrossListsMatchOneQuery: walking every page of GET /v1/todos (all
// my lists, or one named list) gives, in order, exactly what one plain
// statement gives, run as the same user under the same policies:
// SELECT ... FROM todos WHERE <filters> ORDER BY key, id. Random lists,
// memberships of every role and todos, with many ties on every sort key (ids
// break them), lists with nothing that matches, every sort, filters and page
// sizes, each walk followed by its cursors to the end.
func TestPagesAcrossListsMatchOneQuery(t *testing.T) {
	t.Parallel()
	database, admin, tdb := open(t)
	rng := rand.New(rand.NewPCG(11, 2026))
	lists := seedRandomLists(t, admin, rng)
	s := db.NewTodoStore(database)
	app := connect(t, tdb.APIURL)
	ctx := context.Background()

	yes, no := true, false
	at := func(minutes int) *time.Time { v := baseTime.Add(time.Duration(minutes) * time.Minute); return &v }
	filters := []todo.Filter{
		{},
		{Completed: &no},
		{Completed: &yes},
		{Query: "MIL"},
		{Query: "50%"},
		{Query: "a_b", Completed: &no},
		{DueBefore: at(20)},
		{DueAfter: at(10), Completed: &no},
		{Query: "no such title"},
	}
	limits := []int{2, 5, 13, 100}
	users := []string{"walker", "owner-0", "nobody"}
	n, compared := 0, 0
	for _, user := range users {
		for _, sort := range todo.Sorts {
			for fi, f := range filters {
				for _, list := range []string{"", lists[fi%len(lists)]} {
					f.ListID = list
					limit := limits[n%len(limits)]
					n++
					want := plainOrder(t, app, user, sort, f)
					p := todo.ListParams{Filter: f, Sort: sort, Limit: limit}
					got := []string{}
					for page := 0; ; page++ {
						pg, err := s.List(ctx, todo.Caller{UserID: user}, p)
						if errors.Is(err, todo.ErrNotFound) && list != "" && len(want) == 0 {
							break // a list the user cannot see
						}
						if err != nil {
							t.Fatalf("%s %s %+v limit %d page %d: %v", user, sort, f, limit, page, err)
						}
						if len(pg.Items) > limit || (pg.Next != nil) != (len(got)+len(pg.Items) < len(want)) || page > len(want) {
							t.Fatalf("%s %s %+v limit %d page %d: %d items, next %v, after %d of %d", user, sort, f, limit, page, len(pg.Items), pg.Next, len(got), len(want))
						}
						for _, item := range pg.Items {
							got = append(got, item.ID)
						}
						if pg.Next == nil {
							break
						}
						p.After = pg.Next
					}
					compared += len(want)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s, sort %s, %+v, limit %d: pages differ from the plain query (-want +got)\n%s", user, sort, f, limit, diff)
					}
				}
			}
		}
	}
	if compared < 5000 {
		t.Errorf("the walks compared %d todos in all: the data is too thin to tell", compared)
	}
	t.Logf("%d walks compared %d todos", n, compared)
}

// baseTime is when the random todos are made, give or take an hour.
var baseTime = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// seedRandomLists writes, as the superuser with triggers off, 30 lists owned
// by owner-0..owner-4, of 0 to 24 todos each; walker is a member of 20 of
// them (any role) and has a personal list, and nobody is a member of none.
// Creation times, due dates and titles come from small sets, so every sort
// key has many ties. It returns some list ids: of walker's and of others.
func seedRandomLists(t *testing.T, admin *pgx.Conn, rng *rand.Rand) []string {
	t.Helper()
	ctx := context.Background()
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	exec(`SET LOCAL session_replication_role = replica`)
	titles := []string{"milk", "Milk", "MILK and honey", "bread", "eggs 50%", "eggs 50", "a_b", "axb", "zeta", "Ünïcode", "b"}
	roles := []string{"owner", "editor", "viewer"}
	var ids []string
	for l := range 31 {
		var id string
		owner := fmt.Sprintf("owner-%d", l%5)
		personal := any(nil)
		if l == 30 {
			owner, personal = "walker", "walker"
		}
		if err := tx.QueryRow(ctx, `INSERT INTO lists (name, created_by, personal_of) VALUES ('list', $1, $2) RETURNING id`, owner, personal).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		exec(`INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, $2, 'owner', $2)`, id, owner)
		if l < 20 {
			exec(`INSERT INTO list_members (list_id, user_id, role, added_by) VALUES ($1, 'walker', $2, $3)`, id, roles[l%3], owner)
		}
		for range rng.IntN(25) {
			var due *time.Time
			if rng.IntN(3) > 0 {
				v := baseTime.Add(time.Duration(rng.IntN(30)) * time.Minute)
				due = &v
			}
			exec(`INSERT INTO todos (list_id, user_id, title, completed, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				id, owner, titles[rng.IntN(len(titles))], rng.IntN(3) == 0, due, baseTime.Add(-time.Duration(rng.IntN(60))*time.Minute))
		}
	}
	exec(`ANALYZE`)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return []string{ids[0], ids[1], ids[25], ids[30]} // walker's (owner, editor), owner-0's own, walker's personal list
}

// plainOrder is the ids of every todo user sees that f selects, in sort's
// order, by one plain statement as the API's role under the policies.
func plainOrder(t *testing.T, conn *pgx.Conn, user, sort string, f todo.Filter) []string {
	t.Helper()
	dir := "ASC"
	if strings.HasPrefix(sort, "-") {
		dir = "DESC"
	}
	key := map[string]string{"created_at": "created_at", "due_at": "COALESCE(due_at, 'infinity')", "title": "title"}[strings.TrimPrefix(sort, "-")]
	q := `SELECT id::text FROM todos
WHERE ($1::uuid IS NULL OR list_id = $1) AND ($2::boolean IS NULL OR completed = $2)
  AND strpos(lower(title), lower($3)) > 0 AND ($4::timestamptz IS NULL OR due_at < $4) AND ($5::timestamptz IS NULL OR due_at > $5)
ORDER BY ` + key + " " + dir + ", id " + dir
	var list *string
	if f.ListID != "" {
		list = &f.ListID
	}
	ids := []string{}
	dbtest.AsApp(t, conn, &user, func(tx pgx.Tx) {
		rows, _ := tx.Query(context.Background(), q, list, f.Completed, f.Query, f.DueBefore, f.DueAfter)
		var err error
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
	})
	return ids
}
