package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// shared is a list of alice's (owner) with bob as editor and carol as viewer;
// dave is in none of her lists.
type shared struct {
	e    *apitest.Env
	list string
	tok  map[string]string // by role: owner, editor, viewer, stranger
}

var roles = []string{"owner", "editor", "viewer", "stranger"}

func share(t *testing.T, e *apitest.Env) shared {
	t.Helper()
	sh := shared{e: e, tok: map[string]string{
		"owner": apitest.Token(t, "alice"), "editor": apitest.Token(t, "bob"), "viewer": apitest.Token(t, "carol"), "stranger": apitest.Token(t, "dave"),
	}}
	res := e.Call(t, http.MethodPost, "/v1/lists", sh.tok["owner"], `{"name":"groceries"}`)
	if res.Status != http.StatusCreated {
		t.Fatalf("create list: %d %s", res.Status, res.Body)
	}
	sh.list = res.JSON(t)["id"].(string)
	for user, role := range map[string]string{"bob": "editor", "carol": "viewer"} {
		if res := sh.call(t, "owner", http.MethodPost, "/members", fmt.Sprintf(`{"user_id":%q,"role":%q}`, user, role)); res.Status != http.StatusCreated {
			t.Fatalf("add %s: %d %s", user, res.Status, res.Body)
		}
	}
	return sh
}

// call sends a request as role to the list's path + sub.
func (sh shared) call(t *testing.T, role, method, sub, body string, header ...string) apitest.Response {
	t.Helper()
	return sh.e.Call(t, method, "/v1/lists/"+sh.list+sub, sh.tok[role], body, header...)
}

// todo creates a todo in the list as its owner and returns its id.
func (sh shared) todo(t *testing.T, title string) string {
	t.Helper()
	res := sh.e.Call(t, http.MethodPost, "/v1/todos", sh.tok["owner"], fmt.Sprintf(`{"title":%q,"list_id":%q}`, title, sh.list))
	if res.Status != http.StatusCreated {
		t.Fatalf("create todo: %d %s", res.Status, res.Body)
	}
	return res.JSON(t)["id"].(string)
}

// TestSharingMatrix: every operation on a shared list, its members, its
// invitations and its todos, as each role: what the role may do succeeds,
// what it may see but not do is 403, and a stranger meets 404 everywhere, as
// if the list did not exist. Each cell runs on a list of its own.
func TestSharingMatrix(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	type op struct {
		name string
		do   func(t *testing.T, sh shared, role string) apitest.Response
		want map[string]int
	}
	all := func(owner, editor, viewer, stranger int) map[string]int {
		return map[string]int{"owner": owner, "editor": editor, "viewer": viewer, "stranger": stranger}
	}
	onTodo := func(method, body string) func(t *testing.T, sh shared, role string) apitest.Response {
		return func(t *testing.T, sh shared, role string) apitest.Response {
			return e.Call(t, method, "/v1/todos/"+sh.todo(t, "milk"), sh.tok[role], body)
		}
	}
	ops := []op{
		{"get list", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodGet, "", "")
		},
			all(200, 200, 200, 404)},
		{"rename list", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodPatch, "", `{"name":"renamed"}`)
		}, all(200, 403, 403, 404)},
		{"delete list", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodDelete, "", "")
		},
			all(204, 403, 403, 404)},
		{"list members", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodGet, "/members", "")
		}, all(200, 200, 200, 404)},
		{"add member", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodPost, "/members", `{"user_id":"erin","role":"viewer"}`)
		}, all(201, 403, 403, 404)},
		{"change a role", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodPatch, "/members/carol", `{"role":"editor"}`)
		}, all(200, 403, 403, 404)},
		{"remove another member", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodDelete, "/members/carol", "")
		}, all(204, 403, 204, 404)}, // carol removing carol is leaving
		{"leave", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodDelete, "/members/me", "")
		}, all(409, 204, 204, 404)}, // the last owner cannot leave
		{"invite", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodPost, "/invitations", `{"role":"viewer"}`)
		}, all(201, 403, 403, 404)},
		{"list invitations", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodGet, "/invitations", "")
		}, all(200, 200, 200, 404)},
		{"revoke an invitation", func(t *testing.T, sh shared, role string) apitest.Response {
			inv := sh.call(t, "owner", http.MethodPost, "/invitations", `{"role":"viewer"}`).JSON(t)["id"].(string)
			return sh.call(t, role, http.MethodDelete, "/invitations/"+inv, "")
		}, all(204, 404, 404, 404)}, // only owners see invitations at all
		{"create a todo in it", func(t *testing.T, sh shared, role string) apitest.Response {
			return e.Call(t, http.MethodPost, "/v1/todos", sh.tok[role], `{"title":"x","list_id":"`+sh.list+`"}`)
		}, all(201, 201, 403, 404)},
		{"create a todo in it by its path", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodPost, "/todos", `{"title":"x"}`)
		}, all(201, 201, 403, 404)},
		{"list its todos", func(t *testing.T, sh shared, role string) apitest.Response {
			return sh.call(t, role, http.MethodGet, "/todos", "")
		}, all(200, 200, 200, 404)},
		{"filter my todos by it", func(t *testing.T, sh shared, role string) apitest.Response {
			return e.Call(t, http.MethodGet, "/v1/todos?list_id="+sh.list, sh.tok[role], "")
		}, all(200, 200, 200, 404)},
		{"count its todos", func(t *testing.T, sh shared, role string) apitest.Response {
			return e.Call(t, http.MethodGet, "/v1/todos/summary?list_id="+sh.list, sh.tok[role], "")
		}, all(200, 200, 200, 404)},
		{"toggle all of it", func(t *testing.T, sh shared, role string) apitest.Response {
			return e.Call(t, http.MethodPatch, "/v1/todos?list_id="+sh.list, sh.tok[role], `{"completed":true}`)
		}, all(200, 200, 200, 404)},
		{"read a todo", onTodo(http.MethodGet, ""), all(200, 200, 200, 404)},
		{"change a todo", onTodo(http.MethodPatch, `{"completed":true}`), all(200, 200, 403, 404)},
		{"replace a todo", onTodo(http.MethodPut, `{"title":"y"}`), all(200, 200, 403, 404)},
		{"delete a todo", onTodo(http.MethodDelete, ""), all(204, 204, 403, 404)},
	}
	for _, o := range ops {
		for _, role := range roles {
			t.Run(o.name+"/"+role, func(t *testing.T) {
				t.Parallel()
				sh := share(t, e)
				res := o.do(t, sh, role)
				if want := o.want[role]; res.Status != want {
					t.Errorf("%s as %s: %d, want %d: %s", o.name, role, res.Status, want, res.Body)
				}
				if res.Status >= 400 {
					apitest.WantProblem(t, o.name, res, res.Status)
				}
			})
		}
	}
}

