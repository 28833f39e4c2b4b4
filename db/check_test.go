package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
	cases := map[string]struct {
		setup   string // run by the superuser on the test's own database; {role} is a role of its own
		appRole string // role the API would act as; "" = todo_app
		loginAs string // login role; "" = todo_api
	}{
		"table without FORCE": {setup: "ALTER TABLE todos NO FORCE ROW LEVEL SECURITY"},
		"table without RLS":   {setup: "ALTER TABLE todos DISABLE ROW LEVEL SECURITY"},
		"table without policies": {setup: "DO $$ DECLARE p text; BEGIN " +
			"FOR p IN SELECT policyname FROM pg_policies WHERE tablename = 'todos' LOOP " +
			"EXECUTE format('DROP POLICY %I ON todos', p); END LOOP; END $$"},
		"app role with BYPASSRLS":   {setup: "CREATE ROLE {role} NOLOGIN BYPASSRLS; GRANT {role} TO todo_api", appRole: "bypass"},
		"app role SUPERUSER":        {setup: "CREATE ROLE {role} NOLOGIN SUPERUSER; GRANT {role} TO todo_api", appRole: "super"},
		"app role owns a table":     {setup: "CREATE ROLE {role} NOLOGIN; GRANT {role} TO todo_api; CREATE TABLE t_{role} (); ALTER TABLE t_{role} OWNER TO {role}", appRole: "owner"},
		"app role not granted":      {setup: "CREATE ROLE {role} NOLOGIN", appRole: "lonely"},
		"app role missing":          {appRole: "missing"},
		"login role with BYPASSRLS": {setup: "CREATE ROLE {role} LOGIN BYPASSRLS; GRANT todo_app TO {role}", loginAs: "login"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := dbtest.New(t)
			role := "r_" + tdb.Name // roles are cluster-wide: one of its own per case
			if tc.setup != "" {
				stmt := strings.ReplaceAll(tc.setup, "{role}", role)
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
