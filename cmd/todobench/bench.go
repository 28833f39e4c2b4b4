package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/todo"
)

// side is one way of running the workloads: straight to the store, or over HTTP.
type side interface {
	list(ctx context.Context, user int, q page) error
	get(ctx context.Context, user int, id string) error
	create(ctx context.Context, user int) error
	update(ctx context.Context, user int, id string) error
}

// page is what a list request asks for beyond the newest 20: one list (ID;
// else all the caller's lists), and only open todos.
type page struct {
	listID string
	open   bool
}

// workloads pick a random user (and one of their todos) and run one request.
var workloads = map[string]func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error{
	"list": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return s.list(ctx, r.IntN(f.users), page{})
	},
	// One list, as a frontend shows it: a user's personal list (the
	// single-owner list of before sharing), or a shared list as its owner.
	"personal": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		u := r.IntN(f.users)
		return s.list(ctx, u, page{listID: f.personal[u]})
	},
	"shared": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		l := f.shared[r.IntN(len(f.shared))]
		return s.list(ctx, l.owner, page{listID: l.id})
	},
	// The newest open todos across all my lists, for a member of 1, 50 and
	// 500 shared lists (and a personal list).
	"mine-1": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return s.list(ctx, memberOf[1], page{open: true})
	},
	"mine-50": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return s.list(ctx, memberOf[50], page{open: true})
	},
	"mine-500": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return s.list(ctx, memberOf[500], page{open: true})
	},
	"get": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		u := r.IntN(f.users)
		return s.get(ctx, u, f.id(u, r))
	},
	"create": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return s.create(ctx, r.IntN(f.users))
	},
	"update": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		u := r.IntN(f.users)
		return s.update(ctx, u, f.id(u, r))
	},
	"mix": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return mix(ctx, s, f, r, r.IntN(f.users))
	},
}

// mix is a TodoMVC session's next request for user u: mostly reading the
// list, some opening, adding and toggling.
func mix(ctx context.Context, s side, f *fixture, r *mathrand.Rand, u int) error {
	switch p := r.IntN(100); {
	case p < 60:
		return s.list(ctx, u, page{})
	case p < 80:
		return s.get(ctx, u, f.id(u, r))
	case p < 90:
		return s.create(ctx, u)
	default:
		return s.update(ctx, u, f.id(u, r))
	}
}

// fixture is the seeded data: users user-00000 .. user-N-1, each with a
// personal list of todos, and shared lists, each with its owner and members.
type fixture struct {
	users    int
	ids      [][]string // each user's personal todos
	personal []string   // each user's personal list
	shared   []sharedList
}

type sharedList struct {
	id    string
	owner int
}

// memberOf names the users who are members of exactly 1, 50 and 500 shared
// lists (besides their personal list): they own no shared list, and join no
// other.
var memberOf = map[int]int{500: 0, 50: 1, 1: 2}

func userID(u int) string { return fmt.Sprintf("user-%05d", u) }

func (f *fixture) id(u int, r *mathrand.Rand) string { return f.ids[u][r.IntN(len(f.ids[u]))] }

