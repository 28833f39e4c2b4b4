package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/event"
)

// livePage is a browser frontend in two roles, chosen by its fragment ("api
// token todoId role"). "watch" runs the README's EventSource client (a ticket,
// then EventSource); "edit" changes the todo. Each tells the test what
// happened by POSTing to its own origin.
const livePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>live</title></head><body><script>
const [API, token, todoId, role] = decodeURIComponent(location.hash.slice(1)).split(" ");
const report = (path, body) => fetch(path, { method: "POST", body: JSON.stringify(body) });
const auth = { Authorization: "Bearer " + token };
README_CLIENT
(async () => {
  try {
    if (role === "watch") {
      await listen(async () => token, (type, data) => {
        if (type === "todo.updated") report("/seen", { title: data.todo.title, etag: data.etag });
      });
    } else {
      const res = await fetch(API + "/v1/todos/" + todoId, {
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

// readmeClient is the browser client the README shows under "Live updates".
func readmeClient(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Live updates\n")
	_, code, ok := strings.Cut(section, "```js\n")
	code, _, _ = strings.Cut(code, "```")
	if !ok || !strings.Contains(code, "new EventSource") {
		t.Fatal("README.md has no EventSource client under Live updates")
	}
	return code
}

// TestBrowserLiveUpdates: two pages in headless Chromium, from another
// origin, of two members of one shared list: an edit bob makes on his page
// appears on alice's through EventSource.
func TestBrowserLiveUpdates(t *testing.T) {
	t.Parallel()
	reports := make(chan string, 10)
	client := readmeClient(t)
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			reports <- r.URL.Path + " " + string(b)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(strings.Replace(livePage, "README_CLIENT", client, 1))) //nolint:errcheck
	}))
	t.Cleanup(pages.Close)
	e, hub := apitest.ServeEvents(t, dbtest.New(t), event.Config{}, pages.URL)
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	list := e.Call(t, http.MethodPost, "/v1/lists", alice, `{"name":"shared"}`).JSON(t)["id"].(string)
	if res := e.Call(t, http.MethodPost, "/v1/lists/"+list+"/members", alice, `{"user_id":"bob","role":"editor"}`); res.Status != http.StatusCreated {
		t.Fatalf("share with bob: %d %s", res.Status, res.Body)
	}
	id := e.Call(t, http.MethodPost, "/v1/lists/"+list+"/todos", alice, `{"title":"before"}`).JSON(t)["id"].(string)
	open := func(tok, role string) {
		fragment := strings.ReplaceAll(strings.Join([]string{e.URL, tok, id, role}, " "), " ", "%20")
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

	open(alice, "watch")
	for wait := 0; hub.Subscribers() == 0; wait++ { // until its stream is open
		if wait == 6000 {
			t.Fatalf("the watching page opened no stream within a minute (reports: %v)", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	open(bob, "edit")
	if r := report("/edited"); r != `{"status":200}` {
		t.Fatalf("editing page: %s", r)
	}
	var seen struct{ Title, ETag, Error string }
	r := report("/seen")
	if err := json.Unmarshal([]byte(r), &seen); err != nil || seen.Title != "edited on the other page" || seen.ETag != `"2"` {
		t.Errorf("watching page saw %s (%v)", r, err)
	}
}

// chromium opens url in headless Chromium until the test ends.
func chromium(t *testing.T, url string) {
	t.Helper()
	cmd := exec.Command("chromium", append(chromiumFlags, "--user-data-dir="+t.TempDir(), url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop its helpers with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium (make test installs it): %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
}
