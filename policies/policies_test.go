package policies_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
)

// TestPgTAP runs the SQL-level policy tests of tests/ with pg_prove, as a DBA
// would, on a freshly migrated database. Each file rolls itself back.
func TestPgTAP(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	files, err := filepath.Glob("tests/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests: %v", err)
	}
	u, err := url.Parse(tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("pg_prove", append([]string{"--verbose"}, files...)...)
	cmd.Env = append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(),
		"PGDATABASE="+tdb.Name, "PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pg_prove: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// sqlBlocks returns the ```sql blocks of README.md's section titled heading.
func sqlBlocks(t *testing.T, heading string) []string {
	t.Helper()
	guide, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(guide), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for {
		var block string
		if _, section, ok = strings.Cut(section, "```sql\n"); !ok {
			return blocks
		}
		block, section, _ = strings.Cut(section, "```")
		blocks = append(blocks, block)
	}
}

// psql runs sql as role on the test database with psql variables vars, and
// returns what it printed, unaligned: columns separated by "|".
func psql(t *testing.T, tdb dbtest.TestDB, role, sql string, vars ...string) string {
	t.Helper()
	u, err := url.Parse(tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-X", "-A", "-v", "ON_ERROR_STOP=1", "-h", u.Hostname(), "-p", u.Port(), "-U", role, "-d", tdb.Name}
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	cmd := exec.Command("psql", args...)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql as %s: %v\n%s\n%s", role, err, sql, out)
	}
	return string(out)
}

// TestGuideQueriesWork runs the DBA guide's SQL as the guide says to: the
// audit queries as a DBA granted todo_auditor, "see what a user sees" as a
// superuser.
func TestGuideQueriesWork(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	dba := "dana_" + tdb.Name
	psql(t, tdb, "postgres", "CREATE ROLE "+dba+" LOGIN; GRANT "+db.AuditorRole+" TO "+dba+"; GRANT CONNECT ON DATABASE "+tdb.Name+" TO "+dba)
	t.Cleanup(func() { psql(t, tdb, "postgres", "DROP OWNED BY "+dba+"; DROP ROLE "+dba) })
	todoID := strings.TrimSpace(psql(t, tdb, "postgres", `
		BEGIN;
		SET LOCAL ROLE todo_app;
		SELECT set_config('app.user_id', 'bob', true) \g /dev/null
		INSERT INTO todos (user_id, title) VALUES ('bob', 'bob''s secret');
		COMMIT;
		BEGIN;
		SET LOCAL ROLE todo_app;
		SELECT set_config('app.user_id', 'alice', true) \g /dev/null
		INSERT INTO todos (user_id, title) VALUES ('alice', 'milk') RETURNING id \gset
		UPDATE todos SET completed = true WHERE id = :'id';
		DELETE FROM todos WHERE id = :'id';
		INSERT INTO todos (user_id, title) VALUES ('alice', 'bread');
		COMMIT;
		\echo :id`))
	todoID = todoID[strings.LastIndex(todoID, "\n")+1:]
	listID := shareGroceries(t, tdb)

	blocks := sqlBlocks(t, "Audit queries")
	if len(blocks) != 4 {
		t.Fatalf("%d audit query blocks, want 4", len(blocks))
	}
	wants := []string{"(3 rows)", "(4 rows)", "milk", "(2 rows)"} // X's history; alice today; deleted; users
	for i, block := range blocks {
		out := psql(t, tdb, dba, block, "todo_id="+todoID, "user_id=alice")
		if !strings.Contains(out, wants[i]) {
			t.Errorf("audit query %d: want %q in\n%s", i+1, wants[i], out)
		}
	}

	sees := sqlBlocks(t, "See what a user sees")
	if len(sees) != 1 {
		t.Fatalf("%d blocks in See what a user sees", len(sees))
	}
	out := psql(t, tdb, "postgres", sees[0], "user_id=alice")
	if !strings.Contains(out, "|bread|") || !strings.Contains(out, "Groceries|") || strings.Contains(out, "secret") {
		t.Errorf("as alice: want bread, the shared list's eggs and nothing of bob's own:\n%s", out)
	}

	sharing := sqlBlocks(t, "Sharing queries")
	if len(sharing) != 3 {
		t.Fatalf("%d sharing query blocks, want 3", len(sharing))
	}
	for i, c := range []struct {
		vars          []string
		want, notWant []string
	}{
		{ // who can see list X, and who could still join
			vars:    []string{"list_id=" + listID},
			want:    []string{"Groceries|alice|owner|alice|", "Groceries|bob|editor|alice|", "Groceries|erin|viewer|alice|", "(3 rows)", "|viewer|1|2|", "(1 row)"},
			notWant: []string{"carol", "dave"},
		},
		{ // what bob can see and change
			vars:    []string{"user_id=bob"},
			want:    []string{"Groceries|editor|t|f|1|", "Personal|owner|t|t|1|", "(2 rows)"},
			notWant: []string{"alice"},
		},
		{ // who removed whom from list X, who added whom
			vars: []string{"list_id=" + listID},
			want: []string{"|alice|added|alice||owner|alice|req-share", "|alice|added|bob||editor|alice|req-share",
				"|alice|added|dave||viewer|alice|req-share", "|alice|changed role|bob|editor|owner|alice|req-share",
				"|alice|changed role|bob|owner|editor|alice|req-share", "|alice|removed|dave|viewer||alice|req-share",
				"|erin|joined by invitation|erin||viewer|alice|req-join", "|carol|left|carol|viewer||alice|", "(9 rows)"},
		},
	} {
		out := psql(t, tdb, dba, sharing[i], c.vars...)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("sharing query %d: want %q in\n%s", i+1, w, out)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(out, w) {
				t.Errorf("sharing query %d: want no %q in\n%s", i+1, w, out)
			}
		}
	}
}

