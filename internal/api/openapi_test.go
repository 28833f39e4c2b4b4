package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

func TestOpenAPIAndDocs(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Call(t, http.MethodGet, "/openapi.json", "", "")
	if res.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", res.Status)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct{ Type, Scheme string } `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearer"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("bearer scheme: %+v", s)
	}
	ops := 0
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if strings.HasPrefix(path, "/v1/") {
				ops++
				if len(op.Security) == 0 || op.Security[0]["bearer"] == nil {
					t.Errorf("%s %s (%s) has no bearer security", method, path, op.OperationID)
				}
				// Only the event stream also takes a ticket (for EventSource).
				if want := 1 + btoi(op.OperationID == "streamEvents"); len(op.Security) != want {
					t.Errorf("%s %s (%s): %d security alternatives, want %d", method, path, op.OperationID, len(op.Security), want)
				}
			}
		}
	}
	if ops != 26 {
		t.Errorf("%d /v1 operations documented, want 26", ops)
	}
	if strings.Contains(string(res.Body), "$schema") {
		t.Error("document describes $schema members in bodies")
	}
	for _, path := range []string{"/openapi.yaml", "/docs", "/healthz", "/readyz"} {
		if res := e.Call(t, http.MethodGet, path, "", ""); res.Status != http.StatusOK {
			t.Errorf("%s: %d", path, res.Status)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestReadyz503WhenSchemaIsNotCurrent(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	if _, err := e.Admin.Exec(t.Context(), "UPDATE schema_migrations SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	apitest.WantProblem(t, "readyz", e.Call(t, http.MethodGet, "/readyz", "", ""), http.StatusServiceUnavailable)
	if res := e.Call(t, http.MethodGet, "/healthz", "", ""); res.Status != http.StatusOK {
		t.Errorf("healthz: %d, want 200 while not ready", res.Status)
	}
}
