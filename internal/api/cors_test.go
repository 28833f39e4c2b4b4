package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"
	e := apitest.NewWith(t, apitest.Auth, app, "http://127.0.0.1:3000")
	alice := apitest.Token(t, "alice")

	preflight := func(origin string) apitest.Response {
		return e.Call(t, http.MethodOptions, "/v1/todos/00000000-0000-4000-8000-000000000000", "", "",
			"Origin", origin, "Access-Control-Request-Method", "PATCH",
			"Access-Control-Request-Headers", "authorization, content-type, if-match, idempotency-key")
	}
	res := preflight(app)
	if res.Status/100 != 2 || res.Header.Get("Access-Control-Allow-Origin") != app {
		t.Fatalf("preflight from %s: %d, ACAO %q", app, res.Status, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "if-match") || !strings.Contains(got, "idempotency-key") || !strings.Contains(got, "authorization") {
		t.Errorf("allowed headers %q", got)
	}
	if got := res.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "PATCH") {
		t.Errorf("allowed methods %q", got)
	}
	if res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials allowed")
	}

	res = e.Call(t, http.MethodPost, "/v1/todos", alice, `{"title":"x"}`, "Origin", app)
	if res.Status != http.StatusCreated || res.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("actual request: %d ACAO %q", res.Status, res.Header.Get("Access-Control-Allow-Origin"))
	}
	exposed := strings.ToLower(res.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"etag", "location", "link"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s not exposed: %q", h, exposed)
		}
	}

	for _, origin := range []string{"https://evil.example.com", "null", "https://app.example.com.evil.com", "http://app.example.com"} {
		if got := preflight(origin).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight from %s: ACAO %q", origin, got)
		}
		res := e.Call(t, http.MethodGet, "/v1/todos", alice, "", "Origin", origin)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("request from %s: ACAO %q", origin, got)
		}
	}
}

// TestNoCORSByDefault: without configured origins no browser origin is allowed.
func TestNoCORSByDefault(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Call(t, http.MethodGet, "/v1/todos", apitest.Token(t, "alice"), "", "Origin", "https://app.example.com")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("ACAO %q with no origins configured", got)
	}
}
