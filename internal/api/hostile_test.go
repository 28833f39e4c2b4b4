package api_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/todo"
)

// errorAt is the location of a problem's first detail.
func errorAt(t *testing.T, res apitest.Response) string {
	t.Helper()
	errs, _ := res.JSON(t)["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	loc, _ := errs[0].(map[string]any)["location"].(string)
	return loc
}

// TestDueAtOutOfRange422: a due date whose UTC instant is outside years
// 0001-9999, or whose offset is 24:00 or more, is refused by the API itself
// (the location says which member) on every write; the edges are stored and
// read back.
func TestDueAtOutOfRange422(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	path := "/v1/todos/" + e.Create(t, alice, `{"title":"keep me"}`)["id"].(string)
	before := e.RowCount(t)
	for _, due := range []string{"0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "0000-12-31T23:59:59Z",
		"2027-01-01T00:00:00+24:00", "2027-01-01T00:00:00-23:60", "10000-01-01T00:00:00Z"} {
		for _, w := range []struct{ method, path string }{{http.MethodPost, "/v1/todos"}, {http.MethodPut, path}, {http.MethodPatch, path}} {
			res := e.Call(t, w.method, w.path, alice, `{"title":"x","due_at":"`+due+`"}`)
			apitest.WantProblem(t, w.method+" due_at "+due, res, http.StatusUnprocessableEntity)
			if loc := errorAt(t, res); res.Status == http.StatusUnprocessableEntity && loc != "body.due_at" {
				t.Errorf("%s due_at %s: refused at %q, want body.due_at (by the API, not the database): %s", w.method, due, loc, res.Body)
			}
		}
	}
	if n := e.RowCount(t); n != before {
		t.Errorf("rows: %d, want %d", n, before)
	}
	for _, due := range []string{"0001-01-01T00:00:00Z", "0001-01-01T23:59:00+23:59", "9999-12-31T23:59:59.999999Z", "9999-12-31T00:00:00-23:59"} {
		created := e.Create(t, alice, `{"title":"edge","due_at":"`+due+`"}`)
		res := e.Call(t, http.MethodGet, "/v1/todos/"+created["id"].(string), alice, "")
		if res.Status != http.StatusOK || res.JSON(t)["due_at"] == nil {
			t.Errorf("due_at %s: read back %d %s", due, res.Status, res.Body)
		}
	}
	if res := e.Call(t, http.MethodGet, "/v1/todos?sort=due_at&limit=100", alice, ""); res.Status != http.StatusOK {
		t.Errorf("list with the edges: %d %s", res.Status, res.Body)
	}
}

// TestNULText422: Postgres text cannot hold NUL; the API says so itself, at
// the member, and no database message reaches the client.
func TestNULText422(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	path := "/v1/todos/" + e.Create(t, alice, `{"title":"keep me"}`)["id"].(string)
	cases := []struct{ method, path, body, at string }{
		{http.MethodPost, "/v1/todos", `{"title":"a\u0000b"}`, "body.title"},
		{http.MethodPost, "/v1/todos", `{"title":"a","description":"\u0000"}`, "body.description"},
		{http.MethodPut, path, `{"title":"a\u0000"}`, "body.title"},
		{http.MethodPatch, path, `{"title":"\u0000x"}`, "body.title"},
		{http.MethodPatch, path, `{"description":"x\u0000"}`, "body.description"},
		{http.MethodGet, "/v1/todos?q=a%00b", "", "query.q"},
	}
	for _, c := range cases {
		res := e.Call(t, c.method, c.path, alice, c.body)
		apitest.WantProblem(t, c.method+" "+c.body+c.path, res, http.StatusUnprocessableEntity)
		if loc := errorAt(t, res); loc != c.at {
			t.Errorf("%s %s: refused at %q, want %s: %s", c.method, c.body, loc, c.at, res.Body)
		}
	}
}

// TestDuplicateMembers400: a member given twice (also in another case) is
// refused, never resolved; member names are exact.
func TestDuplicateMembers400(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	path := "/v1/todos/" + e.Create(t, alice, `{"title":"keep me"}`)["id"].(string)
	before := e.RowCount(t)
	cases := []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/v1/todos", `{"title":"a","title":"b"}`, 400},
		{http.MethodPost, "/v1/todos", `{"title":"ok","Title":"   "}`, 400},
		{http.MethodPost, "/v1/todos", `{"title":"ok","TITLE":"ok"}`, 400},
		{http.MethodPut, path, `{"title":"x","completed":true,"Completed":false}`, 400},
		{http.MethodPatch, path, `{"completed":true,"completed":false}`, 400},
		{http.MethodPatch, "/v1/todos", `{"completed":true,"completed":false}`, 400},
		{http.MethodPost, "/v1/todos", `{"Title":"x"}`, 422},
		{http.MethodPatch, path, `{"Completed":true}`, 422},
	}
	for _, c := range cases {
		apitest.WantProblem(t, c.method+" "+c.body, e.Call(t, c.method, c.path, alice, c.body), c.status)
	}
	if n := e.RowCount(t); n != before {
		t.Errorf("rows: %d, want %d", n, before)
	}
	if got := e.Call(t, http.MethodGet, path, alice, "").JSON(t); got["completed"] != false || got["title"] != "keep me" {
		t.Errorf("todo changed: %v", got)
	}
}

