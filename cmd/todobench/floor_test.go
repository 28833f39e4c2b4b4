package main

import (
	"net/http/httptest"
	"testing"
)

// The floor answers as the token's subject, as the API does, so that it reads
// the same user's todos (sameFirstPage checks the rest at run time).
func TestFloorTakesTheTokensSubject(t *testing.T) {
	for _, alg := range []string{"EdDSA", "HS256"} {
		is, err := newIssuer(alg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := is.token("user-00042")
		is.close()
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/v1/todos", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if got := subject(r); got != "user-00042" {
			t.Errorf("%s: subject %q, want user-00042", alg, got)
		}
	}
	if got := subject(httptest.NewRequest("GET", "/v1/todos", nil)); got != "" {
		t.Errorf("no token: subject %q, want none", got)
	}
}
