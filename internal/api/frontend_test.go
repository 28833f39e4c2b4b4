package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/todo"
)

func items(t *testing.T, res apitest.Response) []map[string]any {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}
	var out []map[string]any
	for _, it := range res.JSON(t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// TestPaginationIsStable walks every sort in pages of 20 over 45 todos while
// todos are added and deleted between pages: every todo that existed
// throughout is seen exactly once, in order.
func TestPaginationIsStable(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 45 {
		due := `null`
		if i%4 != 0 {
			due = `"` + base.Add(time.Duration((i*7)%45)*time.Hour).Format(time.RFC3339) + `"`
		}
		e.Create(t, alice, fmt.Sprintf(`{"title":"Task %02d","due_at":%s}`, (i*13)%45, due))
	}
	e.Create(t, bob, `{"title":"bob's"}`)

	for _, sort := range []string{"-created_at", "created_at", "due_at", "-due_at", "title", "-title"} {
		all := items(t, e.Call(t, http.MethodGet, "/v1/todos?limit=100&sort="+url.QueryEscape(sort), alice, ""))
		var seen []string
		deleted := map[string]bool{}
		next := "/v1/todos?limit=20&sort=" + url.QueryEscape(sort)
		for page := 0; next != ""; page++ {
			if page == 10 {
				t.Fatalf("%s: more than 10 pages of 20 for about 45 todos", sort)
			}
			res := e.Call(t, http.MethodGet, next, alice, "")
			got := items(t, res)
			for _, it := range got {
				seen = append(seen, it["id"].(string))
			}
			cursor, _ := res.JSON(t)["next_cursor"].(string)
			link := res.Header.Get("Link")
			if (cursor == "") != (link == "") {
				t.Fatalf("%s page %d: next_cursor %q but Link %q", sort, page, cursor, link)
			}
			next = ""
			if cursor != "" {
				next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
				if !strings.Contains(next, "cursor="+url.QueryEscape(cursor)) {
					t.Fatalf("%s: Link %q does not carry the cursor", sort, link)
				}
				// Between pages: one new todo, and one not yet seen deleted.
				e.Create(t, alice, fmt.Sprintf(`{"title":"Late %d","due_at":"%s"}`, page, base.Format(time.RFC3339)))
				victim := all[len(all)-1-page]["id"].(string)
				deleted[victim] = true
				e.Call(t, http.MethodDelete, "/v1/todos/"+victim, alice, "")
			}
		}
		var want []string
		for _, it := range all {
			if id := it["id"].(string); !deleted[id] {
				want = append(want, id)
			}
		}
		var gotKept []string
		for _, id := range seen {
			if slices.Contains(want, id) {
				gotKept = append(gotKept, id)
			}
		}
		if !slices.Equal(gotKept, want) {
			t.Errorf("%s: pages showed %d of the %d todos that existed throughout, or out of order", sort, len(gotKept), len(want))
		}
		if len(seen) != len(slices.Compact(slices.Clone(seen))) {
			t.Errorf("%s: a todo appeared twice", sort)
		}
		// Put the deleted ones back for the next sort.
		for range deleted {
			e.Create(t, alice, `{"title":"Refill"}`)
		}
	}
}

func TestCursorFromElsewhere400(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	for range 3 {
		e.Create(t, alice, `{"title":"a"}`)
		e.Create(t, bob, `{"title":"b"}`)
	}
	cursor, _ := e.Call(t, http.MethodGet, "/v1/todos?limit=1", alice, "").JSON(t)["next_cursor"].(string)
	if cursor == "" {
		t.Fatal("no cursor")
	}
	tampered := []byte(cursor)
	tampered[len(tampered)/2] ^= 1
	cases := map[string]struct{ tok, query string }{
		"bob with alice's cursor": {bob, "limit=1&cursor=" + cursor},
		"another sort":            {alice, "limit=1&sort=title&cursor=" + cursor},
		"tampered":                {alice, "limit=1&cursor=" + string(tampered)},
		"garbage":                 {alice, "limit=1&cursor=bm90LWEtY3Vyc29y"},
		"not base64":              {alice, "limit=1&cursor=%25%25%25"},
		// Sealed with the server's key, with junk inside: a 400, never a database error.
		"key not a time": {alice, "limit=1&cursor=" + apitest.CursorKey(t).Encode(todo.Cursor{Sort: "-created_at", Key: "yesterday", ID: "0b5c8a4e-3f1d-4c47-9a53-2f6d1e9b7c10"}, "alice")},
		"id not a uuid":  {alice, "limit=1&cursor=" + apitest.CursorKey(t).Encode(todo.Cursor{Sort: "-created_at", Key: "2026-01-01T00:00:00Z", ID: "42"}, "alice")},
	}
	for name, c := range cases {
		apitest.WantProblem(t, name, e.Call(t, http.MethodGet, "/v1/todos?"+c.query, c.tok, ""), http.StatusBadRequest)
	}
	if res := e.Call(t, http.MethodGet, "/v1/todos?limit=1&cursor="+cursor, alice, ""); res.Status != http.StatusOK {
		t.Errorf("alice's own cursor: %d", res.Status)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := apitest.Token(t, "alice")
	e.Create(t, alice, `{"title":"Buy MILK","completed":true,"due_at":"2027-01-01T00:00:00Z"}`)
	e.Create(t, alice, `{"title":"milk 100%","due_at":"2027-03-01T00:00:00Z"}`)
	e.Create(t, alice, `{"title":"call_mom"}`)
	e.Create(t, apitest.Token(t, "bob"), `{"title":"bob's milk"}`)
	titles := func(query string) []string {
		var out []string
		for _, it := range items(t, e.Call(t, http.MethodGet, "/v1/todos?sort=title&"+query, alice, "")) {
			out = append(out, it["title"].(string))
		}
		return out
	}
	for query, want := range map[string][]string{
		"completed=true":                  {"Buy MILK"},
		"completed=false":                 {"call_mom", "milk 100%"},
		"q=milk":                          {"Buy MILK", "milk 100%"},
		"q=100%25":                        {"milk 100%"},
		"q=l_m":                           {"call_mom"},
		"q=%25":                           {"milk 100%"},
		"due_before=2027-02-01T00:00:00Z": {"Buy MILK"},
		"due_after=2027-02-01T00:00:00Z":  {"milk 100%"},
		"q=milk&completed=false":          {"milk 100%"},
	} {
		if got := titles(query); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
	apitest.WantProblem(t, "completed=maybe", e.Call(t, http.MethodGet, "/v1/todos?completed=maybe", alice, ""), http.StatusUnprocessableEntity)
	apitest.WantProblem(t, "sort=owner", e.Call(t, http.MethodGet, "/v1/todos?sort=user_id", alice, ""), http.StatusUnprocessableEntity)
}

// TestSummaryAndBulkActions: footer counts, toggle all and clear completed
// change the caller's todos and never another's.
func TestSummaryAndBulkActions(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice, bob := apitest.Token(t, "alice"), apitest.Token(t, "bob")
	for i := range 5 {
		e.Create(t, alice, fmt.Sprintf(`{"title":"a%d","completed":%t}`, i, i < 2))
		e.Create(t, bob, fmt.Sprintf(`{"title":"b%d","completed":%t}`, i, i < 2))
	}
	summary := func() string {
		res := e.Call(t, http.MethodGet, "/v1/todos/summary", alice, "")
		return strings.TrimSpace(string(res.Body))
	}
	if got := summary(); got != `{"total":5,"active":3,"completed":2}` {
		t.Errorf("summary %s", got)
	}
	res := e.Call(t, http.MethodPatch, "/v1/todos", alice, `{"completed":true}`)
	if got := strings.TrimSpace(string(res.Body)); res.Status != http.StatusOK || got != `{"changed":3,"read_only":0}` {
		t.Errorf("toggle all: %d %s", res.Status, got)
	}
	if got := summary(); got != `{"total":5,"active":0,"completed":5}` {
		t.Errorf("summary after toggle all: %s", got)
	}
	res = e.Call(t, http.MethodPatch, "/v1/todos?q=a1", alice, `{"completed":false}`)
	if got := strings.TrimSpace(string(res.Body)); got != `{"changed":1,"read_only":0}` {
		t.Errorf("filtered toggle: %s", got)
	}
	apitest.WantProblem(t, "delete all without completed=true", e.Call(t, http.MethodDelete, "/v1/todos", alice, ""), http.StatusUnprocessableEntity)
	res = e.Call(t, http.MethodDelete, "/v1/todos?completed=true", alice, "")
	if got := strings.TrimSpace(string(res.Body)); res.Status != http.StatusOK || got != `{"changed":4,"read_only":0}` {
		t.Errorf("clear completed: %d %s", res.Status, got)
	}
	if got := summary(); got != `{"total":1,"active":1,"completed":0}` {
		t.Errorf("summary after clear: %s", got)
	}
	var bobs, bobsDone int
	err := e.Admin.QueryRow(context.Background(), "SELECT count(*), count(*) FILTER (WHERE completed) FROM todos WHERE user_id = 'bob'").Scan(&bobs, &bobsDone)
	if err != nil || bobs != 5 || bobsDone != 2 {
		t.Errorf("bob's todos changed: %d total, %d completed (%v)", bobs, bobsDone, err)
	}
}
