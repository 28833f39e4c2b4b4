package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/event"
)

// TestEventsSharedList: the members of a shared list receive its todos'
// changes, its renames and its membership changes, as row-level security
// decides at delivery; a member removed gets one event saying so and nothing
// of the list after it; a stranger gets nothing of it at all.
func TestEventsSharedList(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice, bob, carol := apitest.Token(t, "alice"), apitest.Token(t, "bob"), apitest.Token(t, "carol")
	list := e.Call(t, http.MethodPost, "/v1/lists", alice, `{"name":"groceries"}`).JSON(t)["id"].(string)
	sb := subscribe(t, e.URL, "", bob)
	sc := subscribe(t, e.URL, "", carol)
	sb.next(t)
	sc.next(t)
	inList := func(title string) {
		t.Helper()
		if res := e.Call(t, http.MethodPost, "/v1/lists/"+list+"/todos", alice, fmt.Sprintf(`{"title":%q}`, title)); res.Status != http.StatusCreated {
			t.Fatalf("create in the list: %d %s", res.Status, res.Body)
		}
	}

	if res := e.Call(t, http.MethodPost, "/v1/lists/"+list+"/members", alice, `{"user_id":"bob","role":"viewer"}`); res.Status != http.StatusCreated {
		t.Fatalf("add bob: %d", res.Status)
	}
	inList("milk")
	e.Call(t, http.MethodPatch, "/v1/lists/"+list, alice, `{"name":"food"}`)
	// Delivery is decided when it happens: what bob may see while a member
	// reaches him before he is removed.
	got := summary(append(sb.until(t, event.ListUpdated), sse{name: event.ListUpdated}))
	if want := []string{"member.added", "todo.created milk", "list.updated"}; !equal(got, want) {
		t.Errorf("bob, a viewer, received %q, want %q", got, want)
	}
	if res := e.Call(t, http.MethodDelete, "/v1/lists/"+list+"/members/bob", alice, ""); res.Status != http.StatusNoContent {
		t.Fatalf("remove bob: %d", res.Status)
	}
	inList("after bob left")
	e.Call(t, http.MethodPatch, "/v1/lists/"+list, alice, `{"name":"secret plans"}`)
	got = summary(e.marker(t, sb, bob, "bob's marker"))
	if want := []string{"member.removed"}; !equal(got, want) {
		t.Errorf("bob, removed, received %q, want only %q", got, want)
	}
	if got := summary(e.marker(t, sc, carol, "carol's marker")); len(got) != 0 {
		t.Errorf("carol, never a member, received %q", got)
	}

	// A list deleted: each member is told once.
	other := e.Call(t, http.MethodPost, "/v1/lists", alice, `{"name":"trip"}`).JSON(t)["id"].(string)
	e.Call(t, http.MethodPost, "/v1/lists/"+other+"/members", alice, `{"user_id":"carol","role":"editor"}`)
	if res := e.Call(t, http.MethodDelete, "/v1/lists/"+other, alice, ""); res.Status != http.StatusNoContent {
		t.Fatalf("delete the list: %d", res.Status)
	}
	got = summary(e.marker(t, sc, carol, "carol's second marker"))
	if want := []string{"member.added", "list.deleted"}; !equal(got, want) && !equal(got, want[1:]) {
		t.Errorf("carol, whose list was deleted, received %q, want %q", got, want)
	}
}