// TestSharedListsAreSeenByMembersOnly: the list, its todos and its members
// appear in every member's views (with their own role) and in no one else's.
func TestSharedListsAreSeenByMembersOnly(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	sh := share(t, e)
	sh.todo(t, "milk")
	for _, role := range roles {
		lists := items(t, e.Call(t, http.MethodGet, "/v1/lists", sh.tok[role], ""))
		todos := items(t, e.Call(t, http.MethodGet, "/v1/todos", sh.tok[role], ""))
		if role == "stranger" {
			if len(lists) != 0 || len(todos) != 0 {
				t.Errorf("the stranger sees %d lists, %d todos", len(lists), len(todos))
			}
			continue
		}
		inList := items(t, sh.call(t, role, http.MethodGet, "/todos", ""))
		if len(lists) != 1 || lists[0]["my_role"] != role || lists[0]["member_count"] != float64(3) || len(todos) != 1 || len(inList) != 1 {
			t.Errorf("%s sees lists %v and %d todos, %d in the list", role, lists, len(todos), len(inList))
		}
	}
	sum := e.Call(t, http.MethodGet, "/v1/todos/summary", sh.tok["viewer"], "").JSON(t)
	if sum["total"] != float64(1) {
		t.Errorf("the viewer's summary: %v", sum)
	}
}