// TestRepeatedParameters400: a parameter an operation takes once, given
// twice, is refused before anything happens.
func TestRepeatedParameters400(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	e.Create(t, alice, `{"title":"done","completed":true}`)
	for _, target := range []string{
		"DELETE /v1/todos?completed=true&completed=false",
		"PATCH /v1/todos?completed=false&completed=true",
		"GET /v1/todos?limit=1&limit=2",
		"GET /v1/todos?sort=title&sort=-title",
		"GET /v1/todos?q=a&q=b",
		"GET /v1/todos?q=a&%71=b", // %71 is q
	} {
		want400(t, e, alice, target)
	}
	if n := e.RowCount(t); n != 1 {
		t.Errorf("rows: %d, want 1: a refused request deleted", n)
	}
	twice := func(name, first, second string) apitest.Response {
		return e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"x"}`, name, first, name, second)
	}
	apitest.WantProblem(t, "two Authorization headers", twice("Authorization", "Bearer "+alice, "Bearer "+apitest.Token(t, "bob")), http.StatusBadRequest)
	apitest.WantProblem(t, "two Idempotency-Keys", twice("Idempotency-Key", "a", "b"), http.StatusBadRequest)
	if n := e.RowCount(t); n != 1 {
		t.Errorf("rows: %d, want 1", n)
	}
}

// want400 sends target ("METHOD /path?query"; a PATCH with a body that
// would complete todos) as the holder of tok, and wants 400.
func want400(t *testing.T, e *apitest.Env, tok, target string) {
	t.Helper()
	method, path, _ := strings.Cut(target, " ")
	body := ""
	if method == http.MethodPatch {
		body = `{"completed":true}`
	}
	apitest.WantProblem(t, target, e.Call(t, method, path, tok, body), http.StatusBadRequest)
}

// TestMalformedQuery400: a query string whose pairs do not all parse is
// refused before anything happens. Read as absent, the broken filter would
// have widened these bulk changes to every todo.
func TestMalformedQuery400(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	e.Create(t, alice, `{"title":"discount 100%","completed":true}`)
	e.Create(t, alice, `{"title":"keep","completed":true}`)
	e.Create(t, alice, `{"title":"open"}`)
	for _, target := range []string{
		"DELETE /v1/todos?completed=true&q=100%",
		"DELETE /v1/todos?completed=true&q=%zz",
		"PATCH /v1/todos?completed=false&q=no-such-title-%zz",
		"PATCH /v1/todos?completed=false;q=nothing",
		"GET /v1/todos?list_id=%zz",
	} {
		want400(t, e, alice, target)
	}
	if n := e.RowCount(t); n != 3 {
		t.Errorf("rows: %d, want 3: a refused request deleted", n)
	}
	if got := e.Call(t, http.MethodGet, "/v1/todos?completed=false", alice, "").JSON(t)["items"].([]any); len(got) != 1 {
		t.Errorf("open todos: %d, want 1: a refused request changed them", len(got))
	}
	if res := e.Call(t, http.MethodGet, "/v1/todos?q=100%25", alice, ""); res.Status != http.StatusOK || len(res.JSON(t)["items"].([]any)) != 1 {
		t.Errorf("q=100%%25: %d %s, want the one todo", res.Status, res.Body)
	}
}

// TestBadUUIDSaysSoOnly: a value that is not a UUID is named as such, without
// the parsing library's own account of it.
func TestBadUUIDSaysSoOnly(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	for _, path := range []string{"/v1/todos?list_id=zz", "/v1/todos/abcd", "/v1/lists/" + strings.Repeat("x", 36)} {
		res := e.Call(t, http.MethodGet, path, alice, "")
		apitest.WantProblem(t, path, res, http.StatusUnprocessableEntity)
		errs, _ := res.JSON(t)["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["message"] != "expected string to be RFC 4122 uuid" {
			t.Errorf("GET %s: errors %v, want only that it is not a UUID", path, errs)
		}
	}
}

// TestErrorsSpeakJSON: what is wrong is said in the client's terms (member,
// expected type), never in Go's (wantProblem refuses Go's words), and at
// most a little of the client's value is echoed.
func TestErrorsSpeakJSON(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	path := "/v1/todos/" + e.Create(t, alice, `{"title":"keep me"}`)["id"].(string)
	big := strings.Repeat("x", 60<<10)
	cases := []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/v1/todos", `{"title":`, 400},
		{http.MethodPost, "/v1/todos", `Nope`, 400},
		{http.MethodPost, "/v1/todos", `{"title":"x"} {"title":"y"}`, 400},
		{http.MethodPost, "/v1/todos", `{"title":"x","completed":"yes"}`, 422},
		{http.MethodPost, "/v1/todos", `{"title":"x","due_at":"garbage"}`, 422},
		{http.MethodPost, "/v1/todos", `{"title":5}`, 422},
		{http.MethodPatch, path, `{"completed":"yes"}`, 422},
		{http.MethodPatch, path, `{"due_at":"tomorrow"}`, 422},
		{http.MethodPatch, "/v1/todos", `{"completed":1}`, 422},
		{http.MethodGet, "/v1/todos?due_before=garbage", "", 422},
		{http.MethodGet, "/v1/todos?limit=x", "", 422},
		{http.MethodGet, "/v1/todos?completed=yes", "", 422},
		{http.MethodPost, "/v1/todos", `{"title":"` + big, 400},
		{http.MethodPost, "/v1/todos", `{"title":"` + big + `"}`, 422},
		{http.MethodPost, "/v1/todos", `{"title":"x","` + big + `":1}`, 422},
	}
	for _, c := range cases {
		res := e.Call(t, c.method, c.path, alice, c.body)
		apitest.WantProblem(t, fmt.Sprintf("%s %s %.40s", c.method, c.path, c.body), res, c.status)
		if len(res.Body) > 1024 {
			t.Errorf("%s %.40s: a %d-byte answer echoes the request", c.method, c.body, len(res.Body))
		}
	}
}

// TestEveryErrorIsProblemJSON: the router's own answers are problems too.
func TestEveryErrorIsProblemJSON(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	apitest.WantProblem(t, "unknown path", e.Call(t, http.MethodGet, "/nope", alice, ""), http.StatusNotFound)
	res := e.Call(t, http.MethodPut, "/v1/todos", alice, `{"title":"x"}`)
	apitest.WantProblem(t, "PUT /v1/todos", res, http.StatusMethodNotAllowed)
	if allow := res.Header.Get("Allow"); allow != "GET, POST, PATCH, DELETE" {
		t.Errorf("Allow %q", allow)
	}
	apitest.WantProblem(t, "body too large", e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"`+strings.Repeat("a", 64<<10)+`"}`),
		http.StatusRequestEntityTooLarge)
	apitest.WantProblem(t, "text/plain", e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"x"}`, "Content-Type", "text/plain"),
		http.StatusUnsupportedMediaType)
	apitest.WantProblem(t, "17 KB header", e.Call(t, http.MethodGet, "/v1/todos", alice, "", "X-Pad", strings.Repeat("a", 17<<10)),
		http.StatusRequestHeaderFieldsTooLarge)
}

