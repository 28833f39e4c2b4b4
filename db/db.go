// Package db is the only code that talks to Postgres. Every request runs as
// role todo_app with app.user_id set for one transaction only, so row-level
// security, not this code, decides which rows a person can see.
package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todoapi/todoapi/internal/todo"
)

// AppRole is the role every request transaction switches to; AuditorRole
// is the DBAs' read-only role (policies/README.md). The migrations create
// both.
const (
	AppRole     = "todo_app"
	AuditorRole = "todo_auditor"
)

// setIdentity starts every request transaction: the role, the user, the
// request id (for the audit trail) and timeouts. All are transaction-local
// (is_local = true): a pooled connection never carries an identity into the
// next request.
const setIdentity = `SELECT set_config('role', '` + AppRole + `', true), set_config('app.user_id', $1, true), ` +
	`set_config('app.request_id', $2, true), set_config('statement_timeout', '` + StatementTimeout + `', true), ` +
	`set_config('lock_timeout', '` + LockTimeout + `', true)`

// StatementTimeout bounds each request's statement inside Postgres;
// LockTimeout bounds its wait for a row another transaction holds.
const (
	StatementTimeout = "5s"
	LockTimeout      = "2s"
)

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
func (d *DB) Close() { d.pool.Close() }

// acquireTimeout bounds the wait for a pooled connection: past it the pool
// is exhausted, and the request fails fast with todo.ErrUnavailable (503)
// instead of queueing without end.
const acquireTimeout = time.Second

// asUser runs query as the caller in one implicit transaction and one network
// round trip: the identity statement and the query are pipelined in a single
// batch, which Postgres runs as one transaction (it commits at the batch's
// Sync, and any error rolls back both). scan reads the query's rows. A read
// may be retried after a lost connection; see send.
func (d *DB) asUser(ctx context.Context, c todo.Caller, readOnly bool, query string, args []any, scan func(pgx.Rows) error) error {
	return d.send(ctx, c, readOnly, func(b *pgx.Batch) { b.Queue(query, args...).Query(scan) })
}

// send runs the statements queue adds after the identity statement, as one
// transaction. It tries once more, after a short jittered pause, when the
// failure proves nothing was committed (no connection, the server refused or
// rolled back) or, for a read, when the connection was lost midway; never a
// write whose commit may have happened. A database that cannot serve is
// todo.ErrUnavailable.
func (d *DB) send(ctx context.Context, c todo.Caller, readOnly bool, queue func(*pgx.Batch)) error {
	for attempt := 1; ; attempt++ {
		err := d.sendOnce(ctx, c, queue)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil { // the client left, or its deadline passed
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		f := classify(err)
		if attempt == 1 && (f.rolledBack || (f.connLost && readOnly)) {
			pause := time.Duration(10+rand.IntN(40)) * time.Millisecond
			select {
			case <-time.After(pause):
				continue
			case <-ctx.Done():
			}
		}
		if f.unavailable {
			return fmt.Errorf("%w: %w", todo.ErrUnavailable, err)
		}
		return translate(err)
	}
}

func (d *DB) sendOnce(ctx context.Context, c todo.Caller, queue func(*pgx.Batch)) error {
	acquireCtx, cancel := context.WithTimeout(ctx, acquireTimeout)
	conn, err := d.pool.Acquire(acquireCtx)
	cancel()
	if err != nil {
		return acquireError{err}
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue(setIdentity, c.UserID, c.RequestID)
	queue(b)
	return conn.SendBatch(ctx, b).Close()
}

// acquireError: no connection could be had, so nothing was sent.
type acquireError struct{ err error }

func (e acquireError) Error() string { return "acquire connection: " + e.err.Error() }
func (e acquireError) Unwrap() error { return e.err }

// failure is what a failed call tells about the database and the work.
type failure struct {
	unavailable bool // the database cannot serve now: 503, try later
	rolledBack  bool // nothing was committed: running it again is safe, even a write
	connLost    bool // the connection broke midway: a commit may or may not have happened
}

// classify is the one place that decides which database errors are
// transient and which may be retried. pgx's SafeToRetry alone (nothing was
// sent) is too narrow: an error the server reports inside the implicit
// transaction also proves that nothing was committed.
func classify(err error) failure {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "57P"), // admin/crash shutdown, cannot connect now
			strings.HasPrefix(pgErr.Code, "08"),          // connection exception
			strings.HasPrefix(pgErr.Code, "53"),          // too many connections, out of resources
			pgErr.Code == "40001", pgErr.Code == "40P01": // serialization failure, deadlock
			return failure{unavailable: true, rolledBack: true}
		case pgErr.Code == "57014", pgErr.Code == "55P03": // statement or lock timeout: retrying adds load
			return failure{unavailable: true}
		}
		return failure{}
	}
	if errors.As(err, new(acquireError)) && errors.Is(err, context.DeadlineExceeded) {
		return failure{unavailable: true} // the pool is exhausted: waiting again only queues longer
	}
	if errors.As(err, new(acquireError)) {
		return failure{unavailable: true, rolledBack: true} // could not connect: nothing was sent
	}
	// pgx reports a connection lost while reading a batch's results as
	// "conn closed", which it says is safe to retry (v5.12, exec mode): it
	// is not, the batch may have committed.
	if pgconn.SafeToRetry(err) && !errors.Is(err, pgconn.ErrConnClosed) {
		return failure{unavailable: true, rolledBack: true} // nothing was sent
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, pgconn.ErrConnClosed) ||
		pgconn.Timeout(err) || strings.Contains(err.Error(), "conn closed") {
		return failure{unavailable: true, connLost: true}
	}
	return failure{}
}

// The SQLSTATEs of app.keep_an_owner (migrations/000004, 000009): the change
// would leave a list without an owner, or a personal list without its person.
const (
	lastOwnerCode     = "TD001"
	personalOwnerCode = "TD002"
)

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
		case pgErr.Code == "23505": // unique violation
			return fmt.Errorf("%w: %w", todo.ErrConflict, err)
		case pgErr.Code == lastOwnerCode:
			return fmt.Errorf("%w: %w", todo.ErrLastOwner, err)
		case pgErr.Code == personalOwnerCode:
			return fmt.Errorf("%w: %w", todo.ErrPersonalOwner, err)
		}
	}
	return err
}

// Stat reports the pool's counters (connections acquired, idle, waiting...).
func (d *DB) Stat() *pgxpool.Stat { return d.pool.Stat() }