// TestRevocationIsImmediate: a member removed from a list, or lowered to
// viewer, is held to it on their very next request, including with a cursor
// into the list, an ETag of one of its todos and an idempotency key whose
// todo is in it.
func TestRevocationIsImmediate(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	sh := share(t, e)
	for i := range 3 {
		sh.todo(t, fmt.Sprintf("todo %d", i))
	}
	bob := sh.tok["editor"]
	created := e.Call(t, http.MethodPost, "/v1/todos", bob, `{"title":"bob's","list_id":"`+sh.list+`"}`, "Idempotency-Key", "k1")
	id, tag := created.JSON(t)["id"].(string), created.Header.Get("ETag")
	page := e.Call(t, http.MethodGet, "/v1/todos?limit=1&list_id="+sh.list, bob, "").JSON(t)
	cursor, _ := page["next_cursor"].(string)
	if cursor == "" {
		t.Fatalf("no cursor: %v", page)
	}

	// Lowered to viewer: reads still work, writes are 403 at once.
	if res := sh.call(t, "owner", http.MethodPatch, "/members/bob", `{"role":"viewer"}`); res.Status != http.StatusOK {
		t.Fatalf("demote: %d %s", res.Status, res.Body)
	}
	if res := e.Call(t, http.MethodPatch, "/v1/todos/"+id, bob, `{"completed":true}`, "If-Match", tag); res.Status != http.StatusForbidden {
		t.Errorf("write as a viewer now: %d, want 403", res.Status)
	}
	if res := e.Call(t, http.MethodGet, "/v1/todos/"+id, bob, ""); res.Status != http.StatusOK {
		t.Errorf("read as a viewer now: %d, want 200", res.Status)
	}

	// Removed: nothing of the list any more, whatever he holds.
	if res := sh.call(t, "owner", http.MethodDelete, "/members/bob", ""); res.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.Status, res.Body)
	}
	for what, res := range map[string]apitest.Response{
		"get the todo":        e.Call(t, http.MethodGet, "/v1/todos/"+id, bob, ""),
		"write with its ETag": e.Call(t, http.MethodPatch, "/v1/todos/"+id, bob, `{"completed":true}`, "If-Match", tag),
		"delete it":           e.Call(t, http.MethodDelete, "/v1/todos/"+id, bob, ""),
		"replay its key":      e.Call(t, http.MethodPost, "/v1/todos", bob, `{"title":"bob's","list_id":"`+sh.list+`"}`, "Idempotency-Key", "k1"),
		"get the list":        sh.call(t, "editor", http.MethodGet, "", ""),
		"create in the list":  e.Call(t, http.MethodPost, "/v1/todos", bob, `{"title":"x","list_id":"`+sh.list+`"}`),
		"list its members":    sh.call(t, "editor", http.MethodGet, "/members", ""),
		"rejoin as an editor": sh.call(t, "editor", http.MethodPost, "/members", `{"user_id":"bob","role":"editor"}`),
	} {
		if res.Status != http.StatusNotFound {
			t.Errorf("removed, %s: %d, want 404: %s", what, res.Status, res.Body)
		}
	}
	if res := e.Call(t, http.MethodGet, "/v1/todos?limit=1&list_id="+sh.list+"&cursor="+cursor, bob, ""); res.Status != http.StatusNotFound {
		t.Errorf("removed, the next page of the list: %d, want 404", res.Status)
	}
	for what, path := range map[string]string{
		"next page": "/v1/todos?limit=1&cursor=" + cursor,
		"all todos": "/v1/todos",
		"summary":   "/v1/todos/summary",
		"lists":     "/v1/lists",
	} {
		res := e.Call(t, http.MethodGet, path, bob, "")
		if res.Status != http.StatusOK || strings.Contains(string(res.Body), sh.list) || strings.Contains(string(res.Body), "todo ") ||
			strings.Contains(string(res.Body), `"total":4`) {
			t.Errorf("removed, %s: %d %s", what, res.Status, res.Body)
		}
	}
}

// TestLastOwner: a list always keeps an owner, even when its last two owners
// leave at the same moment: exactly one of them goes.
func TestLastOwner(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	for round := range 5 {
		sh := share(t, e)
		if res := sh.call(t, "owner", http.MethodPatch, "/members/bob", `{"role":"owner"}`); res.Status != http.StatusOK {
			t.Fatalf("promote: %d %s", res.Status, res.Body)
		}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, role := range []string{"owner", "editor"} { // alice and bob, both owners now
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = sh.call(t, role, http.MethodDelete, "/members/me", "").Status
			}()
		}
		wg.Wait()
		var owners int
		if err := e.Admin.QueryRow(context.Background(), "SELECT count(*) FROM list_members WHERE list_id = $1 AND role = 'owner'", sh.list).Scan(&owners); err != nil {
			t.Fatal(err)
		}
		if owners != 1 || !(statuses[0] == 204 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 204) {
			t.Errorf("round %d: both owners leave: %v, %d owners left; want one 204, one 409, 1 owner", round, statuses, owners)
		}
	}
	sh := share(t, e)
	if res := sh.call(t, "owner", http.MethodPatch, "/members/alice", `{"role":"editor"}`); res.Status != http.StatusConflict {
		t.Errorf("the last owner demotes herself: %d, want 409", res.Status)
	}
}

