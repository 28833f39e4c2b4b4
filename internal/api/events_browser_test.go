package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/event"
)

// livePage is a browser frontend in two roles, chosen by its fragment ("api
// token todoId role"). "watch" subscribes the way the README shows: a ticket
// from POST /v1/events/tickets, then EventSource. "edit" changes the todo.
// Each tells the test what happened by POSTing to its own origin.
const livePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>live</title></head><body><script>
const [api, token, todoId, role] = decodeURIComponent(location.hash.slice(1)).split(" ");
const report = (path, body) => fetch(path, { method: "POST", body: JSON.stringify(body) });
const auth = { Authorization: "Bearer " + token };
(async () => {
  try {
    if (role === "watch") {
      const { ticket } = await (await fetch(api + "/v1/events/tickets", { method: "POST", headers: auth })).json();
      const events = new EventSource(api + "/v1/events?ticket=" + encodeURIComponent(ticket));
      events.addEventListener("ready", () => report("/ready", {}));
      events.addEventListener("todo.updated", (e) => {
        const { todo, etag } = JSON.parse(e.data);
        report("/seen", { title: todo.title, etag, id: e.lastEventId });
        events.close();
      });
      events.onerror = () => report("/seen", { error: "EventSource error" });
    } else {
      const res = await fetch(api + "/v1/todos/" + todoId, {
        method: "PATCH", headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ title: "edited on the other page" }),
      });
      report("/edited", { status: res.status });
    }
  } catch (err) {
    report("/" + role, { error: String(err) });
  }
})();
</script></body></html>`

// TestBrowserLiveUpdates: two pages in headless Chromium, from another
// origin: an edit made on one appears on the other through EventSource.
func TestBrowserLiveUpdates(t *testing.T) {
	t.Parallel()
	reports := make(chan string, 10)
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			reports <- r.URL.Path + " " + string(b)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(livePage)) //nolint:errcheck
	}))
	t.Cleanup(pages.Close)
	e := serveEvents(t, dbtest.New(t), event.Config{}, pages.URL)
	alice := token(t, "alice")
	id := e.create(t, alice, `{"title":"before"}`)["id"].(string)
	open := func(role string) {
		fragment := strings.ReplaceAll(strings.Join([]string{e.url, alice, id, role}, " "), " ", "%20")
		chromium(t, pages.URL+"/#"+fragment)
	}
	got := map[string]string{} // what each page reported, by path
	report := func(path string) string {
		for got[path] == "" {
			select {
			case r := <-reports:
				p, body, _ := strings.Cut(r, " ")
				got[p] = body
			case <-time.After(time.Minute):
				t.Fatalf("no %s report from the pages within a minute (got %v)", path, got)
			}
		}
		return got[path]
	}

	open("watch")
	if r := report("/ready"); r != "{}" {
		t.Fatalf("watching page: %s", r)
	}
	open("edit")
	if r := report("/edited"); r != `{"status":200}` {
		t.Fatalf("editing page: %s", r)
	}
	var seen struct{ Title, ETag, ID, Error string }
	r := report("/seen")
	if err := json.Unmarshal([]byte(r), &seen); err != nil || seen.Title != "edited on the other page" || seen.ETag != `"2"` || seen.ID == "" {
		t.Errorf("watching page saw %s (%v)", r, err)
	}
}

// chromium opens url in headless Chromium until the test ends.
func chromium(t *testing.T, url string) {
	t.Helper()
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop its helpers with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium (make test installs it): %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
}
