package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
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
	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth/authtest"
	"github.com/todoapi/todoapi/internal/pgcluster"
	"github.com/todoapi/todoapi/migrations"
)

// testSecret is the JWT_SECRET the tests serve with: apitest.Token's.
var testSecret = string(apitest.Auth.Secret)

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// start runs `todoapi serve` on a free port and returns its base URL once
// /healthz answers, and a function that stops it and returns run's error.
func start(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	p := startServe(t, env)
	return p.urls["todoapi"], p.stop
}

// serving is a `todoapi serve` running in the test.
type serving struct {
	urls   map[string]string // base URL of each server, by the first word of its start-up line
	exited chan struct{}     // closed when run has returned
	err    error             // run's error, once exited is closed
	stop   func() error      // what SIGTERM does; returns run's error
}

// startServe runs `todoapi serve` on a free port (LISTEN_ADDR) and returns
// once its /healthz answers.
func startServe(t *testing.T, env map[string]string) *serving {
	t.Helper()
	env["LISTEN_ADDR"] = "127.0.0.1:0"
	env["LOG_LEVEL"] = "debug"
	if env["JWT_JWKS_URL"] == "" {
		env["JWT_SECRET"] = testSecret
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	p := &serving{urls: map[string]string{}, exited: make(chan struct{})}
	go func() {
		p.err = run(ctx, []string{"serve"}, getenv(env), w, t.Output())
		close(p.exited)
		w.Close()
	}()
	p.stop = sync.OnceValue(func() error { cancel(); <-p.exited; return p.err })
	t.Cleanup(func() { _ = p.stop() })
	lines := bufio.NewReader(out)
	for { // the API's line comes last
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("serve did not start: %v (run: %v)", err, p.stop())
		}
		name, _, _ := strings.Cut(line, " ")
		_, rest, _ := strings.Cut(line, "http://")
		host, _, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, " ")
		p.urls[name] = "http://" + host
		if name == "todoapi" {
			break
		}
	}
	go io.Copy(io.Discard, out) //nolint:errcheck
	for range 50 {
		if res, err := http.Get(p.urls["todoapi"] + "/healthz"); err == nil {
			res.Body.Close()
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no /healthz")
	return nil
}

// curlForm is the Content-Type curl -d sends, which the README's example uses.
const curlForm = "application/x-www-form-urlencoded"

// TestServeEndToEnd is the README's promise: a token from `todoapi token`
// creates a todo that another user's token cannot see.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	base, stop := start(t, map[string]string{"DATABASE_URL": tdb.APIURL, "CORS_ALLOWED_ORIGINS": "https://app.example.com"})
	tokenCmd := func(sub string) string { // as the README tells
		var out bytes.Buffer
		if err := run(context.Background(), []string{"token", "--sub", sub}, getenv(map[string]string{"JWT_SECRET": testSecret}), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	alice, bob := tokenCmd("alice"), tokenCmd("bob")

	if res := apitest.Do(t, "POST", base+"/v1/todos", alice, `{"title":"x"}`, "Content-Type", curlForm); res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	if res := apitest.Do(t, "GET", base+"/v1/todos", alice, ""); !strings.Contains(string(res.Body), `"title":"x"`) {
		t.Errorf("alice's list lacks her todo: %s", res.Body)
	}
	if res := apitest.Do(t, "GET", base+"/v1/todos", bob, ""); string(res.Body) != `{"items":[],"next_cursor":null}`+"\n" {
		t.Errorf("bob's list: %s", res.Body)
	}
	if res := apitest.Do(t, "GET", base+"/readyz", "", ""); res.Status != 200 {
		t.Errorf("readyz: %d", res.Status)
	}
	if res := apitest.Do(t, "GET", base+"/v1/todos", alice, "", "Origin", "https://app.example.com"); res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("CORS_ALLOWED_ORIGINS not applied: %v", res.Header)
	}
	apitest.Do(t, "GET", base+"/v1/todos", "not-a-token", "")

	// The documented series, with what this test did.
	metrics := string(apitest.Do(t, "GET", base+"/metrics", "", "").Body)
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
	if res := apitest.Do(t, "GET", base+"/v1/todos", huge, ""); res.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MB token: %d, want 431", res.Status)
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// refuseDeadline bounds a serve that should refuse to start: if it serves
// instead, the test fails when the deadline ends it, not by hanging.
const refuseDeadline = 20 * time.Second

// runRefused runs `todoapi serve` on a free port, expecting it to refuse.
func runRefused(t *testing.T, env map[string]string) error {
	t.Helper()
	if env["LISTEN_ADDR"] == "" {
		env["LISTEN_ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), refuseDeadline)
	defer cancel()
	return run(ctx, []string{"serve"}, getenv(env), io.Discard, io.Discard)
}

// unforceRLS makes the test's database unsafe: todos without FORCE ROW LEVEL
// SECURITY, which its owner's connections would bypass.
func unforceRLS(t *testing.T, tdb dbtest.TestDB) {
	t.Helper()
	asAdmin(t, tdb, "ALTER TABLE todos NO FORCE ROW LEVEL SECURITY")
}

// asAdmin runs sql as the superuser on the test database.
func asAdmin(t *testing.T, tdb dbtest.TestDB, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestServeRefusesUnsafeDatabase(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	unforceRLS(t, tdb)
	err := runRefused(t, map[string]string{"DATABASE_URL": tdb.APIURL, "JWT_SECRET": testSecret})
	if err == nil || !strings.Contains(err.Error(), "refusing to serve") {
		t.Fatalf("run = %v, want a refusal", err)
	}
}

// TestServeWarnsAboutExtraPrivileges: a login role that may create
// temporary objects still serves, with a warning in the log.
func TestServeWarnsAboutExtraPrivileges(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	asAdmin(t, tdb, "GRANT TEMPORARY ON DATABASE "+tdb.Name+" TO "+pgcluster.APIRole)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := map[string]string{"DATABASE_URL": tdb.APIURL, "JWT_SECRET": testSecret, "LISTEN_ADDR": "127.0.0.1:0"}
	out, w := io.Pipe()
	var logs bytes.Buffer // written by slog alone, read once run has returned
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, getenv(env), w, &logs)
		w.Close()
	}()
	line, _ := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out) //nolint:errcheck
	cancel()
	if err := <-done; err != nil || !strings.Contains(line, "listening on") {
		t.Fatalf("serve did not start: %q, %v\n%s", line, err, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"least privilege: the login role can create temporary tables`) {
		t.Errorf("no warning about TEMP in the log:\n%s", logs.String())
	}
}

// TestServeStopsWhenTheRecheckFindsUnsafe: a database unreachable at boot is
// checked again once it answers; found unsafe then, serve stops with an error.
func TestServeStopsWhenTheRecheckFindsUnsafe(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	unforceRLS(t, tdb)
	tdb.AllowConnections(t, false)
	p := startServe(t, map[string]string{"DATABASE_URL": tdb.APIURL})
	if res := apitest.Do(t, "GET", p.urls["todoapi"]+"/readyz", "", ""); res.Status != http.StatusServiceUnavailable {
		t.Errorf("readyz before the check: %d, want 503", res.Status)
	}
	tdb.AllowConnections(t, true)
	select {
	case <-p.exited:
	case <-time.After(refuseDeadline):
		t.Fatalf("still serving %s after the database answered, unsafe", refuseDeadline)
	}
	if !errors.Is(p.err, db.ErrUnsafe) || !strings.Contains(p.err.Error(), "refusing to serve") {
		t.Errorf("run = %v, want a refusal for an unsafe database", p.err)
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
		if err := runRefused(t, env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve = %v, want an error saying %q", err, want)
		}
	}
}

// TestServeRefusesATakenAddress: every address is bound before serving, so a
// taken one fails the start, naming its setting.
func TestServeRefusesATakenAddress(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, setting := range []string{"LISTEN_ADDR", "METRICS_ADDR", "DEBUG_ADDR"} {
		env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "JWT_SECRET": testSecret}
		env[setting] = taken.Addr().String()
		if err := runRefused(t, env); err == nil || !strings.Contains(err.Error(), setting) {
			t.Errorf("%s taken: serve = %v, want an error naming %s", setting, err, setting)
		}
	}
}

// TestServeShutsDownEveryServer: the metrics and profiler servers answer on
// their own addresses, and stop with the API on SIGTERM.
func TestServeShutsDownEveryServer(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	p := startServe(t, map[string]string{"DATABASE_URL": tdb.APIURL, "METRICS_ADDR": "127.0.0.1:0", "DEBUG_ADDR": "127.0.0.1:0"})
	urls := []string{p.urls["todoapi"] + "/healthz", p.urls["metrics"] + "/metrics", p.urls["metrics"] + "/readyz", p.urls["profiler"] + "/debug/pprof/"}
	for _, url := range urls {
		if res := apitest.Do(t, "GET", url, "", ""); res.Status != http.StatusOK {
			t.Errorf("%s: %d %.200s", url, res.Status, res.Body)
		}
	}
	if res := apitest.Do(t, "GET", p.urls["todoapi"]+"/metrics", "", ""); res.Status != http.StatusNotFound {
		t.Errorf("/metrics on the API's address with METRICS_ADDR set: %d, want 404", res.Status)
	}
	if err := p.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	for _, url := range urls {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			t.Errorf("%s answers %d after shutdown", url, res.StatusCode)
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
		"JWT_ISSUER": authtest.Issuer, "JWT_AUDIENCE": authtest.Audience, "CURSOR_SECRET": testSecret})
	if res := apitest.Do(t, "GET", base+"/readyz", "", ""); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the JWKS down: %d, want 503", res.Status)
	}
	idp.SetMode(authtest.Up)
	deadline := time.Now().Add(30 * time.Second)
	for {
		status := apitest.Do(t, "GET", base+"/readyz", "", "").Status
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after the JWKS came up", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	tok := idp.Sign(t, "ed-1", authtest.Claims("alice"), nil)
	if res := apitest.Do(t, "POST", base+"/v1/todos", tok, `{"title":"x"}`, "Content-Type", curlForm); res.Status != http.StatusCreated {
		t.Fatalf("create with an EdDSA token: %d %s", res.Status, res.Body)
	}
	metrics := string(apitest.Do(t, "GET", base+"/metrics", "", "").Body)
	for _, want := range []string{`todoapi_jwks_fetches_total{result="error"}`, `todoapi_jwks_fetches_total{result="ok"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
