package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/db/dbtest"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

var authConfig = auth.Config{Secret: []byte("test-secret-test-secret-test-secret!"), Leeway: time.Second}

// env is one API server on a database of its own.
type env struct {
	url   string
	db    *db.DB
	admin *pgx.Conn // superuser on the same database: the truth behind RLS
	tdb   dbtest.TestDB
	logs  *api.LockedBuffer // what the server logged
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, authConfig)
}

// newEnvWith serves with the token config cfg and CORS for origins.
func newEnvWith(t *testing.T, cfg auth.Config, origins ...string) *env {
	t.Helper()
	tdb := dbtest.New(t)
	ctx := context.Background()
	database := tdb.OpenPool(t, "")
	verifier, err := auth.NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &api.LockedBuffer{}
	srv := httptest.NewUnstartedServer(api.NewServer(api.Deps{
		Todos:    db.NewTodoStore(database),
		Lists:    db.NewListStore(database),
		Verifier: verifier,
		Cursors:  cursorKey(t),
		Ready: func(ctx context.Context) error {
			return errors.Join(database.Ready(ctx), verifier.Ready(ctx))
		},
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		CORSOrigins: origins,
	}))
	srv.Config = api.NewHTTPServer(srv.Config.Handler, nil) // as in production
	srv.Listener = api.ProblemListener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	admin, err := pgx.Connect(ctx, tdb.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	return &env{url: srv.URL, db: database, admin: admin, tdb: tdb, logs: logs}
}

// cursorKey is the key the test servers seal cursors with.
func cursorKey(t *testing.T) *todo.CursorKey {
	t.Helper()
	k, err := todo.NewCursorKey([]byte("test-cursor-key-test-cursor-key!"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func token(t *testing.T, sub string) string {
	t.Helper()
	tok, err := auth.Sign(authConfig, sub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// call sends a request; header pairs follow the body (name, value, ...).
func (e *env) call(t *testing.T, method, path, tok, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) create(t *testing.T, tok, body string) map[string]any {
	t.Helper()
	res := e.call(t, http.MethodPost, "/v1/todos", tok, body)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	return res.json(t)
}

func (e *env) rowCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.admin.QueryRow(context.Background(), "SELECT count(*) FROM todos").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantProblem checks an RFC 9457 problem response with status, which says
// nothing of Postgres, the schema or Go's internals.
func wantProblem(t *testing.T, what string, res response, status int) {
	t.Helper()
	if leak := api.Leak(res.body); leak != "" {
		t.Errorf("%s: body carries %q: %s", what, leak, res.body)
	}
	if res.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, res.status, status, res.body)
		return
	}
	if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if got := res.json(t)["status"]; got != float64(status) {
		t.Errorf("%s: problem status %v, want %d", what, got, status)
	}
}
