package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// page is a minimal browser frontend: it reads the API's URL and a token
// from its fragment, creates a todo and lists todos with fetch, and writes
// what happened into the page for the test to read.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>todo frontend</title></head>
<body><pre id="out">pending</pre>
<script>
(async () => {
  const out = document.getElementById("out");
  try {
    const [api, token] = decodeURIComponent(location.hash.slice(1)).split(" ");
    const auth = { Authorization: "Bearer " + token };
    const created = await fetch(api + "/v1/todos", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": "browser-1" },
      body: JSON.stringify({ title: "from the browser" }),
    });
    const todo = await created.json();
    const list = await fetch(api + "/v1/todos?limit=5", { headers: auth });
    const body = await list.json();
    out.textContent = "RESULT " + JSON.stringify({
      status: created.status, etag: created.headers.get("ETag"), location: created.headers.get("Location"),
      id: todo.id, titles: body.items.map((t) => t.title),
    });
  } catch (err) {
    out.textContent = "ERROR " + err;
  }
})();
</script></body></html>`

// chromiumFlags run Chromium headless, quiet and without its own network use.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"}

// browse loads url in headless Chromium and returns the page's text.
func browse(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "chromium", append(chromiumFlags,
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium (make test installs it): %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(RESULT|ERROR) [^<]*`).Find(out)
	if m == nil {
		t.Fatalf("page never finished:\n%s", out)
	}
	return strings.ReplaceAll(string(m), "&quot;", `"`)
}

// TestBrowserFrontend: a page served from another origin on 127.0.0.1 uses
// the API from a real browser (headless Chromium): CORS preflight, bearer
// token, JSON, ETag and Location exposed. A page from an origin not listed
// is refused by the browser.
func TestBrowserFrontend(t *testing.T) {
	t.Parallel()
	serve := func() *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page)) //nolint:errcheck
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	allowed, other := serve(), serve()
	e := apitest.NewWith(t, apitest.Auth, allowed.URL)
	fragment := "#" + strings.ReplaceAll(e.URL+" "+apitest.Token(t, "alice"), " ", "%20")

	got := browse(t, allowed.URL+"/"+fragment)
	for _, want := range []string{`"status":201`, `"etag":"\"1\""`, `"location":"/v1/todos/`, `"titles":["from the browser"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("browser on an allowed origin: %s lacks %s", got, want)
		}
	}
	if got := browse(t, other.URL+"/"+fragment); !strings.HasPrefix(got, "ERROR") {
		t.Errorf("browser on an origin not listed: %s, want the fetch refused", got)
	}
	if n := e.RowCount(t); n != 1 {
		t.Errorf("%d todos, want 1 (the refused origin's preflight stops its POST)", n)
	}
}
