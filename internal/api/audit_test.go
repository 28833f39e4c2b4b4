package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// TestAuditTrail: every committed change leaves one audit row naming the
// user and the request; a refused one leaves none.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	res := e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"audited"}`, "X-Request-Id", "req-create-1")
	if res.Status != http.StatusCreated || res.Header.Get("X-Request-Id") != "req-create-1" {
		t.Fatalf("create: %d, X-Request-Id %q", res.Status, res.Header.Get("X-Request-Id"))
	}
	id := res.JSON(t)["id"].(string)
	e.Call(t, http.MethodPatch, "/v1/todos/"+id, alice, `{"completed":true}`, "X-Request-Id", "req-patch-1")
	e.Call(t, http.MethodDelete, "/v1/todos/"+id, alice, "", "X-Request-Id", "req-delete-1")
	apitest.WantProblem(t, "refused write", e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"a\u0000b"}`, "X-Request-Id", "req-bad-1"),
		http.StatusUnprocessableEntity)
	// A request id that is not short printable ASCII is replaced.
	res = e.Call(t, http.MethodGet, "/v1/todos", alice, "", "X-Request-Id", "evil\tid")
	if got := res.Header.Get("X-Request-Id"); got == "" || got == "evil\tid" {
		t.Errorf("X-Request-Id %q", got)
	}

	rows, err := e.Admin.Query(t.Context(),
		`SELECT action, user_id, request_id FROM audit.todo_changes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := [][3]string{
		{"INSERT", "alice", "req-create-1"},
		{"UPDATE", "alice", "req-patch-1"},
		{"DELETE", "alice", "req-delete-1"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit row %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestAccessLog: one JSON line per request with who, what and how it went,
// and never the token.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	tok := apitest.Token(t, "alice")
	e.Call(t, http.MethodPost, "/v1/todos", tok, `{"title":"logged"}`, "X-Request-Id", "req-log-1")
	logs := e.Logs.String()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"request_id":"req-log-1"`) {
			line = l
		}
	}
	for _, want := range []string{`"msg":"request"`, `"user":"alice"`, `"operation":"createTodo"`, `"method":"POST"`, `"status":201`, `"duration":`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(logs, tok) || strings.Contains(logs, strings.Split(tok, ".")[2]) {
		t.Error("the token was logged")
	}
}
