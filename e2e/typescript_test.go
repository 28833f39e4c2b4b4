package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// npmTool runs a tool installed in testdata/<dir> (by `make test`, npm ci).
func npmTool(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	path := name
	if name != "node" {
		path = filepath.Join("node_modules", ".bin", name)
		if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
			t.Fatalf("%s is not installed in %s: run `make test` (npm ci)", name, dir)
		}
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestTypeScriptClient does what a frontend team does on day one: lint the
// OpenAPI document (Redocly, recommended rules: no errors), generate a typed
// client (openapi-typescript + openapi-fetch), compile it with tsc --strict
// and use it against the running API.
func TestTypeScriptClient(t *testing.T) {
	t.Parallel()
	const dir = "testdata/frontend"
	e := apitest.New(t)
	doc := e.Call(t, http.MethodGet, "/openapi.json", "", "")
	if err := os.MkdirAll(filepath.Join(dir, "gen"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen", "openapi.json"), doc.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	npmTool(t, dir, nil, "redocly", "lint", "gen/openapi.json", "--config", "redocly.yaml")
	// Members with a default stay optional in request bodies, as the document says.
	npmTool(t, dir, nil, "openapi-typescript", "gen/openapi.json", "-o", "gen/schema.d.ts", "--default-non-nullable", "false")
	npmTool(t, dir, nil, "tsc", "-p", "tsconfig.json")
	out := npmTool(t, dir, []string{"API_URL=" + e.URL, "TOKEN=" + apitest.Token(t, "alice"), "TOKEN_BOB=" + apitest.Token(t, "bob")},
		"node", "gen/out/client.js")

	var got struct {
		SharedTitles []string
		BobRole      string
		Members      []string
		Created      string
		Listed       []string
		Next         *string
		Completed    bool
		StaleStatus  int
		StaleTitle   string
		Summary      struct{ Total, Active, Completed int }
		Cleared      int
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("client printed %q: %v", out, err)
	}
	if got.Created == "" || !slices.Equal(got.Listed, []string{got.Created}) || got.Next != nil {
		t.Errorf("create and list: %+v", got)
	}
	if !got.Completed || got.StaleStatus != http.StatusPreconditionFailed || got.StaleTitle != "Precondition Failed" {
		t.Errorf("patch with If-Match, then a stale one: %+v", got)
	}
	if got.Summary.Total != 1 || got.Summary.Completed != 1 || got.Summary.Active != 0 || got.Cleared != 1 {
		t.Errorf("summary and clear completed: %+v", got)
	}
	if n := e.RowCount(t); n != 1 {
		t.Errorf("%d todos left after clear completed, want bob's in the shared list", n)
	}
	if !slices.Equal(got.SharedTitles, []string{"bob's milk"}) || got.BobRole != "editor" ||
		!slices.Equal(got.Members, []string{"alice:owner", "bob:editor"}) {
		t.Errorf("sharing: %+v", got)
	}
}
