package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/todo"
)

func problemOf(t *testing.T, res apitest.Response, status int) huma.ErrorModel {
	t.Helper()
	body := res.Body
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if leak := apitest.Leak(body); leak != "" {
		t.Errorf("body carries %q: %s", leak, body)
	}
	var p huma.ErrorModel
	if err := json.Unmarshal(body, &p); err != nil || p.Status != status {
		t.Errorf("problem %+v (%v): %s", p, err, body)
	}
	return p
}

// requestsCounted is how many requests the metrics counted for op and status.
func (s *stubServer) requestsCounted(t *testing.T, op, status string) uint64 {
	t.Helper()
	families, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "todoapi_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] == op && labels["status"] == status {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// TestUnencodableResponse500: a todo whose due date JSON cannot hold (as
// the API stored before migration 000004) is a problem+json 500, without
// the headers of the answer that failed, and the log and the metrics say 500.
func TestUnencodableResponse500(t *testing.T) {
	t.Parallel()
	due := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	id := "00000000-0000-4000-8000-000000000001"
	s := newStubServer(t, echoStore{answer: todo.Todo{ID: id, Title: "x", DueAt: &due, Version: 1}})
	for _, target := range []string{"/v1/todos/" + id, "/v1/todos"} {
		res := s.do(http.MethodGet, target, "")
		problemOf(t, res, http.StatusInternalServerError)
		if etag := res.Header.Get("ETag"); etag != "" {
			t.Errorf("%s: the 500 carries the failed answer's ETag %q", target, etag)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: the 500 lost the headers every answer has: %v", target, res.Header)
		}
	}
	if !strings.Contains(s.logs.String(), `"operation":"getTodo","method":"GET","path":"/v1/todos/`+id+`","status":500`) {
		t.Errorf("access log does not record the 500:\n%s", s.logs)
	}
	for _, op := range []string{"getTodo", "listTodos"} {
		if n := s.requestsCounted(t, op, "500"); n != 1 {
			t.Errorf("metrics count %d %s 500s, want 1", n, op)
		}
	}
}

// TestServerErrorTextNeverSent: an error Huma turns into a 500 carries its Go
// text in the body unless the API trims it (forClient).
func TestServerErrorTextNeverSent(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, echoStore{})
	huma.Register(s.api, huma.Operation{OperationID: "fail", Method: http.MethodGet, Path: "/fail", Security: api.Public},
		func(context.Context, *struct{}) (*struct{}, error) {
			return nil, errors.New(`ERROR: relation "todos" does not exist (SQLSTATE 42P01)`)
		})
	p := problemOf(t, s.do(http.MethodGet, "/fail", ""), http.StatusInternalServerError)
	if p.Detail != "Internal Server Error" || len(p.Errors) != 0 {
		t.Errorf("500 says more than its status: %+v", p)
	}
}

func TestConflict409(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, echoStore{err: todo.ErrConflict})
	problemOf(t, s.do(http.MethodPost, "/v1/todos", `{"title":"x"}`), http.StatusConflict)
}

// TestRefusalsAreCounted: answers given before any operation (a path or
// method that routes nowhere, a body refused by framing or by its
// Content-Type) are counted too, as operation "none".
func TestRefusalsAreCounted(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, echoStore{})
	s.do(http.MethodGet, "/nowhere", "")
	s.do(http.MethodPut, "/v1/todos", `{"title":"x"}`)
	s.do(http.MethodPost, "/v1/todos", `{"title":"`+strings.Repeat("a", 70<<10)+`"}`)
	s.do(http.MethodPost, "/v1/todos", `{"title":"x"}`, "Content-Type", "application/json; charset=latin1")
	for _, status := range []string{"404", "405", "413", "415"} {
		if n := s.requestsCounted(t, "none", status); n != 1 {
			t.Errorf("status %s: counted %d times, want once", status, n)
		}
	}
}
