package db

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// recheckEvery is how often Guard checks again a database it could not reach.
const recheckEvery = time.Second

// Guard keeps the API from serving a database in which row-level security
// might not hold. It runs the safety check at boot; a database that does not
// answer then is checked again until it does, and the API is not ready
// meanwhile.
type Guard struct {
	db     *DB
	safe   atomic.Bool
	unsafe chan error
}

// NewGuard runs the safety check on database. An unsafe database is ErrUnsafe.
// One that cannot be reached is not an error: the check runs again every
// second, until ctx ends or the database answers; an unsafe answer then is
// sent on Unsafe.
func NewGuard(ctx context.Context, database *DB, logger *slog.Logger) (*Guard, error) {
	g := &Guard{db: database, unsafe: make(chan error, 1)}
	err := database.CheckSafety(ctx)
	switch {
	case errors.Is(err, ErrUnsafe):
		return nil, err
	case err == nil:
		g.safe.Store(true)
	default:
		logger.Warn("database not reachable yet; not ready until it is", "err", err)
		go g.recheck(ctx, logger)
	}
	return g, nil
}

func (g *Guard) recheck(ctx context.Context, logger *slog.Logger) {
	tick := time.NewTicker(recheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := g.db.CheckSafety(ctx)
		switch {
		case errors.Is(err, ErrUnsafe):
			g.unsafe <- err
			return
		case err == nil:
			g.safe.Store(true)
			logger.Info("database reachable and safe")
			return
		}
		logger.Debug("database still not reachable", "err", err)
	}
}

// Unsafe receives the error of a re-check that found the database unsafe
// after boot: the API must stop serving.
func (g *Guard) Unsafe() <-chan error { return g.unsafe }

// Ready reports whether the API may serve: the safety check has passed, and
// the database answers with the schema this build expects.
func (g *Guard) Ready(ctx context.Context) error {
	if !g.safe.Load() {
		return errors.New("the database's safety check has not passed yet")
	}
	return g.db.Ready(ctx)
}