// TestPersonalListKeepsItsPerson: a person may share their personal list and
// make others owners, but nobody, themselves included, can remove or demote
// them: their todos without a list go there.
func TestPersonalListKeepsItsPerson(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	ivan, jane := apitest.Token(t, "ivan"), apitest.Token(t, "jane")
	list := e.Create(t, ivan, `{"title":"first"}`)["list_id"].(string)
	members := "/v1/lists/" + list + "/members"
	if res := e.Call(t, http.MethodPost, members, ivan, `{"user_id":"jane","role":"owner"}`); res.Status != http.StatusCreated {
		t.Fatalf("make jane an owner: %d %s", res.Status, res.Body)
	}
	for what, res := range map[string]apitest.Response{
		"jane removes ivan":   e.Call(t, http.MethodDelete, members+"/ivan", jane, ""),
		"jane demotes ivan":   e.Call(t, http.MethodPatch, members+"/ivan", jane, `{"role":"viewer"}`),
		"ivan leaves":         e.Call(t, http.MethodDelete, members+"/me", ivan, ""),
		"ivan demotes imself": e.Call(t, http.MethodPatch, members+"/me", ivan, `{"role":"editor"}`),
	} {
		apitest.WantProblem(t, what, res, http.StatusConflict)
	}
	if res := e.Call(t, http.MethodDelete, members+"/me", jane, ""); res.Status != http.StatusNoContent {
		t.Errorf("jane leaves: %d %s", res.Status, res.Body)
	}
	if got := e.Create(t, ivan, `{"title":"second"}`)["list_id"]; got != list {
		t.Errorf("ivan's next todo went to %v, want his personal list %s", got, list)
	}
}

// TestInvitations: an owner's link lets people join with its role, as often
// as it allows, until it expires or is revoked; the token is shown once and
// stored only as a hash.
func TestInvitations(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	sh := share(t, e)
	invite := func(body string) (id, tok string) {
		t.Helper()
		res := sh.call(t, "owner", http.MethodPost, "/invitations", body)
		if res.Status != http.StatusCreated {
			t.Fatalf("invite: %d %s", res.Status, res.Body)
		}
		got := res.JSON(t)
		return got["id"].(string), got["token"].(string)
	}
	accept := func(user, tok string) apitest.Response {
		return e.Call(t, http.MethodPost, "/v1/invitations/"+tok+"/accept", apitest.Token(t, user), "")
	}

	id, tok := invite(`{"role":"editor","max_uses":2}`)
	if res := accept("erin", tok); res.Status != http.StatusOK || res.JSON(t)["role"] != "editor" {
		t.Fatalf("erin accepts: %d %s", res.Status, res.Body)
	}
	if res := accept("erin", tok); res.Status != http.StatusOK {
		t.Errorf("erin again (a member already): %d, want 200 with nothing used", res.Status)
	}
	if res := accept("frank", tok); res.Status != http.StatusOK {
		t.Errorf("frank, the second use: %d", res.Status)
	}
	if res := accept("gina", tok); res.Status != http.StatusGone || !strings.Contains(string(res.Body), "used up") {
		t.Errorf("gina, a third use of two: %d %s, want 410 used up", res.Status, res.Body)
	}
	if res := e.Call(t, http.MethodGet, "/v1/lists/"+sh.list, apitest.Token(t, "frank"), ""); res.Status != http.StatusOK || res.JSON(t)["my_role"] != "editor" {
		t.Errorf("frank sees the list: %d %s", res.Status, res.Body)
	}

	_, revoked := invite(`{"role":"viewer"}`)
	list := items(t, sh.call(t, "owner", http.MethodGet, "/invitations", ""))
	for _, inv := range list {
		if inv["token"] != nil {
			t.Errorf("a listed invitation shows its token: %v", inv)
		}
		if inv["id"] == id && inv["uses"] != float64(2) {
			t.Errorf("uses: %v", inv)
		}
	}
	revokedID := list[0]["id"].(string)
	if res := sh.call(t, "owner", http.MethodDelete, "/invitations/"+revokedID, ""); res.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d", res.Status)
	}
	if res := accept("hank", revoked); res.Status != http.StatusGone || !strings.Contains(string(res.Body), "revoked") {
		t.Errorf("a revoked invitation: %d %s, want 410 revoked", res.Status, res.Body)
	}

	expiredID, expired := invite(`{"role":"viewer"}`)
	if _, err := e.Admin.Exec(context.Background(), "UPDATE list_invitations SET expires_at = now() - interval '1 second' WHERE id = $1", expiredID); err != nil {
		t.Fatal(err)
	}
	if res := accept("ivy", expired); res.Status != http.StatusGone || !strings.Contains(string(res.Body), "expired") {
		t.Errorf("an expired invitation: %d %s, want 410 expired", res.Status, res.Body)
	}
	if res := accept("ivy", strings.Repeat("A", 43)); res.Status != http.StatusNotFound {
		t.Errorf("a made-up token: %d, want 404", res.Status)
	}
	for _, user := range []string{"gina", "hank", "ivy"} {
		if res := e.Call(t, http.MethodGet, "/v1/lists/"+sh.list, apitest.Token(t, user), ""); res.Status != http.StatusNotFound {
			t.Errorf("%s, never admitted, sees the list: %d", user, res.Status)
		}
	}
	var stored int
	if err := e.Admin.QueryRow(context.Background(), "SELECT count(*) FROM list_invitations WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'", tok[:20]).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the token is stored in the clear (%d, %v)", stored, err)
	}
	// Paths that route nowhere are logged too: a token in one is not.
	for _, path := range []string{"//v1/invitations/" + tok + "/accept", "/v1//invitations/" + tok + "/accept", "/v1/INVITATIONS/" + tok + "/accept"} {
		if res := e.Call(t, http.MethodPost, path, apitest.Token(t, "ivy"), ""); res.Status < 400 {
			t.Errorf("POST %s: %d", path, res.Status)
		}
	}
	if log := e.Logs.String(); strings.Contains(log, tok) {
		t.Error("the access log holds an invitation token")
	}
}

