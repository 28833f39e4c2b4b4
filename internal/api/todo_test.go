package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

func TestCreate201(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Call(t, http.MethodPost, "/v1/todos", apitest.Token(t, "alice"),
		`{"title":"buy milk","description":"2 l","due_at":"2027-01-02T03:04:05Z"}`)
	if res.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	got := res.JSON(t)
	id, _ := got["id"].(string)
	if loc := res.Header.Get("Location"); id == "" || loc != "/v1/todos/"+id {
		t.Errorf("Location %q for id %q", loc, id)
	}
	for k, want := range map[string]any{"title": "buy milk", "description": "2 l", "completed": false, "due_at": "2027-01-02T03:04:05Z"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if got["created_at"] == nil || got["created_at"] != got["updated_at"] {
		t.Errorf("timestamps: %v %v", got["created_at"], got["updated_at"])
	}
	if _, leaked := got["user_id"]; leaked {
		t.Error("response carries user_id")
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var owner string
	if err := e.Admin.QueryRow(context.Background(), "SELECT user_id FROM todos WHERE id = $1", id).Scan(&owner); err != nil || owner != "alice" {
		t.Errorf("stored owner %q (%v), want alice", owner, err)
	}
}

// TestCreateWithCurlDefaults: `curl -d '{...}'` sends a form content type.
func TestCreateWithCurlDefaults(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Call(t, http.MethodPost, "/v1/todos", apitest.Token(t, "alice"), `{"title":"x"}`,
		"Content-Type", "application/x-www-form-urlencoded")
	if res.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	res = e.Call(t, http.MethodPost, "/v1/todos", apitest.Token(t, "alice"), `title=x`,
		"Content-Type", "application/x-www-form-urlencoded")
	apitest.WantProblem(t, "a real form body", res, http.StatusBadRequest)
}

func TestReadUpdateDelete200(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	id := e.Create(t, alice, `{"title":"a","description":"d","due_at":"2027-01-02T03:04:05Z"}`)["id"].(string)
	path := "/v1/todos/" + id

	if res := e.Call(t, http.MethodGet, path, alice, ""); res.Status != http.StatusOK || res.JSON(t)["id"] != id {
		t.Fatalf("get: %d %s", res.Status, res.Body)
	}

	// Merge patch: absent fields stay, due_at null clears.
	res := e.Call(t, http.MethodPatch, path, alice, `{"completed":true,"due_at":null}`, "Content-Type", "application/merge-patch+json")
	got := res.JSON(t)
	if res.Status != http.StatusOK || got["completed"] != true || got["due_at"] != nil || got["title"] != "a" || got["description"] != "d" {
		t.Fatalf("patch: %d %s", res.Status, res.Body)
	}
	res = e.Call(t, http.MethodPatch, path, alice, `{"title":"b"}`) // application/json works too
	if got := res.JSON(t); res.Status != http.StatusOK || got["title"] != "b" || got["completed"] != true {
		t.Fatalf("patch as application/json: %d %s", res.Status, res.Body)
	}

	// null removes a member: it takes its default.
	res = e.Call(t, http.MethodPatch, path, alice, `{"description":null,"completed":null}`)
	if got := res.JSON(t); res.Status != http.StatusOK || got["description"] != "" || got["completed"] != false || got["title"] != "b" {
		t.Fatalf("patch with nulls: %d %s", res.Status, res.Body)
	}

	// Put replaces: omitted fields take their defaults.
	e.Call(t, http.MethodPatch, path, alice, `{"description":"d","completed":true}`)
	res = e.Call(t, http.MethodPut, path, alice, `{"title":"c"}`)
	if got := res.JSON(t); res.Status != http.StatusOK || got["title"] != "c" || got["completed"] != false || got["description"] != "" {
		t.Fatalf("put: %d %s", res.Status, res.Body)
	}

	res = e.Call(t, http.MethodGet, "/v1/todos", alice, "")
	items, _ := res.JSON(t)["items"].([]any)
	if res.Status != http.StatusOK || len(items) != 1 || !strings.Contains(string(res.Body), `"next_cursor":null`) {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}

	if res := e.Call(t, http.MethodDelete, path, alice, ""); res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	apitest.WantProblem(t, "get after delete", e.Call(t, http.MethodGet, path, alice, ""), http.StatusNotFound)
	apitest.WantProblem(t, "delete again", e.Call(t, http.MethodDelete, path, alice, ""), http.StatusNotFound)
}

func TestListNewestFirstAndLimit(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	for i := range 25 {
		e.Create(t, alice, fmt.Sprintf(`{"title":"t%d"}`, i))
	}
	items := func(query string) []any {
		res := e.Call(t, http.MethodGet, "/v1/todos"+query, alice, "")
		if res.Status != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, res.Status, res.Body)
		}
		items, _ := res.JSON(t)["items"].([]any)
		return items
	}
	if got := items(""); len(got) != 20 || got[0].(map[string]any)["title"] != "t24" {
		t.Errorf("default page: %d items, first %v", len(got), got[0])
	}
	if got := items("?limit=3"); len(got) != 3 {
		t.Errorf("limit=3: %d items", len(got))
	}
	for _, bad := range []string{"0", "101", "x", "-1"} {
		apitest.WantProblem(t, "limit="+bad, e.Call(t, http.MethodGet, "/v1/todos?limit="+bad, alice, ""), http.StatusUnprocessableEntity)
	}
}

