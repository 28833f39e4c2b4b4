package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/auth/authtest"
	"github.com/todoapi/todoapi/migrations"
)

const testSecret = "main-test-secret-main-test-secret"

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// start runs `todoapi serve` on a free port and returns its base URL once
// /healthz answers, and a function that stops it and returns run's error.
func start(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	env["LISTEN_ADDR"] = "127.0.0.1:0"
	env["LOG_LEVEL"] = "debug"
	if env["JWT_JWKS_URL"] == "" {
		env["JWT_SECRET"] = testSecret
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, getenv(env), w, t.Output())
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out) //nolint:errcheck
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v (run: %v)", err, <-done)
	}
	_, rest, _ := strings.Cut(line, "listening on ")
	base, _, _ := strings.Cut(rest, " ")
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { _ = stop() })
	for range 50 {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base, stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no /healthz")
	return "", nil
}

func tokenFor(t *testing.T, sub string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "--sub", sub}, getenv(map[string]string{"JWT_SECRET": testSecret}), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

func request(t *testing.T, method, url, tok, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d sends
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeEndToEnd is the README's promise: a token from `todoapi token`
// creates a todo that another user's token cannot see.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	base, stop := start(t, map[string]string{"DATABASE_URL": tdb.APIURL, "CORS_ALLOWED_ORIGINS": "https://app.example.com"})
	alice, bob := tokenFor(t, "alice"), tokenFor(t, "bob")

	if status, body := request(t, "POST", base+"/v1/todos", alice, `{"title":"x"}`); status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	if _, body := request(t, "GET", base+"/v1/todos", alice, ""); !strings.Contains(body, `"title":"x"`) {
		t.Errorf("alice's list lacks her todo: %s", body)
	}
	if _, body := request(t, "GET", base+"/v1/todos", bob, ""); body != `{"items":[],"next_cursor":null}`+"\n" {
		t.Errorf("bob's list: %s", body)
	}
	if status, _ := request(t, "GET", base+"/readyz", "", ""); status != 200 {
		t.Errorf("readyz: %d", status)
	}

	req, _ := http.NewRequest("GET", base+"/v1/todos", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Origin", "https://app.example.com")
	if res, err := http.DefaultClient.Do(req); err != nil || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("CORS_ALLOWED_ORIGINS not applied: %v %v", err, res.Header)
	}
	request(t, "GET", base+"/v1/todos", "not-a-token", "")

	// The documented series, with what this test did.
	_, metrics := request(t, "GET", base+"/metrics", "", "")
	for _, want := range []string{
		`todoapi_http_request_duration_seconds_count{operation="createTodo",status="201"} 1`,
		`todoapi_http_request_duration_seconds_count{operation="listTodos",status="200"} 3`,
		`todoapi_http_request_duration_seconds_count{operation="listTodos",status="401"} 1`,
		`todoapi_auth_failures_total{reason="invalid"} 1`,
		`todoapi_db_pool_max_connections `,
		`todoapi_db_pool_acquires_total `,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	huge := strings.Repeat("a", 1<<20)
	if status, _ := request(t, "GET", base+"/v1/todos", huge, ""); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MB token: %d, want 431", status)
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestServeRefusesUnsafeDatabase(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	conn, err := pgx.Connect(context.Background(), tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "ALTER TABLE todos NO FORCE ROW LEVEL SECURITY"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": tdb.APIURL, "JWT_SECRET": testSecret, "LISTEN_ADDR": "127.0.0.1:0"}
	err = run(context.Background(), []string{"serve"}, getenv(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refusing to serve") {
		t.Fatalf("run = %v, want a refusal", err)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	db := "postgres://x@127.0.0.1:1/x"
	for want, env := range map[string]map[string]string{
		"JWT_SECRET must be at least":  {"DATABASE_URL": db, "JWT_SECRET": "short"},
		"set JWT_JWKS_URL":             {"DATABASE_URL": db},
		"DATABASE_URL must be set":     {"JWT_SECRET": testSecret},
		"JWT_LEEWAY must be between":   {"DATABASE_URL": db, "JWT_SECRET": testSecret, "JWT_LEEWAY": "5m"},
		"JWT_JWKS_URL: \"file:":        {"DATABASE_URL": db, "JWT_JWKS_URL": "file:///etc/passwd"},
		"CORS_ALLOWED_ORIGINS: \"*\"":  {"DATABASE_URL": db, "JWT_SECRET": testSecret, "CORS_ALLOWED_ORIGINS": "*"},
		"CORS_ALLOWED_ORIGINS: \"null": {"DATABASE_URL": db, "JWT_SECRET": testSecret, "CORS_ALLOWED_ORIGINS": "null"},
	} {
		err := run(context.Background(), []string{"serve"}, getenv(env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve = %v, want an error saying %q", err, want)
		}
	}
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	env := getenv(map[string]string{"DATABASE_URL": tdb.OwnerURL})
	latest := db.ExpectedVersion()
	// The version before the latest (numbers may have gaps on a branch).
	names, _ := fs.Glob(migrations.FS, "*.up.sql")
	slices.Sort(names)
	previous, _ := strconv.ParseUint(names[len(names)-2][:6], 10, 64)
	for _, step := range []struct {
		args []string
		want uint
	}{
		{[]string{"migrate", "version"}, latest},
		{[]string{"migrate", "down"}, uint(previous)},
		{[]string{"migrate", "up"}, latest},
		{[]string{"migrate", "up"}, latest},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), step.args, env, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", step.args, err)
		}
		if want := fmt.Sprintf("schema version %d (dirty: false", step.want); !strings.HasPrefix(out.String(), want) {
			t.Errorf("%v: %q, want %q...", step.args, out.String(), want)
		}
	}
}

// TestServeNotReadyUntilJWKSAnswers: an identity provider that is down at
// boot is a readiness failure, not a crash, and readiness follows it up.
func TestServeNotReadyUntilJWKSAnswers(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	idp := authtest.NewIdP(t)
	idp.SetMode(authtest.Down)
	base, _ := start(t, map[string]string{"DATABASE_URL": tdb.APIURL, "JWT_JWKS_URL": idp.URL(),
		"JWT_ISSUER": authtest.Issuer, "JWT_AUDIENCE": authtest.Audience})
	if status, _ := request(t, "GET", base+"/readyz", "", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the JWKS down: %d, want 503", status)
	}
	idp.SetMode(authtest.Up)
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _ := request(t, "GET", base+"/readyz", "", "")
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after the JWKS came up", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	tok := idp.Sign(t, "ed-1", authtest.Claims("alice"), nil)
	if status, body := request(t, "POST", base+"/v1/todos", tok, `{"title":"x"}`); status != http.StatusCreated {
		t.Fatalf("create with an EdDSA token: %d %s", status, body)
	}
	_, metrics := request(t, "GET", base+"/metrics", "", "")
	for _, want := range []string{`todoapi_jwks_fetches_total{result="error"}`, `todoapi_jwks_fetches_total{result="ok"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
