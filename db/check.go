package db

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/todo"
)

// ServedTables are the tables the API reads and writes; each must have row-level
// security enabled and forced, and at least one policy.
var ServedTables = []string{"todos", "idempotency_keys", "lists", "list_members", "list_invitations", "events", "event_tickets"}

// ErrUnsafe means the database is set up so that row-level security might not
// hold; the API refuses to serve.
var ErrUnsafe = errors.New("unsafe database setup")

const roleFacts = `SELECT r.rolsuper, r.rolbypassrls,
       (SELECT count(*) FROM pg_class WHERE relowner = r.oid),
       me.rolsuper, me.rolbypassrls, pg_has_role(current_user, r.oid, 'MEMBER')
FROM pg_roles r, pg_roles me
WHERE r.rolname = $1 AND me.rolname = current_user`

const tableFacts = `SELECT c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
FROM pg_class c WHERE c.oid = to_regclass($1)`

// CheckSafety refuses a database in which the API could see rows that are not
// the caller's: the role it acts as or logs in as can bypass RLS, the role it
// acts as owns tables (owners can turn RLS off), or a served table lacks
// enabled and forced RLS or policies.
func (d *DB) CheckSafety(ctx context.Context) error {
	return checkSafety(ctx, d.pool, AppRole, ServedTables)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func checkSafety(ctx context.Context, q querier, appRole string, tables []string) error {
	var appSuper, appBypass, meSuper, meBypass, member bool
	var owned int
	err := q.QueryRow(ctx, roleFacts, appRole).Scan(&appSuper, &appBypass, &owned, &meSuper, &meBypass, &member)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: role %s does not exist (run `todoapi migrate up`)", ErrUnsafe, appRole)
	case err != nil:
		return fmt.Errorf("check roles: %w", err)
	case appSuper || appBypass:
		return fmt.Errorf("%w: role %s is SUPERUSER or BYPASSRLS", ErrUnsafe, appRole)
	case owned > 0:
		return fmt.Errorf("%w: role %s owns %d relations", ErrUnsafe, appRole, owned)
	case meSuper || meBypass:
		return fmt.Errorf("%w: the login role is SUPERUSER or BYPASSRLS; connect as a role that is only granted %s", ErrUnsafe, appRole)
	case !member:
		return fmt.Errorf("%w: the login role is not granted %s", ErrUnsafe, appRole)
	}
	for _, table := range tables {
		var enabled, forced bool
		var policies int
		err := q.QueryRow(ctx, tableFacts, table).Scan(&enabled, &forced, &policies)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("%w: table %s does not exist (run `todoapi migrate up`)", ErrUnsafe, table)
		case err != nil:
			return fmt.Errorf("check table %s: %w", table, err)
		case !enabled || !forced:
			return fmt.Errorf("%w: table %s lacks ENABLE and FORCE ROW LEVEL SECURITY", ErrUnsafe, table)
		case policies == 0:
			return fmt.Errorf("%w: table %s has no policies", ErrUnsafe, table)
		}
	}
	return nil
}

const privilegeFacts = `SELECT has_database_privilege(current_user, current_database(), 'TEMP'),
       ARRAY(SELECT datname FROM pg_database
             WHERE datname <> current_database() AND datallowconn
               AND has_database_privilege(current_user, datname, 'CONNECT')
             ORDER BY datname)`

// PrivilegeWarnings lists what the login role may do beyond what the API
// needs, as far as it can see: create temporary tables and functions in this
// database, or connect to others. Neither bypasses row-level security, so
// these are warnings for the operator, not reasons to refuse.
func (d *DB) PrivilegeWarnings(ctx context.Context) ([]string, error) {
	var temp bool
	var others []string
	if err := d.pool.QueryRow(ctx, privilegeFacts).Scan(&temp, &others); err != nil {
		return nil, fmt.Errorf("check privileges: %w", err)
	}
	var warnings []string
	if temp {
		warnings = append(warnings, "the login role can create temporary tables and functions here: "+
			"REVOKE TEMPORARY ON DATABASE <this database> FROM PUBLIC (and from the login role)")
	}
	if len(others) > 0 {
		warnings = append(warnings, fmt.Sprintf("the login role can connect to other databases (%s): "+
			"REVOKE CONNECT ON DATABASE ... FROM PUBLIC there, and grant CONNECT on this one to the login role", strings.Join(others, ", ")))
	}
	return warnings, nil
}

const schemaVersion = `SELECT version, dirty FROM schema_migrations`

// Ready reports whether the database answers, as the role requests use, with
// the schema version this build expects.
func (d *DB) Ready(ctx context.Context) error {
	var version int64
	var dirty bool
	err := d.asUser(ctx, todo.Caller{}, true, schemaVersion, nil, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&version, &dirty)
		})
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("database: %w", err)
	case dirty || uint(version) != ExpectedVersion():
		return fmt.Errorf("schema version %d (dirty %t), want %d", version, dirty, ExpectedVersion())
	}
	return nil
}
