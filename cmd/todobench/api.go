package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/todoapi/todoapi/internal/pgcluster"
)

// apiSide runs the workloads over HTTP against a `todoapi serve` process.
type apiSide struct {
	base       string
	client     *http.Client
	tokens     []string
	cmd        *exec.Cmd
	issuer     *issuer
	peak       atomic.Int64 // bytes
	stopWatch  chan struct{}
	watchDone  sync.WaitGroup
	firstError atomic.Pointer[error]
}

func startAPI(ctx context.Context, o options, databaseURL string) (*apiSide, error) {
	is, err := newIssuer(o.alg)
	if err != nil {
		return nil, err
	}
	a := &apiSide{issuer: is, stopWatch: make(chan struct{})}
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
	a.cmd = exec.CommandContext(ctx, o.apiBin, "serve")
	a.cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "LISTEN_ADDR="+addr)
	a.cmd.Env = append(a.cmd.Env, is.env()...)
	a.cmd.Env = append(a.cmd.Env, o.apiEnv...)
	if o.debugAddr != "" {
		a.cmd.Env = append(a.cmd.Env, "DEBUG_ADDR="+o.debugAddr)
	}
	a.cmd.Stdout, a.cmd.Stderr = io.Discard, io.Discard // the access log is written, and thrown away
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.apiBin, err)
	}
	maxConc := 0
	for _, c := range o.concurrencies {
		maxConc = max(maxConc, c)
	}
	a.client = &http.Client{Transport: &http.Transport{
		MaxIdleConns: maxConc, MaxIdleConnsPerHost: maxConc, IdleConnTimeout: time.Minute,
		DisableCompression: true,
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := a.client.Get(a.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			a.stop()
			return nil, errors.New("the API did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // settle before the idle RSS is read
	a.watchDone.Add(1)
	go a.watchRSS()
	return a, nil
}

func (a *apiSide) stop() {
	close(a.stopWatch)
	a.watchDone.Wait()
	_ = a.cmd.Process.Signal(os.Interrupt)
	_ = a.cmd.Wait()
	a.issuer.close()
}

// rss is the API process's resident memory now; peakRSS the highest seen
// (the kernel's own high-water mark).
func (a *apiSide) rss() int64     { return procStatus(a.cmd.Process.Pid, "VmRSS:") }
func (a *apiSide) peakRSS() int64 { return max(a.peak.Load(), procStatus(a.cmd.Process.Pid, "VmHWM:")) }

func (a *apiSide) watchRSS() {
	defer a.watchDone.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-a.stopWatch:
			return
		case <-t.C:
			if r := a.rss(); r > a.peak.Load() {
				a.peak.Store(r)
			}
		}
	}
}

func procStatus(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func (a *apiSide) do(ctx context.Context, method, path string, u int, body string, want int) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.tokens[u])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.client.Do(req)
	if err == nil {
		var b bytes.Buffer
		_, err = io.Copy(&b, res.Body)
		res.Body.Close()
		if err == nil && res.StatusCode != want {
			err = fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b.String())
		}
	}
	if err != nil {
		a.firstError.CompareAndSwap(nil, &err)
	}
	return err
}

func (a *apiSide) list(ctx context.Context, u int, q page) error {
	path := "/v1/todos?limit=20"
	if q.listID != "" {
		path += "&list_id=" + q.listID
	}
	if q.open {
		path += "&completed=false"
	}
	return a.do(ctx, http.MethodGet, path, u, "", http.StatusOK)
}
func (a *apiSide) get(ctx context.Context, u int, id string) error {
	return a.do(ctx, http.MethodGet, "/v1/todos/"+id, u, "", http.StatusOK)
}
func (a *apiSide) create(ctx context.Context, u int) error {
	return a.do(ctx, http.MethodPost, "/v1/todos", u, `{"title":"benchmark"}`, http.StatusCreated)
}
func (a *apiSide) update(ctx context.Context, u int, id string) error {
	return a.do(ctx, http.MethodPatch, "/v1/todos/"+id, u, `{"completed":true}`, http.StatusOK)
}
