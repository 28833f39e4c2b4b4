package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// eventOptions shape the live-updates benchmark: streams subscribers over
// users users (streams/users each; pairs of users share a list) while rate creates per second flow through
// the API for duration.
type eventOptions struct {
	streams, users, rate int
	duration             time.Duration
}

// eventsBench measures live updates on the running API: first the writes
// alone (the CPU they cost the API), then the same writes with the streams
// open. Every create's title names its user and number, so each delivery is
// checked: it must reach every stream of its user and no other.
func eventsBench(ctx context.Context, a *apiSide, o eventOptions, stdout io.Writer) error {
	perUser := o.streams / o.users
	fmt.Fprintf(stdout, "\nlive updates: %d streams (%d users x %d), %d creates/s over %s\n", o.streams, o.users, perUser, o.rate, o.duration)
	shared, err := shareLists(ctx, a, o.users)
	if err != nil {
		return err
	}
	cpu0 := cpuTime(a.cmd.Process.Pid)
	baseWrites, _ := writeAt(ctx, a, o, shared, "base")
	cpuBase := cpuTime(a.cmd.Process.Pid) - cpu0

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.streams, DisableCompression: true}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu         sync.Mutex
		lat        []time.Duration
		delivered  atomic.Int64
		ineligible atomic.Int64
		earlier    atomic.Int64
		opened     sync.WaitGroup
		done       sync.WaitGroup
	)
	for i := range o.streams {
		u := i % o.users
		opened.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/v1/events", nil)
			req.Header.Set("Authorization", "Bearer "+a.tokens[u])
			res, err := client.Do(req)
			if err != nil || res.StatusCode != http.StatusOK {
				fmt.Fprintf(os.Stderr, "stream %d: %v %v\n", i, err, res)
				opened.Done()
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			ready := false
			for sc.Scan() {
				data, ok := strings.CutPrefix(sc.Text(), "data: ")
				if !ok {
					continue
				}
				if !ready {
					ready = true
					opened.Done()
					continue
				}
				var ev struct {
					Todo struct {
						Title     string    `json:"title"`
						CreatedAt time.Time `json:"created_at"`
					} `json:"todo"`
				}
				if json.Unmarshal([]byte(data), &ev) != nil {
					continue
				}
				d := time.Since(ev.Todo.CreatedAt)
				// "ev <writer> <tag> <seq>" in the writer's personal list, "... shared" in
				// the list the writer shares with its pair partner (u^1).
				f := strings.Fields(ev.Todo.Title)
				if len(f) < 4 || f[1] != strconv.Itoa(u) && !(len(f) == 5 && f[1] == strconv.Itoa(u^1)) {
					ineligible.Add(1)
				}
				if len(f) > 2 && f[2] != "live" { // a write of the run without streams, committed after the hub's last poll before this stream began
					earlier.Add(1)
					continue
				}
				delivered.Add(1)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	opened.Wait()
	rss0 := a.rss()
	if err := a.resetPeak(); err != nil {
		return err
	}
	cpu1 := cpuTime(a.cmd.Process.Pid)
	writes, sharedWrites := writeAt(ctx, a, o, shared, "live")
	expected := (writes + sharedWrites) * int64(perUser) // a shared todo reaches both members' streams
	cpuLive := cpuTime(a.cmd.Process.Pid) - cpu1
	// Wait for the last deliveries (every create reaches perUser streams).
	for wait := time.Now(); delivered.Load() < expected && time.Since(wait) < 10*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	peak := a.peakRSS()
	cancel()
	done.Wait()

	slices.Sort(lat)
	at := func(q float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(q*float64(len(lat)-1))]
	}
	fmt.Fprintf(stdout, "writes: %d without streams, %d with (%d in shared lists); deliveries %d of %d expected, %d ineligible, and %d of writes made just before the streams opened\n",
		baseWrites, writes, sharedWrites, delivered.Load(), expected, ineligible.Load(), earlier.Load())
	fmt.Fprintf(stdout, "transaction start to delivery: p50 %s, p95 %s, p99 %s, max %s\n", ms(at(0.5)), ms(at(0.95)), ms(at(0.99)), ms(at(1)))
	fmt.Fprintf(stdout, "API RSS: %.1f MB with the streams open, %.1f MB peak while writing\n", float64(rss0)/1e6, float64(peak)/1e6)
	perWrite := func(cpu time.Duration, n int64) string {
		if n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0fµs", float64(cpu.Microseconds())/float64(n))
	}
	fmt.Fprintf(stdout, "API CPU per write: %s without streams, %s with %d streams open (the events path: the difference)\n",
		perWrite(cpuBase, baseWrites), perWrite(cpuLive, writes), o.streams)
	return nil
}

// shareLists makes, for each pair of users (2k, 2k+1), a list of 2k's in
// which 2k+1 is an editor: shared[u] is the list u shares with its partner.
func shareLists(ctx context.Context, a *apiSide, users int) ([]string, error) {
	shared := make([]string, users)
	for u := 0; u+1 < users; u += 2 {
		var list struct{ ID string }
		if err := a.do(http.MethodPost, "/v1/lists", u, `{"name":"pair"}`, http.StatusCreated, &list); err != nil {
			return nil, err
		}
		if err := a.do(http.MethodPost, "/v1/lists/"+list.ID+"/members", u,
			`{"user_id":"`+userID(u+1)+`","role":"editor"}`, http.StatusCreated, nil); err != nil {
			return nil, err
		}
		shared[u], shared[u+1] = list.ID, list.ID
	}
	return shared, nil
}

// writeAt creates todos for random users of the first o.users at o.rate per
// second for o.duration, every other one in the list the writer shares, each
// in its own goroutine so that a slow response does not slow the pace, and
// returns how many succeeded and how many of those were in a shared list.
func writeAt(ctx context.Context, a *apiSide, o eventOptions, shared []string, tag string) (ok, inShared int64) {
	var okN, sharedN atomic.Int64
	var wg sync.WaitGroup
	r := mathrand.New(mathrand.NewPCG(1, uint64(len(tag))))
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	stop := time.After(o.duration)
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			wg.Wait()
			return okN.Load(), sharedN.Load()
		case <-tick.C:
		}
		u := r.IntN(o.users)
		path, body := "/v1/todos", fmt.Sprintf(`{"title":"ev %d %s %d"}`, u, tag, seq)
		if seq%2 == 1 && shared[u] != "" {
			path, body = "/v1/lists/"+shared[u]+"/todos", fmt.Sprintf(`{"title":"ev %d %s %d shared"}`, u, tag, seq)
		}
		wg.Go(func() {
			if a.do(http.MethodPost, path, u, body, http.StatusCreated, nil) == nil {
				okN.Add(1)
				if path != "/v1/todos" {
					sharedN.Add(1)
				}
			}
		})
	}
}