// raw sends request bytes on a connection of their own and returns all that
// comes back until the server closes it.
func raw(t *testing.T, e *apitest.Env, request string, halfClose bool) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang, not an assertion
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the server did not close the connection: %v (got %q)", err, b)
	}
	return string(b)
}

// wantRawProblem checks that got is exactly one problem+json apitest.Response with status.
func wantRawProblem(t *testing.T, what, got string, status int) {
	t.Helper()
	if !strings.HasPrefix(got, fmt.Sprintf("HTTP/1.1 %d ", status)) || strings.Count(got, "HTTP/1.1 ") != 1 ||
		!strings.Contains(got, "\r\nContent-Type: application/problem+json\r\n") {
		t.Errorf("%s: want one %d problem+json and the connection closed, got:\n%s", what, status, got)
	}
}

// TestFraming400: over a real connection to the production server's
// configuration, what cannot be framed one way only is refused and the
// connection closed, so nothing after it is read as another request.
func TestFraming400(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	head := "POST /v1/todos HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer " + alice + "\r\nContent-Type: application/json\r\n"
	smuggled := "GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n"
	body := `{"title":"x"}`
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	wantRawProblem(t, "Content-Length and Transfer-Encoding",
		raw(t, e, head+"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"+chunked+smuggled, false), http.StatusBadRequest)
	wantRawProblem(t, "Transfer-Encoding alone", raw(t, e, head+"Transfer-Encoding: chunked\r\n\r\n"+chunked+smuggled, false), http.StatusBadRequest)
	wantRawProblem(t, "body shorter than Content-Length", raw(t, e, head+"Content-Length: 100\r\n\r\n"+body, true), http.StatusBadRequest)
	// "chunked", with a body framed by its Content-Length: Go's server would
	// wait for a chunk's end that never comes; the connection is closed now.
	start := time.Now()
	wantRawProblem(t, "Transfer-Encoding on a Content-Length body",
		raw(t, e, head+fmt.Sprintf("Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n", len(body))+body, false), http.StatusBadRequest)
	if held := time.Since(start); held > 5*time.Second {
		t.Errorf("Transfer-Encoding on a Content-Length body: the connection was held %s after the 400", held)
	}
	// Refused by Go's server itself, before any handler: still problems.
	wantRawProblem(t, "Transfer-Encoding gzip", raw(t, e, head+"Transfer-Encoding: gzip\r\n\r\n"+body, false), http.StatusNotImplemented)
	wantRawProblem(t, "not HTTP", raw(t, e, "GARBAGE\r\n\r\n", false), http.StatusBadRequest)
	wantRawProblem(t, "no Host", raw(t, e, "GET /healthz HTTP/1.1\r\n\r\n", false), http.StatusBadRequest)
	if n := e.RowCount(t); n != 0 {
		t.Errorf("rows: %d, want 0", n)
	}
}

