package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/todoapi/todoapi/migrations"
	"github.com/todoapi/todoapi/policies"
)

// MigrateUp applies every pending migration, then re-applies the policies of
// policies/ (see ApplyPolicies). It connects as the schema owner.
func MigrateUp(ctx context.Context, url string) error {
	if err := withMigrate(url, func(m *migrate.Migrate) error {
		if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	return ApplyPolicies(ctx, url)
}

// MigrateDown reverts the last steps migrations.
func MigrateDown(url string, steps int) error {
	if steps < 1 {
		return fmt.Errorf("steps must be at least 1, got %d", steps)
	}
	return withMigrate(url, func(m *migrate.Migrate) error { return m.Steps(-steps) })
}

// MigrateVersion reports the applied schema version and whether a failed
// migration left it dirty. Version 0 means nothing is applied.
func MigrateVersion(url string) (version uint, dirty bool, err error) {
	err = withMigrate(url, func(m *migrate.Migrate) error {
		version, dirty, err = m.Version()
		if errors.Is(err, migrate.ErrNilVersion) {
			return nil
		}
		return err
	})
	return version, dirty, err
}

// ExpectedVersion is the newest migration embedded in this binary: the schema
// version this build serves.
func ExpectedVersion() uint {
	names, _ := fs.Glob(migrations.FS, "*.up.sql")
	var newest uint
	for _, name := range names {
		digits, _, _ := strings.Cut(name, "_")
		if v, err := strconv.ParseUint(digits, 10, 64); err == nil && uint(v) > newest {
			newest = uint(v)
		}
	}
	return newest
}

func withMigrate(url string, fn func(*migrate.Migrate) error) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg)
	defer sqlDB.Close()
	driver, err := migratepgx.WithInstance(sqlDB, &migratepgx.Config{})
	if err != nil {
		return fmt.Errorf("connect for migrations: %w", err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return err
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(m)
}

// dropOwnedPolicies lists every policy on a table the current user owns.
const dropOwnedPolicies = `SELECT format('DROP POLICY %I ON %I.%I', p.polname, n.nspname, c.relname)
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`

// ApplyPolicies makes the policies in force exactly those of policies/: in one
// transaction it drops every policy on the tables the current user owns and
// runs each file, in name order. Concurrent requests see the old set or the
// new one, never a table without policies.
func ApplyPolicies(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to apply policies: %w", err)
	}
	defer conn.Close(context.Background())

	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, dropOwnedPolicies) // an error surfaces from CollectRows
		drops, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("list policies: %w", err)
		}
		for _, drop := range drops {
			if _, err := tx.Exec(ctx, drop); err != nil {
				return fmt.Errorf("%s: %w", drop, err)
			}
		}
		names, err := fs.Glob(policies.FS, "*.sql")
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, name := range names {
			text, err := fs.ReadFile(policies.FS, name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(text), pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("policies/%s: %w", path.Base(name), err)
			}
		}
		return nil
	})
}
