package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/todoapi/todoapi/internal/pgcluster"
)

// apiSide runs the workloads over HTTP against a `todoapi serve` process.
type apiSide struct {
	*httpSide
	bin    string
	env    []string
	cmd    *exec.Cmd
	issuer *issuer
}

// httpSide sends the workloads' requests to the API over wires, each with
// its user's token; firstError keeps the first failure.
type httpSide struct {
	base       string
	wires      *wires
	tokens     []string
	firstError *atomic.Pointer[error]
}

func startAPI(ctx context.Context, o options, databaseURL string) (*apiSide, error) {
	is, err := newIssuer(o.alg)
	if err != nil {
		return nil, err
	}
	a := &apiSide{issuer: is, httpSide: &httpSide{firstError: &atomic.Pointer[error]{}}}
	for u := range o.users {
		tok, err := is.token(userID(u))
		if err != nil {
			return nil, err
		}
		a.tokens = append(a.tokens, tok)
	}
	port, err := pgcluster.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	a.base = "http://" + addr
	a.bin = o.apiBin
	a.env = append(os.Environ(), "DATABASE_URL="+databaseURL, "LISTEN_ADDR="+addr)
	a.env = append(a.env, is.env()...)
	a.env = append(a.env, o.apiEnv...)
	if o.debugAddr != "" {
		a.env = append(a.env, "DEBUG_ADDR="+o.debugAddr)
	}
	maxConc := 0
	for _, c := range o.concurrencies {
		maxConc = max(maxConc, c)
	}
	a.wires = newWires(addr, maxConc)
	if err := a.start(ctx); err != nil {
		is.close()
		return nil, err
	}
	return a, nil
}

// start runs the API process and waits until it is ready.
func (a *apiSide) start(ctx context.Context) error {
	a.cmd = exec.CommandContext(ctx, a.bin, "serve")
	a.cmd.Env = a.env
	a.cmd.Stdout, a.cmd.Stderr = io.Discard, io.Discard // the access log is written, and thrown away
	if err := a.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", a.bin, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(a.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			a.end()
			return errors.New("the API did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // settle before the idle RSS is read
	return nil
}

// restart replaces the API process with a new one on the same address, so
// that what is measured next (its memory above all) is not what the cells
// before left behind. Its tokens are to be verified anew (see signIn).
func (a *apiSide) restart(ctx context.Context) error {
	a.wires.close()
	a.end()
	return a.start(ctx)
}

// end stops the API process.
func (a *apiSide) end() {
	if a.cmd.Process == nil { // it did not start
		return
	}
	_ = a.cmd.Process.Signal(os.Interrupt)
	_ = a.cmd.Wait()
}

func (a *apiSide) stop() {
	a.end()
	a.issuer.close()
}

// rss is the API process's resident memory now; peakRSS the highest since
// resetPeak (the kernel's own high-water mark).
func (a *apiSide) rss() int64       { return procStatus(a.cmd.Process.Pid, "VmRSS:") }
func (a *apiSide) peakRSS() int64   { return procStatus(a.cmd.Process.Pid, "VmHWM:") }
func (a *apiSide) resetPeak() error { return resetPeak(a.cmd.Process.Pid) }

func (a *httpSide) do(method, path string, u int, body string, want int, into any) error {
	err := a.wires.do(method, path, a.tokens[u], body, want, into)
	if err != nil {
		a.firstError.CompareAndSwap(nil, &err)
	}
	return err
}

func (a *httpSide) list(ctx context.Context, u int, q page) error {
	path := "/v1/todos?limit=20"
	if q.listID != "" {
		path += "&list_id=" + q.listID
	}
	if q.open {
		path += "&completed=false"
	}
	return a.do(http.MethodGet, path, u, "", http.StatusOK, nil)
}
func (a *httpSide) get(ctx context.Context, u int, id string) error {
	return a.do(http.MethodGet, "/v1/todos/"+id, u, "", http.StatusOK, nil)
}
func (a *httpSide) create(ctx context.Context, u int) error {
	return a.do(http.MethodPost, "/v1/todos", u, `{"title":"benchmark"}`, http.StatusCreated, nil)
}
func (a *httpSide) update(ctx context.Context, u int, id string) error {
	return a.do(http.MethodPatch, "/v1/todos/"+id, u, `{"completed":true}`, http.StatusOK, nil)
}
