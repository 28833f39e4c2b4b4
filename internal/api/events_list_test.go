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

// TestEventsNoHistoryBeforeJoining: a member who joins a list, or joins it
// again after a removal, and resumes a stream from its very start receives
// nothing the list went through before they joined (a todo deleted, a text
// edited away, a rename, who came and went), and everything after.
func TestEventsNoHistoryBeforeJoining(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, event.Config{})
	alice, kim := apitest.Token(t, "alice"), apitest.Token(t, "kim")
	list := e.Call(t, http.MethodPost, "/v1/lists", alice, `{"name":"plans"}`).JSON(t)["id"].(string)
	inList := func(title string) string {
		t.Helper()
		res := e.Call(t, http.MethodPost, "/v1/lists/"+list+"/todos", alice, fmt.Sprintf(`{"title":%q}`, title))
		if res.Status != http.StatusCreated {
			t.Fatalf("create in the list: %d %s", res.Status, res.Body)
		}
		return res.JSON(t)["id"].(string)
	}
	member := func(method, body string) {
		t.Helper()
		path := "/v1/lists/" + list + "/members"
		if method == http.MethodDelete {
			path += "/kim"
		}
		if res := e.Call(t, method, path, alice, body); res.Status >= 300 {
			t.Fatalf("%s kim: %d %s", method, res.Status, res.Body)
		}
	}
	secret := inList("fire kim")
	e.Call(t, http.MethodPatch, "/v1/todos/"+secret, alice, `{"description":"two weeks"}`)
	e.Call(t, http.MethodDelete, "/v1/todos/"+secret, alice, "")
	e.Call(t, http.MethodPatch, "/v1/lists/"+list, alice, `{"name":"reorg"}`)
	e.Call(t, http.MethodPost, "/v1/lists/"+list+"/members", alice, `{"user_id":"lee","role":"viewer"}`)
	e.Call(t, http.MethodDelete, "/v1/lists/"+list+"/members/lee", alice, "")

	member(http.MethodPost, `{"user_id":"kim","role":"viewer"}`)
	inList("welcome kim")
	s := subscribe(t, e.URL, "", kim, "Last-Event-ID", "0-0")
	got := summary(e.marker(t, s, kim, "kim's marker"))
	if want := []string{"ready", "member.added", "todo.created welcome kim"}; !equal(got, want) {
		t.Errorf("kim, who joined after, received %q, want %q", got, want)
	}

	member(http.MethodDelete, "")
	inList("while kim was out")
	member(http.MethodPost, `{"user_id":"kim","role":"editor"}`)
	inList("kim is back")
	s = subscribe(t, e.URL, "", kim, "Last-Event-ID", "0-0")
	got = summary(e.marker(t, s, kim, "kim's second marker"))
	// His own list's marker comes again; of the shared list, only his
	// comings and goings, and what came after his return.
	want := []string{"ready", "member.added", "todo.created kim's marker", "member.removed", "member.added", "todo.created kim is back"}
	if !equal(got, want) {
		t.Errorf("kim, back after a removal, received %q, want %q", got, want)
	}
}
