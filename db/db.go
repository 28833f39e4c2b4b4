// Package db is the only code that talks to Postgres. Every request runs as
// role todo_app with app.user_id set for one transaction only, so row-level
// security, not this code, decides which rows a person can see.
package db

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todoapi/todoapi/internal/todo"
)

// AppRole is the role every request transaction switches to.
const AppRole = "todo_app"

// setIdentity starts every request transaction: the role, the user, the
// request id (for the audit trail) and a statement timeout. All are
// transaction-local (is_local = true): a pooled connection never carries an
// identity into the next request.
const setIdentity = `SELECT set_config('role', 'todo_app', true), set_config('app.user_id', $1, true), ` +
	`set_config('app.request_id', $2, true), set_config('statement_timeout', '` + StatementTimeout + `', true)`

// StatementTimeout bounds each request's statement inside Postgres.
const StatementTimeout = "5s"

// DB is a connection pool that runs each call as one user.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (a postgres:// URL or DSN). It does not
// wait for the server: a database that is down at boot makes Ready fail, not Open.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	// Each request holds a connection for one round trip, so a few per core
	// keep Postgres busy; more only queue inside it (measured with `make
	// bench`: 8 beat 4 and 16 on 2 cores). pool_max_conns in the URL overrides.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(4 * runtime.GOMAXPROCS(0))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Close waits for in-flight calls and closes every connection.
func (db *DB) Close() { db.pool.Close() }

// asUser runs query as userID in one implicit transaction and one network
// round trip: the identity statement and the query are pipelined in a single
// batch, which Postgres runs as one transaction (it commits at the batch's
// Sync, and any error rolls back both). scan reads the query's rows.
func (db *DB) asUser(ctx context.Context, userID, query string, args []any, scan func(pgx.Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(setIdentity, userID, todo.RequestID(ctx))
	b.Queue(query, args...).Query(scan)
	return translate(db.pool.SendBatch(ctx, b).Close())
}

// translate maps database errors onto the domain's, once, for every caller.
// The original error stays wrapped for logs; clients only see the domain error.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return todo.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "42501": // insufficient_privilege, incl. a policy's WITH CHECK
			return fmt.Errorf("%w: %w", todo.ErrForbidden, err)
		case pgErr.Code == "23514", strings.HasPrefix(pgErr.Code, "22"): // check violation, data exception
			return fmt.Errorf("%w: %w", todo.ErrInvalid, err)
		}
	}
	return err
}

// Stat reports the pool's counters (connections acquired, idle, waiting...).
func (db *DB) Stat() *pgxpool.Stat { return db.pool.Stat() }