// TestRefusedUploadIsAnswered: a client still sending a body too large gets
// its 413, not a reset: the server reads and drops the rest for a while
// before it closes (closing with bytes unread makes the kernel reset the
// connection, and the answer can be lost).
func TestRefusedUploadIsAnswered(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const size = 200 << 10
	for _, chunked := range []bool{false, true} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang
		framing, want := fmt.Sprintf("Content-Length: %d", size), "HTTP/1.1 413 "
		if chunked {
			framing, want = "Transfer-Encoding: chunked", "HTTP/1.1 400 "
		}
		// The upload, 8 KB at a time, as a client that reads the answer only
		// once it has sent its body (curl, Python's http.client) sends it.
		sent := make(chan error, 1)
		go func() {
			_, err := io.WriteString(conn, "POST /v1/todos HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer "+apitest.Token(t, "alice")+
				"\r\nContent-Type: application/json\r\n"+framing+"\r\n\r\n")
			piece := strings.Repeat("a", 8<<10)
			if chunked {
				piece = fmt.Sprintf("%x\r\n%s\r\n", len(piece), piece)
			}
			for i := 0; err == nil && i < size/(8<<10); i++ {
				_, err = io.WriteString(conn, piece)
				time.Sleep(2 * time.Millisecond)
			}
			sent <- err
		}()
		if err := <-sent; err != nil {
			t.Errorf("chunked %t: the upload was cut off: %v", chunked, err)
		}
		got, err := io.ReadAll(conn)
		conn.Close()
		if !strings.HasPrefix(string(got), want) {
			t.Errorf("chunked %t: got %q (%v), want %s", chunked, got, err, want)
		}
	}
}

