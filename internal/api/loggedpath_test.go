package api_test

import (
	"strings"
	"testing"

	"github.com/todoapi/todoapi/internal/api"
)

// TestLoggedPathKeepsNoToken: whatever precedes it, in any case, an
// invitations/ segment cuts the logged path, and no path makes it panic
// (lower-casing "Ⱥ" takes a byte more: offsets must be the path's own).
func TestLoggedPathKeepsNoToken(t *testing.T) {
	const secret = "SECRETTOKEN1234567890"
	for _, path := range []string{
		"/v1/invitations/" + secret + "/accept",
		"//v1/invitations/" + secret + "/accept",
		"/v1/INVITATIONS/" + secret + "/accept",
		"/" + strings.Repeat("Ⱥ", 30) + "invitations/" + secret + "/accept",
		"/" + strings.Repeat("Ⱥ", 20) + "Invitations/" + secret,
	} {
		got := api.LoggedPath(path)
		if strings.Contains(got, secret[:8]) || !strings.Contains(strings.ToLower(got), "invitations/") {
			t.Errorf("%q logged as %q", path, got)
		}
	}
	for _, path := range []string{"/v1/todos", "/" + strings.Repeat("Ⱥ", 40), "/v1/lists/x/invitation"} {
		if got := api.LoggedPath(path); got != path {
			t.Errorf("%q logged as %q, want it as it is", path, got)
		}
	}
}
