package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/todo"
)

// heavyMember is a member of 500 shared lists (and has a personal list).
const heavyMember = "user-1"

// TestSharedListPlans: with issue #11's shape at a smaller scale (2,000 users
// with a personal list of 20 todos, 500 shared lists of 40 todos, one person a
// member of all 500; 60,000 todos), the store's queries read what a page
// needs and no more. Across all of a member's lists, the newest open todos
// are each list's newest open todo, read from the index alone (one entry per
// list), then a short range of the index in each of the 21 lists whose newest
// todos rank first; the membership lookup runs once per statement (an
// InitPlan, or a hashed SubPlan: built once, probed per row), never per row;
// no sequential scan, in the plan made for the values sent and in the one
// Postgres keeps for the prepared statement; and the policy costs at most 2.5
// times the same statement without row-level security. One list's page is
// one index scan, without a sort, and someone not in the list reads none of
// it.
func TestSharedListPlans(t *testing.T) {
	t.Parallel()
	_, admin, tdb := open(t)
	seedSharing(t, admin)
	app := connect(t, tdb.APIURL)
	incomplete := false

	t.Run("all my lists", func(t *testing.T) {
		p := todo.ListParams{Sort: todo.DefaultSort, Limit: 20, Filter: todo.Filter{Completed: &incomplete}}
		for _, opts := range []string{"", keptPlan} {
			plan := explainAnalyze(t, app, true, heavyMember, p, opts)
			checkOncePerStatement(t, plan.Plan)
			if plan.Plan.Rows != 21 {
				t.Errorf("the page has %v rows, want 21 (20 and one to tell a next page)", plan.Plan.Rows)
			}
			scans := todoScans(plan.Plan)
			if len(scans) != 2 ||
				scans[0].NodeType != "Index Only Scan" || scans[0].Index != openIndex || scans[0].Loops != 501 || scans[0].Rows > 1 ||
				scans[1].NodeType != "Index Scan" || scans[1].Index != openIndex || scans[1].Loops != 21 || scans[1].Rows*scans[1].Loops > 21*22/2 {
				t.Errorf("%s: todos is not read as each list's newest open todo (501 lists), then at most 22-r rows of the list ranked r (21 lists): %+v\n%s", opts, scans, plan.raw)
			}
		}
		// Time, without per-node timing, in nine pairs of runs: the
		// statement as the API runs it, then without row-level security (as
		// the superuser). What the policy costs is the smallest ratio of a
		// pair, whatever else the machine is doing (bursts of load hit one
		// run of a pair, not the same side every time). An absolute bound
		// only catches the disasters.
		withRLS, without := timings(t, app, admin, p)
		ratio := withRLS[0] / without[0]
		for i := range withRLS {
			ratio = min(ratio, withRLS[i]/without[i])
		}
		slices.Sort(withRLS)
		slices.Sort(without)
		t.Logf("newest 20 open todos of a member of 501 lists: fastest %.1f ms, median %.1f ms; without row-level security %.1f ms, %.1f ms; ratio %.1f",
			withRLS[0], withRLS[len(withRLS)/2], without[0], without[len(without)/2], ratio)
		if ratio > 2.5 || withRLS[0] > 100 {
			t.Errorf("execution took %.1f ms at best, %.1fx the time without row-level security at best: want under 100 ms and 2.5x", withRLS[0], ratio)
		}
	})

	t.Run("one list", func(t *testing.T) {
		var list string
		if err := admin.QueryRow(context.Background(), "SELECT min(list_id::text) FROM list_members WHERE user_id = $1 AND role = 'editor'", heavyMember).Scan(&list); err != nil {
			t.Fatal(err)
		}
		p := todo.ListParams{Sort: todo.DefaultSort, Limit: 20, Filter: todo.Filter{ListID: list, Completed: &incomplete}}
		plan := explainAnalyze(t, app, true, heavyMember, p, "")
		checkOncePerStatement(t, plan.Plan)
		if plan.Plan.Rows != 21 {
			t.Errorf("the page has %v rows, want 21", plan.Plan.Rows)
		}
		scans := todoScans(plan.Plan)
		sorts := 0
		walk(plan.Plan, false, func(n planNode, _ bool) {
			if n.NodeType == "Sort" {
				sorts++
			}
		})
		if len(scans) != 1 || scans[0].NodeType != "Index Scan" || scans[0].Index != openIndex ||
			scans[0].Loops != 1 || sorts != 0 {
			t.Errorf("one list's page is not one index scan without a sort: %+v\n%s", scans, plan.raw)
		}

		// The same list asked for by someone who is not in it: 404, and
		// not a row of it read (the policy alone would read and drop each).
		plan = explainAnalyze(t, app, true, "user-2000", p, "")
		scans = todoScans(plan.Plan)
		if plan.Plan.Rows != 0 || len(scans) != 1 || scans[0].Removed != 0 {
			t.Errorf("a list asked for by a non-member is read: %+v\n%s", scans, plan.raw)
		}
	})
}