// shareGroceries has alice share a list through the API's role: bob edits it
// (made owner and back in between), carol views it and leaves, dave is added
// and removed, erin joins by invitation, bob adds a todo. It returns the list's id.
func shareGroceries(t *testing.T, tdb dbtest.TestDB) string {
	t.Helper()
	out := psql(t, tdb, "postgres", `
		SELECT gen_random_uuid() AS list_id \gset
		BEGIN;
		SET LOCAL ROLE todo_app;
		SELECT set_config('app.user_id', 'alice', true), set_config('app.request_id', 'req-share', true) \g /dev/null
		INSERT INTO lists (id, name, created_by) VALUES (:'list_id', 'Groceries', 'alice');
		INSERT INTO list_members (list_id, user_id, role, added_by) VALUES
			(:'list_id', 'bob', 'editor', 'alice'), (:'list_id', 'carol', 'viewer', 'alice'), (:'list_id', 'dave', 'viewer', 'alice');
		UPDATE list_members SET role = 'owner' WHERE list_id = :'list_id' AND user_id = 'bob';
		UPDATE list_members SET role = 'editor' WHERE list_id = :'list_id' AND user_id = 'bob';
		DELETE FROM list_members WHERE list_id = :'list_id' AND user_id = 'dave';
		INSERT INTO list_invitations (list_id, token_hash, role, max_uses, expires_at, created_by)
		VALUES (:'list_id', sha256('guide'), 'viewer', 2, now() + interval '1 day', 'alice');
		COMMIT;
		BEGIN;
		SET LOCAL ROLE todo_app;
		SELECT set_config('app.user_id', 'erin', true), set_config('app.request_id', 'req-join', true) \g /dev/null
		SELECT outcome FROM app.accept_invitation(sha256('guide'));
		COMMIT;
		BEGIN;
		SET LOCAL ROLE todo_app;
		SELECT set_config('app.user_id', 'carol', true) \g /dev/null
		DELETE FROM list_members WHERE list_id = :'list_id' AND user_id = 'carol';
		COMMIT;
		BEGIN;
		SET LOCAL ROLE todo_app;
		SELECT set_config('app.user_id', 'bob', true) \g /dev/null
		INSERT INTO todos (list_id, user_id, title) VALUES (:'list_id', 'bob', 'eggs');
		COMMIT;
		\echo :list_id`)
	if !strings.Contains(out, "joined") {
		t.Fatalf("erin did not join:\n%s", out)
	}
	return strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
}

// TestLastOwnerUnderConcurrentRemovals removes the last two owners of a list
// in two transactions whose snapshots overlap, at each isolation level: the
// first commits before the second removes, and the second must then fail, so
// that the list keeps an owner.
func TestLastOwnerUnderConcurrentRemovals(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	ctx := context.Background()
	connect := func() *pgx.Conn {
		conn, err := pgx.Connect(ctx, tdb.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	admin, c1, c2 := connect(), connect(), connect()
	for _, iso := range []pgx.TxIsoLevel{pgx.ReadCommitted, pgx.RepeatableRead, pgx.Serializable} {
		var list string
		err := admin.QueryRow(ctx, `WITH l AS (INSERT INTO lists (name, created_by) VALUES ('Shared', 'ann') RETURNING id)
			INSERT INTO list_members (list_id, user_id, role, added_by) SELECT id, 'ben', 'owner', 'ann' FROM l RETURNING list_id`).Scan(&list)
		if err != nil {
			t.Fatal(err)
		}
		var errs [2]error
		var txs [2]pgx.Tx
		for i, c := range []*pgx.Conn{c1, c2} {
			if txs[i], err = c.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso}); err != nil {
				t.Fatal(err)
			}
			// Each takes its snapshot before either removal.
			if _, err = txs[i].Exec(ctx, "SELECT FROM list_members WHERE list_id = $1", list); err != nil {
				t.Fatal(err)
			}
		}
		for i, owner := range []string{"ann", "ben"} {
			if _, errs[i] = txs[i].Exec(ctx, "DELETE FROM list_members WHERE list_id = $1 AND user_id = $2", list, owner); errs[i] == nil {
				errs[i] = txs[i].Commit(ctx)
			}
			_ = txs[i].Rollback(ctx)
		}
		var owners int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM list_members WHERE list_id = $1 AND role = 'owner'", list).Scan(&owners); err != nil {
			t.Fatal(err)
		}
		if owners == 0 {
			t.Errorf("%s: both removals committed, the list has no owner", iso)
		}
		t.Logf("%s: first removal: %v; second: %v", iso, errs[0], errs[1])
	}
}
