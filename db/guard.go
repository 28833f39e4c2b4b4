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
		g.passed(ctx, logger)
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
			logger.Info("database reachable and safe")
			g.passed(ctx, logger)
			return
		}
		logger.Debug("database still not reachable", "err", err)
	}
}

// passed marks the check passed and logs what the login role may do beyond
// what the API needs (see PrivilegeWarnings): warnings, not refusals.
func (g *Guard) passed(ctx context.Context, logger *slog.Logger) {
	g.safe.Store(true)
	warnings, err := g.db.PrivilegeWarnings(ctx)
	if err != nil {
		logger.Warn("could not check the login role's privileges", "err", err)
	}
	for _, w := range warnings {
		logger.Warn("least privilege: " + w)
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
