package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/todoapi/todoapi/internal/api/apitest"
)

// TestInterleavedUsersNoLeak: 1,000 requests of two users, interleaved on
// 20 clients, over a few shared connections (through PgBouncer in
// transaction mode when make test runs the suite there): every answer is the
// asker's own.
func TestInterleavedUsersNoLeak(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	t.Logf("API database URL host: %s", strings.Split(strings.SplitN(e.TDB.APIURL, "@", 2)[1], "/")[0])
	users := []string{"alice", "bob"}
	tokens := map[string]string{}
	for _, u := range users {
		tokens[u] = apitest.Token(t, u)
		for i := range 3 {
			e.Create(t, tokens[u], fmt.Sprintf(`{"title":"%s %d"}`, u, i))
		}
	}
	var leaks, failures atomic.Int64
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			for i := range 50 {
				me := users[(w+i)%2]
				other := users[(w+i+1)%2]
				var res apitest.Response
				if i%5 == 4 {
					res = e.Call(t, http.MethodPost, "/v1/todos", tokens[me], fmt.Sprintf(`{"title":"%s w%d-%d"}`, me, w, i))
				} else {
					res = e.Call(t, http.MethodGet, "/v1/todos?limit=100", tokens[me], "")
				}
				if res.Status/100 != 2 {
					failures.Add(1)
				}
				if strings.Contains(string(res.Body), `"title":"`+other) {
					leaks.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := leaks.Load(); n != 0 {
		t.Errorf("%d of 1000 answers showed the other user's todos", n)
	}
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of 1000 requests failed", n)
	}
	var wrongOwner int
	if err := e.Admin.QueryRow(t.Context(), "SELECT count(*) FROM todos WHERE split_part(title, ' ', 1) <> user_id").Scan(&wrongOwner); err != nil || wrongOwner != 0 {
		t.Errorf("%d todos stored under the wrong user (%v)", wrongOwner, err)
	}
}
