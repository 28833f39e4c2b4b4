package api_test

import (
	"net/http"
	"testing"
)

// TestEveryResponseIsNosniff: no response of the API may be sniffed by a
// browser into something it was not sent as: successes, errors, documents.
func TestEveryResponseIsNosniff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		method, path string
		authorized   bool
	}{
		{http.MethodGet, "/v1/todos/summary", true},
		{http.MethodGet, "/v1/todos", false}, // 401
		{http.MethodGet, "/healthz", false},
		{http.MethodGet, "/openapi.json", false},
		{http.MethodGet, "/docs", false},
		{http.MethodGet, "/no/such/route", false},
		{http.MethodPost, "/healthz", false}, // 405
	} {
		res := serveNoDB(t, &recordingStore{}, c.method, c.path, c.authorized)
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, want nosniff", c.method, c.path, res.Status, got)
		}
	}
}