// keptPlan asks explainAnalyze for the plan Postgres keeps for a prepared
// statement.
const keptPlan = "kept"

// openIndex holds each list's open todos, newest first (migration 000007).
const openIndex = "todos_list_id_open_created_at_idx"

// seedSharing writes the fixture as the superuser, set-based, with triggers
// off (the members are written here; no audit rows), then vacuums and
// analyzes it.
func seedSharing(t *testing.T, admin *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`SET session_replication_role = replica`,
		`INSERT INTO lists (name, personal_of, created_by)
		 SELECT 'Personal', 'user-' || u, 'user-' || u FROM generate_series(1, 2000) u`,
		`INSERT INTO lists (name, created_by) SELECT 'Shared ' || s, 'user-' || (1 + s % 2000) FROM generate_series(1, 500) s`,
		`INSERT INTO list_members (list_id, user_id, role, added_by) SELECT id, created_by, 'owner', created_by FROM lists`,
		`INSERT INTO list_members (list_id, user_id, role, added_by)
		 SELECT id, '` + heavyMember + `', 'editor', created_by FROM lists WHERE personal_of IS NULL AND created_by <> '` + heavyMember + `'`,
		`INSERT INTO todos (list_id, user_id, title, completed, created_at)
		 SELECT l.id, l.created_by, 'todo ' || n, n % 3 = 0, now() - random() * interval '30 days'
		 FROM lists l, generate_series(1, CASE WHEN l.personal_of IS NULL THEN 40 ELSE 20 END) n`,
		`RESET session_replication_role`,
		`VACUUM (ANALYZE)`, // as autovacuum leaves a table that is mostly read
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
}

// explained is EXPLAIN (ANALYZE, FORMAT JSON)'s answer.
type explained struct {
	Plan          planNode `json:"Plan"`
	ExecutionTime float64  `json:"Execution Time"` // ms
	raw           string
}

// planNode is one node of a plan; Rows is per loop.
type planNode struct {
	NodeType string `json:"Node Type"`
	Parent   string `json:"Parent Relationship"`
	Relation string `json:"Relation Name"`
	Index    string `json:"Index Name"`
	// SubplanName names a SubPlan; the node that runs it says "(hashed
	// SubPlan n)" in its condition when its rows are read once into a hash
	// table.
	SubplanName   string     `json:"Subplan Name"`
	Filter        string     `json:"Filter"`
	IndexCond     string     `json:"Index Cond"`
	OneTimeFilter string     `json:"One-Time Filter"`
	Removed       float64    `json:"Rows Removed by Filter"`
	Output        []string   `json:"Output"`
	Loops         float64    `json:"Actual Loops"`
	Rows          float64    `json:"Actual Rows"`
	Plans         []planNode `json:"Plans"`
}

