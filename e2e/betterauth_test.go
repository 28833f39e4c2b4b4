package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth"
)

// betterAuth starts a real Better Auth server (testdata/betterauth, installed
// by `make test` with npm ci) and returns its base URL.
func betterAuth(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("testdata/betterauth/node_modules/better-auth"); err != nil {
		t.Fatal("Better Auth is not installed: run `make test` (npm ci in e2e/testdata/betterauth)")
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = "testdata/betterauth"
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Better Auth (node): %v", err)
	}
	t.Cleanup(func() {
		stdin.Close() // the server exits when its stdin ends
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("Better Auth did not start: %v", err)
	}
	var started struct{ BaseURL string }
	if err := json.Unmarshal([]byte(line), &started); err != nil || started.BaseURL == "" {
		t.Fatalf("Better Auth said %q", line)
	}
	return started.BaseURL
}

// betterAuthToken signs a new user up with email and password and returns the
// JWT the jwt plugin issues for that session, and the user's id.
func betterAuthToken(t *testing.T, base, email string) (token, userID string) {
	t.Helper()
	body := `{"email":"` + email + `","password":"correct horse battery","name":"` + email + `"}`
	res, err := http.Post(base+"/api/auth/sign-up/email", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var signup struct{ User struct{ ID string } }
	err = json.NewDecoder(res.Body).Decode(&signup)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || signup.User.ID == "" {
		t.Fatalf("sign up %s: %d %v", email, res.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/token", nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("token for %s: %d %v", email, res.StatusCode, err)
	}
	return tok.Token, signup.User.ID
}

// TestBetterAuthEndToEnd: two people signed up with a real Better Auth each
// see only their own todos, and a token from another Better Auth instance
// (other keys, other issuer) is refused.
func TestBetterAuthEndToEnd(t *testing.T) {
	t.Parallel()
	base, other := betterAuth(t), betterAuth(t)
	e := apitest.NewWith(t, auth.Config{
		JWKSURLs: []string{base + "/api/auth/jwks"},
		Issuer:   base, // Better Auth's defaults for iss and aud: its base URL
		Audience: base,
		Leeway:   30 * time.Second,
	})
	alice, aliceID := betterAuthToken(t, base, "alice@example.com")
	bob, _ := betterAuthToken(t, base, "bob@example.com")
	stranger, _ := betterAuthToken(t, other, "alice@example.com")

	id := e.Create(t, alice, `{"title":"alice's"}`)["id"].(string)
	e.Create(t, bob, `{"title":"bob's"}`)

	var owner string
	if err := e.Admin.QueryRow(t.Context(), "SELECT user_id FROM todos WHERE id = $1", id).Scan(&owner); err != nil || owner != aliceID {
		t.Errorf("row owner %q (%v), want Better Auth user id %q", owner, err, aliceID)
	}
	for tok, want := range map[string]string{alice: "alice's", bob: "bob's"} {
		res := e.Call(t, http.MethodGet, "/v1/todos", tok, "")
		items, _ := res.JSON(t)["items"].([]any)
		if res.Status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["title"] != want {
			t.Errorf("list: %d %s, want only %q", res.Status, res.Body, want)
		}
	}
	apitest.WantProblem(t, "bob gets alice's todo", e.Call(t, http.MethodGet, "/v1/todos/"+id, bob, ""), http.StatusNotFound)
	apitest.WantProblem(t, "token of another Better Auth", e.Call(t, http.MethodGet, "/v1/todos", stranger, ""), http.StatusUnauthorized)
}