// TestIsolationMatrix: every operation by bob on alice's todo answers exactly
// like one on a todo that does not exist, and alice's row stays as it was.
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	id := e.Create(t, alice, `{"title":"alice's secret","description":"private"}`)["id"].(string)
	e.Create(t, bob, `{"title":"bob's own"}`)
	missing := "00000000-0000-4000-8000-000000000000"

	ops := []struct{ method, body string }{
		{http.MethodGet, ""},
		{http.MethodPut, `{"title":"pwned","completed":true}`},
		{http.MethodPatch, `{"title":"pwned","completed":true}`},
		{http.MethodDelete, ""},
	}
	for _, op := range ops {
		asBob := e.Call(t, op.method, "/v1/todos/"+id, bob, op.body)
		apitest.WantProblem(t, op.method+" as bob", asBob, http.StatusNotFound)
		absent := e.Call(t, op.method, "/v1/todos/"+missing, bob, op.body)
		if string(asBob.Body) != string(absent.Body) {
			t.Errorf("%s: bob can tell alice's todo from a missing one:\n%s\n%s", op.method, asBob.Body, absent.Body)
		}
	}
	res := e.Call(t, http.MethodGet, "/v1/todos", bob, "")
	if strings.Contains(string(res.Body), id) || strings.Contains(string(res.Body), "secret") {
		t.Errorf("bob's list shows alice's todo: %s", res.Body)
	}
	if items := res.JSON(t)["items"].([]any); len(items) != 1 {
		t.Errorf("bob's list has %d items, want his 1", len(items))
	}

	var owner, title, description string
	var completed bool
	err := e.Admin.QueryRow(context.Background(), "SELECT user_id, title, description, completed FROM todos WHERE id = $1", id).
		Scan(&owner, &title, &description, &completed)
	if err != nil || owner != "alice" || title != "alice's secret" || description != "private" || completed {
		t.Errorf("alice's row changed: %q %q %q %t (%v)", owner, title, description, completed, err)
	}
}

