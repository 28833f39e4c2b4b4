package main

import (
	"context"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// openOptions shape the open-loop run: clients connections, each sending
// the next request of its user's mix every interval, for duration.
type openOptions struct {
	clients            int
	interval, duration time.Duration
}

// openLoop runs 1,000 users as people are: each virtual user has its own
// connection and a fixed schedule, one request every interval from a random
// start within the first, whether or not the last one was slow. Latency is
// measured from each request's scheduled time, so a stalled server counts
// every request it delays (no coordinated omission). The first round opens
// the connections and is not counted.
func openLoop(ctx context.Context, a *apiSide, f *fixture, o openOptions, probe func() cpuUse, stdout io.Writer) error {
	a.wires.close() // only the open loop's connections from here on
	u, err := url.Parse(a.base)
	if err != nil {
		return err
	}
	start := time.Now().Add(100 * time.Millisecond)
	countFrom, end := start.Add(o.interval), start.Add(o.interval+o.duration)
	firstError := &atomic.Pointer[error]{}
	lat := make([][]time.Duration, o.clients)
	errs := make([]int, o.clients)
	var wg sync.WaitGroup
	for v := range o.clients {
		vu := &httpSide{base: a.base, tokens: a.tokens, firstError: firstError, wires: newWires(u.Host, 1)}
		wg.Go(func() {
			defer vu.wires.close()
			r := mathrand.New(mathrand.NewPCG(uint64(v), 14))
			offset := time.Duration(r.Int64N(int64(o.interval)))
			for i := 0; ; i++ {
				at := start.Add(offset + time.Duration(i)*o.interval)
				if !at.Before(end) {
					return
				}
				time.Sleep(time.Until(at))
				err := mix(ctx, vu, f, r, v%f.users)
				if at.Before(countFrom) {
					continue
				}
				lat[v] = append(lat[v], time.Since(at))
				if err != nil {
					errs[v]++
				}
			}
		})
	}
	if err := a.resetPeak(); err != nil {
		return err
	}
	time.Sleep(time.Until(countFrom))
	c0 := probe()
	time.Sleep(o.duration / 2)
	conns := establishedTo(u.Port())
	time.Sleep(time.Until(end))
	c1 := probe()
	wg.Wait()

	all := slices.Concat(lat...)
	p50, p95, p99 := percentiles(all)
	var worst time.Duration
	if len(all) > 0 {
		worst = all[len(all)-1]
	}
	var failed int
	for _, n := range errs {
		failed += n
	}
	apiUS, pgUS, genUS := c1.minus(c0).perRequest(float64(len(all)))
	fmt.Fprintf(stdout, "\nopen loop: %d connections (%d held open mid-run, from /proc/net/tcp), each its user's mix at one request per %s, for %s\n",
		o.clients, conns, o.interval, o.duration)
	fmt.Fprintf(stdout, "requests %d (scheduled at %.0f/s): %d answered as expected (%.0f/s), %d errors; latency from the scheduled time: p50 %s, p95 %s, p99 %s, max %s\n",
		len(all), float64(o.clients)*float64(time.Second)/float64(o.interval), len(all)-failed, float64(len(all)-failed)/o.duration.Seconds(), failed,
		ms(p50), ms(p95), ms(p99), ms(worst))
	fmt.Fprintf(stdout, "API RSS peak %.1f MB; CPU per request: API %s µs, Postgres %s µs, load generator %s µs\n",
		float64(a.peakRSS())/1e6, apiUS, pgUS, genUS)
	if err := firstError.Load(); err != nil {
		fmt.Fprintf(stdout, "first error: %v\n", *err)
	}
	return nil
}

// establishedTo counts this machine's established TCP connections to port.
func establishedTo(port string) int {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	hexPort := fmt.Sprintf(":%04X", p)
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && strings.HasSuffix(f[2], hexPort) && f[3] == "01" { // remote address, state ESTABLISHED
				n++
			}
		}
	}
	return n
}