// TestStalledBodyIsAnswered: a body that stops arriving short of its
// Content-Length, the client still there, gets its 400 when the server's
// read timeout (30 s) ends it, though the write timeout has ended too.
func TestStalledBodyIsAnswered(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang
	body := `{"title":"x"}`
	if _, err := io.WriteString(conn, "POST /v1/todos HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer "+apitest.Token(t, "alice")+
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	wantRawProblem(t, fmt.Sprintf("a stalled body (%v)", err), string(got), http.StatusBadRequest)
}

// TestHeaderLimit431: exactly 16 KB of request line and headers, as sent,
// is served; one byte more is a problem+json 431, from the API up to
// MaxHeaderBytes and from Go's server (rewritten by ProblemListener) past it.
func TestHeaderLimit431(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	request := func(size int) string {
		const line, host, pad, end = "GET /healthz HTTP/1.1\r\n", "Host: api\r\n", "X-Pad: \r\n", "Connection: close\r\n\r\n"
		return line + host + "X-Pad: " + strings.Repeat("a", size-len(line+host+pad+end)) + "\r\n" + end
	}
	if got := raw(t, e, request(16<<10), false); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Errorf("16,384 bytes: %.200s", got)
	}
	wantRawProblem(t, "16,385 bytes", raw(t, e, request(16<<10+1), false), http.StatusRequestHeaderFieldsTooLarge)
	wantRawProblem(t, "64 KB", raw(t, e, request(64<<10), false), http.StatusRequestHeaderFieldsTooLarge)
	wantRawProblem(t, "80 KB", raw(t, e, request(80<<10), false), http.StatusRequestHeaderFieldsTooLarge)
}

