package pgcluster

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
)

// The roles of a development or test cluster, as the README tells an operator
// to create them: an owner that runs migrations (CREATEROLE, not superuser,
// like Neon's owner role) and the API's login role, granted todo_app.
const (
	OwnerRole = "todo_owner"
	APIRole   = "todo_api"
)

// ensureRoles runs under an advisory lock: test binaries of several packages
// provision the same cluster at once. Only the superuser may connect to the
// cluster's own databases (PUBLIC may by default), so the API's login role
// reaches nothing but the databases it is granted.
const ensureRoles = `DO $$
BEGIN
    PERFORM pg_advisory_xact_lock(7031);
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + OwnerRole + `') THEN
        CREATE ROLE ` + OwnerRole + ` LOGIN CREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + APIRole + `') THEN
        CREATE ROLE ` + APIRole + ` LOGIN;
    END IF;
    REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
END
$$`

// restrictDatabase leaves PUBLIC no privilege on a new database (by default
// every role may connect and create temporary objects there) and lets the
// API's login role connect. The owner keeps its own. Database privileges are
// not copied from a template, so every new database gets this.
const restrictDatabase = `REVOKE ALL ON DATABASE %[1]s FROM PUBLIC; GRANT CONNECT ON DATABASE %[1]s TO ` + APIRole

// CreateDatabase creates database name owned by the owner role (from template
// when it is not empty), through the superuser at adminURL.
func CreateDatabase(ctx context.Context, adminURL, name, template string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, ensureRoles); err != nil {
		return fmt.Errorf("create roles: %w", err)
	}
	create := fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{name}.Sanitize(), OwnerRole)
	if template != "" {
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, fmt.Sprintf(restrictDatabase, pgx.Identifier{name}.Sanitize()))
	return err
}

// Migrate migrates database ownerURL as its owner and grants the API's login
// role the role requests run as.
func Migrate(ctx context.Context, ownerURL string) error {
	if err := db.MigrateUp(ctx, ownerURL); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "GRANT "+db.AppRole+" TO "+APIRole)
	return err
}
