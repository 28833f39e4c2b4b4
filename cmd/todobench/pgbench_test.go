package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/db/dbtest"
)

// The pgbench scripts are the store's own statements, return rows for every
// user and todo pgbench may draw, and run in pgbench without a failure.
func TestPgbenchScripts(t *testing.T) {
	ctx := context.Background()
	tdb := dbtest.New(t)
	f, err := seed(ctx, tdb.AdminURL, options{users: 6, todos: 3, sharedLists: 500, sharedTodos: 2})
	if err != nil {
		t.Fatal(err)
	}
	ws := []string{"list", "get", "create", "update", "mix"}
	scripts, err := pgbenchScripts(ctx, tdb.APIURL, f, ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) != len(pgbenchWorkloads) {
		t.Fatalf("scripts for %d workloads, want %d (mix has none)", len(scripts), len(pgbenchWorkloads))
	}
	for w, s := range scripts {
		file := s.file(f)
		if !strings.Contains(file, "set_config('app.user_id', ('user-' || lpad((:u)::text, 5, '0'))::text, true)") ||
			!strings.HasPrefix(file, "\\set u random(0, 5)\n") || !strings.Contains(file, "\\startpipeline\n") {
			t.Errorf("%s: the identity statement or the draw is missing:\n%s", w, file)
		}
		if s.todo != (w == "get" || w == "update") || s.todo != strings.Contains(file, "\\set k random(1, 3)\n") {
			t.Errorf("%s: draws a todo: %v\n%s", w, s.todo, file)
		}
		for u := range f.users {
			for k := 1; k <= 3; k++ {
				if err := s.check(ctx, tdb.APIURL, u, k); err != nil {
					t.Errorf("%s for user %d, todo %d: %v", w, u, k, err)
				}
			}
		}
	}
	// A todo that is not there (user 6 has none): no row, and check says so.
	if err := scripts["get"].check(ctx, tdb.APIURL, f.users, 1); err == nil || !strings.Contains(err.Error(), "no row") {
		t.Errorf("get of a todo that is not there: %v, want no row", err)
	}

	bin, err := exec.LookPath("pgbench")
	if err != nil {
		t.Fatal("pgbench is not installed: run make deps")
	}
	for _, w := range []string{"get", "update"} {
		r, err := runPgbench(ctx, bin, tdb.APIURL, tdb.AdminURL, scripts[w], f, 2, time.Second, func() cpuUse { return cpuUse{} })
		if err != nil {
			t.Fatal(err)
		}
		if r.rate <= 0 || r.errors != 0 || r.p50 <= 0 || r.clients != 2 {
			t.Errorf("pgbench %s: %+v, want transactions, no failure, latencies", w, r)
		}
	}
}
