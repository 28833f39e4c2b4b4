package db

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CheckSafetyAs runs the boot check as if the API acted as appRole.
func (db *DB) CheckSafetyAs(ctx context.Context, appRole string) error {
	return checkSafety(ctx, db.pool, appRole, ServedTables)
}

// QueryRowForTest queries on a pooled connection outside any request.
func (db *DB) QueryRowForTest(ctx context.Context, sql string, args ...any) pgx.Row {
	return db.pool.QueryRow(ctx, sql, args...)
}
