package api

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// queueTimeout is the longest a request waits for its turn (see admit)
// before it is answered 503.
const queueTimeout = 2 * time.Second

// admit lets at most limit API requests (under /v1/, but not event streams,
// which hold no request's database connection) run at once; the others wait
// for their turn in arrival order, for at most wait, then get a 503 with
// Retry-After. A waiting request has not had its body read nor its token
// checked: it holds only its connection and headers. The work past this
// gate waits on a pool of a few database connections anyway; waiting here
// instead keeps the memory of 1,000 connections small, and the queue
// bounded. limit 0 admits every request.
func admit(limit int, wait time.Duration) func(http.Handler) http.Handler {
	if limit <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	slots := make(chan struct{}, limit)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/v1/") || (r.URL.Path == eventsPath && r.Method == http.MethodGet) {
				next.ServeHTTP(w, r)
				return
			}
			if !turn(r.Context(), slots, wait) {
				w.Header().Set("Retry-After", retryAfter)
				writeProblem(w, http.StatusServiceUnavailable, "the server is busy: try again shortly")
				return
			}
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		})
	}
}

// turn takes a slot, waiting for one at most wait, or until ctx ends (the
// client left); it reports whether it got one.
func turn(ctx context.Context, slots chan struct{}, wait time.Duration) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}
