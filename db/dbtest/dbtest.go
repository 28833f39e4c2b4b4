// Package dbtest gives each test a fresh, migrated database of its own,
// cloned from a template on the cluster that TEST_DATABASE_URL names.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/pgcluster"
	"github.com/todoapi/todoapi/migrations"
	"github.com/todoapi/todoapi/policies"
)

// TestDB is a fresh, migrated database of its own for one test.
type TestDB struct {
	Name     string
	AdminURL string // the cluster's superuser, on this database
	OwnerURL string // the schema owner, who runs migrations
	APIURL   string // the API's login role, granted todo_app
}

var template struct {
	once sync.Once
	name string
	err  error
}

// New creates a database for t from a migrated template and drops it when t
// ends, so tests may run in parallel. The cluster is TEST_DATABASE_URL's (a
// superuser URL); `make test` starts one and sets it. With
// TEST_PGBOUNCER_ADDR set, APIURL goes through that PgBouncer.
func New(t testing.TB) TestDB {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run `make test`, which starts a throwaway Postgres")
	}
	ctx := context.Background()
	template.once.Do(func() { template.name, template.err = ensureTemplate(ctx, admin) })
	if template.err != nil {
		t.Fatalf("template database: %v", template.err)
	}
	name := "test_" + randomHex(8)
	if err := pgcluster.CreateDatabase(ctx, admin, name, template.name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(context.Background(), admin, name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	tdb := TestDB{
		Name:     name,
		AdminURL: withUserDB(t, admin, "", name),
		OwnerURL: withUserDB(t, admin, pgcluster.OwnerRole, name),
		APIURL:   withUserDB(t, admin, pgcluster.APIRole, name),
	}
	if addr := os.Getenv("TEST_PGBOUNCER_ADDR"); addr != "" {
		// The API goes through PgBouncer in transaction mode, which keeps no
		// prepared statements (1.18): pgx's exec mode needs none.
		u, err := url.Parse(tdb.APIURL)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = addr
		q := u.Query()
		q.Set("default_query_exec_mode", "exec")
		u.RawQuery = q.Encode()
		tdb.APIURL = u.String()
	}
	return tdb
}

// ensureTemplate creates, once per cluster and schema, a migrated database
// named after a hash of migrations/ and policies/, closed to connections so
// that it can be copied at any time.
func ensureTemplate(ctx context.Context, admin string) (string, error) {
	name := "todoapi_tmpl_" + schemaHash()[:16]
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7032)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7032)") //nolint:errcheck // released on close anyway
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	if err := pgcluster.CreateDatabase(ctx, admin, name, ""); err != nil {
		return "", err
	}
	ownerURL, err := roleURL(admin, pgcluster.OwnerRole, name)
	if err != nil {
		return "", err
	}
	if err := pgcluster.Migrate(ctx, ownerURL); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH ALLOW_CONNECTIONS false")
	return name, err
}

func dropDatabase(ctx context.Context, admin, name string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func schemaHash() string {
	h := sha256.New()
	for _, fsys := range []fs.FS{migrations.FS, policies.FS} {
		_ = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, path)
			h.Write([]byte(path))
			h.Write(b)
			return err
		})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func withUserDB(t testing.TB, admin, role, dbname string) string {
	t.Helper()
	u, err := roleURL(admin, role, dbname)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	return u
}

// roleURL is admin's URL with another role (none keeps admin's) and database.
func roleURL(admin, role, dbname string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	if role != "" {
		u.User = url.User(role)
	}
	u.Path = "/" + dbname
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// OpenPool opens the API's connection pool on the test database (URL
// parameters such as "&pool_max_conns=1" appended), closed when t ends.
func (tdb TestDB) OpenPool(t testing.TB, params string) *db.DB {
	t.Helper()
	database, err := db.Open(context.Background(), tdb.APIURL+params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(database.Close)
	return database
}

// AllowConnections opens or closes the test database to new connections, as
// if its server were down for them; connections already open stay.
func (tdb TestDB) AllowConnections(t testing.TB, allow bool) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	stmt := fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t", pgx.Identifier{tdb.Name}.Sanitize(), allow)
	if _, err := conn.Exec(context.Background(), stmt); err != nil {
		t.Fatal(err)
	}
}

// AsApp runs fn in a transaction on conn that acts as the API's requests do,
// as role db.AppRole with app.user_id set to *user (nil: not set at all), and
// rolls it back; fn may commit tx to keep what it wrote. conn's login role
// must be granted db.AppRole (APIURL's is) or be a superuser.
func AsApp(t testing.TB, conn *pgx.Conn, user *string, fn func(tx pgx.Tx)) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op once fn committed
	if _, err := tx.Exec(ctx, "SELECT set_config('role', $1, true)", db.AppRole); err != nil {
		t.Fatal(err)
	}
	if user != nil {
		if _, err := tx.Exec(ctx, "SELECT set_config('app.user_id', $1, true)", *user); err != nil {
			t.Fatal(err)
		}
	}
	fn(tx)
}