// explainAnalyze runs EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON, opts) of the
// store's query for p with app.user_id set to user, in a transaction rolled
// back after: as the API does (role todo_app) when asApp, else as conn's role.
// Given opts keptPlan, it explains the plan Postgres keeps for the statement
// once it stops planning each run for its values (a generic plan), as it may
// on the API's pooled connections, which prepare their statements.
func explainAnalyze(t *testing.T, conn *pgx.Conn, asApp bool, user string, p todo.ListParams, opts string) explained {
	t.Helper()
	ctx := context.Background()
	query, args, err := db.ListQuery(p)
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	run := func(tx pgx.Tx) {
		values := args
		if opts == keptPlan { // EXECUTE takes values, not parameters (p's print as SQL literals: no cursor)
			literals := make([]string, len(args))
			for i, a := range args {
				literals[i] = fmt.Sprintf("'%v'", a)
			}
			if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan; PREPARE page AS "+query); err != nil {
				t.Fatal(err)
			}
			query, opts, values = "EXECUTE page("+strings.Join(literals, ", ")+")", "", nil
		}
		if err := tx.QueryRow(ctx, "EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON"+opts+") "+query, values...).Scan(&raw); err != nil {
			t.Fatalf("explain: %v", err)
		}
	}
	if asApp {
		dbtest.AsApp(t, conn, &user, run)
	} else {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if _, err := tx.Exec(ctx, "SELECT set_config('app.user_id', $1, true)", user); err != nil {
			t.Fatal(err)
		}
		run(tx)
	}
	var plans []explained
	if err := json.Unmarshal([]byte(raw), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN answered %q: %v", raw, err)
	}
	plans[0].raw = raw
	return plans[0]
}

// timings runs p's query for heavyMember nine times as the API does (on app),
// each followed by a run without row-level security (on admin, a
// superuser), and returns the execution times of each, in ms, in that order.
func timings(t *testing.T, app, admin *pgx.Conn, p todo.ListParams) (withRLS, without []float64) {
	t.Helper()
	for range 9 {
		withRLS = append(withRLS, explainAnalyze(t, app, true, heavyMember, p, ", TIMING OFF").ExecutionTime)
		without = append(without, explainAnalyze(t, admin, false, heavyMember, p, ", TIMING OFF").ExecutionTime)
	}
	return withRLS, without
}

// walk calls f on n and every node below it, telling whether the node runs
// once per statement: inside an InitPlan, or a hashed SubPlan (its rows are
// read once into a hash table).
func walk(n planNode, once bool, f func(n planNode, once bool)) {
	f(n, once)
	for _, c := range n.Plans {
		hashed := c.Parent == "SubPlan" && strings.Contains(n.Filter+n.IndexCond+n.OneTimeFilter, "(hashed "+c.SubplanName+")")
		walk(c, once || c.Parent == "InitPlan" || hashed, f)
	}
}

// checkOncePerStatement: the caller's memberships (app.my_lists, or any read
// of list_members) are looked up only inside InitPlans and hashed SubPlans,
// each run once, and no other SubPlan (which runs per row) is in the plan.
func checkOncePerStatement(t *testing.T, plan planNode) {
	t.Helper()
	lookups := 0
	walk(plan, false, func(n planNode, once bool) {
		switch {
		case n.Parent == "SubPlan" && !once:
			t.Errorf("a SubPlan that is not hashed (run per row): %s %s", n.NodeType, n.Relation)
		case (n.Parent == "InitPlan" || n.Parent == "SubPlan") && n.Loops != 1:
			t.Errorf("an %s ran %v times", n.Parent, n.Loops)
		case n.NodeType == "Seq Scan":
			t.Errorf("a sequential scan of %s", n.Relation)
		}
		if n.Relation == "list_members" || strings.Contains(strings.Join(n.Output, " "), "app.my_lists(") {
			lookups++
			if !once || n.Loops != 1 {
				t.Errorf("a membership lookup runs %v times, once per statement: %v: %s %s %v", n.Loops, once, n.NodeType, n.Relation, n.Output)
			}
		}
	})
	if lookups == 0 {
		t.Error("no membership lookup in the plan")
	}
}

// todoScans are the plan's nodes that read the todos table.
func todoScans(plan planNode) []planNode {
	var scans []planNode
	walk(plan, false, func(n planNode, _ bool) {
		if n.Relation == "todos" {
			scans = append(scans, n)
		}
	})
	return scans
}
