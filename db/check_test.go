package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/pgcluster"
)

func TestCheckSafetyPassesMigratedDatabase(t *testing.T) {
	t.Parallel()
	database, _, _ := open(t)
	if err := database.CheckSafety(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := database.Ready(context.Background()); err != nil {
		t.Fatalf("ready: %v", err)
	}
}

func TestCheckSafetyRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type refusal struct {
		setup   string // run by the superuser on the test's own database; {role} is a role of its own
		appRole string // role the API would act as; "" = todo_app
		loginAs string // login role; "" = todo_api
	}
	cases := map[string]refusal{
		"app role with BYPASSRLS":   {setup: "CREATE ROLE {role} NOLOGIN BYPASSRLS; GRANT {role} TO " + pgcluster.APIRole, appRole: "bypass"},
		"app role SUPERUSER":        {setup: "CREATE ROLE {role} NOLOGIN SUPERUSER; GRANT {role} TO " + pgcluster.APIRole, appRole: "super"},
		"app role owns a table":     {setup: "CREATE ROLE {role} NOLOGIN; GRANT {role} TO " + pgcluster.APIRole + "; CREATE TABLE t_{role} (); ALTER TABLE t_{role} OWNER TO {role}", appRole: "owner"},
		"app role not granted":      {setup: "CREATE ROLE {role} NOLOGIN", appRole: "lonely"},
		"app role missing":          {appRole: "missing"},
		"login role with BYPASSRLS": {setup: "CREATE ROLE {role} LOGIN BYPASSRLS; GRANT " + db.AppRole + " TO {role}; GRANT CONNECT ON DATABASE {db} TO {role}", loginAs: "login"},
	}
	for _, table := range db.ServedTables { // every one is checked, none skipped
		cases[table+" without FORCE"] = refusal{setup: "ALTER TABLE " + table + " NO FORCE ROW LEVEL SECURITY"}
		cases[table+" without RLS"] = refusal{setup: "ALTER TABLE " + table + " DISABLE ROW LEVEL SECURITY"}
		cases[table+" without policies"] = refusal{setup: "DO $$ DECLARE p text; BEGIN " +
			"FOR p IN SELECT policyname FROM pg_policies WHERE tablename = '" + table + "' LOOP " +
			"EXECUTE format('DROP POLICY %I ON " + table + "', p); END LOOP; END $$"}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := dbtest.New(t)
			role := "r_" + tdb.Name // roles are cluster-wide: one of its own per case
			if tc.setup != "" {
				stmt := strings.NewReplacer("{role}", role, "{db}", tdb.Name).Replace(tc.setup)
				if _, err := connect(t, tdb.AdminURL).Exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
				if stmt != tc.setup {
					t.Cleanup(func() { dropRole(t, tdb, role) })
				}
			}
			url := tdb.APIURL
			if tc.loginAs != "" {
				url = replaceUser(tdb.APIURL, pgcluster.APIRole, role)
			}
			database, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close()
			appRole := db.AppRole
			if tc.appRole != "" {
				appRole = role
			}
			if err := database.CheckSafetyAs(ctx, appRole); !errors.Is(err, db.ErrUnsafe) {
				t.Fatalf("got %v, want ErrUnsafe", err)
			}
		})
	}
}

// TestServedTablesAreAllTheAppCanReach: the boot check covers every relation
// todo_app has any privilege on, so a table granted to it later without
// being added to ServedTables fails here. The one exception is the schema
// version, which holds no one's data and which todo_app may only read.
func TestServedTablesAreAllTheAppCanReach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, admin, _ := open(t)
	rows, err := admin.Query(ctx, `SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (has_table_privilege($1, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
       OR has_any_column_privilege($1, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
ORDER BY 1`, db.AppRole)
	if err != nil {
		t.Fatal(err)
	}
	reachable, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range reachable {
		if rel == "schema_migrations" {
			var writable bool
			if err := admin.QueryRow(ctx, "SELECT has_table_privilege($1, 'schema_migrations', 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')", db.AppRole).Scan(&writable); err != nil || writable {
				t.Errorf("%s may change schema_migrations (%v)", db.AppRole, err)
			}
			continue
		}
		if !slices.Contains(db.ServedTables, rel) {
			t.Errorf("%s can reach %s, which the boot safety check does not check (add it to db.ServedTables)", db.AppRole, rel)
		}
	}
	for _, table := range db.ServedTables {
		if !slices.Contains(reachable, table) {
			t.Errorf("served table %s is not reachable by %s (reachable: %v)", table, db.AppRole, reachable)
		}
	}
}

func dropRole(t *testing.T, tdb dbtest.TestDB, role string) {
	t.Helper()
	admin := connect(t, tdb.AdminURL)
	if _, err := admin.Exec(context.Background(), strings.ReplaceAll("DROP OWNED BY {role}; DROP ROLE {role}", "{role}", role)); err != nil {
		t.Errorf("drop role %s: %v", role, err)
	}
}

func replaceUser(url, from, to string) string {
	return strings.Replace(url, "//"+from+"@", "//"+to+"@", 1)
}

// TestProvisionedLeastPrivilege: the API's login role, as make run and make
// test provision it, may connect to its database and nothing more: no
// temporary objects there, no other database of the cluster's own.
func TestProvisionedLeastPrivilege(t *testing.T) {
	t.Parallel()
	database, _, tdb := open(t)
	var temp bool
	var others []string
	err := connect(t, tdb.APIURL).QueryRow(context.Background(), `SELECT
		has_database_privilege(current_user, current_database(), 'TEMP'),
		ARRAY(SELECT datname FROM pg_database WHERE datname IN ('postgres', 'template1')
		      AND has_database_privilege(current_user, datname, 'CONNECT'))`).Scan(&temp, &others)
	if err != nil {
		t.Fatal(err)
	}
	if temp || len(others) > 0 {
		t.Errorf("the login role may create temporary objects (%t) or connect to %v", temp, others)
	}
	warnings, err := database.PrivilegeWarnings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		if strings.Contains(w, "temporary") || strings.Contains(w, "postgres") {
			t.Errorf("warning for a provisioned database: %s", w)
		}
	}
}

// TestPrivilegeWarnings: a login role that may create temporary objects, or
// connect to another database, is warned about, by name.
func TestPrivilegeWarnings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tdb := dbtest.New(t)
	role := "r_" + tdb.Name
	stmt := strings.NewReplacer("{role}", role, "{db}", tdb.Name).Replace(
		"CREATE ROLE {role} LOGIN; GRANT " + db.AppRole + " TO {role}; GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role}; " +
			"GRANT CONNECT ON DATABASE postgres TO {role}")
	if _, err := connect(t, tdb.AdminURL).Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	t.Cleanup(func() { dropRole(t, tdb, role) })
	database, err := db.Open(ctx, replaceUser(tdb.APIURL, pgcluster.APIRole, role))
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	warnings, err := database.PrivilegeWarnings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(warnings, "\n")
	for _, want := range []string{"temporary tables", "other databases (", "postgres"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}
}
