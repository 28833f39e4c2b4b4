package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/todoapi/todoapi/internal/todo"
)

// TestBodiesHaveContentLength: answers and problems are sent with their
// length, not in chunks.
func TestBodiesHaveContentLength(t *testing.T) {
	t.Parallel()
	for what, store := range map[string]echoStore{"a page": {}, "a problem": {err: todo.ErrNotFound}} {
		res := newStubServer(t, store).do(http.MethodGet, "/v1/todos", "")
		if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(res.Body)) || len(res.Body) == 0 {
			t.Errorf("%s (%d): Content-Length %q for %d bytes", what, res.Status, got, len(res.Body))
		}
	}
}
