// Command todobench measures the API against its own limit, in one run on one
// machine: the same transactions sent straight to Postgres by pgbench
// (the store's own statements, captured from it, pipelined as one implicit
// transaction), through the store (pgx, one pipelined round trip each), then
// through the HTTP API with real JWTs, once every user has signed in (see
// signIn), from a load generator about as light as pgbench (see wires). For
// each workload and concurrency it
// prints throughput, latency percentiles and errors of each side, the ratios
// API / pgbench and API / direct, the CPU each API request costs the API,
// Postgres and the load generator (from /proc), and the API's peak memory.
// Then list and get through the API beside the floor: what net/http, the
// store and JSON cost by themselves (see floorCommand). An open-loop run
// follows, then live updates, each on a freshly started API:
// 1,000 connections each sending about one request a second, latency
// measured from when each was due; then 1,000 event streams while writes go
// through the API. The data has
// shared lists (issue #11): besides each user's personal list, lists of which
// three users are members of 1, 50 and 500; the plans and database times of
// one list's page and of "all my lists" are printed before the table.
//
// It needs what `devpg` provides: DATABASE_URL (the API's login role) and
// TEST_DATABASE_URL (a superuser, to seed the data), and pgbench (`make
// deps`). `make bench` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

type options struct {
	users, todos  int
	sharedLists   int
	sharedTodos   int
	duration      time.Duration
	concurrencies []int
	workloads     []string
	apiBin        string
	pgbench       string
	alg           string
	debugAddr     string
	apiEnv        []string
	events        eventOptions
	open          openOptions
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "todobench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == floorCommand {
		return floorServe(ctx, getenv)
	}
	flags := flag.NewFlagSet("todobench", flag.ContinueOnError)
	o := options{}
	flags.IntVar(&o.users, "users", 10000, "users to create")
	flags.IntVar(&o.todos, "todos", 20, "todos in each user's personal list")
	flags.IntVar(&o.sharedLists, "shared-lists", 20000, "shared lists (at least 500)")
	flags.IntVar(&o.sharedTodos, "shared-todos", 40, "todos in each shared list")
	flags.DurationVar(&o.duration, "duration", 4*time.Second, "measuring time per workload, concurrency and side")
	conc := flags.String("concurrency", "64,256,1000", "concurrent clients, comma separated")
	work := flags.String("workloads", "list,get,create,update,mix,personal,shared,mine-1,mine-50,mine-500", "workloads, comma separated")
	flags.StringVar(&o.apiBin, "api", "bin/todoapi", "the todoapi binary to measure")
	flags.StringVar(&o.pgbench, "pgbench", "pgbench", "the pgbench binary of the reference side, looked up in PATH and in /usr/lib/postgresql/15/bin (\"\": no reference)")
	flags.StringVar(&o.alg, "alg", "EdDSA", "token algorithm: EdDSA (as Better Auth signs, via a JWKS) or HS256")
	flags.StringVar(&o.debugAddr, "debug", "", "DEBUG_ADDR for the API (pprof), e.g. 127.0.0.1:6060")
	pool := flags.Int("pool", 0, "pool_max_conns for both sides (0: the API's default)")
	apiEnv := flags.String("api-env", "", "extra environment for the API, comma separated (e.g. LOG_LEVEL=warn,GOGC=200)")
	flags.IntVar(&o.open.clients, "open-clients", 1000, "open loop: connections, each sending a request per -open-interval (0: skip)")
	flags.DurationVar(&o.open.interval, "open-interval", time.Second, "open loop: each connection's time between requests")
	flags.DurationVar(&o.open.duration, "open-duration", 20*time.Second, "open loop: measuring time")
	flags.IntVar(&o.events.streams, "event-streams", 1000, "live updates: open event streams (0: skip)")
	flags.IntVar(&o.events.users, "event-users", 500, "live updates: users the streams belong to")
	flags.IntVar(&o.events.rate, "event-rate", 200, "live updates: creates per second")
	flags.DurationVar(&o.events.duration, "event-duration", 10*time.Second, "live updates: how long to write")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if o.users < 4 || o.sharedLists < 500 {
		return errors.New("-users must be at least 4 and -shared-lists at least 500")
	}
	for _, c := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return fmt.Errorf("bad concurrency %q", c)
		}
		o.concurrencies = append(o.concurrencies, n)
	}
	if o.open.clients > 0 && (o.open.interval <= 0 || o.open.duration <= 0) {
		return errors.New("-open-interval and -open-duration must be positive")
	}
	if o.events.streams > 0 && (o.events.users < 1 || o.events.users > o.users || o.events.rate < 1) {
		return errors.New("-event-users must be 1 to -users, -event-rate at least 1")
	}
	o.workloads = strings.FieldsFunc(*work, func(r rune) bool { return r == ',' })
	if *apiEnv != "" {
		o.apiEnv = strings.Split(*apiEnv, ",")
	}
	for _, w := range o.workloads {
		if _, ok := workloads[w]; !ok {
			return fmt.Errorf("unknown workload %q", w)
		}
	}
	apiURL, adminURL := getenv("DATABASE_URL"), getenv("TEST_DATABASE_URL")
	if apiURL == "" || adminURL == "" {
		return errors.New("DATABASE_URL and TEST_DATABASE_URL must be set: run it with `make bench`")
	}
	if *pool > 0 {
		apiURL += fmt.Sprintf("&pool_max_conns=%d", *pool)
	}
	return bench(ctx, o, apiURL, adminURL, stdout)
}