func TestBadInput4xx(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	id := e.Create(t, alice, `{"title":"keep me"}`)["id"].(string)
	before := e.RowCount(t)
	path := "/v1/todos/" + id
	long := strings.Repeat("é", 501)

	cases := []struct {
		name, method, path, body string
		status                   int
		header                   []string
	}{
		{"malformed JSON", http.MethodPost, "/v1/todos", `{"title":`, 400, nil},
		{"not an object", http.MethodPost, "/v1/todos", `["x"]`, 422, nil},
		{"missing title", http.MethodPost, "/v1/todos", `{}`, 422, nil},
		{"blank title", http.MethodPost, "/v1/todos", `{"title":"  \t "}`, 422, nil},
		{"empty title", http.MethodPost, "/v1/todos", `{"title":""}`, 422, nil},
		{"title too long", http.MethodPost, "/v1/todos", `{"title":"` + long + `"}`, 422, nil},
		{"description too long", http.MethodPost, "/v1/todos", `{"title":"x","description":"` + strings.Repeat("a", 10001) + `"}`, 422, nil},
		{"title not a string", http.MethodPost, "/v1/todos", `{"title":5}`, 422, nil},
		{"completed not a bool", http.MethodPost, "/v1/todos", `{"title":"x","completed":"yes"}`, 422, nil},
		{"bad due_at", http.MethodPost, "/v1/todos", `{"title":"x","due_at":"tomorrow"}`, 422, nil},
		{"NUL in title", http.MethodPost, "/v1/todos", `{"title":"a\u0000b"}`, 422, nil},
		{"client sets id", http.MethodPost, "/v1/todos", `{"title":"x","id":"` + id + `"}`, 422, nil},
		{"client sets user_id", http.MethodPost, "/v1/todos", `{"title":"x","user_id":"bob"}`, 422, nil},
		{"client sets created_at", http.MethodPost, "/v1/todos", `{"title":"x","created_at":"2020-01-01T00:00:00Z"}`, 422, nil},
		{"client sets updated_at", http.MethodPut, path, `{"title":"x","updated_at":"2020-01-01T00:00:00Z"}`, 422, nil},
		{"unknown field", http.MethodPatch, path, `{"colour":"red"}`, 422, nil},
		{"patch user_id", http.MethodPatch, path, `{"user_id":"bob"}`, 422, nil},
		{"patch title null", http.MethodPatch, path, `{"title":null}`, 422, nil},
		{"patch blank title", http.MethodPatch, path, `{"title":" "}`, 422, nil},
		{"put without title", http.MethodPut, path, `{"completed":true}`, 422, nil},
		{"bad UUID get", http.MethodGet, "/v1/todos/not-a-uuid", "", 422, nil},
		{"bad UUID delete", http.MethodDelete, "/v1/todos/1", "", 422, nil},
		{"bad UUID patch", http.MethodPatch, "/v1/todos/x", `{"title":"x"}`, 422, nil},
		{"text/plain body", http.MethodPost, "/v1/todos", `{"title":"x"}`, 415, []string{"Content-Type", "text/plain"}},
		{"latin-1 body", http.MethodPost, "/v1/todos", `{"title":"x"}`, 415, []string{"Content-Type", "application/json; charset=latin-1"}},
		{"charset twice", http.MethodPost, "/v1/todos", `{"title":"x"}`, 415, []string{"Content-Type", "application/json; charset=utf-8; charset=latin1"}},
		{"a parameter without a value", http.MethodPost, "/v1/todos", `{"title":"x"}`, 415, []string{"Content-Type", "application/json; charset=latin1; x"}},
		{"body too large", http.MethodPost, "/v1/todos", `{"title":"x","description":"` + strings.Repeat("a", 70<<10) + `"}`, 413, nil},
	}
	for _, c := range cases {
		res := e.Call(t, c.method, c.path, alice, c.body, c.header...)
		apitest.WantProblem(t, c.name, res, c.status)
	}
	if n := e.RowCount(t); n != before {
		t.Errorf("rows: %d, want %d: bad input wrote something", n, before)
	}
	res := e.Call(t, http.MethodGet, path, alice, "")
	if got := res.JSON(t); got["title"] != "keep me" || got["completed"] != false {
		t.Errorf("todo changed by bad input: %s", res.Body)
	}
}

// TestMediaTypesAnyCase: media types are case-insensitive (RFC 9110), with
// or without a UTF-8 charset, form-encoded (curl -d) included.
func TestMediaTypesAnyCase(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	for _, ct := range []string{"application/JSON", "Application/Json; Charset=UTF-8", "application/x-www-form-urlencoded; charset=utf-8",
		"APPLICATION/X-WWW-FORM-URLENCODED", "application/json; charset=utf8", "application/json; charset=us-ascii"} {
		if res := e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"x"}`, "Content-Type", ct); res.Status != http.StatusCreated {
			t.Errorf("Content-Type %s: %d %s", ct, res.Status, res.Body)
		}
	}
	// No body, nothing to read in any charset.
	if res := e.Call(t, http.MethodGet, "/v1/todos", alice, "", "Content-Type", "application/json; charset=ISO-8859-1"); res.Status != http.StatusOK {
		t.Errorf("a GET with a Latin-1 Content-Type: %d %s", res.Status, res.Body)
	}
}

func TestMethodNotAllowed405(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Call(t, http.MethodPut, "/v1/todos", apitest.Token(t, "alice"), `{"title":"x"}`)
	if res.Status != http.StatusMethodNotAllowed {
		t.Errorf("PUT /v1/todos: %d, want 405", res.Status)
	}
}

// TestServerErrorsLeakNothing: with the table gone, a request fails inside
// Postgres; the client gets a bare 500 without SQL, names or Go errors.
func TestServerErrorsLeakNothing(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	if _, err := e.Admin.Exec(context.Background(), "ALTER TABLE todos RENAME TO todos_gone"); err != nil {
		t.Fatal(err)
	}
	res := e.Call(t, http.MethodPost, "/v1/todos", apitest.Token(t, "alice"), `{"title":"x"}`)
	apitest.WantProblem(t, "create without table", res, http.StatusInternalServerError)
	for _, secret := range []string{"todos", "relation", "SQLSTATE", "ERROR", "pgx", "42P01", "exist"} {
		if strings.Contains(string(res.Body), secret) {
			t.Errorf("500 body leaks %q: %s", secret, res.Body)
		}
	}
}
