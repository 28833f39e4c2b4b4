package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenTraced is Open with tracer told of every statement the pool's
// connections run. todobench captures the store's own SQL with it, to send
// the very same statements through pgbench.
func OpenTraced(ctx context.Context, url string, tracer pgx.QueryTracer) (*DB, error) {
	d, err := Open(ctx, url)
	if err != nil {
		return nil, err
	}
	cfg := d.pool.Config() // Open's settings; the pool has no connection yet
	d.pool.Close()
	cfg.ConnConfig.Tracer = tracer
	if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return d, nil
}
