package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuUse is the CPU time the API process, the Postgres cluster and the load
// generator (this process) have used, from the kernel's scheduler
// statistics in nanoseconds (/proc/PID/schedstat, summed over threads).
type cpuUse struct{ api, pg, gen time.Duration }

func (c cpuUse) minus(o cpuUse) cpuUse { return cpuUse{c.api - o.api, c.pg - o.pg, c.gen - o.gen} }

// procs are the processes whose CPU a run counts.
type procs struct{ api, postmaster int }

// postmaster is the pid of the server the connection at url is served by:
// the parent of its backend.
func postmaster(ctx context.Context, url string) (int, error) {
	var backend int
	if err := pgxQueryRow(ctx, url, "SELECT pg_backend_pid()", &backend); err != nil {
		return 0, err
	}
	return parentOf(backend), nil
}

// sample reads the CPU used so far. Postgres's is the postmaster's, its
// children's now alive, and its children's that have exited (which the
// kernel adds to the postmaster's cutime and cstime when it reaps them): a
// backend that exits inside a window moves its CPU time from one sum to the
// other, to within a clock tick.
func (p procs) sample() cpuUse {
	c := cpuUse{api: cpuTime(p.api), gen: cpuTime(os.Getpid()), pg: cpuTime(p.postmaster) + exitedChildrenCPU(p.postmaster)}
	for _, child := range childrenOf(p.postmaster) {
		c.pg += cpuTime(child)
	}
	return c
}

// perRequest is each part of c divided among n requests, in µs.
func (c cpuUse) perRequest(n float64) (api, pg, gen string) {
	if n <= 0 || c == (cpuUse{}) {
		return "-", "-", "-"
	}
	us := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/n, 'f', 0, 64) }
	return us(c.api), us(c.pg), us(c.gen)
}

// cpuTime is the CPU time used by all of process pid's threads now alive.
func cpuTime(pid int) time.Duration {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/schedstat")
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		ns, _, _ := strings.Cut(string(b), " ")
		n, _ := strconv.ParseInt(ns, 10, 64)
		sum += time.Duration(n)
	}
	return sum
}

// childrenOf lists process pid's children, from each of its threads.
func childrenOf(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var pids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// parentOf is process pid's parent (0 if unknown).
func parentOf(pid int) int {
	ppid, _ := strconv.Atoi(statField(pid, 4))
	return ppid
}

// exitedChildrenCPU is the CPU time of process pid's children that have
// exited and been waited for (cutime + cstime, in USER_HZ ticks: 100 a
// second on Linux).
func exitedChildrenCPU(pid int) time.Duration {
	cutime, _ := strconv.ParseInt(statField(pid, 16), 10, 64)
	cstime, _ := strconv.ParseInt(statField(pid, 17), 10, 64)
	return time.Duration(cutime+cstime) * 10 * time.Millisecond
}

// statField is field n (from 1, as in proc(5)) of /proc/PID/stat.
func statField(pid, n int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	_, rest, _ := strings.Cut(string(b), ") ") // the command name, field 2, may hold spaces
	f := strings.Fields(rest)
	if n < 3 || n-3 >= len(f) {
		return ""
	}
	return f[n-3]
}

// procStatus is a size field of /proc/PID/status (VmRSS:, VmHWM:) in bytes.
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

// resetPeak starts process pid's peak resident memory (VmHWM) over from its
// current size.
func resetPeak(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}