// TestOpenAPIFromTodoLimits: every enum and limit in the document is the
// todo package's constant, and validation enforces the same numbers.
func TestOpenAPIFromTodoLimits(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	doc := e.Call(t, http.MethodGet, "/openapi.json", "", "").JSON(t)
	at := func(v any, path ...string) any {
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		return v
	}
	// schema is the schema of a query parameter or body member of an operation.
	schema := func(path, method, where string) any {
		in, name, _ := strings.Cut(where, ".")
		if in == "query" {
			for _, p := range at(doc, "paths", path, method, "parameters").([]any) {
				if at(p, "name") == name && at(p, "in") == "query" {
					return at(p, "schema")
				}
			}
			return nil
		}
		for _, content := range at(doc, "paths", path, method, "requestBody", "content").(map[string]any) {
			body := at(content, "schema")
			if ref, ok := at(body, "$ref").(string); ok {
				body = at(doc, "components", "schemas", strings.TrimPrefix(ref, "#/components/schemas/"))
			}
			return at(body, "properties", name)
		}
		return nil
	}
	type pin struct {
		path, method, where string
		keys                []string
		want                []any
	}
	cases := []pin{
		{"/v1/todos", "get", "query.completed", []string{"type"}, []any{"boolean"}},
		{"/v1/todos", "get", "query.sort", []string{"enum", "default"}, []any{todo.Sorts, todo.DefaultSort}},
		{"/v1/todos", "get", "query.limit", []string{"minimum", "maximum", "default"}, []any{1, todo.MaxPageSize, todo.DefaultPageSize}},
		{"/v1/todos", "get", "query.q", []string{"maxLength"}, []any{todo.MaxQueryLen}},
		{"/v1/todos", "patch", "query.q", []string{"maxLength"}, []any{todo.MaxQueryLen}},
		{"/v1/todos", "delete", "query.q", []string{"maxLength"}, []any{todo.MaxQueryLen}},
		{"/v1/lists", "get", "query.limit", []string{"minimum", "maximum", "default"}, []any{1, todo.MaxPageSize, todo.DefaultPageSize}},
		{"/v1/lists/{list_id}/members", "get", "query.limit", []string{"minimum", "maximum", "default"}, []any{1, todo.MaxPageSize, todo.MaxPageSize}},
		{"/v1/lists", "post", "body.name", []string{"minLength", "maxLength"}, []any{1, todo.MaxListNameLen}},
		{"/v1/lists/{list_id}", "patch", "body.name", []string{"minLength", "maxLength"}, []any{1, todo.MaxListNameLen}},
		{"/v1/lists/{list_id}/members", "post", "body.role", []string{"enum"}, []any{todo.Roles}},
		{"/v1/lists/{list_id}/members/{user_id}", "patch", "body.role", []string{"enum"}, []any{todo.Roles}},
		{"/v1/lists/{list_id}/invitations", "post", "body.role", []string{"enum"}, []any{todo.InvitableRoles}},
		{"/v1/lists/{list_id}/invitations", "post", "body.max_uses", []string{"minimum", "maximum", "default"},
			[]any{1, todo.MaxInvitationUses, todo.DefaultInvitationUses}},
		{"/v1/lists/{list_id}/invitations", "post", "body.expires_in", []string{"minimum", "maximum", "default"},
			[]any{todo.MinInvitationLifetime.Seconds(), todo.MaxInvitationLifetime.Seconds(), todo.DefaultInvitationExpiry.Seconds()}},
	}
	for _, op := range []string{"/v1/todos post", "/v1/todos/{id} put", "/v1/todos/{id} patch"} {
		path, method, _ := strings.Cut(op, " ")
		cases = append(cases, pin{path, method, "body.title", []string{"minLength", "maxLength"}, []any{1, todo.MaxTitleLen}},
			pin{path, method, "body.description", []string{"maxLength"}, []any{todo.MaxDescriptionLen}})
	}
	for _, c := range cases {
		s := schema(c.path, c.method, c.where)
		for i, key := range c.keys {
			if got := at(s, key); fmt.Sprint(got) != fmt.Sprint(c.want[i]) {
				t.Errorf("%s %s %s %s: %v, want %v", c.method, c.path, c.where, key, got, c.want[i])
			}
		}
	}

	ok := func(query string) {
		if res := e.Call(t, http.MethodGet, "/v1/todos?"+query, alice, ""); res.Status != http.StatusOK {
			t.Errorf("%s: %d %s", query, res.Status, res.Body)
		}
	}
	ok(fmt.Sprintf("limit=%d&sort=%s&q=%s&completed=true", todo.MaxPageSize, todo.Sorts[len(todo.Sorts)-1], strings.Repeat("a", todo.MaxQueryLen)))
	for _, bad := range []string{fmt.Sprintf("limit=%d", todo.MaxPageSize+1), "sort=bogus", "q=" + strings.Repeat("a", todo.MaxQueryLen+1)} {
		apitest.WantProblem(t, bad, e.Call(t, http.MethodGet, "/v1/todos?"+bad, alice, ""), http.StatusUnprocessableEntity)
	}
	apitest.WantProblem(t, "title too long", e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"`+strings.Repeat("é", todo.MaxTitleLen+1)+`"}`),
		http.StatusUnprocessableEntity)
	e.Create(t, alice, `{"title":"`+strings.Repeat("é", todo.MaxTitleLen)+`"}`)
}
