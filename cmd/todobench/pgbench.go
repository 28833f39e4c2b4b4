package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
)

// pgbenchWorkloads are the workloads pgbench runs too: each one transaction
// of the direct side for user u (and their todo id), whose statements are
// captured and replayed by pgbench for a random user and todo.
var pgbenchWorkloads = map[string]func(ctx context.Context, d directSide, u int, id string) error{
	"list":   func(ctx context.Context, d directSide, u int, _ string) error { return d.list(ctx, u, page{}) },
	"get":    func(ctx context.Context, d directSide, u int, id string) error { return d.get(ctx, u, id) },
	"create": func(ctx context.Context, d directSide, u int, _ string) error { return d.create(ctx, u) },
	"update": func(ctx context.Context, d directSide, u int, id string) error { return d.update(ctx, u, id) },
}

// personalTodoID is the id seedSQL gives the k-th todo (from 1) of a user's
// personal list, as SQL over a user id expression and k's: pgbench draws
// numbers only, and builds the ids from them with it.
func personalTodoID(user, k string) string { return "md5(" + user + " || '/' || " + k + ")::uuid" }

// pgUserID is userID in SQL, over the user's number.
const pgUserID = `'user-' || lpad((:u)::text, 5, '0')`

// capture records the statements of each batch a traced pool sends.
type capture struct{ stmts []pgx.QueuedQuery }

func (c *capture) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	for _, q := range d.Batch.QueuedQueries {
		c.stmts = append(c.stmts, *q)
	}
	return ctx
}
func (c *capture) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *capture) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (c *capture) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.stmts = append(c.stmts, pgx.QueuedQuery{SQL: d.SQL, Arguments: d.Args})
	return ctx
}
func (c *capture) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// script is one workload's pgbench transaction: its statements with pgbench
// variables (:u the user's number, :k the todo's, and constants).
type script struct {
	stmts  []string
	consts map[string]string // the constants' values, for -D
	todo   bool              // the statements name a todo: draw k
}

// pgbenchScripts captures, through a pool of the API's role with a tracer,
// the statements of one transaction of each pgbench workload in ws, and
// writes them as pgbench scripts. Each argument becomes a parameter of
// pgbench's (a NULL, which pgbench cannot send, a typed NULL literal).
func pgbenchScripts(ctx context.Context, apiURL string, f *fixture, ws []string) (map[string]script, error) {
	c := &capture{}
	traced, err := db.OpenTraced(ctx, apiURL, c)
	if err != nil {
		return nil, err
	}
	defer traced.Close()
	conn, err := pgx.Connect(ctx, apiURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	const u = 3
	id := f.ids[u][0]
	scripts := map[string]script{}
	for _, w := range ws {
		run, ok := pgbenchWorkloads[w]
		if !ok {
			continue
		}
		c.stmts = nil
		if err := run(ctx, directSide{db.NewTodoStore(traced)}, u, id); err != nil {
			return nil, fmt.Errorf("%s: %w", w, err)
		}
		s := script{consts: map[string]string{}}
		for i, q := range c.stmts {
			types, err := paramTypes(ctx, conn, q.SQL)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", w, err)
			}
			if len(types) != len(q.Arguments) {
				return nil, fmt.Errorf("%s: %d parameters, %d arguments", w, len(types), len(q.Arguments))
			}
			var bad error
			sql := param.ReplaceAllStringFunc(q.SQL, func(p string) string {
				n, _ := strconv.Atoi(p[1:])
				arg, typ := q.Arguments[n-1], types[n-1]
				text, null, err := textOf(arg)
				switch {
				case arg == userID(u):
					return "(" + pgUserID + ")::" + typ
				case arg == id:
					s.todo = true
					return "(" + personalTodoID(pgUserID, "(:k)::text") + ")::" + typ
				case err != nil:
					bad = fmt.Errorf("%s: %w", w, err)
				case null:
					return "NULL::" + typ
				case text == "": // pgbench -D takes no empty value
					return "''::" + typ
				default:
					name := fmt.Sprintf("p%d_%d", i+1, n)
					s.consts[name] = text
					return "(:" + name + ")::" + typ
				}
				return p
			})
			if bad != nil {
				return nil, bad
			}
			s.stmts = append(s.stmts, sql)
		}
		scripts[w] = s
	}
	return scripts, nil
}

var (
	param      = regexp.MustCompile(`\$[0-9]+`)
	pgbenchVar = regexp.MustCompile(`(^|[^:]):([A-Za-z_][A-Za-z0-9_]*)`)
)

// paramTypes are the types Postgres infers for the parameters of sql.
func paramTypes(ctx context.Context, conn *pgx.Conn, sql string) ([]string, error) {
	sd, err := conn.Prepare(ctx, "", sql)
	if err != nil {
		return nil, err
	}
	types := make([]string, len(sd.ParamOIDs))
	for i, oid := range sd.ParamOIDs {
		if err := conn.QueryRow(ctx, "SELECT format_type($1, NULL)", oid).Scan(&types[i]); err != nil {
			return nil, err
		}
	}
	return types, nil
}

