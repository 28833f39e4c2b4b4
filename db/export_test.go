package db

import (
	"context"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todoapi/todoapi/internal/todo"
)

// CheckSafetyAs runs the boot check as if the API acted as appRole.
func (d *DB) CheckSafetyAs(ctx context.Context, appRole string) error {
	return checkSafety(ctx, d.pool, appRole, ServedTables)
}

// QueryRowForTest queries on a pooled connection outside any request.
func (d *DB) QueryRowForTest(ctx context.Context, sql string, args ...any) pgx.Row {
	return d.pool.QueryRow(ctx, sql, args...)
}

// OpenCountingWrites opens a DB whose connections count their network writes:
// each is one message burst to the server, so one request should cost one.
func OpenCountingWrites(ctx context.Context, url string) (*DB, *atomic.Int64, error) {
	writes := &atomic.Int64{}
	db, err := openOneConn(ctx, url, func(c net.Conn) net.Conn { return countingConn{Conn: c, writes: writes} })
	return db, writes, err
}

// openOneConn opens a DB of one connection, which wrap wraps.
func openOneConn(ctx context.Context, url string, wrap func(net.Conn) net.Conn) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 1
	dialer := &net.Dialer{}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return wrap(c), nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &DB{pool: pool}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// OpenLosingReplies opens a one-connection DB and a function after which its
// connection loses the server's next reply: the request reaches Postgres,
// which runs and commits it, and the connection breaks before the answer
// arrives (Postgres sends nothing of a batch's results before its commit).
func OpenLosingReplies(ctx context.Context, url string) (*DB, func(), error) {
	armed := &atomic.Bool{}
	db, err := openOneConn(ctx, url, func(c net.Conn) net.Conn { return losingConn{Conn: c, armed: armed} })
	return db, func() { armed.Store(true) }, err
}

type losingConn struct {
	net.Conn
	armed *atomic.Bool
}

func (c losingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.armed.CompareAndSwap(true, false) {
		_ = c.Conn.Close()
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return n, err
}

// ListQuery is the SQL and arguments List runs for p.
func ListQuery(p todo.ListParams) (string, []any, error) { return listQuery(p) }

// SettingsAsUser reads, inside a request transaction as the caller, the settings
// the identity statement makes.
func (d *DB) SettingsAsUser(ctx context.Context, c todo.Caller) (role, user, requestID, timeout string, err error) {
	err = d.asUser(ctx, c, true, `SELECT current_user, current_setting('app.user_id'), current_setting('app.request_id'), current_setting('statement_timeout')`, nil,
		func(rows pgx.Rows) error {
			_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
				return struct{}{}, row.Scan(&role, &user, &requestID, &timeout)
			})
			return err
		})
	return role, user, requestID, timeout, err
}
