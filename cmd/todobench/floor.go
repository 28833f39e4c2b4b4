package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/pgcluster"
	"github.com/todoapi/todoapi/internal/todo"
)

// The floor is what the API's required libraries cost by themselves: a bare
// net/http server (`todobench floor-serve`, this binary in a process of its
// own, so that its CPU is read as the API's is) that answers the list and get
// workloads with the store's own List and Get (pgx: the same statements in
// the same one round trip) and encoding/json/v2, and does nothing else. It
// has no Huma, no chi and none of the API's middleware (request ids, access
// log, deadlines, security headers, body limits, admission, metrics), no
// validation of parameters, no cursor sealing, and no token check: it takes
// the subject from the token unverified (the API verifies a token once, then
// looks it up in about 2 µs). What the API costs beyond it is what all of
// that costs.
const floorCommand = "floor-serve"

// floorServe is the floor's server, on LISTEN_ADDR, over DATABASE_URL.
func floorServe(ctx context.Context, getenv func(string) string) error {
	database, err := db.Open(ctx, getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer database.Close()
	store := db.NewTodoStore(database)
	reply := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusInternalServerError)
			return
		}
		b, err := jsonv2.Marshal(v)
		if err != nil {
			http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/todos", func(w http.ResponseWriter, r *http.Request) {
		p, err := store.List(r.Context(), todo.Caller{UserID: subject(r)}, listParams(page{}))
		var next *string
		if p.Next != nil {
			next = &p.Next.ID
		}
		reply(w, struct {
			Items      []todo.Todo `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}{p.Items, next}, err)
	})
	mux.HandleFunc("GET /v1/todos/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := store.Get(r.Context(), todo.Caller{UserID: subject(r)}, r.PathValue("id"))
		reply(w, t, err)
	})
	srv := &http.Server{Addr: getenv("LISTEN_ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// subject is the sub claim of the request's bearer token, not verified.
func subject(r *http.Request) string {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), ".")
	payload, _, _ := strings.Cut(rest, ".")
	b, _ := base64.RawURLEncoding.DecodeString(payload)
	var claims struct {
		Sub string `json:"sub"`
	}
	_ = jsonv2.Unmarshal(b, &claims, jsonv2.RejectUnknownMembers(false))
	return claims.Sub
}

// floorSide is a running floor server and the load generator's side of it.
type floorSide struct {
	*httpSide
	cmd *exec.Cmd
}

// startFloor runs the floor server on a free port and waits until it listens.
func startFloor(ctx context.Context, databaseURL string, tokens []string, conc int) (*floorSide, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := pgcluster.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, self, floorCommand)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "LISTEN_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	fl := &floorSide{cmd: cmd, httpSide: &httpSide{base: "http://" + addr, wires: newWires(addr, conc), tokens: tokens,
		firstError: &atomic.Pointer[error]{}}}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return fl, nil
		}
		if time.Now().After(deadline) {
			fl.stop()
			return nil, errors.New("the floor server did not start")
		}
	}
}

func (fl *floorSide) stop() {
	fl.wires.close()
	_ = fl.cmd.Process.Signal(os.Interrupt)
	_ = fl.cmd.Wait()
}

// sameFirstPage checks that the floor does the API's work: user u's first
// page has the same todos through both.
func sameFirstPage(api *apiSide, fl *floorSide, u int) error {
	type page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	var a, b page
	if err := api.wires.do(http.MethodGet, "/v1/todos?limit=20", api.tokens[u], "", http.StatusOK, &a); err != nil {
		return err
	}
	if err := fl.wires.do(http.MethodGet, "/v1/todos", fl.tokens[u], "", http.StatusOK, &b); err != nil {
		return err
	}
	if len(a.Items) == 0 || !slices.Equal(a.Items, b.Items) {
		return fmt.Errorf("the floor's page differs from the API's: %d and %d todos", len(a.Items), len(b.Items))
	}
	return nil
}

// floor measures list and get at conc clients through the API and through the
// floor, in turns (twice each: this machine's speed drifts between cells), and
// prints what each request costs each; then list at most clients through
// each, and the peak memory each process reaches.
func floor(ctx context.Context, api *apiSide, f *fixture, databaseURL string, conc, most int, duration time.Duration, pm int, stdout io.Writer) error {
	fl, err := startFloor(ctx, databaseURL, api.tokens, most)
	if err != nil {
		return err
	}
	defer fl.stop()
	if err := sameFirstPage(api, fl, 3); err != nil {
		return err
	}
	time.Sleep(time.Second) // settle before the idle RSS is read, as the API's is
	fmt.Fprintf(stdout, "\nthe floor (net/http, the store, encoding/json/v2, nothing else; RSS idle %.1f MB), at %d clients, each beside the API:\n",
		float64(procStatus(fl.cmd.Process.Pid, "VmRSS:"))/1e6, conc)
	perReq := func(r result) float64 { return float64(r.cpu.api.Microseconds()) / (r.rate * duration.Seconds()) }
	api.wires.close()
	for _, w := range []string{"list", "get"} {
		for range 2 {
			a := measure(ctx, api, f, workloads[w], conc, duration, procs{api: api.cmd.Process.Pid, postmaster: pm}.sample)
			b := measure(ctx, fl, f, workloads[w], conc, duration, procs{api: fl.cmd.Process.Pid, postmaster: pm}.sample)
			if a.errors+b.errors > 0 {
				return fmt.Errorf("floor, %s: %d errors through the API, %d through the floor", w, a.errors, b.errors)
			}
			fmt.Fprintf(stdout, "%s: API %s/s, %.0f µs of its CPU per request; floor %s/s, %.0f µs; the API costs %.2fx the floor\n",
				w, rate(a.rate), perReq(a), rate(b.rate), perReq(b), perReq(a)/perReq(b))
		}
	}
	if most <= conc {
		return nil
	}
	var peaks [2]int64
	for i, s := range []struct {
		side
		pid int
	}{{api, api.cmd.Process.Pid}, {fl, fl.cmd.Process.Pid}} {
		if err := resetPeak(s.pid); err != nil {
			return err
		}
		if r := measure(ctx, s.side, f, workloads["list"], most, duration, procs{api: s.pid, postmaster: pm}.sample); r.errors > 0 {
			return fmt.Errorf("floor, list at %d clients: %d errors", most, r.errors)
		}
		peaks[i] = procStatus(s.pid, "VmHWM:")
	}
	fmt.Fprintf(stdout, "list at %d clients, peak RSS: API %.1f MB, floor %.1f MB\n", most, float64(peaks[0])/1e6, float64(peaks[1])/1e6)
	return nil
}