// textOf is a statement argument in Postgres's text form, or null.
func textOf(arg any) (text string, null bool, err error) {
	v := reflect.ValueOf(arg)
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	switch {
	case !v.IsValid(), (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface || v.Kind() == reflect.Slice) && v.IsNil():
		return "", true, nil
	case v.Kind() == reflect.String, v.Kind() == reflect.Bool, v.CanInt():
		return fmt.Sprint(v.Interface()), false, nil
	}
	return "", false, fmt.Errorf("no text form for %T", arg)
}

// file is the pgbench script: a random user (and todo of theirs), then the
// statements pipelined, one implicit transaction.
func (s script) file(f *fixture) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\\set u random(0, %d)\n", f.users-1)
	if s.todo {
		fmt.Fprintf(&b, "\\set k random(1, %d)\n", len(f.ids[0]))
	}
	b.WriteString("\\startpipeline\n")
	for _, q := range s.stmts {
		b.WriteString(q + ";\n")
	}
	b.WriteString("\\endpipeline\n")
	return b.String()
}

// check runs the script's statements once, as one implicit transaction, for
// user u and their todo k, with literals in place of pgbench's variables,
// and fails unless each statement returns rows.
func (s script) check(ctx context.Context, apiURL string, u, k int) error {
	values := map[string]string{"u": strconv.Itoa(u), "k": strconv.Itoa(k)}
	for name, v := range s.consts {
		values[name] = v
	}
	conn, err := pgx.Connect(ctx, apiURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	b := &pgx.Batch{}
	rows := make([]int, len(s.stmts))
	for i, q := range s.stmts {
		var unknown error
		q = pgbenchVar.ReplaceAllStringFunc(q, func(m string) string {
			lead, name, _ := strings.Cut(m, ":")
			v, ok := values[name]
			if !ok {
				unknown = fmt.Errorf("unknown pgbench variable :%s", name)
			}
			return lead + "'" + strings.ReplaceAll(v, "'", "''") + "'"
		})
		if unknown != nil {
			return unknown
		}
		b.Queue(q).Query(func(r pgx.Rows) error {
			for r.Next() {
				rows[i]++
			}
			return r.Err()
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if i := slices.Index(rows, 0); i >= 0 {
		return fmt.Errorf("statement %d returned no row", i+1)
	}
	return nil
}

// pgbenchResult is one pgbench run: its own throughput (without connection
// time) and failures; from its log, the latency percentiles of the
// transactions that ended inside the measured window, and their number
// (counted), over which the CPU used in the window is divided.
type pgbenchResult struct {
	result
	clients int
	counted int
	window  time.Duration // shorter than asked when the connections took long
}

// runPgbench runs script s from clients connections for a short warm-up and
// duration (and the connections' set-up before them), as the API's role.
// probe is read at the start and end of the measured window, once every
// connection is up and warm; the window ends early rather than past
// pgbench's own end, which -T sets before pgbench has connected.
func runPgbench(ctx context.Context, bin, apiURL, adminURL string, s script, f *fixture, clients int, duration time.Duration, probe func() cpuUse) (pgbenchResult, error) {
	const warmup = 500 * time.Millisecond
	r := pgbenchResult{clients: clients}
	dir, err := os.MkdirTemp("", "todobench-pgbench")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "script.sql"), []byte(s.file(f)), 0o644); err != nil {
		return r, err
	}
	// -T counts from before the connections: leave them time.
	seconds := int(math.Ceil((warmup + duration + time.Duration(clients)*10*time.Millisecond + time.Second).Seconds()))
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.NumCPU())),
		"-T", strconv.Itoa(seconds), "-f", "script.sql", "-l", "--log-prefix", "log"}
	for name, v := range s.consts {
		args = append(args, "-D", name+"="+v)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, apiURL)...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	ends := time.Now().Add(time.Duration(seconds)*time.Second - 300*time.Millisecond)
	if err := cmd.Start(); err != nil {
		return r, err
	}
	var waitErr error
	done := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(done) }()
	defer func() { _ = cmd.Process.Kill(); <-done }() // on an early return; a no-op after the end
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return r, err
	}
	defer admin.Close(context.Background())
	for up := 0; up < clients; {
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'").Scan(&up); err != nil {
			return r, err
		}
		select {
		case <-done:
			return r, fmt.Errorf("pgbench: %v: %s", waitErr, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(warmup)
	from, c0 := time.Now(), probe()
	time.Sleep(min(duration, time.Until(ends)))
	to, c1 := time.Now(), probe()
	r.window = to.Sub(from)
	select {
	case <-done: // it ended inside the window, its connections' CPU with it
	default:
		r.cpu = c1.minus(c0)
	}
	<-done
	if waitErr != nil {
		return r, fmt.Errorf("pgbench: %v: %s", waitErr, out.String())
	}
	if err := r.parse(out.String(), dir, from, to); err != nil {
		return r, fmt.Errorf("pgbench: %w: %s", err, out.String())
	}
	return r, nil
}

var (
	pgbenchTPS    = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchFailed = regexp.MustCompile(`number of failed transactions: ([0-9]+)`)
)

// parse reads pgbench's summary (output) and its per-transaction logs (in
// dir) between from and to: a log line's fields are the client, the
// transaction's number, its latency in µs (or "failed", "skipped"), the
// script, and the time it ended (Unix seconds, µs).
func (r *pgbenchResult) parse(output, dir string, from, to time.Time) error {
	tps, failed := pgbenchTPS.FindStringSubmatch(output), pgbenchFailed.FindStringSubmatch(output)
	if tps == nil || failed == nil {
		return errors.New("no tps or failed transactions in its output")
	}
	r.rate, _ = strconv.ParseFloat(tps[1], 64)
	r.errors, _ = strconv.ParseInt(failed[1], 10, 64)
	logs, err := filepath.Glob(filepath.Join(dir, "log.*"))
	if err != nil {
		return err
	}
	var lat []time.Duration
	for _, name := range logs {
		file, err := os.Open(name)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 6 {
				continue
			}
			sec, _ := strconv.ParseInt(f[4], 10, 64)
			us, _ := strconv.ParseInt(f[5], 10, 64)
			if end := time.Unix(sec, us*1000); end.Before(from) || !end.Before(to) {
				continue
			}
			r.counted++
			if us, err := strconv.ParseInt(f[2], 10, 64); err == nil { // not "failed" nor "skipped"
				lat = append(lat, time.Duration(us)*time.Microsecond)
			}
		}
		file.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	r.p50, r.p95, r.p99 = percentiles(lat)
	return nil
}

// reference is the pgbench side of the table: the store's transactions sent
// straight to Postgres by pgbench, for the workloads pgbench can run.
type reference struct {
	bin, url, adminURL string
	f                  *fixture
	duration           time.Duration
	scripts            map[string]script
	maxClients         int
	notes              []string // what failed, printed under the table
}

// newReference finds pgbench, captures and checks the scripts, and works out
// how many connections pgbench may open beside both pools (poolMax each).
func newReference(ctx context.Context, o options, apiURL, adminURL string, f *fixture, poolMax int32) (*reference, error) {
	r := &reference{url: apiURL, adminURL: adminURL, f: f, duration: o.duration}
	if o.pgbench == "" {
		return r, nil
	}
	var err error
	if r.bin, err = exec.LookPath(o.pgbench); err != nil {
		if r.bin, err = exec.LookPath(filepath.Join("/usr/lib/postgresql/15/bin", o.pgbench)); err != nil {
			return nil, fmt.Errorf("%w (make deps installs pgbench; -pgbench '' runs without it)", err)
		}
	}
	if r.url, err = withoutPoolSettings(apiURL); err != nil {
		return nil, err
	}
	if r.scripts, err = pgbenchScripts(ctx, r.url, f, o.workloads); err != nil {
		return nil, fmt.Errorf("pgbench scripts: %w", err)
	}
	for w, s := range r.scripts {
		if err := s.check(ctx, r.url, 7%f.users, 1); err != nil {
			return nil, fmt.Errorf("pgbench script of %s: %w", w, err)
		}
	}
	err = pgxQueryRow(ctx, adminURL, `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
		- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`, &r.maxClients)
	r.maxClients -= 2*int(poolMax) + 5 // both pools full, and a few more for the plans and pgbench's watch
	return r, err
}

// withoutPoolSettings is url without pgx's pool settings, which libpq refuses.
func withoutPoolSettings(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// describe says what the reference runs, with each script.
func (r *reference) describe() string {
	if len(r.scripts) == 0 {
		return "reference: none (-pgbench \"\")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "reference: %s -M prepared, as the API's login role (row-level security applies), up to %d connections;\n", r.bin, r.maxClients)
	b.WriteString("each transaction is the store's own statements (captured from it) pipelined, one implicit transaction:\n")
	for _, w := range slices.Sorted(maps.Keys(r.scripts)) {
		fmt.Fprintf(&b, "\n-- %s\n%s", w, r.scripts[w].file(r.f))
		for _, name := range slices.Sorted(maps.Keys(r.scripts[w].consts)) {
			fmt.Fprintf(&b, "-- -D %s=%s\n", name, r.scripts[w].consts[name])
		}
	}
	return b.String()
}

// run runs workload w from c connections (capped), if pgbench runs it.
func (r *reference) run(ctx context.Context, w string, c int, probe func() cpuUse) pgbenchResult {
	s, ok := r.scripts[w]
	if !ok {
		return pgbenchResult{}
	}
	res, err := runPgbench(ctx, r.bin, r.url, r.adminURL, s, r.f, min(c, r.maxClients), r.duration, probe)
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("pgbench %s at %d: %v", w, c, err))
		return pgbenchResult{}
	}
	if res.window < r.duration-100*time.Millisecond {
		r.notes = append(r.notes, fmt.Sprintf("pgbench %s at %d: its connections took long; latency and CPU over %.1f s", w, c, res.window.Seconds()))
	}
	return res
}

func (r pgbenchResult) conns() string {
	if r.rate == 0 {
		return "-"
	}
	return strconv.Itoa(r.clients)
}

func (r pgbenchResult) errs() string {
	if r.rate == 0 {
		return "-"
	}
	return strconv.FormatInt(r.errors, 10)
}
