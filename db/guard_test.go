package db_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
)

// TestGuardRefusesUnsafeAtBoot: an unsafe database is refused at once.
func TestGuardRefusesUnsafeAtBoot(t *testing.T) {
	t.Parallel()
	database, admin, _ := open(t)
	if _, err := admin.Exec(context.Background(), "ALTER TABLE todos NO FORCE ROW LEVEL SECURITY"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewGuard(t.Context(), database, slog.New(slog.DiscardHandler)); !errors.Is(err, db.ErrUnsafe) {
		t.Fatalf("NewGuard = %v, want ErrUnsafe", err)
	}
}

// TestGuardChecksAgainOnceTheDatabaseAnswers: a database that cannot be
// reached at boot is not ready; once it answers it is checked again: a safe
// one becomes ready, an unsafe one is reported on Unsafe and never ready.
func TestGuardChecksAgainOnceTheDatabaseAnswers(t *testing.T) {
	t.Parallel()
	for name, unsafe := range map[string]bool{"safe": false, "unsafe": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tdb := dbtest.New(t)
			if unsafe {
				if _, err := connect(t, tdb.AdminURL).Exec(context.Background(), "ALTER TABLE todos NO FORCE ROW LEVEL SECURITY"); err != nil {
					t.Fatal(err)
				}
			}
			tdb.AllowConnections(t, false)
			database := tdb.OpenPool(t, "")
			ctx := t.Context()
			guard, err := db.NewGuard(ctx, database, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("NewGuard with the database unreachable: %v, want no error", err)
			}
			if guard.Ready(ctx) == nil {
				t.Fatal("ready before the safety check passed")
			}
			tdb.AllowConnections(t, true)
			deadline := time.After(20 * time.Second)
			for {
				select {
				case err := <-guard.Unsafe():
					if !unsafe || !errors.Is(err, db.ErrUnsafe) {
						t.Fatalf("Unsafe received %v", err)
					}
					if guard.Ready(ctx) == nil {
						t.Error("ready although the re-check found the database unsafe")
					}
					return
				case <-deadline:
					t.Fatalf("no verdict 20s after the database answered (ready: %v)", guard.Ready(ctx))
				case <-time.After(50 * time.Millisecond):
				}
				if guard.Ready(ctx) == nil {
					if unsafe {
						t.Fatal("an unsafe database became ready")
					}
					return
				}
			}
		})
	}
}
