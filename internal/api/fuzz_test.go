package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/todo"
)

// fuzzOps are the operations FuzzTodoBodies sends to, by method and path.
var fuzzOps = []struct{ method, path, contentType string }{
	{http.MethodPost, "/v1/todos", "application/json"},
	{http.MethodGet, "/v1/todos", ""},
	{http.MethodPatch, "/v1/todos", "application/json"},
	{http.MethodDelete, "/v1/todos", ""},
	{http.MethodGet, "/v1/todos/summary", ""},
	{http.MethodGet, "/v1/todos/00000000-0000-4000-8000-000000000001", ""},
	{http.MethodPut, "/v1/todos/00000000-0000-4000-8000-000000000001", "application/json"},
	{http.MethodPatch, "/v1/todos/00000000-0000-4000-8000-000000000001", "application/merge-patch+json"},
	{http.MethodDelete, "/v1/todos/00000000-0000-4000-8000-000000000001", ""},
	{http.MethodPost, "/v1/todos", "application/x-www-form-urlencoded"},
	{http.MethodPost, "/v1/lists", "application/json"},
	{http.MethodGet, "/v1/lists", ""},
	{http.MethodPatch, "/v1/lists/00000000-0000-4000-8000-000000000002", "application/json"},
	{http.MethodGet, "/v1/lists/00000000-0000-4000-8000-000000000002/members", ""},
	{http.MethodPost, "/v1/lists/00000000-0000-4000-8000-000000000002/members", "application/json"},
	{http.MethodPatch, "/v1/lists/00000000-0000-4000-8000-000000000002/members/bob", "application/json"},
	{http.MethodPost, "/v1/lists/00000000-0000-4000-8000-000000000002/invitations", "application/json"},
}

// FuzzTodoBodies sends arbitrary bodies and query strings through the real
// operation handlers (todos and lists), on stores that keep nothing (what is fuzzed is the
// HTTP layer's parsing; the database is tested for real elsewhere). Whatever
// comes in, the answer is not a 5xx (so no panic either: recoverProblem would
// make it a 500), and every error is a problem+json that carries no
// internals (beyond what the client itself sent). Its seeds (testdata/fuzz/FuzzTodoBodies) are the cases of issue
// #13: out-of-range due dates, duplicate members, NUL, malformed JSON,
// repeated parameters.
func FuzzTodoBodies(f *testing.F) {
	now := time.Now()
	s := newStubServer(f, echoStore{answer: todo.Todo{ID: "00000000-0000-4000-8000-000000000001", Title: "x",
		DueAt: &now, CreatedAt: now, UpdatedAt: now, Version: 1}})
	f.Fuzz(func(t *testing.T, op uint8, query, body string) {
		o := fuzzOps[int(op)%len(fuzzOps)]
		req := httptest.NewRequest(o.method, o.path, strings.NewReader(body))
		req.URL.RawQuery = query
		req.RequestURI = o.path + "?" + query
		req.Header.Set("Authorization", "Bearer "+s.token)
		if o.contentType != "" {
			req.Header.Set("Content-Type", o.contentType)
		}
		w := httptest.NewRecorder()
		s.handler.ServeHTTP(w, req)
		res := w.Result()
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s?%q %q: %d %s\n%s", o.method, o.path, query, body, res.StatusCode, got, s.logs)
		}
		s.logs.Reset()
		if res.StatusCode < 400 {
			return
		}
		var p struct{ Status int }
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(got, &p) != nil || p.Status != res.StatusCode {
			t.Fatalf("%s %s?%q %q: %d %q is not a problem: %s", o.method, o.path, query, body, res.StatusCode, ct, got)
		}
		for _, word := range apitest.Internals {
			if strings.Contains(string(got), word) && !strings.Contains(query+body, word) { // not an echo
				t.Fatalf("%s %s?%q %q: the problem carries %q: %s", o.method, o.path, query, body, word, got)
			}
		}
	})
}
