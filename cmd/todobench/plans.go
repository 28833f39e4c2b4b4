package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/todo"
)

// printPlans shows what Postgres does for the sharing workloads: the store's
// own statements, run as the API runs them (todo_app, app.user_id, one
// pipelined round trip), through a session that loads auto_explain, which
// takes a superuser. auto_explain writes to the server log, which devpg keeps
// beside the data directory; the plans are read back from there. Each is run
// ten times; the times are the statement's execution, as EXPLAIN ANALYZE
// measures it (without per-node timing).
func printPlans(ctx context.Context, adminURL string, f *fixture, stdout io.Writer) error {
	var dataDir string
	if err := pgxQueryRow(ctx, adminURL, "SHOW data_directory", &dataDir); err != nil {
		return err
	}
	logPath := filepath.Join(filepath.Dir(dataDir), "postgres.log")
	u, err := url.Parse(adminURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("pool_max_conns", "1")
	q.Set("options", "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0"+
		" -c auto_explain.log_analyze=on -c auto_explain.log_timing=off -c auto_explain.log_buffers=on")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads no + as a space
	database, err := db.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer database.Close()
	store := db.NewTodoStore(database)

	ordinary := memberOf[1] + 1 // a user with their personal list and a few shared ones
	shared := f.shared[0]
	cases := []struct {
		name string
		user int
		q    page
	}{
		{"(a) a personal list, GET /v1/todos?list_id=", ordinary, page{listID: f.personal[ordinary]}},
		{"(b) a shared list, as its owner, GET /v1/todos?list_id=", shared.owner, page{listID: shared.id}},
		{"(c) all my lists as a member of 500, newest open, GET /v1/todos?completed=false", memberOf[500], page{open: true}},
		{"    the same as a member of 50", memberOf[50], page{open: true}},
		{"    the same as a member of 1", memberOf[1], page{open: true}},
	}
	fmt.Fprintln(stdout, "Plans of the sharing workloads (auto_explain, as todo_app; execution time of 10 runs):")
	for _, c := range cases {
		from, err := os.Stat(logPath)
		if err != nil {
			return err
		}
		for range 10 {
			if _, err := store.List(ctx, todo.Caller{UserID: userID(c.user)}, listParams(c.q)); err != nil {
				return err
			}
		}
		times, plan, err := readPlans(logPath, from.Size())
		if err != nil {
			return err
		}
		if len(times) == 0 {
			return fmt.Errorf("no plan of todos in %s", logPath)
		}
		slices.Sort(times)
		fmt.Fprintf(stdout, "\n%s: fastest %.2f ms, median %.2f ms, slowest %.2f ms\n", c.name, times[0], times[len(times)/2], times[len(times)-1])
		if !strings.HasPrefix(c.name, " ") {
			fmt.Fprintln(stdout, plan)
		}
	}
	fmt.Fprintln(stdout)
	return nil
}

var planStart = regexp.MustCompile(`duration: ([0-9.]+) ms  plan:$`)

// readPlans reads the auto_explain entries of the server log after offset
// that read todos: their durations (ms), and the last one's plan.
func readPlans(logPath string, offset int64) (times []float64, plan string, err error) {
	file, err := os.Open(logPath)
	if err != nil {
		return nil, "", err
	}
	defer file.Close()
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		return nil, "", err
	}
	var entry []string
	var ms float64
	done := func() {
		if text := strings.Join(entry, "\n"); strings.Contains(text, "todos") {
			times, plan = append(times, ms), text
		}
		entry = nil
	}
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch m := planStart.FindStringSubmatch(line); {
		case m != nil:
			done()
			ms, _ = strconv.ParseFloat(m[1], 64)
			entry = []string{}
		case entry != nil && strings.HasPrefix(line, "\t"):
			entry = append(entry, "    "+line[1:])
		case entry != nil:
			done()
		}
	}
	if entry != nil {
		done()
	}
	return times, plan, sc.Err()
}
