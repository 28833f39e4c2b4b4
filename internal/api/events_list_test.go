package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/todoapi/todoapi/internal/event"
)

// TestEventsSharedList: the members of a shared list receive its todos'
// changes, its renames and its membership changes, as row-level security
// decides at delivery; a member removed gets one event saying so and nothing
// of the list after it; a stranger gets nothing of it at all.
func TestEventsSharedList(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice, bob, carol := token(t, "alice"), token(t, "bob"), token(t, "carol")
	list := e.call(t, http.MethodPost, "/v1/lists", alice, `{"name":"groceries"}`).json(t)["id"].(string)
	sb := subscribe(t, e.url, "", bob)
	sc := subscribe(t, e.url, "", carol)
	sb.next(t)
	sc.next(t)
	inList := func(title string) {
		t.Helper()
		if res := e.call(t, http.MethodPost, "/v1/lists/"+list+"/todos", alice, fmt.Sprintf(`{"title":%q}`, title)); res.status != http.StatusCreated {
			t.Fatalf("create in the list: %d %s", res.status, res.body)
		}
	}

	if res := e.call(t, http.MethodPost, "/v1/lists/"+list+"/members", alice, `{"user_id":"bob","role":"viewer"}`); res.status != http.StatusCreated {
		t.Fatalf("add bob: %d", res.status)
	}
	inList("milk")
	e.call(t, http.MethodPatch, "/v1/lists/"+list, alice, `{"name":"food"}`)
	// Delivery is decided when it happens: what bob may see while a member
	// reaches him before he is removed.
	got := summary(append(sb.until(t, event.ListUpdated), sse{name: event.ListUpdated}))
	if want := []string{"member.added", "todo.created milk", "list.updated"}; !equal(got, want) {
		t.Errorf("bob, a viewer, received %q, want %q", got, want)
	}
	if res := e.call(t, http.MethodDelete, "/v1/lists/"+list+"/members/bob", alice, ""); res.status != http.StatusNoContent {
		t.Fatalf("remove bob: %d", res.status)
	}
	inList("after bob left")
	e.call(t, http.MethodPatch, "/v1/lists/"+list, alice, `{"name":"secret plans"}`)
	got = summary(e.marker(t, sb, bob, "bob's marker"))
	if want := []string{"member.removed"}; !equal(got, want) {
		t.Errorf("bob, removed, received %q, want only %q", got, want)
	}
	if got := summary(e.marker(t, sc, carol, "carol's marker")); len(got) != 0 {
		t.Errorf("carol, never a member, received %q", got)
	}

	// A list deleted: each member is told once.
	other := e.call(t, http.MethodPost, "/v1/lists", alice, `{"name":"trip"}`).json(t)["id"].(string)
	e.call(t, http.MethodPost, "/v1/lists/"+other+"/members", alice, `{"user_id":"carol","role":"editor"}`)
	if res := e.call(t, http.MethodDelete, "/v1/lists/"+other, alice, ""); res.status != http.StatusNoContent {
		t.Fatalf("delete the list: %d", res.status)
	}
	got = summary(e.marker(t, sc, carol, "carol's second marker"))
	if want := []string{"member.added", "list.deleted"}; !equal(got, want) && !equal(got, want[1:]) {
		t.Errorf("carol, whose list was deleted, received %q, want %q", got, want)
	}
}