func bench(ctx context.Context, o options, apiURL, adminURL string, stdout io.Writer) error {
	ownerOfData, err := sameDatabase(adminURL, apiURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeding %d users with a personal list of %d todos, %d shared lists of %d todos...\n",
		o.users, o.todos, o.sharedLists, o.sharedTodos)
	start := time.Now()
	f, err := seed(ctx, ownerOfData, o)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var todos int64
	_ = pgxQueryRow(ctx, ownerOfData, "SELECT count(*) FROM todos", &todos)
	fmt.Fprintf(stdout, "seeded %d todos in %.0f s\n", todos, time.Since(start).Seconds())

	database, err := db.Open(ctx, apiURL)
	if err != nil {
		return err
	}
	defer database.Close()
	direct := directSide{db.NewTodoStore(database)}

	api, err := startAPI(ctx, o, apiURL)
	if err != nil {
		return err
	}
	defer api.stop()

	pm, err := postmaster(ctx, ownerOfData)
	if err != nil {
		return err
	}
	cpu := func() cpuUse { return procs{api: api.cmd.Process.Pid, postmaster: pm}.sample() } // the API's pid changes as it restarts
	ref, err := newReference(ctx, o, apiURL, ownerOfData, f, database.Stat().MaxConns())
	if err != nil {
		return err
	}

	var pgVersion string
	_ = pgxQueryRow(ctx, ownerOfData, "SHOW server_version", &pgVersion)
	fmt.Fprintf(stdout, "machine: %d CPUs, %s; PostgreSQL %s on the same machine; pool %d connections; tokens %s; %s per cell\n",
		runtime.NumCPU(), runtime.Version(), pgVersion, database.Stat().MaxConns(), o.alg, o.duration)
	fmt.Fprintln(stdout, ref.describe())
	fmt.Fprintf(stdout, "API RSS idle: %.1f MB\n\n", float64(api.rss())/1e6)
	if err := printPlans(ctx, ownerOfData, f, stdout); err != nil {
		fmt.Fprintf(stdout, "plans: %v\n\n", err)
	}
	if err := signIn(ctx, api, f, f.users, o.concurrencies[0], cpu, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout)

	const row = "| %-8s | %5v | %9v | %5v | %7v | %7v | %4v | %8v | %7v | %7v | %4v | %7v | %7v | %7v | %7v | %4v | %7v | %7v | %6v | %6v | %6v | %6v | %7v |\n"
	fmt.Fprintf(stdout, row, "workload", "conc", "pgbench/s", "conns", "p50", "p99", "err", "direct/s", "p50", "p99", "err",
		"API/s", "p50", "p95", "p99", "err", "API/pgb", "API/dir", "API µs", "PG µs", "gen µs", "PG µs¹", "API RSS")
	fmt.Fprintf(stdout, row, "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---",
		"---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---")
	apiRate := map[string]float64{} // by workload and concurrency
	var peak int64
	for _, w := range o.workloads {
		for _, c := range o.concurrencies {
			d := measure(ctx, direct, f, workloads[w], c, o.duration, cpu)
			if err := api.resetPeak(); err != nil {
				return err
			}
			api.wires.close() // c clients on c connections, as pgbench has
			a := measure(ctx, api, f, workloads[w], c, o.duration, cpu)
			cellPeak := api.peakRSS()
			peak = max(peak, cellPeak)
			pg := ref.run(ctx, w, c, cpu) // last, as its writes from up to max_connections leave Postgres busier
			apiRate[fmt.Sprint(w, c)] = a.rate
			apiUS, pgUS, genUS := a.cpu.perRequest(a.rate * o.duration.Seconds())
			_, pgbUS, _ := pg.cpu.perRequest(float64(pg.counted))
			fmt.Fprintf(stdout, row, w, c, rate(pg.rate), pg.conns(), ms(pg.p50), ms(pg.p99), pg.errs(),
				rate(d.rate), ms(d.p50), ms(d.p99), d.errors,
				rate(a.rate), ms(a.p50), ms(a.p95), ms(a.p99), a.errors,
				ratio(a.rate, pg.rate), ratio(a.rate, d.rate), apiUS, pgUS, genUS, pgbUS,
				fmt.Sprintf("%.0f MB", float64(cellPeak)/1e6))
		}
	}
	fmt.Fprintln(stdout, "\nconns: pgbench's connections (the concurrency, capped by the server's max_connections); API/pgb, API/dir: API/s over pgbench/s and direct/s;")
	fmt.Fprintln(stdout, "API, PG, gen µs: CPU per API request of the API process, the Postgres cluster and this load generator; PG µs¹: Postgres's CPU per pgbench transaction;")
	fmt.Fprintln(stdout, "API RSS: the API's peak resident memory in that cell (VmHWM, reset before it: it starts from what the cell before left).")
	for _, n := range ref.notes {
		fmt.Fprintln(stdout, n)
	}
	c := o.concurrencies[0]
	personal, shared, mine := apiRate[fmt.Sprint("personal", c)], apiRate[fmt.Sprint("shared", c)], apiRate[fmt.Sprint("mine-500", c)]
	if personal > 0 && shared > 0 && mine > 0 {
		fmt.Fprintf(stdout, "\nAPI at %d clients: one shared list %.2fx a personal list (target >= 0.9); all my lists as a member of 500: %.0f req/s (%.2fx a personal list)\n",
			c, shared/personal, mine, mine/personal)
	}
	if err := floor(ctx, api, f, apiURL, c, slices.Max(o.concurrencies), o.duration, pm, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAPI RSS peak over the closed-loop cells: %.1f MB\n", float64(peak)/1e6)
	if o.open.clients > 0 {
		if err := afresh(ctx, api, f, min(o.open.clients, f.users), cpu, stdout); err != nil {
			return err
		}
		if err := openLoop(ctx, api, f, o.open, cpu, stdout); err != nil {
			return err
		}
	}
	if o.events.streams > 0 {
		if err := afresh(ctx, api, f, o.events.users, cpu, stdout); err != nil {
			return err
		}
		if err := eventsBench(ctx, api, o.events, stdout); err != nil {
			return err
		}
	}
	if api.firstError.Load() != nil {
		fmt.Fprintf(stdout, "first API error: %v\n", *api.firstError.Load())
	}
	return nil
}

func rate(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", r)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

type result struct {
	rate          float64
	p50, p95, p99 time.Duration
	errors        int64
	cpu           cpuUse // over the counted window
}

// measure runs op from conc goroutines: a short warm-up, then duration of
// counted requests; probe is read at the start and end of the counted window.
func measure(ctx context.Context, s side, f *fixture, op func(context.Context, side, *fixture, *mathrand.Rand) error, conc int, duration time.Duration, probe func() cpuUse) result {
	const warmup = 500 * time.Millisecond
	start := time.Now()
	countFrom, stopAt := start.Add(warmup), start.Add(warmup+duration)
	var errs atomic.Int64
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	for i := range conc {
		wg.Go(func() {
			r := mathrand.New(mathrand.NewPCG(uint64(i), uint64(start.UnixNano())))
			for {
				t0 := time.Now()
				if t0.After(stopAt) {
					return
				}
				err := op(ctx, s, f, r)
				if t0.Before(countFrom) {
					continue
				}
				if err != nil {
					errs.Add(1)
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	time.Sleep(time.Until(countFrom))
	c0 := probe()
	time.Sleep(time.Until(stopAt))
	c1 := probe()
	wg.Wait()
	all := slices.Concat(lat...)
	r := result{rate: float64(len(all)) / duration.Seconds(), errors: errs.Load(), cpu: c1.minus(c0)}
	r.p50, r.p95, r.p99 = percentiles(all)
	return r
}

// signIn makes the first request of users 0 to users-1 (a GET of one of
// their todos) from conc clients, and reports what a first request costs.
// The API verifies a token's signature once and then remembers it
// (internal/auth), so without this the first cells would measure mostly
// first requests: 4 s at 1,500 requests/s reaches only part of 10,000 users.
// The cells then measure people already signed in, as pgbench's connections
// are already logged in. The API remembers a token for 15 minutes from its
// first verification, which a full run's closed loop (about 6 minutes) stays
// well within; a run made much longer with -duration would see them expire
// together.
func signIn(ctx context.Context, a *apiSide, f *fixture, users, conc int, probe func() cpuUse, stdout io.Writer) error {
	var next, failed atomic.Int64
	var firstErr atomic.Pointer[error]
	start, c0 := time.Now(), probe()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for u := int(next.Add(1) - 1); u < users; u = int(next.Add(1) - 1) {
				if err := a.get(ctx, u, f.ids[u][0]); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	elapsed, c1 := time.Since(start), probe()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("signing in: %d of %d first requests failed, the first: %w", n, users, *firstErr.Load())
	}
	apiUS, pgUS, genUS := c1.minus(c0).perRequest(float64(users))
	fmt.Fprintf(stdout, "first requests (each user's token verified once, GET /v1/todos/{id}, %d clients): %s/s; CPU per request: API %s µs, Postgres %s µs, load generator %s µs\n",
		conc, rate(float64(users)/elapsed.Seconds()), apiUS, pgUS, genUS)
	return nil
}

// afresh restarts the API before the open loop and the live updates, so that
// the memory each reports is its own and not what the 1,000 closed-loop
// clients before it left (Go returns freed memory to the system over
// minutes), and signs in the users they will run as.
func afresh(ctx context.Context, a *apiSide, f *fixture, users int, probe func() cpuUse, stdout io.Writer) error {
	if err := a.restart(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAPI restarted: RSS idle %.1f MB; ", float64(a.rss())/1e6)
	return signIn(ctx, a, f, users, 64, probe, stdout)
}

// percentiles are the 50th, 95th and 99th percentiles of lat, which they sort.
func percentiles(lat []time.Duration) (p50, p95, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	return at(0.50), at(0.95), at(0.99)
}

// directSide runs the store's own transactions: the limit the API can reach.
type directSide struct{ s *db.TodoStore }

func (d directSide) list(ctx context.Context, u int, q page) error {
	_, err := d.s.List(ctx, todo.Caller{UserID: userID(u)}, listParams(q))
	return err
}

// listParams is the store's request for q, as the API makes it.
func listParams(q page) todo.ListParams {
	p := todo.ListParams{Sort: todo.DefaultSort, Limit: todo.DefaultPageSize, Filter: todo.Filter{ListID: q.listID}}
	if q.open {
		p.Completed = new(bool)
	}
	return p
}
func (d directSide) get(ctx context.Context, u int, id string) error {
	_, err := d.s.Get(ctx, todo.Caller{UserID: userID(u)}, id)
	return err
}
func (d directSide) create(ctx context.Context, u int) error {
	_, _, err := d.s.Create(ctx, todo.Caller{UserID: userID(u)}, todo.Fields{Title: "benchmark"}, "")
	return err
}
func (d directSide) update(ctx context.Context, u int, id string) error {
	done := true
	_, err := d.s.Update(ctx, todo.Caller{UserID: userID(u)}, id, todo.Patch{Completed: &done}, nil)
	return err
}

// seedSQL writes the fixture set-based, as a superuser: :users users, each
// with a personal list of :todos todos, and :lists shared lists of :shared
// todos, each owned by an ordinary user (user-00003 on) with one more as a
// viewer; the users of memberOf join the first 500, 50 and 1 of them. A
// personal list's todos have ids pgbench can name (personalTodoID). Triggers are off: members
// are written here, and a seed wants no audit trail. The list indexes of
// todos are made after the rows, which is faster than keeping them up to date.
var seedSQL = []string{
	`SET session_replication_role = replica`,
	`SET maintenance_work_mem = '256MB'`,
	`CREATE TEMP TABLE todo_indexes AS
	 SELECT indexname, indexdef FROM pg_indexes
	 WHERE schemaname = 'public' AND tablename = 'todos' AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
	`DO $$ DECLARE i text; BEGIN
	     FOR i IN SELECT indexname FROM todo_indexes LOOP EXECUTE format('DROP INDEX %I', i); END LOOP;
	 END $$`,
	`CREATE TEMP TABLE bench_users AS
	 SELECT n, 'user-' || lpad(n::text, 5, '0') AS id FROM generate_series(0, (:users) - 1) n`,
	`INSERT INTO lists (name, personal_of, created_by) SELECT 'Personal', id, id FROM bench_users`,
	`INSERT INTO lists (id, name, created_by)
	 SELECT md5('shared-' || s)::uuid, 'Shared ' || s, u.id
	 FROM generate_series(1, (:lists)) s JOIN bench_users u ON u.n = 3 + s % ((:users) - 3)`,
	`INSERT INTO list_members (list_id, user_id, role, added_by) SELECT id, created_by, 'owner', created_by FROM lists`,
	`INSERT INTO list_members (list_id, user_id, role, added_by)
	 SELECT md5('shared-' || s)::uuid, u.id, 'viewer', 'seed'
	 FROM generate_series(1, (:lists)) s JOIN bench_users u ON u.n = 3 + (s * 31 + 7) % ((:users) - 3)
	 ON CONFLICT DO NOTHING`,
	`INSERT INTO list_members (list_id, user_id, role, added_by)
	 SELECT md5('shared-' || s)::uuid, 'user-' || lpad(m.u::text, 5, '0'), 'editor', 'seed'
	 FROM (VALUES (0, 500), (1, 50), (2, 1)) m(u, n), generate_series(1, m.n) s`,
	`INSERT INTO todos (id, list_id, user_id, title, completed, created_at, updated_at)
	 SELECT CASE WHEN l.personal_of IS NULL THEN gen_random_uuid() ELSE ` + personalTodoID("l.personal_of", "n") + ` END,
	        l.id, l.created_by, 'todo ' || n || ' of ' || l.name, n % 3 = 0, t.at, t.at
	 FROM lists l,
	      generate_series(1, CASE WHEN l.personal_of IS NULL THEN (:shared) ELSE (:todos) END) n,
	      LATERAL (SELECT now() - random() * interval '30 days' AS at) t`,
	`DO $$ DECLARE i text; BEGIN
	     FOR i IN SELECT indexdef FROM todo_indexes LOOP EXECUTE i; END LOOP;
	 END $$`,
	`RESET session_replication_role`,
	// As autovacuum leaves a live table: statistics, and the visibility map
	// that lets index-only scans skip the heap.
	`VACUUM (ANALYZE)`,
	// The seed's dirty pages written now, not by the checkpointer during the
	// first cells.
	`CHECKPOINT`,
}

// seed writes the fixture (see seedSQL) and reads back what the workloads
// need: each user's personal list and todos, and each shared list's owner.
func seed(ctx context.Context, url string, o options) (*fixture, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	sizes := strings.NewReplacer(":users", strconv.Itoa(o.users), ":todos", strconv.Itoa(o.todos),
		":lists", strconv.Itoa(o.sharedLists), ":shared", strconv.Itoa(o.sharedTodos))
	for _, q := range seedSQL {
		if _, err := conn.Exec(ctx, sizes.Replace(q)); err != nil {
			return nil, fmt.Errorf("%.60s...: %w", q, err)
		}
	}
	f := &fixture{users: o.users, ids: make([][]string, o.users), personal: make([]string, o.users)}
	rows, _ := conn.Query(ctx, `SELECT substr(l.personal_of, 6)::int, l.id::text, array_agg(t.id::text)
		FROM lists l JOIN todos t ON t.list_id = l.id WHERE l.personal_of IS NOT NULL GROUP BY l.id`)
	var u int
	var list string
	var ids []string
	_, err = pgx.ForEachRow(rows, []any{&u, &list, &ids}, func() error {
		f.personal[u], f.ids[u] = list, ids
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, _ = conn.Query(ctx, `SELECT id::text, substr(created_by, 6)::int FROM lists WHERE personal_of IS NULL`)
	f.shared, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (l sharedList, err error) {
		return l, row.Scan(&l.id, &l.owner)
	})
	return f, err
}

// sameDatabase is adminURL's server and role on apiURL's database.
func sameDatabase(adminURL, apiURL string) (string, error) {
	a, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	b, err := url.Parse(apiURL)
	if err != nil {
		return "", err
	}
	a.Path = b.Path
	return a.String(), nil
}

func pgxQueryRow(ctx context.Context, url, query string, dest ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, query).Scan(dest...)
}

// issuer signs the benchmark's tokens: EdDSA with its keys published as a
// JWKS (as Better Auth does), or HS256 with a shared secret.
type issuer struct {
	alg    string
	secret []byte
	key    ed25519.PrivateKey
	jwks   *httptest.Server
}

func newIssuer(alg string) (*issuer, error) {
	is := &issuer{alg: alg}
	switch alg {
	case "HS256":
		var b [32]byte
		_, _ = rand.Read(b[:])
		is.secret = []byte(hex.EncodeToString(b[:]))
		return is, nil
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		is.key = priv
		jwk, err := jwkset.NewJWKFromKey(priv.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "bench-1"}})
		if err != nil {
			return nil, err
		}
		set := jwkset.NewMemoryStorage()
		if err := set.KeyWrite(context.Background(), jwk); err != nil {
			return nil, err
		}
		body, err := set.JSONPublic(context.Background())
		if err != nil {
			return nil, err
		}
		is.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })) //nolint:errcheck
		return is, nil
	}
	return nil, fmt.Errorf("unknown alg %q", alg)
}

// env is what the API needs to trust this issuer.
func (is *issuer) env() []string {
	if is.alg == "HS256" {
		return []string{"JWT_SECRET=" + string(is.secret)}
	}
	return []string{"JWT_JWKS_URL=" + is.jwks.URL, "CURSOR_SECRET=todobench-cursor-secret-0123456789"}
}

func (is *issuer) token(sub string) (string, error) {
	claims := jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	if is.alg == "HS256" {
		return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(is.secret)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = "bench-1"
	return t.SignedString(is.key)
}

func (is *issuer) close() {
	if is.jwks != nil {
		is.jwks.Close()
	}
}
