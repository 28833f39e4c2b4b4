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
	list(ctx context.Context, user int) error
	get(ctx context.Context, user int, id string) error
	create(ctx context.Context, user int) error
	update(ctx context.Context, user int, id string) error
}

// workloads pick a random user (and one of their todos) and run one request.
var workloads = map[string]func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error{
	"list": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		return s.list(ctx, r.IntN(f.users))
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
	// A TodoMVC session: mostly reading the list, some opening, adding and toggling.
	"mix": func(ctx context.Context, s side, f *fixture, r *mathrand.Rand) error {
		u := r.IntN(f.users)
		switch p := r.IntN(100); {
		case p < 60:
			return s.list(ctx, u)
		case p < 80:
			return s.get(ctx, u, f.id(u, r))
		case p < 90:
			return s.create(ctx, u)
		default:
			return s.update(ctx, u, f.id(u, r))
		}
	},
}

// fixture is the seeded data: users user-0 .. user-N-1, each with todos.
type fixture struct {
	users int
	ids   [][]string
}

func userID(u int) string { return fmt.Sprintf("user-%05d", u) }

func (f *fixture) id(u int, r *mathrand.Rand) string { return f.ids[u][r.IntN(len(f.ids[u]))] }

func bench(ctx context.Context, o options, apiURL, adminURL string, stdout io.Writer) error {
	ownerOfData, err := sameDatabase(adminURL, apiURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeding %d users x %d todos...\n", o.users, o.todos)
	f, err := seed(ctx, ownerOfData, o.users, o.todos)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}

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

	var pgVersion string
	_ = pgxQueryRow(ctx, ownerOfData, "SHOW server_version", &pgVersion)
	fmt.Fprintf(stdout, "machine: %d CPUs, %s; PostgreSQL %s on the same machine; pool %d connections; tokens %s; %s per cell\n",
		runtime.NumCPU(), runtime.Version(), pgVersion, database.Stat().MaxConns(), o.alg, o.duration)
	fmt.Fprintf(stdout, "API RSS idle: %.1f MB\n\n", float64(api.rss())/1e6)

	const row = "| %-8s | %5v | %8v | %7v | %7v | %7v | %4v | %8v | %7v | %7v | %7v | %4v | %6v | %8v |\n"
	fmt.Fprintf(stdout, row, "workload", "conc", "direct/s", "p50", "p95", "p99", "err", "API/s", "p50", "p95", "p99", "err", "ratio", "API RSS")
	fmt.Fprintf(stdout, row, "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---")
	for _, w := range o.workloads {
		for _, c := range o.concurrencies {
			d := measure(ctx, direct, f, workloads[w], c, o.duration)
			a := measure(ctx, api, f, workloads[w], c, o.duration)
			fmt.Fprintf(stdout, row, w, c, fmt.Sprintf("%.0f", d.rate), ms(d.p50), ms(d.p95), ms(d.p99), d.errors,
				fmt.Sprintf("%.0f", a.rate), ms(a.p50), ms(a.p95), ms(a.p99), a.errors,
				fmt.Sprintf("%.2f", a.rate/d.rate), fmt.Sprintf("%.0f MB", float64(api.peakRSS())/1e6))
		}
	}
	fmt.Fprintf(stdout, "\nAPI RSS peak over the run: %.1f MB\n", float64(api.peakRSS())/1e6)
	if o.events.streams > 0 {
		if err := eventsBench(ctx, api, o.events, stdout); err != nil {
			return err
		}
	}
	if api.firstError.Load() != nil {
		fmt.Fprintf(stdout, "first API error: %v\n", *api.firstError.Load())
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

type result struct {
	rate          float64
	p50, p95, p99 time.Duration
	errors        int64
}

// measure runs op from conc goroutines: a short warm-up, then duration of
// counted requests.
func measure(ctx context.Context, s side, f *fixture, op func(context.Context, side, *fixture, *mathrand.Rand) error, conc int, duration time.Duration) result {
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
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return result{errors: errs.Load()}
	}
	at := func(q float64) time.Duration { return all[int(q*float64(len(all)-1))] }
	return result{rate: float64(len(all)) / duration.Seconds(), p50: at(0.50), p95: at(0.95), p99: at(0.99), errors: errs.Load()}
}

// directSide runs the store's own transactions: the limit the API can reach.
type directSide struct{ s *db.TodoStore }

func (d directSide) list(ctx context.Context, u int) error {
	_, err := d.s.List(ctx, todo.Caller{UserID: userID(u)}, todo.ListParams{Sort: todo.DefaultSort, Limit: todo.DefaultPageSize})
	return err
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

// seed writes the fixture with COPY as a superuser, triggers off (the audit
// trail of a benchmark's seed is not wanted).
func seed(ctx context.Context, url string, users, todos int) (*fixture, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		return nil, err
	}
	f := &fixture{users: users, ids: make([][]string, users)}
	now := time.Now()
	rows := make([][]any, 0, users*todos)
	for u := range users {
		for n := range todos {
			id := newUUID()
			f.ids[u] = append(f.ids[u], id)
			created := now.Add(-time.Duration(users*todos-len(rows)) * time.Second)
			rows = append(rows, []any{id, userID(u), fmt.Sprintf("todo %d of %s", n, userID(u)), n%3 == 0, created, created})
		}
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"todos"},
		[]string{"id", "user_id", "title", "completed", "created_at", "updated_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return nil, err
	}
	_, err = conn.Exec(ctx, "ANALYZE todos")
	return f, err
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
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
	return []string{"JWT_JWKS_URL=" + is.jwks.URL}
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
