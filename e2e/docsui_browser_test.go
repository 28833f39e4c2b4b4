package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// TestDocsUIOffline: the docs UI renders in headless Chromium with every
// host but 127.0.0.1 unreachable and the page's Content-Security-Policy
// (default-src 'self') in force: it lists the operations, and a person who
// follows GET /, clicks Authorize, pastes a token and runs "List my todos"
// gets 200 with their todo. No request leaves the API's origin.
func TestDocsUIOffline(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	e.Create(t, alice, `{"title":"read the docs"}`)

	for _, path := range []string{"/docs", "/docs/swagger-ui-bundle.js", "/docs/init.js"} {
		res := e.Call(t, http.MethodGet, path, "", "")
		if res.Status != http.StatusOK || res.Header.Get("Content-Security-Policy") == "" ||
			!strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "default-src 'self';") {
			t.Errorf("GET %s: %d, CSP %q", path, res.Status, res.Header.Get("Content-Security-Policy"))
		}
	}

	b := newBrowser(t)
	b.call(t, "Page.enable", nil)
	b.call(t, "Network.enable", nil)
	b.call(t, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": `
		window.__violations = [];
		document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`})
	b.call(t, "Page.navigate", map[string]any{"url": e.URL + "/"})
	select {
	case <-b.loaded:
	case <-time.After(time.Minute):
		t.Fatal("the docs page never loaded")
	}
	got := b.eval(t, `(async () => {
		const wait = async (what, f) => {
			for (let i = 0; i < 400; i++) {
				const v = f();
				if (v) return v;
				await new Promise((r) => setTimeout(r, 50));
			}
			throw new Error("timed out waiting for " + what);
		};
		const click = (el) => el.click();
		await wait("the operation list", () => document.querySelectorAll(".opblock").length >= 9);
		const operations = [...document.querySelectorAll(".opblock")].map((el) => el.id);

		click(await wait("the Authorize button", () => document.querySelector(".auth-wrapper .authorize")));
		const input = await wait("the token input", () => document.querySelector(".auth-container input"));
		Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, TOKEN);
		input.dispatchEvent(new Event("input", { bubbles: true }));
		click(document.querySelector(".auth-btn-wrapper .authorize"));
		click(await wait("the modal's close button", () => document.querySelector(".auth-btn-wrapper .btn-done, .close-modal")));

		const op = document.getElementById("operations-Todos-listTodos");
		click(op.querySelector(".opblock-summary-control"));
		click(await wait("Try it out", () => op.querySelector(".try-out__btn")));
		click(await wait("Execute", () => op.querySelector(".execute")));
		const status = await wait("the response", () => op.querySelector(".live-responses-table tr.response .response-col_status"));
		const body = op.querySelector(".live-responses-table .response-col_description pre");
		return { location: location.pathname, operations, status: status.textContent.trim(),
			body: body ? body.textContent : "", violations: window.__violations };
	})()`, alice)

	var ui struct {
		Location   string
		Operations []string
		Status     string
		Body       string
		Violations []string
	}
	if err := json.Unmarshal(got, &ui); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if ui.Location != "/docs" {
		t.Errorf("GET / led to %q, want /docs", ui.Location)
	}
	for _, id := range []string{"operations-Todos-listTodos", "operations-Todos-createTodo", "operations-Todos-deleteTodo"} {
		if !strings.Contains(strings.Join(ui.Operations, " "), id) {
			t.Errorf("operation list %v lacks %s", ui.Operations, id)
		}
	}
	if ui.Status != "200" || !strings.Contains(ui.Body, "read the docs") {
		t.Errorf("List my todos in the UI: status %q, body %q", ui.Status, ui.Body)
	}
	if len(ui.Violations) > 0 {
		t.Errorf("the CSP refused: %v", ui.Violations)
	}
	for _, r := range b.requests() {
		if !strings.HasPrefix(r.URL, e.URL+"/") && !strings.HasPrefix(r.URL, "data:") {
			t.Errorf("the page asked another host: %s", r.URL)
		}
		if strings.HasPrefix(r.URL, e.URL+"/v1/todos") && r.Headers["Authorization"] != "Bearer "+alice {
			t.Errorf("%s went without the token: %v", r.URL, r.Headers)
		}
	}
}

// browser is headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4), attached to
// one page. Every host but 127.0.0.1 resolves to nothing.
type browser struct {
	send    *os.File
	session string

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	reqs    []cdpRequest
	loaded  chan struct{} // the page's load event
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type cdpRequest struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	toChrome, send, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	receive, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "chromium", append(chromiumFlags,
		"--disable-background-timer-throttling", "--disable-renderer-backgrounding",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")...)
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium (make test installs it): %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{send: send, waiting: map[int]chan cdpMessage{}, loaded: make(chan struct{}, 1)}
	done := make(chan struct{})
	go b.read(receive, done)
	t.Cleanup(func() {
		// Close the browser so that its helper processes exit with it and stop
		// writing into the profile directory before the test removes it.
		_, _ = send.Write([]byte(`{"id":-1,"method":"Browser.close"}` + "\x00"))
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		send.Close()
		receive.Close()
		<-done
	})

	var target struct{ TargetID string }
	b.decode(t, b.call(t, "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var attached struct{ SessionID string }
	b.decode(t, b.call(t, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attached)
	b.session = attached.SessionID
	return b
}

// read dispatches Chromium's messages: answers to their callers, and the
// page's requests into reqs.
func (b *browser) read(r *os.File, done chan struct{}) {
	defer close(done)
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	scanner.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := strings.IndexByte(string(data), 0); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for scanner.Scan() {
		var m cdpMessage
		if json.Unmarshal(scanner.Bytes(), &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.waiting[m.ID]; ok && m.ID != 0 {
			delete(b.waiting, m.ID)
			ch <- m
		} else if m.Method == "Page.loadEventFired" {
			select {
			case b.loaded <- struct{}{}:
			default:
			}
		} else if m.Method == "Network.requestWillBeSent" {
			var p struct{ Request cdpRequest }
			if json.Unmarshal(m.Params, &p) == nil {
				b.reqs = append(b.reqs, p.Request)
			}
		}
		b.mu.Unlock()
	}
}

// call sends a DevTools command (to the page once attached) and returns its result.
func (b *browser) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "sessionId": b.session, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	if b.session == "" {
		msg, _ = json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	}
	if _, err := b.send.Write(append(msg, 0)); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-time.After(time.Minute):
		t.Fatalf("%s: no answer from chromium", method)
		return nil
	}
}

// eval runs the JavaScript expression (a promise) in the loaded page, with
// TOKEN bound to token, and returns its value as JSON.
func (b *browser) eval(t *testing.T, expression, token string) json.RawMessage {
	t.Helper()
	tok, _ := json.Marshal(token)
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct {
			Exception struct{ Description string }
		}
	}
	b.decode(t, b.call(t, "Runtime.evaluate", map[string]any{
		"expression":    fmt.Sprintf("(async () => { const TOKEN = %s; return await %s; })()", tok, expression),
		"awaitPromise":  true,
		"returnByValue": true,
	}), &res)
	if res.ExceptionDetails != nil {
		t.Fatalf("in the page: %s", res.ExceptionDetails.Exception.Description)
	}
	return res.Result.Value
}

func (b *browser) decode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

// requests are the requests the page has made so far.
func (b *browser) requests() []cdpRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]cdpRequest(nil), b.reqs...)
}