// TestViewerBulkActionsSaySo: a viewer's "toggle all" and "clear completed"
// change nothing of the list and say how many todos they left alone.
func TestViewerBulkActionsSaySo(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	sh := share(t, e)
	sh.todo(t, "a")
	sh.todo(t, "b")
	res := e.Call(t, http.MethodPatch, "/v1/todos?list_id="+sh.list, sh.tok["viewer"], `{"completed":true}`)
	if got := strings.TrimSpace(string(res.Body)); res.Status != http.StatusOK || got != `{"changed":0,"read_only":2}` {
		t.Errorf("viewer's toggle all: %d %s", res.Status, got)
	}
	res = e.Call(t, http.MethodPatch, "/v1/todos?list_id="+sh.list, sh.tok["editor"], `{"completed":true}`)
	if got := strings.TrimSpace(string(res.Body)); got != `{"changed":2,"read_only":0}` {
		t.Errorf("editor's toggle all: %s", got)
	}
	res = e.Call(t, http.MethodDelete, "/v1/todos?completed=true", sh.tok["viewer"], "")
	if got := strings.TrimSpace(string(res.Body)); got != `{"changed":0,"read_only":2}` {
		t.Errorf("viewer's clear completed: %s", got)
	}
}

// TestListInput422: what the domain's limits refuse is a 422 before any
// database work, and an unknown role is refused too.
func TestListInput422(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	sh := share(t, e)
	for what, res := range map[string]apitest.Response{
		"a name too long":          e.Call(t, http.MethodPost, "/v1/lists", sh.tok["owner"], `{"name":"`+strings.Repeat("x", 201)+`"}`),
		"a blank name":             e.Call(t, http.MethodPost, "/v1/lists", sh.tok["owner"], `{"name":"   "}`),
		"too many uses":            sh.call(t, "owner", http.MethodPost, "/invitations", `{"role":"viewer","max_uses":1001}`),
		"too long a life":          sh.call(t, "owner", http.MethodPost, "/invitations", `{"role":"viewer","expires_in":2592001}`),
		"an invitation for owners": sh.call(t, "owner", http.MethodPost, "/invitations", `{"role":"owner"}`),
		"a made-up role":           sh.call(t, "owner", http.MethodPost, "/members", `{"user_id":"erin","role":"admin"}`),
		// A member id no token can carry: "me" names the caller in paths (the
		// owner could then neither remove nor demote that member), and a
		// control character is refused in a token's subject.
		"a member called me":            sh.call(t, "owner", http.MethodPost, "/members", `{"user_id":"me","role":"viewer"}`),
		"a member id with a newline":    sh.call(t, "owner", http.MethodPost, "/members", `{"user_id":"erin\n","role":"viewer"}`),
		"a member id with a control ch": sh.call(t, "owner", http.MethodPost, "/members", `{"user_id":"erin\u0007","role":"viewer"}`),
	} {
		apitest.WantProblem(t, what, res, http.StatusUnprocessableEntity)
	}
	if got := len(sh.call(t, "owner", http.MethodGet, "/members", "").JSON(t)["items"].([]any)); got != 3 {
		t.Errorf("members: %d, want the 3 the list had (owner, editor, viewer)", got)
	}
}
