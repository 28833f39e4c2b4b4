package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"
)

// queueTimeout is the longest a request waits for its turn (see admit)
// before it is answered 503: a queue that long means the instance is
// overloaded, and another instance (or a later try) serves better.
const queueTimeout = 5 * time.Second

// admit runs API requests (under /v1/, but not event streams, which hold no
// request's database connection, nor CORS preflights) on limit worker goroutines; the others wait
// for a worker in arrival order, for at most wait, then are answered by
// busy. A request's body is read before it waits (see prefetch), so that no
// worker ever waits on a client's network; a waiting request holds its
// connection, headers and body, and has not had its token checked. The work
// past this gate waits on a pool of a few database connections anyway;
// waiting here keeps the memory of 1,000 connections small, and the queue
// bounded. The workers' stacks grow once to what decoding, Postgres and
// encoding need; the connections' goroutines stay small. limit 0 runs every
// request on its connection's goroutine, at once.
func admit(limit int, wait time.Duration, busy http.Handler) func(http.Handler) http.Handler {
	if limit <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	jobs := make(chan job)
	for range limit {
		go func() {
			for j := range jobs {
				j.run()
			}
		}()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/v1/") || r.Method == http.MethodOptions || // a CORS preflight: answered at once
				(r.URL.Path == eventsPath && r.Method == http.MethodGet) {
				next.ServeHTTP(w, r)
				return
			}
			j := job{next: next, w: w, r: r, arrived: time.Now(), done: make(chan any, 1)}
			if !prefetch(r) { // framing refuses it, with no other work: no need to wait
				next.ServeHTTP(w, j.request())
				return
			}
			if !queue(r.Context(), jobs, j, wait) {
				busy.ServeHTTP(w, j.request())
				return
			}
			if v := <-j.done; v != nil {
				panic(v) // as if it had happened here: net/http handles http.ErrAbortHandler
			}
		})
	}
}

// busy answers a request that waited too long for its turn: 503, with
// Retry-After.
func busy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", retryAfter)
	writeProblem(w, http.StatusServiceUnavailable, "the server is busy: try again shortly")
}

// job is one request for a worker, and where the worker says it is done
// (with the value of a panic that escaped the handler, or nil).
type job struct {
	next    http.Handler
	w       http.ResponseWriter
	r       *http.Request
	arrived time.Time
	done    chan any
}

func (j job) run() {
	defer func() { j.done <- recover() }()
	j.next.ServeHTTP(j.w, j.request())
}

// request is the job's request, carrying when it arrived (see arrival): its
// time in the queue counts in its logged duration and its deadline.
func (j job) request() *http.Request {
	return j.r.WithContext(context.WithValue(j.r.Context(), arrivedKey{}, j.arrived))
}

type arrivedKey struct{}

// arrival is when r arrived: before it waited for its turn, if it did.
func arrival(r *http.Request) time.Time {
	if at, ok := r.Context().Value(arrivedKey{}).(time.Time); ok {
		return at
	}
	return time.Now()
}

// queue hands j to a worker, waiting for one at most wait, or until ctx ends
// (the client left); it reports whether a worker took it.
func queue(ctx context.Context, jobs chan<- job, j job, wait time.Duration) bool {
	select {
	case jobs <- j:
		return true
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case jobs <- j:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// prefetch reads r's body ahead, on its connection's goroutine: at most
// maxBodyBytes+1 bytes, within the server's ReadTimeout. A worker that read
// it would wait on the client's network: a few clients sending their bodies
// a byte at a time, with or without a token, would hold every worker and
// make every other request wait, then get 503. framing takes the body from
// memory as it would have read it (the bytes, and the error the read ended
// on). It reports whether the request may go on: false for one framing
// refuses, left unread when framing refuses it unread (refusedUnread).
func prefetch(r *http.Request) bool {
	if status, _ := refusedUnread(r); status != 0 {
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := readAtMost(r.Body, r.ContentLength)
	r.Body = &prefetched{Reader: bytes.NewReader(body), body: body, err: err}
	return err == nil && len(body) <= maxBodyBytes
}

// prefetched is a body read ahead: its bytes, then the error its read ended
// on, if any, where the body would have given it.
type prefetched struct {
	*bytes.Reader
	body []byte
	err  error
}

func (p *prefetched) Read(b []byte) (int, error) {
	n, err := p.Reader.Read(b)
	if err == io.EOF && p.err != nil {
		err = p.err
	}
	return n, err
}

func (p *prefetched) Close() error { return nil }

// readBody is r's body, at most maxBodyBytes+1 bytes of it, and the error
// its read ended on, if any, from memory if prefetch read it.
func readBody(r *http.Request) ([]byte, error) {
	if p, ok := r.Body.(*prefetched); ok {
		return p.body, p.err
	}
	return readAtMost(r.Body, r.ContentLength)
}

// readAtMost reads body to its end, or to maxBodyBytes+1 bytes, into a
// buffer sized for the length announced (-1: unknown).
func readAtMost(body io.Reader, announced int64) ([]byte, error) {
	size := int64(512)
	if announced >= 0 && announced <= maxBodyBytes {
		size = announced + 1 // the +1: a body longer than announced is seen
	}
	buf := make([]byte, 0, size)
	rd := io.LimitReader(body, maxBodyBytes+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
